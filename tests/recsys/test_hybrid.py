"""Search modes: reciprocal-rank fusion, query language, choice of text space."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.core.errors import BadQueryError, ModelNotBuiltError
from engine.recsys import hybrid as H


def test_rrf_formula_and_order():
    fused = H.rrf([[10, 20, 30], [30, 40]], k=10, c=60)
    got = {m: s for m, s, _ in fused}
    assert got[30] == pytest.approx(1 / 63 + 1 / 61)
    assert got[10] == pytest.approx(1 / 61)
    assert [m for m, _, _ in fused] == [30, 10, 20, 40]          # agreement beats a single first place
    assert dict((m, r) for m, _, r in fused)[30] == [3, 1]
    assert dict((m, r) for m, _, r in fused)[40] == [None, 2]


def test_rrf_edge_cases():
    assert H.rrf([[], []], k=5) == []
    assert [m for m, _, _ in H.rrf([[1, 2, 3], []], k=2)] == [1, 2]   # one empty list: the other's order
    assert [m for m, _, _ in H.rrf([[1, 1, 2]], k=5)] == [1, 2]       # a repeated id counts once
    ties = H.rrf([[1, 2], [2, 1]], k=2)                               # equal scores: first appearance
    assert [m for m, _, _ in ties] == [1, 2] and ties[0][1] == ties[1][1]
    with pytest.raises(ValueError):
        H.rrf([[1]], k=1, c=-1)
    with pytest.raises(ValueError):
        H.rrf([[1], [2]], k=1, weights=[1.0])                       # one weight per list
    with pytest.raises(ValueError):
        H.rrf([[1]], k=1, weights=[-1.0])


def test_weighted_rrf():
    got = {m: s for m, s, _ in H.rrf([[10, 20], [20, 30]], k=10, c=60, weights=[1.0, 0.5])}
    assert got[20] == pytest.approx(1 / 62 + 0.5 / 61) and got[30] == pytest.approx(0.5 / 62)
    # a list of weight 0 keeps its ranks (shown to the user) but never moves the order
    fused = H.rrf([[1, 2, 3], [3, 2]], k=3, weights=[1.0, 0.0])
    assert [m for m, _, _ in fused] == [1, 2, 3] and fused[2][2] == [3, 1]
    assert H.rrf([[1, 2], [2]], k=2, weights=[1, 1]) == H.rrf([[1, 2], [2]], k=2)


def test_fusion_spaces_follow_the_language_and_the_user():
    en = H.choose_space("space story", ["text", "use"])
    assert H.fusion_spaces(en, ["text", "use"], chosen=False) == ["use", "text"]
    assert H.fusion_spaces(en, ["use"], chosen=False) == ["use"]
    ko = H.choose_space("우주 이야기", ["text", "use"])
    assert H.fusion_spaces(ko, ["text", "use"], chosen=False) == ["use"]      # MiniLM cannot read Korean
    mine = H.choose_space("space story", ["text", "use"], space="text")
    assert H.fusion_spaces(mine, ["text", "use"], chosen=True) == ["text"]


def test_fusion_weights_gate_bm25():
    cfg = H.FusionConfig(semantic_weight=1.0, bm25_weight=1.0, bm25_weight_unsure=0.0)
    assert H.fusion_weights(2, True, cfg) == [1.0, 1.0, 1.0]
    assert H.fusion_weights(2, False, cfg) == [1.0, 1.0, 0.0]
    assert H.fusion_weights(1, False, H.FusionConfig(bm25_weight_unsure=0.25)) == [1.0, 0.25]


@pytest.mark.parametrize("text, lang", [
    ("가슴이 웅장해지는 우주 영화", "Hangul script"),
    ("우울할 때 보기 좋은 영화 movie", "Hangul script"),
    ("悲しい映画", "Cjk script"),
    ("фильм про космос", "Cyrillic script"),
    ("a heartwarming story about friendship", "English"),
    ("Amélie", "English"),
    ("une histoire d'amour très triste", "French"),
    ("una película de terror para la noche", "Spanish"),
    ("ein Film über die Liebe", "German"),
    ("star trek 2", "English"),
    ("a film of non-stop fistfights and chases", "English"),      # "film" and "non" made it Italian
    ("1984", "English"),
])
def test_query_language(text, lang):
    assert H.query_language(text) == lang


def test_choose_space_routes_by_language():
    both = ["mf", "text", "use"]
    r = H.choose_space("가슴이 웅장해지는 우주 영화", both, default="text")
    assert r.space == "use" and r.note.code == "route_multilingual" and "Hangul" in r.note.text()
    assert H.choose_space("space movie", both, default="text").space == "text"
    assert H.choose_space("space movie", both, default="use").space == "use"
    assert H.choose_space("space movie", ["text"], default="use").space == "text"      # default not built
    r = H.choose_space("우주 영화", ["text"], default="text")                             # no multilingual space
    assert r.space == "text" and r.note.code == "route_no_multilingual" and "unreliable" in r.note.text()


def test_choose_space_override_and_errors():
    assert H.choose_space("우주 영화", ["text", "use"], space="text").space == "text"
    assert H.choose_space("space", ["text", "use"], space="auto", default="text").space == "text"
    with pytest.raises(ModelNotBuiltError):
        H.choose_space("space", ["text"], space="use")
    with pytest.raises(BadQueryError):
        H.choose_space("space", ["text", "mf"], space="mf")
    with pytest.raises(ModelNotBuiltError):
        H.choose_space("space", ["mf"])


def test_check_mode():
    assert H.check_mode(None) == H.DEFAULT_MODE
    assert H.check_mode(" BM25 ") == "bm25"
    with pytest.raises(BadQueryError):
        H.check_mode("fuzzy")


@pytest.mark.parametrize("text, embedded", [
    ("가슴이 웅장해지는 우주 영화", "가슴이 웅장해지는 우주"),
    ("우울할 때 보기 좋은 영화를 찾아요", "우울할 때 보기 좋은 찾아요"),
    ("영화관 데이트", "영화관 데이트"),                   # a longer word that starts with 영화 stays
    ("a funny movie about a dog", "a funny about a dog"),
    ("Films, movies and a filmmaker", "and a filmmaker"),
    ("movie", "movie"),                                   # nothing left: kept as typed
    ("영화", "영화"),
])
def test_semantic_text_drops_generic_words(text, embedded):
    assert H.semantic_text(text) == embedded


def test_feedback_vector_moves_the_query_towards_its_top_movies():
    q = np.array([1.0, 0.0, 0.0], np.float32)
    top = np.array([[0.0, 1.0, 0.0], [0.0, 0.6, 0.8]], np.float32)
    got = H.feedback_vector(q * 3, top, alpha=0.5)                       # the query's length does not matter
    centre = np.array([0.0, 0.8, 0.4]) / np.linalg.norm([0.0, 0.8, 0.4])
    want = (q + 0.5 * centre) / np.linalg.norm(q + 0.5 * centre)
    assert got.dtype == np.float32 and got.shape == (3,)
    assert got == pytest.approx(want, abs=1e-6)
    assert H.feedback_vector(q * 2, top, alpha=0.0) == pytest.approx(q)  # off: the normalised query
    assert H.feedback_vector(q, top[:0], alpha=0.5) == pytest.approx(q)  # no feedback movies


def test_popularity_prior_reranks_by_blended_score_and_is_off_at_zero():
    ids, scores = np.array([1, 2, 3], np.int64), np.array([0.50, 0.48, 0.30], np.float32)
    pop = np.array([0.0, 1.0, 1.0], np.float32)
    assert H.with_prior(ids, scores, pop, 0.0)[0].tolist() == [1, 2, 3]
    got, blended = H.with_prior(ids, scores, pop, 0.1)
    assert got.tolist() == [2, 1, 3] and blended.tolist() == pytest.approx([0.58, 0.50, 0.40])
    assert H.PRIOR.beta >= 0


def test_popularity_is_log_ratings_over_the_most_rated():
    from engine.recsys.query import MovieTable

    t = MovieTable(pd.DataFrame({"movie_id": [1, 2, 3], "title": ["A", "B", "C"], "n_ratings": [0, 9, 99]}))
    assert t.popularity([3, 2, 1, 42]).tolist() == pytest.approx([1.0, np.log(10) / np.log(100), 0.0, 0.0])

"""Korean genre words folded into English on the query side (engine.recsys.genre_terms)."""

from __future__ import annotations

import pytest

from engine.models.text import GENRES_KO
from engine.recsys import genre_terms as G
from engine.recsys import hybrid as H

from ..conftest import GENRES_100K


@pytest.mark.parametrize("text, genres", [
    ("로맨틱 코미디", ["Romance", "Comedy"]),
    ("로맨틱코미디", ["Romance", "Comedy"]),                 # no spaces
    ("공포영화추천", ["Horror"]),                             # a genre inside a run of words
    ("스릴러를 보고 싶어", ["Thriller"]),                      # with a particle
    ("에니메이션", ["Animation"]),                            # a common misspelling
    ("애니메이션 영화", ["Animation"]),                       # the longest spelling wins: one genre, once
    ("SF 영화 추천", ["Sci-Fi"]),
    ("SF영화", ["Sci-Fi"]),
    ("에스에프 싸이파이", ["Sci-Fi"]),                        # two spellings, one genre
    ("미스터리 스릴러", ["Mystery", "Thriller"]),              # order of appearance
    ("가족의 갈등을 그린 감동적인 이야기", []),                 # 가족 alone is no genre (the documents say 어린이 가족)
    ("우주에서 벌어지는 전투", []),                            # subject words are not translated
    ("a thriller", []),                                      # English is left alone
    ("SF", []),                                              # ... even a Latin abbreviation without Hangul
])
def test_genres_named(text, genres):
    assert G.genres_named(text) == genres


def test_every_genre_name_of_the_multilingual_documents_is_recognised():
    for genre, ko in GENRES_KO.items():
        if genre in G.VARIANTS:
            assert G.genres_named(ko) == [genre], ko
    assert set(G.VARIANTS) <= set(GENRES_100K)


def test_spellings_are_longer_than_one_syllable_and_belong_to_one_genre():
    seen: dict[str, str] = {}
    for genre, spellings in G.VARIANTS.items():
        for s in spellings:
            assert len(s.replace(" ", "")) >= 2, s
            assert seen.setdefault(s, genre) == genre, s


def test_english_names_follow_the_documents():
    assert G.with_english_genres("로맨틱코미디") == "로맨틱코미디 romance comedy"
    assert G.with_english_genres("SF 영화") == "SF 영화 science fiction"
    assert G.with_english_genres("필름 누아르") == "필름 누아르 film noir"
    assert G.with_english_genres("무서운 거") == "무서운 거"


def test_the_embedded_text_carries_the_english_genre_names():
    assert H.semantic_text("공포 영화 추천") == "공포 추천 horror"
    assert H.semantic_text("a horror movie") == "a horror"
    off = G.GenreTermsConfig(semantic=False)
    assert G.embedded_text("공포 추천", off) == "공포 추천"


def test_feedback_weight_per_language():
    plain = H.FeedbackConfig(alpha=0.5, alpha_non_english=None)
    assert H.feedback_alpha("무서운 거", True, plain) == H.feedback_alpha("something scary", True, plain) == 0.5
    ko = H.FeedbackConfig(alpha=0.5, alpha_non_english=2.0)
    assert H.feedback_alpha("무서운 거", True, ko) == 2.0                  # Korean over English documents
    assert H.feedback_alpha("무서운 거", False, ko) == 0.5                 # Korean over a Korean catalogue
    assert H.feedback_alpha("something scary", True, ko) == 0.5           # English keeps its own weight
    assert H.feedback_alpha("una película de miedo para la noche", True, ko) == 2.0


def test_english_queries_are_embedded_and_searched_as_before():
    """The English figures cannot move: nothing here touches a query without Hangul."""
    for text in ("a romantic comedy", "SF", "recommend me a thriller", "star trek"):   # no generic words
        assert G.genres_named(text) == []
        assert G.with_english_genres(text) == text
        assert H.semantic_text(text) == text


def test_a_catalogue_in_the_query_script_gets_the_query_as_typed():
    """A Korean catalogue's documents name their genres in Korean: the English names are added only
    across scripts (chosen on the Korean catalogue's validation set, docs/SEARCH.md)."""
    assert H.semantic_text("로맨틱 코미디 추천") == "로맨틱 코미디 추천 romance comedy"
    assert H.semantic_text("로맨틱 코미디 추천", cross_lingual=False) == "로맨틱 코미디 추천"
    both = G.GenreTermsConfig(same_script=True)
    assert G.embedded_text("로맨틱 코미디 추천", both, cross_lingual=False) == "로맨틱 코미디 추천 romance comedy"

"""Korean genre words in a query, folded into English for catalogues described in English.

Korean users name genres as English loanwords in Hangul, spelled several ways and often without
spaces (로맨틱코미디, 에스에프, 써스펜스, 에니메이션).  The multilingual encoder knows the common
spellings and misses the rest (a query of "에니메이션" alone scored 0 nDCG@10 on ml-100k, its English
translation 1), and BM25 over English titles and genres never matches Hangul.  So the query side
recognises a short, fixed list of genre words — the genre names of the multilingual documents
(:data:`engine.models.text.GENRES_KO`), their loanword and variant spellings, and a few native genre
words (만화 for animation, 추리 for mystery) — and adds the English genre names the documents use.
Nothing else is translated: subject words (우주, 카우보이, 마피아) are left to the encoder.

Matching is on Hangul substrings, so a word with particles (스릴러를) or written without spaces
(공포영화추천) is found; the longest spelling wins where two overlap (애니메이션 before 애니).
Chosen on benchmarks/queries/korean_style_validation.json and korean_validation.json (docs/SEARCH.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.models.text import GENRES_EN, GENRES_KO

#: spellings users type for each MovieLens genre, besides its name in GENRES_KO (loanword variants,
#: spellings without spaces, native words); one syllable is never enough (too many false matches)
VARIANTS: dict[str, tuple[str, ...]] = {
    "Action": ("액션", "액숀"),
    "Adventure": ("모험", "어드벤처", "어드벤쳐", "어드밴처"),
    "Animation": ("애니메이션", "에니메이션", "애니매이션", "애니", "만화", "카툰"),
    "Children's": ("어린이", "아동", "키즈"),
    "Comedy": ("코미디", "코메디", "코미디물", "코믹"),
    "Crime": ("범죄", "크라임", "갱스터", "갱스타"),
    "Documentary": ("다큐멘터리", "다큐멘타리", "다큐"),
    "Drama": ("드라마",),
    "Fantasy": ("판타지", "환타지", "팬터지"),
    "Film-Noir": ("필름누아르", "누아르", "느와르", "누와르"),
    "Horror": ("공포", "호러"),
    "Musical": ("뮤지컬", "뮤지칼"),
    "Mystery": ("미스터리", "미스테리", "추리"),
    "Romance": ("로맨스", "로멘스", "로맨틱", "로멘틱", "멜로"),
    "Sci-Fi": ("공상과학", "에스에프", "사이파이", "싸이파이", "사이언스픽션"),
    "Thriller": ("스릴러", "쓰릴러", "스릴라", "서스펜스", "써스펜스"),
    "War": ("전쟁",),
    "Western": ("서부극", "웨스턴", "서부영화"),
}

_HANGUL = re.compile(r"[가-힣]")
#: Latin genre abbreviations Korean users write inside Hangul text ("SF 영화")
_LATIN = {"sf": "Sci-Fi"}


def _spellings() -> list[tuple[str, str]]:
    """(spelling without spaces, genre) for every known spelling, longest first."""
    pairs = {s.replace(" ", ""): g for g, ss in VARIANTS.items() for s in ss}
    for g, ko in GENRES_KO.items():   # the documents' own names, whole ("어린이 가족", not 가족 alone)
        if g in VARIANTS:
            pairs.setdefault(ko.replace(" ", ""), g)
    return sorted(pairs.items(), key=lambda p: -len(p[0]))


_SPELLINGS = _spellings()


def english_name(genre: str) -> str:
    """A genre's name as the multilingual documents spell it: "science fiction", "comedy"."""
    return GENRES_EN.get(genre, genre.lower())


def genres_named(text: str) -> list[str]:
    """MovieLens genres a Korean query names, in the order they appear (each once); [] for text
    without Hangul (English queries are left alone)."""
    if not _HANGUL.search(text):
        return []
    squeezed = re.sub(r"\s+", "", text)
    found: list[tuple[int, str]] = []
    taken = [False] * len(squeezed)
    for spelling, genre in _SPELLINGS:
        start = squeezed.find(spelling)
        while start >= 0:
            span = range(start, start + len(spelling))
            if not any(taken[i] for i in span):
                for i in span:
                    taken[i] = True
                found.append((start, genre))
            start = squeezed.find(spelling, start + 1)
    for m in re.finditer(r"(?<![A-Za-z])([A-Za-z]{2})(?![A-Za-z])", text):
        if m.group(1).lower() in _LATIN:
            found.append((len(re.sub(r"\s+", "", text[:m.start()])), _LATIN[m.group(1).lower()]))
    return list(dict.fromkeys(g for _, g in sorted(found)))


def with_english_genres(text: str) -> str:
    """``text`` followed by the English names of the genres it names in Korean ("로맨틱코미디" ->
    "로맨틱코미디 romance comedy"); unchanged when it names none."""
    names = [english_name(g) for g in genres_named(text)]
    return f"{text} {' '.join(names)}" if names else text



@dataclass(frozen=True)
class GenreTermsConfig:
    """``semantic``: append the English genre names of a Korean query to the text the encoder embeds.
    Chosen on the Korean validation sets (docs/SEARCH.md).  Also tried there: letting the hybrid's BM25
    search the English names and vote when its top hit holds them all — a tie (+0.002 / 0 nDCG@10,
    ml-100k / ml-latest-small), and BM25 puts titles such as *The War at Home* first for 전쟁, so it
    was left out."""

    semantic: bool = True
    same_script: bool = False  # also when the catalogue is written in the query's script (a Korean
                               # catalogue's documents already name their genres in Korean)


#: what the search applies
GENRE_TERMS = GenreTermsConfig()


def embedded_text(text: str, cfg: GenreTermsConfig | None = None, cross_lingual: bool = True) -> str:
    """The text a semantic space embeds: with the English genre names when ``cfg.semantic`` and the
    catalogue is not written in the query's script (``cross_lingual``), or ``cfg.same_script``."""
    cfg = cfg or GENRE_TERMS
    return with_english_genres(text) if cfg.semantic and (cross_lingual or cfg.same_script) else text

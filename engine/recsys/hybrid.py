"""Search modes over the text spaces and the catalogue: which space serves a query, and hybrid fusion.

Modes (one search, four ways to rank; see docs/SEARCH.md):

- ``semantic``: the query embedded by a text space's encoder, nearest movie documents;
- ``keyword``: SQL ``LIKE`` substring matching, the baseline the other modes are compared with;
- ``bm25``: SQLite FTS5 ``bm25()`` over title, genres, tags and overview (the catalogue's ``movies_fts``);
- ``hybrid``: weighted reciprocal-rank fusion (RRF) of the ``bm25`` list and the ``semantic``
  lists of every text space that reads the query's language (what Weaviate, Qdrant and
  LanceDB call "hybrid").  ``score(m) = sum over lists of w / (RRF_K + rank(m))`` with ranks
  from 1; ``RRF_K = 60`` is the constant of Cormack, Clarke & Buettcher (SIGIR 2009) and the
  default of those engines: it damps the head of each list so that one list's first place
  cannot outvote agreement between the lists.  BM25 votes (w = 1) only when it is confident,
  i.e. its top hit's title, genres and overview contain every keyword of the query (Korean
  keywords as morphemes, so "인터스텔라를" is 인터스텔라; engine/data/fts.py); otherwise w = 0.
  Weights, gate and constant: :data:`FUSION`, chosen on the validation sets
  (benchmarks/queries/*_validation.json; figures in docs/SEARCH.md).

Text spaces: ``text`` (all-MiniLM-L6-v2, English only) and ``use`` (USE Multilingual v3).
:func:`choose_space` sends a query that is not English (a non-Latin script such as
Hangul, or a Latin-script language recognised by its function words) to a multilingual
space; the user can override the choice.  Defaults are chosen on the benchmark
(benchmarks/bench_mood.py; the reasoning is in docs/SEARCH.md).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from engine.core.errors import BadQueryError, ModelNotBuiltError
from engine.core.inputs import check_mode  # noqa: F401
from engine.core.notes import Note, note
from engine.recsys import genre_terms
from engine.core.registry import DEFAULT_MODE, MODES, TEXT_SPACES  # noqa: F401
from engine.core.arrays import normalize

RRF_K = 60
#: how deep each list goes into the fusion (the fused top-k is cut from these candidates)
FUSION_DEPTH = 100


@dataclass(frozen=True)
class FusionConfig:
    """The hybrid mode's weighted RRF: ``score(m) = sum_i w_i / (rrf_k + rank_i(m))``.

    ``semantic_weight``: each text space's list; ``bm25_weight``: the BM25 list when BM25 is
    confident (its top hit's title, genres and overview hold every query keyword), ``bm25_weight_unsure``
    otherwise; ``depth``: how many of each list enter the fusion.  Defaults chosen on the
    validation sets over rrf_k {10, 20, 30, 60}, second-space weight {0.5, 0.75, 1},
    unsure {0, 0.1, 0.2, 0.3}, confident {0.5, 1, 1.5, 2, 3}, by the smallest worst shortfall to the
    best single method of each set (both data sets), then the best mean (docs/SEARCH.md).
    """

    rrf_k: float = RRF_K
    semantic_weight: float = 1.0
    bm25_weight: float = 1.0
    bm25_weight_unsure: float = 0.0
    depth: int = FUSION_DEPTH


#: the fusion the hybrid mode uses
FUSION = FusionConfig()


@dataclass(frozen=True)
class FeedbackConfig:
    """Pseudo-relevance feedback (Rocchio without negatives) for semantic search in ``spaces``.

    The query vector q (d,) finds its top ``m`` movies; the search runs again with
    ``normalise(q + alpha * normalise(mean of their unit vectors))``.  For a Korean query the
    feedback movies are described in English, so the second query sits nearer the English
    documents (cross-lingual feedback); English queries gain as well.  ``alpha = 0`` turns it
    off.  Chosen on the validation sets over m {5, 10, 20} x alpha {0.5, 1, 2}, applied to every
    language or to non-English queries only, by the default mode's mean nDCG@10 over the sets,
    both data sets (docs/SEARCH.md).  Only the ``use`` space was validated.
    """

    m: int = 10
    alpha: float = 0.5
    spaces: tuple[str, ...] = ("use",)
    #: alpha for a query that is not English over a catalogue written in another script (None:
    #: ``alpha``): the feedback movies pull a Korean query towards the English documents; English
    #: queries and Korean catalogues keep ``alpha``.  2 chosen on the
    #: Korean validation sets over {0.5, 1, 2, 3, 4} (2–4 a plateau; docs/SEARCH.md)
    alpha_non_english: float | None = 2.0


#: the feedback semantic search applies
FEEDBACK = FeedbackConfig()


@dataclass(frozen=True)
class PriorConfig:
    """A popularity prior blended into semantic scores: ``cos + beta * log1p(n) / log1p(max n)`` over
    the top ``depth`` of a space's list (``n``: a movie's number of ratings).  A catalogue without plots
    gives a text space little besides title words, so obscure films whose titles say the query's word
    outrank the famous ones that do not.  ``beta = 0`` turns it off, as shipped: on the validation sets
    of benchmarks/bench_mood.py beta 0.02 won (+0.006 / +0.004 mean nDCG@10, ml-100k / ml-latest-small),
    but on the test sets it lowered ml-100k's mixed set by 0.009 for +0.001 mean there
    (benchmarks/bench_prior.py; docs/SEARCH.md)."""

    beta: float = 0.0
    depth: int = FUSION_DEPTH


#: the prior semantic search applies
PRIOR = PriorConfig()


def with_prior(ids: np.ndarray, scores: np.ndarray, popularity: np.ndarray, beta: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """Re-rank a semantic list by ``scores + beta * popularity``: ids int64 (n,), scores float32 (n,),
    popularity float32 (n,) in [0, 1] -> (ids, blended scores) best first (stable); unchanged for beta 0."""
    if beta == 0 or not len(ids):
        return ids, scores
    blended = np.asarray(scores, np.float32) + np.float32(beta) * np.asarray(popularity, np.float32)
    order = np.argsort(-blended, kind="stable")
    return np.asarray(ids)[order], blended[order]


def feedback_alpha(text: str, cross_lingual: bool, cfg: FeedbackConfig | None = None) -> float:
    """The feedback weight for a query: ``cfg.alpha``, or ``cfg.alpha_non_english`` when it is set, the
    query is not English (:func:`query_language`) and ``cross_lingual`` (the catalogue's titles and
    overviews are not written in the query's script: a Korean query over English documents)."""
    cfg = cfg or FEEDBACK
    if cfg.alpha_non_english is None or not cross_lingual or query_language(text) == "English":
        return cfg.alpha
    return cfg.alpha_non_english


def feedback_vector(query: np.ndarray, top: np.ndarray, alpha: float) -> np.ndarray:
    """Rocchio step: query (d,), the top movies' unit vectors (m, d) -> normalised float32 (d,).

    ``normalise(normalise(query) + alpha * normalise(mean(top)))``; the query unchanged (normalised)
    when there is no feedback (m = 0 or alpha = 0).
    """
    q = normalize(np.asarray(query, np.float32).reshape(1, -1))[0]
    top = np.asarray(top, np.float32).reshape(-1, q.shape[0])
    if alpha <= 0 or not len(top):
        return q
    centre = normalize(top.mean(axis=0, keepdims=True))[0]
    return normalize((q + np.float32(alpha) * centre)[None, :])[0]

#: the text space of a query whose language no space is chosen for
DEFAULT_SPACE = "use"

# Function words of the Latin-script languages USE Multilingual covers besides English
# (de, es, fr, it, nl, pl, pt, tr).  Two of them, or one plus a letter English does not
# use, mark a query as not English.  Words that are also English (e.g. "a", "in", "film") are left out:
# "a film of non-stop fistfights" was Italian ("film", "non").
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "German": frozenset("der die das und ein eine einen nicht mit ist für über auf zum zur ich mich wenn wie".split()),
    "Spanish": frozenset("el los las una unos y con para por que del película películas muy cuando como".split()),
    "French": frozenset("le la les un une des et avec pour dans sur qui du est très quand comme pas".split()),
    "Italian": frozenset("il lo gli una uno e con per che della di molto quando come sono non".split()),
    "Dutch": frozenset("de het een en met voor van niet ik als wanneer hoe zijn op".split()),
    "Portuguese": frozenset("o os as um uma e com para que do da filme muito quando como não".split()),
    "Polish": frozenset("i w z na nie się jest dla jak kiedy bardzo".split()),
    "Turkish": frozenset("bir ve ile için bu çok gibi ne zaman değil".split()),
}
_NON_ENGLISH_LETTERS = set("àâäáãåçèéêëìíîïñòóôöõùúûüßøæœąćęłńśźżğışÿ")


#: words every document is about ("movie", "영화" and its particles): dropped before a query is embedded
_GENERIC = re.compile(r"\b(?:movies?|films?)\b|(?<![가-힣])영화(?:를|가|는|도|로|야)?(?![가-힣])", re.IGNORECASE)


def semantic_text(text: str, cross_lingual: bool = True) -> str:
    """The query as embedded: generic words ("movie", "film", "영화") dropped, since every document
    is a movie and USE otherwise matches them to titles such as "The Brady Bunch Movie".  Chosen on
    benchmarks/queries/korean_validation.json (nDCG@10 ko +0.029 / +0.020, en +0.004 / +0.007 on
    ml-100k / ml-latest-small).  A query of generic words only is kept as typed.  Genres a Korean
    query names (로맨틱코미디, 스릴러) are followed by their English names (:mod:`engine.recsys.genre_terms`)
    when the catalogue is written in another script (``cross_lingual``).
    """
    stripped = re.sub(r"\s+", " ", _GENERIC.sub(" ", text)).strip(" ,.;:")
    return genre_terms.embedded_text(stripped if any(c.isalnum() for c in stripped) else text,
                                     cross_lingual=cross_lingual)


@dataclass(frozen=True)
class Route:
    """Where a query goes: ``space`` (model name) and why (``note``: a code the UI renders).

    ``language``: what :func:`query_language` saw ("English", "Hangul script", "French", ...).
    """

    space: str
    note: Note
    language: str

    @property
    def automatic(self) -> bool:
        """True when the space was chosen for an English query as usual (nothing worth saying)."""
        return self.note.code == "route_english"


def _script(c: str) -> str:
    """First word of a letter's Unicode name: LATIN, HANGUL, CJK, CYRILLIC, ..."""
    return unicodedata.name(c, "UNKNOWN").split()[0]


def query_language(text: str) -> str:
    """A coarse guess of a query's language: "English", "<Script> script" or a language name.

    Non-Latin letters (more than 30% of the letters) name their script ("Hangul script");
    Latin-script text is matched against the function words of the other languages.
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "English"
    non_latin = [c for c in letters if _script(c) != "LATIN"]
    if len(non_latin) / len(letters) > 0.3:
        top = max(set(map(_script, non_latin)), key=lambda s: sum(_script(c) == s for c in non_latin))
        return f"{top.title()} script"
    words = re.findall(r"[^\W\d_]+", text.lower())
    accented = any(c in _NON_ENGLISH_LETTERS for c in text.lower())
    best, hits = "English", 0
    for lang, fw in _FUNCTION_WORDS.items():
        n = sum(w in fw for w in words)
        if n > hits:
            best, hits = lang, n
    return best if hits >= 2 or (hits >= 1 and accented) else "English"


def choose_space(text: str, built: Iterable[str], space: str | None = None,
                 default: str = DEFAULT_SPACE) -> Route:
    """The text space that serves ``text``.

    ``space`` (None or "auto" = automatic) overrides the choice and must be built.  Automatic:
    ``default`` for English; a multilingual space for any other language (when one is built).
    Raises :class:`ModelNotBuiltError` when no text space is built (or the requested one is not)
    and :class:`BadQueryError` for a name that is not a text space.
    """
    have = [s for s in TEXT_SPACES if s in set(built)]
    lang = query_language(text)
    if space is not None and str(space).strip().lower() not in ("", "auto"):
        name = str(space).strip().lower()
        if name not in TEXT_SPACES:
            raise BadQueryError(f"{space!r} is not a text space; choose one of {', '.join(TEXT_SPACES)} or auto.")
        if name not in have:
            raise ModelNotBuiltError(f"No {name} vectors in the catalogue; run `python -m engine build --models {name}`.")
        return Route(name, note("route_user", space=name), lang)
    if not have:
        raise ModelNotBuiltError("No text space is built; run `python -m engine build --models text,use`.")
    if lang != "English":
        multi = [s for s in have if TEXT_SPACES[s]]
        if multi:
            return Route(multi[0], note("route_multilingual", language=lang, space=multi[0]), lang)
        return Route(have[0], note("route_no_multilingual", language=lang), lang)
    pick = default if default in have else have[0]
    if pick == default:
        return Route(pick, note("route_english", space=pick), lang)
    return Route(pick, note("route_english_fallback", space=pick, default=default), lang)


def fusion_spaces(route: Route, built: Iterable[str], chosen: bool) -> list[str]:
    """Text spaces whose semantic lists the hybrid mode fuses, ``route.space`` first.

    ``chosen`` (the user named a space): that space alone.  Otherwise every built text space
    that reads the query's language: all of them for English, the multilingual ones for any
    other language (MiniLM reads only English: its list for a Korean query is noise).
    """
    if chosen:
        return [route.space]
    have = set(built)
    others = [s for s in TEXT_SPACES if s in have and s != route.space
              and (route.language == "English" or TEXT_SPACES[s])]
    return [route.space, *others]


def fusion_weights(n_semantic: int, bm25_confident: bool, cfg: FusionConfig = FUSION) -> list[float]:
    """RRF weights for ``n_semantic`` semantic lists followed by the BM25 list."""
    return [cfg.semantic_weight] * n_semantic + [cfg.bm25_weight if bm25_confident else cfg.bm25_weight_unsure]




def rrf(rankings: Sequence[Sequence[int]], k: int, c: float = RRF_K,
        weights: Sequence[float] | None = None) -> list[tuple[int, float, list[int | None]]]:
    """Weighted reciprocal-rank fusion of ranked id lists (best first) -> the top ``k``.

    ``score(m) = sum_i weights[i] / (c + rank_i(m))`` over the lists that hold ``m`` (ranks
    from 1); ``weights`` None = 1 for every list (plain RRF).  Returns (movie id, fused score,
    [rank in each list or None]) best first; ties keep the order of first appearance (lists in
    the given order), so the fusion is deterministic.
    """
    if c < 0:
        raise ValueError("the RRF constant must be >= 0")
    w = [1.0] * len(rankings) if weights is None else [float(x) for x in weights]
    if len(w) != len(rankings) or any(not x >= 0 for x in w):
        raise ValueError("one weight >= 0 per ranked list")
    scores: dict[int, float] = {}
    ranks: dict[int, list[int | None]] = {}
    for li, ranking in enumerate(rankings):
        for r, mid in enumerate(ranking, start=1):
            mid = int(mid)
            if mid in ranks and ranks[mid][li] is not None:
                continue  # a list repeating an id counts once, at its best rank
            scores[mid] = scores.get(mid, 0.0) + w[li] / (c + r)
            ranks.setdefault(mid, [None] * len(rankings))[li] = r
    order = sorted(scores, key=lambda m: -scores[m])  # stable: dict order = first appearance
    return [(m, scores[m], ranks[m]) for m in order[:k]]

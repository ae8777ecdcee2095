"""What the facade answers: frozen, typed results (no nested dicts cross this boundary).

``Hits`` is one ranked answer: ``items`` (:class:`Hit`, best first), ``query`` (:class:`Asked`: what
was asked, as resolved), ``timings_ms`` and ``notes`` (:class:`~engine.core.notes.Note`, codes the UI
renders in English or Korean).  ``to_dict()`` is the JSON the CLI prints with ``--json``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from engine.data.filters import Filter
from engine.core.notes import Note
from engine.recsys.query import Overlap


@dataclass(frozen=True)
class Hit:
    """One movie of an answer.  Every kind fills rank, movie, score; the others are None unless the
    kind has them: ``because_*`` (personalisation: the click nearest to it), ``rank_before`` /
    ``rank_after`` / ``retrieval_score`` / ``rerank_score`` (two stages), ``ranks`` (hybrid: its rank in
    each fused list, by list name, None where a list lacks it).  ``other_title``: the movie's title in
    another language where the catalogue has one (a Korean catalogue's English original title)."""

    rank: int
    movie_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]
    score: float
    other_title: str | None = None
    because_id: int | None = None
    because_title: str | None = None
    because_score: float | None = None
    rank_before: int | None = None
    rank_after: int | None = None
    retrieval_score: float | None = None
    rerank_score: float | None = None
    ranks: Mapping[str, int | None] | None = None
    #: spaces in which this movie's vector is a cold-start prediction from text (added by hand, no
    #: ratings yet); empty for every movie a build learned
    cold_start: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["genres"] = list(self.genres)
        out["cold_start"] = list(self.cold_start) or None
        out["ranks"] = dict(self.ranks) if self.ranks is not None else None
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class Encoder:
    """The encoder that embedded a query: its name and its weights' sha256."""

    name: str
    sha256: str | None = None


@dataclass(frozen=True)
class Fusion:
    """How the hybrid mode fused: RRF constant, the semantic lists' spaces, the weights (one per list:
    the spaces', BM25's, then the expansion's), whether BM25 was confident enough to vote and the
    collaborative space that expanded the hits (None: no expansion; engine.recsys.expand)."""

    rrf_k: float
    spaces: tuple[str, ...]
    weights: tuple[float, ...]
    bm25_confident: bool
    expansion: str | None = None

    @property
    def lists(self) -> tuple[str, ...]:
        """The fused lists' names in order: the spaces, "bm25", then the expansion's space if any."""
        return (*self.spaces, "bm25", *((self.expansion,) if self.expansion else ()))


@dataclass(frozen=True)
class Feedback:
    """Pseudo-relevance feedback applied by semantic search: the spaces, depth m and weight alpha."""

    spaces: tuple[str, ...]
    m: int
    alpha: float


@dataclass(frozen=True)
class Asked:
    """What was asked, as resolved; a field is None where the kind does not have it.

    similar: ``movie_id``, ``title``, ``matched`` (id / exact / case-insensitive / fuzzy),
    ``suggestions``; search: ``text``, ``embedded`` (as encoded), ``mode``, ``space``, ``encoder``,
    ``language``, ``route`` (why that space), ``feedback``, ``fusion``; personalisation: ``clicks``,
    ``dislikes``, ``taste`` ("mean" / "native"), ``recency_half_life``, ``n_candidates``, ``reranker``.
    ``model`` and ``index`` (its label) wherever a space was searched; ``filter`` (as resolved: genres
    as the catalogue spells them) when the answer was filtered.
    """

    model: str | None = None
    index: str | None = None
    movie_id: int | None = None
    title: str | None = None
    matched: str | None = None
    suggestions: tuple[str, ...] = ()
    text: str | None = None
    embedded: str | None = None
    mode: str | None = None
    space: str | None = None
    encoder: Encoder | None = None
    language: str | None = None
    route: Note | None = None
    feedback: Feedback | None = None
    fusion: Fusion | None = None
    clicks: tuple[int, ...] = ()
    dislikes: tuple[int, ...] = ()
    taste: str | None = None
    recency_half_life: float | None = None
    n_candidates: int | None = None
    reranker: str | None = None
    filter: Filter | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, (Note, Filter)):
                v = v.to_dict()
            elif dataclasses.is_dataclass(v):
                v = dataclasses.asdict(v)
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out


@dataclass(frozen=True)
class Hits:
    """A ranked answer (see the module docstring).  ``vector``: the query or taste vector float32 (d,)
    the answer is nearest to, where there is one (the map places it without computing it again)."""

    kind: str
    query: Asked
    items: tuple[Hit, ...]
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    notes: tuple[Note, ...] = ()
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)

    def ids(self) -> list[int]:
        return [h.movie_id for h in self.items]

    def frame(self) -> pd.DataFrame:
        """One row per hit; columns only for the fields this kind fills."""
        return pd.DataFrame([h.to_dict() for h in self.items])

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "query": self.query.to_dict(), "items": [h.to_dict() for h in self.items],
                "timings_ms": dict(self.timings_ms), "notes": [n.to_dict() for n in self.notes]}


@dataclass(frozen=True)
class Agreement:
    """Similar movies in several spaces: ``spaces`` model -> Hits; ``overlaps``: one per pair of spaces."""

    movie_id: int
    title: str
    spaces: Mapping[str, Hits]
    overlaps: tuple[Overlap, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"movie": {"movie_id": self.movie_id, "title": self.title},
                "spaces": {m: h.to_dict() for m, h in self.spaces.items()},
                "overlaps": [{**dataclasses.asdict(o), "shared": list(o.shared)} for o in self.overlaps]}


@dataclass(frozen=True)
class Edited:
    """A catalogue edit as done: ``kind`` "add" or "remove", the movie, the ``spaces`` whose vectors
    changed, ``cold_start`` (space -> the text space its vector was predicted from), how many
    in-memory indexes were updated in place (``indexes_updated``: FAISS and served collections), and
    timings in ms (``embed``, ``predict``, ``catalogue``, ``indexes``, ``total``)."""

    kind: str
    movie_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]
    spaces: tuple[str, ...]
    cold_start: Mapping[str, str] = field(default_factory=dict)
    indexes_updated: int = 0
    timings_ms: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "movie_id": self.movie_id, "title": self.title, "year": self.year,
                "genres": list(self.genres), "spaces": list(self.spaces), "cold_start": dict(self.cold_start),
                "indexes_updated": self.indexes_updated, "timings_ms": dict(self.timings_ms)}

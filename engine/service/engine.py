"""``Engine``: the one object the app and the CLI use for vector search.

>>> eng = Engine("ml-100k")
>>> eng.similar("Star Wars", model="mf", k=5).frame()
>>> eng.search("a heartwarming story about friendship").items[0].title
>>> eng.two_stage([50, 181, 172], model="mf", k=10).timings_ms

One ``Engine`` serves many sessions at once: every method is thread-safe; vector spaces, indexes,
the text encoders and the rankers are loaded lazily, once.  Each request checks its input once here
and hands the checked values down (see docs/ARCHITECTURE.md, "One request").
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from engine.core.config import Settings, catalogue_path, dataset_cache_dir
from engine.data.catalogue import Catalogue
from engine.data.filters import Facets, Filter, Selection
from engine.core.errors import ArtifactError, BadQueryError, CatalogueError, ModelNotBuiltError, UnknownModelError
from engine.core.inputs import MAX_K, check_k
from engine.models import encoders as enc_mod
from engine.core.notes import Note, note
from engine.recsys.pipeline import Reranker, two_stage as run_two_stage
from engine.recsys.query import MovieTable, Resolved, neighbours, overlap
from engine.recsys.taste import (SPLIT_COSINE, Space, Taste, TasteConfig, check_split, recommend as run_recommend,
                                 recommend_by, taste_vector)
from engine.core.registry import NATIVE_TASTE, RANKERS, SPACES
from engine.service import records, search as text_search
from engine.service.results import Agreement, Asked, Hit, Hits
from engine.vectors.contract import Plan, SearchIndex
from engine.vectors.faiss_index import IndexCache, IndexConfig

if TYPE_CHECKING:  # pragma: no cover
    from engine.data.catalogue import EditLog
    from engine.service.results import Edited
    from engine.recsys.evaluation import Evaluation
    from engine.recsys.figures import PageFigures

log = logging.getLogger(__name__)

#: the taste a page can start from: the mean of the clicks, or the model's own user vector
TASTES = ("mean", "native")


def as_index_config(index: IndexConfig | dict | str | None) -> IndexConfig:
    """None -> exact; "exact"/"hnsw"/"ivf" -> defaults of that kind; a dict -> IndexConfig(**dict)."""
    if index is None:
        return IndexConfig()
    if isinstance(index, IndexConfig):
        return index
    if isinstance(index, dict):
        try:
            return IndexConfig(**index)
        except TypeError as exc:
            raise BadQueryError(f"Bad index settings {index!r}: {exc}.") from None
    return IndexConfig(kind=str(index).strip().lower())  # type: ignore[arg-type]


class Engine:
    """Vector search over one data set's catalogue (see module docstring)."""

    def __init__(self, dataset: str | None = None, catalogue: Catalogue | None = None,
                 index_dir: Path | str | None = None,
                 encoder: enc_mod.QueryEncoder | dict[str, enc_mod.QueryEncoder] | None = None,
                 reranker: Reranker | Callable[[], Reranker] | None = None,
                 backend: str | None = None) -> None:
        from engine.vectors.contract import default_backend, require_enabled

        self.dataset = dataset or Settings.from_env().dataset
        # only a backend the operator enabled (BackendNotEnabledError): a visitor starts no server
        self.backend = require_enabled(default_backend() if backend is None else backend)
        self._store_indexes: dict[tuple[str, str], Any] = {}
        self.catalogue = (catalogue if catalogue is not None  # reading never creates a catalogue
                          else Catalogue.open_existing(catalogue_path(self.dataset), dataset=self.dataset))
        self.index_cache = IndexCache(index_dir or dataset_cache_dir(self.dataset) / "indexes")
        self._encoder = encoder
        self._reranker_src = reranker
        self._rankers: dict[str, Reranker] = {}
        self._lock = threading.RLock()
        self._spaces: dict[str, Space] = {}
        self._table: MovieTable | None = None
        self._facets: Facets | None = None
        self._table_key: Any = None
        self._cold: tuple[tuple, dict[str, frozenset[int]]] | None = None
        self._info_key: tuple | None = None
        self._info: dict[str, dict[str, Any]] = {}

    @classmethod
    def open(cls, dataset: str | None = None, data_dir: Path | str | None = None, **kwargs: Any) -> "Engine":
        """Load (and verify) the data set, bring its catalogue in sync, return an Engine on it."""
        from engine.data.catalogue import open_catalogue
        from engine.data.dataset import load_dataset

        ds = load_dataset(dataset or Settings.from_env().dataset, data_dir)
        return cls(ds.name, catalogue=open_catalogue(ds), **kwargs)

    # ------------------------------------------------------------------ lazy state
    @property
    def movies(self) -> MovieTable:
        """The catalogue's movies, read again when they changed (a movie added or removed, here or by
        another process: the catalogue's files changed and so did its movies hash)."""
        files = _files_key(self.catalogue.path)
        with self._lock:
            if self._table is None or files is None or files != self._table_key[0]:
                version = self.catalogue_version()
                if self._table is None or version != self._table_key[1]:
                    df = self.catalogue.movies()
                    if df.empty:
                        raise CatalogueError(f"The {self.dataset} catalogue has no movies; run `python -m engine data` first.")
                    self._table = MovieTable(df)
                    self._facets = None  # the filterable columns follow the movies
                self._table_key = (files, version)
            return self._table

    def facets(self) -> Facets:
        """The catalogue's filterable columns (genres, year, ratings), built once per version of the movies."""
        with self._lock:
            table = self.movies  # reading the movies drops facets of an older version
            if self._facets is None:
                self._facets = Facets(table.frame.reset_index(drop=True), self.catalogue_version())
            return self._facets

    def select(self, where: Filter | None) -> Selection | None:
        """The movies ``where`` keeps (computed once per filter and catalogue), None without a filter.
        An unknown genre raises :class:`~engine.core.errors.UnknownGenreError` naming the close matches;
        a filter matching nothing is a selection of 0 movies (its answers are empty and say so)."""
        if where is None:
            return None
        if not isinstance(where, Filter):
            raise BadQueryError(f"A filter must be an engine.data.filters.Filter; got {type(where).__name__}.")
        return self.facets().select(where) if where.active else None

    def filter_plan(self, where: Selection | None) -> Plan:
        """What a search outside a vector index (keyword, BM25, a model's own user vector) says about
        its filter: how many movies matched."""
        n = self.facets().ids.size
        if where is None:
            return Plan("all", n, n, "")
        return Plan("none" if where.matching == 0 else "catalogue", where.matching, where.total, "")

    def catalogue_version(self) -> str:
        """The movies table's content hash: it changes with every movie added or removed."""
        return self.catalogue.meta().get("movies_hash", "")

    def cold_start(self) -> dict[str, frozenset[int]]:
        """space -> movie ids whose vector there is a cold-start prediction from text (read again when
        the vectors change)."""
        key = tuple(sorted((m, v["content_hash"]) for m, v in self.vector_info().items()))
        with self._lock:
            if self._cold is None or self._cold[0] != key:
                self._cold = (key, {m: frozenset(self.catalogue.cold_start(m).tolist()) for m, _ in key})
            return self._cold[1]

    def vector_info(self) -> dict[str, dict[str, Any]]:
        """model -> the catalogue's record of its vectors (dimension, count, config, content hash).

        Read from SQLite again only when the catalogue's files changed (their size and modification
        time): one request asks this several times and should read the table once."""
        key = _files_key(self.catalogue.path)
        with self._lock:
            if key is None or key != self._info_key:
                self._info = {v["model"]: v for v in self.catalogue.vector_info()}
                self._info_key = key
            return self._info

    def models(self) -> list[str]:
        """Models whose vectors are in the catalogue."""
        return list(self.vector_info())

    def space(self, model: str) -> Space:
        """The model's normalised vectors; reloaded when the catalogue's vectors change."""
        if not isinstance(model, str):
            raise UnknownModelError(f"A model is named by text (e.g. {', '.join(SPACES)}); got {model!r}.")
        model = model.strip().lower()
        info = self.vector_info()
        if model not in info:
            have = ", ".join(sorted(info)) or "none"
            raise ModelNotBuiltError(f"No {model} vectors in the catalogue (built: {have}); "
                                     f"run `python -m engine build --models {model}`.")
        with self._lock:
            held = self._spaces.get(model)
            if held is None or held.content_hash != info[model]["content_hash"]:
                vs = self.catalogue.get_vectors(model)  # verifies the content hash (ids, vectors, identity)
                self._check_against_build(model, vs)
                self._spaces[model] = Space(model, vs.movie_ids, vs.vectors, vs.content_hash)
            return self._spaces[model]

    def _check_against_build(self, model: str, vs: Any) -> None:
        """Vectors that a build recorded must be the ones it wrote: same hash, and so the same
        model and dimension.  Catalogues without a build record (tests, demos) are not checked."""
        try:
            manifest = self.catalogue.get_json(f"build:{model}")
        except CatalogueError:
            manifest = None  # an unreadable record: the next build rewrites it; the vectors verified above
        if not isinstance(manifest, dict) or not manifest.get("vectors_hash"):
            return
        if manifest["vectors_hash"] != vs.content_hash:
            raise ArtifactError(
                f"The stored {model} vectors ({vs.vectors.shape[1]}-d) are not the ones its last build wrote; "
                f"rebuild with `python -m engine build --dataset {self.dataset} --models {model}`.")

    def index(self, model: str, index: IndexConfig | str | None = None) -> SearchIndex:
        """The model's index on this Engine's backend (built or loaded once, then shared)."""
        return self.search_index(self.space(model), index)

    def search_index(self, sp: Space, index: IndexConfig | str | None) -> SearchIndex:
        """The space's :class:`SearchIndex`: FAISS in this process, or the vectors served by pgvector /
        Milvus, which honour ``index`` where they can and say so in the index's notes otherwise."""
        if self.backend != "faiss":
            requested = None if index is None else as_index_config(index)
            return self._store_index(sp).configured(requested)
        return self.index_cache.get(sp.model, sp.ids, sp.unit, sp.content_hash, as_index_config(index))

    def _store_index(self, sp: Space) -> Any:
        """The model's vectors served by pgvector or Milvus (loaded once per vectors' hash)."""
        from engine.vectors.served import POOL, StoreIndex

        from engine.core.artifacts import config_hash
        from engine.data.filters import columns_for

        facets = self.facets()
        key = (sp.model, sp.content_hash)
        with self._lock:
            if key not in self._store_indexes:
                # the collection holds the vectors and the movies' filter columns: its name covers both
                both = config_hash({"vectors": sp.content_hash, "movies": facets.key})
                self._store_indexes[key] = StoreIndex.open(POOL.get(self.backend), self.backend, self.dataset,
                                                           sp.model, sp.ids, sp.unit, both,
                                                           columns_for(facets, sp.ids))
            return self._store_indexes[key]

    def encoder(self, space: str = "text") -> enc_mod.QueryEncoder:
        """Query encoder of a text space: the encoder its vectors record (name + weight hash), checked
        against them (:class:`EncoderMismatchError` if it differs).  ``Engine(encoder=fn)`` (tests)
        serves every text space, or one per space with ``encoder={"text": fn, "use": fn2}``."""
        cfg = (self.vector_info().get(space) or {}).get("config") or {}
        stored = enc_mod.stored_identity(cfg)
        if self._encoder is None:
            enc = enc_mod.query_encoder(stored)
        elif isinstance(self._encoder, dict):
            if space not in self._encoder:
                raise ModelNotBuiltError(f"No query encoder for the {space} space.")
            enc = self._encoder[space]
        else:
            enc = self._encoder
        enc_mod.check_encoder(enc, stored, space)
        return enc

    def document_encoder(self, space: str = "text") -> enc_mod.QueryEncoder:
        """Encoder of a text space's movie documents (a movie added by hand): the one its vectors record;
        ``Engine(encoder=...)`` stands in as for queries."""
        cfg = (self.vector_info().get(space) or {}).get("config") or {}
        if self._encoder is None:
            return enc_mod.document_encoder(enc_mod.stored_identity(cfg))
        if isinstance(self._encoder, dict):
            if space not in self._encoder:
                raise ModelNotBuiltError(f"No encoder for the {space} space.")
            return self._encoder[space]
        return self._encoder

    # ------------------------------------------------------------------ edits
    def add_movie(self, title: str, year: int, genres: str | Sequence[str], overview: str | None = None,
                  tags: str | Sequence[str] | None = None) -> "Edited":
        """Add a movie to the catalogue, every space and every open index, without a rebuild
        (:mod:`engine.service.edits`); named errors for bad input, and then nothing changes."""
        from engine.service import edits

        with self._lock:  # one edit at a time per engine (SQLite serialises processes)
            return edits.add_movie(self, title, year, genres, overview, tags)

    def remove_movie(self, movie_id: int) -> "Edited":
        """Remove a movie from the catalogue, every space and every open index (UnknownMovieError if absent)."""
        from engine.service import edits

        with self._lock:
            return edits.remove_movie(self, movie_id)

    def genres(self) -> list[str]:
        """Every genre of the catalogue's movies: what a movie added by hand may have."""
        from engine.service import edits

        return edits.known_genres(self)

    def edit_notes(self) -> tuple[Note, ...]:
        """What a stored or published evaluation cannot say once the catalogue was edited after the
        data import (its figures describe the catalogue before the edits)."""
        log = self.edit_log()
        if not log.edited:
            return ()
        return (note("evaluation_before_edits", added=len(log.added), removed=len(log.removed)),)

    def edit_log(self) -> "EditLog":
        """What was added and removed since the data import (:class:`~engine.data.catalogue.EditLog`)."""
        return self.catalogue.edit_log()

    def after_edit(self, old: Mapping[str, str], new: Mapping[str, str], added: Mapping[str, np.ndarray],
                   add_ids: Sequence[int], remove_ids: Sequence[int]) -> int:
        """Carry the open indexes over to the edited vectors (hash ``old[m]`` -> ``new[m]``) without a
        rebuild: FAISS indexes in memory and served collections (pgvector, Milvus) get the rows in
        ``added`` (space -> unit vectors float32 (a, d) of ``add_ids``) and lose ``remove_ids``.
        Returns how many indexes were updated."""
        from engine.data.filters import columns_for
        from engine.vectors.served import StoreIndex

        a = np.asarray(add_ids, np.int64)
        r = np.asarray(remove_ids, np.int64)
        done = 0
        with self._lock:
            # the added movies' filter columns (year, ratings, genres) go into the served rows with them
            columns = columns_for(self.facets(), a) if len(a) else None
            for m, before in old.items():
                after = new.get(m, before)
                if after == before:
                    continue
                vecs = added.get(m, np.zeros((0, 1), np.float32))
                done += self.index_cache.update(m, before, after, a if m in added else a[:0], vecs, r)
                held = self._store_indexes.pop((m, before), None)
                if isinstance(held, StoreIndex):
                    self._store_indexes[(m, after)] = held.updated(a if m in added else a[:0], vecs, r,
                                                                   columns if m in added else None)
                    done += 1
            self._info_key = None  # read the new hashes now, whatever the files' times say
        return done

    def reranker(self, ranker: str = "sasrec") -> Reranker:
        """The stage-2 model ``ranker`` (one of :data:`~engine.core.registry.RANKERS`), loaded once.  The
        ``reranker`` given to the constructor stands in for SASRec (tests, custom models)."""
        name = str(ranker).strip().lower()
        if name not in RANKERS:
            raise BadQueryError(f"Unknown ranker {ranker!r}; choose one of {', '.join(RANKERS)}.")
        with self._lock:
            if name not in self._rankers:
                src = self._reranker_src if name == "sasrec" else None
                if src is None:
                    self._rankers[name] = load_built(self.dataset, name)
                else:
                    self._rankers[name] = src() if callable(src) and not hasattr(src, "score") else src  # type: ignore[assignment]
            return self._rankers[name]

    def rankers(self) -> list[str]:
        """Stage-2 models that are available: SASRec when injected or built, others when built."""
        return [r for r in RANKERS if (r == "sasrec" and self._reranker_src is not None)
                or self.catalogue.get_json(f"build:{r}")]

    # ------------------------------------------------------------------ answers
    def resolve(self, movie: str | int) -> Resolved:
        """A title (exact / case-insensitive / fuzzy) or id -> one movie; UnknownMovieError with suggestions."""
        return self.movies.resolve(movie)

    def hits(self, pairs: Iterable[tuple[int, float]], ranks: Sequence[Mapping[str, int | None]] | None = None,
             **per_item: Sequence[Any]) -> tuple[Hit, ...]:
        """(movie id, score) pairs, best first -> :class:`Hit` rows with titles; ``per_item`` gives one
        value per pair for the optional Hit fields (because_id, rank_before, ...)."""
        out = []
        cold = self.cold_start()
        for r, (mid, score) in enumerate(pairs):
            info = self.movies.info(mid)
            extra_cold = tuple(m for m, ids in cold.items() if int(mid) in ids)
            extra = {key: values[r] for key, values in per_item.items()}
            if extra.get("because_id") is not None:
                extra["because_title"] = self.movies.display[int(extra["because_id"])]
            out.append(Hit(rank=r + 1, movie_id=int(info["movie_id"]), title=info["title"], year=info["year"],
                           genres=tuple(info["genres"]), score=float(score), other_title=info["other_title"],
                           ranks=ranks[r] if ranks is not None else None, cold_start=extra_cold, **extra))
        return tuple(out)

    def similar(self, movie: str | int, model: str = "mf", k: int = 10,
                index: IndexConfig | str | None = None, where: Filter | None = None) -> Hits:
        """Nearest movies to one movie in one space (the movie itself excluded), only those ``where``
        keeps when given."""
        k = check_k(k, MAX_K)
        ref = self.resolve(movie)
        sel = self.select(where)
        sp = self.space(model)
        t0 = time.perf_counter()
        idx = self.search_index(sp, index)
        row = sp.rows([ref.movie_id], "movie")[0]
        t1 = time.perf_counter()
        ids, scores = neighbours(idx, sp.unit[row], k, exclude=[ref.movie_id], where=sel)
        t2 = time.perf_counter()
        notes: list[Note] = [note("title_fuzzy", title=ref.title)] if ref.how == "fuzzy" else []
        if ref.alternatives and ref.how != "fuzzy":
            notes.append(note("title_others", titles=list(ref.alternatives)))
        notes += [*idx.notes, *idx.plan(sel).notes()]
        asked = Asked(model=sp.model, index=idx.config.label(), movie_id=ref.movie_id, title=ref.title,
                      matched=ref.how, suggestions=tuple(ref.alternatives), filter=_asked(sel))
        return Hits("similar", asked, self.hits(zip(ids.tolist(), scores.tolist())),
                    {"index": 1e3 * (t1 - t0), "search": 1e3 * (t2 - t1)}, tuple(notes), sp.unit[row])

    def similar_all(self, movie: str | int, models: Sequence[str] | None = None, k: int = 10,
                    index: IndexConfig | str | None = None, where: Filter | None = None,
                    diversity: float = 1.0) -> Agreement:
        """Similar movies in each space plus pairwise overlap of the top-k lists (each only the movies
        ``where`` keeps, when given); with ``diversity`` < 1 each list is MMR's ``k`` of the space's 50
        nearest (:meth:`diversify`)."""
        from engine.recsys.diversity import MMR_CANDIDATES, check_lambda

        lam = check_lambda(diversity)
        if models is not None and (isinstance(models, (str, bytes)) or not hasattr(models, "__iter__")):
            raise BadQueryError(f"models must be a list of model names; got {models!r}.")
        names = list(models) if models is not None else []
        names = names or [m for m in SPACES if m in self.vector_info()]
        if not all(isinstance(m, str) for m in names):
            raise BadQueryError(f"models must be a list of model names; got {names!r}.")
        if not names:
            raise ModelNotBuiltError("No vectors in the catalogue yet; run `python -m engine build`.")
        spaces = {m: self.similar(movie, m, k, index, where) if lam >= 1.0 else
                  self.diversify(self.similar(movie, m, max(check_k(k, MAX_K), MMR_CANDIDATES), index, where), lam, k)
                  for m in names}
        first = next(iter(spaces.values())).query
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
        return Agreement(int(first.movie_id), str(first.title), spaces,
                         tuple(overlap(spaces[a].ids(), spaces[b].ids(), (a, b)) for a, b in pairs))

    def search(self, query: str, mode: str | None = None, space: str | None = None, k: int = 10,
               index: IndexConfig | str | None = None, where: Filter | None = None) -> Hits:
        """Free-text search, ranked by ``mode`` (:data:`~engine.core.registry.MODES`; None = the default
        chosen on validation): ``semantic`` (a text space), ``keyword`` (SQL LIKE), ``bm25`` (FTS5)
        or ``hybrid`` (RRF of both).  ``space``: the text space for semantic/hybrid; None or "auto"
        = by the query's language (see :mod:`engine.service.search`).  ``where``: only these movies."""
        return text_search.search(self, query, mode, space, k, index, where)

    def mood_search(self, query: str, k: int = 10, index: IndexConfig | str | None = None,
                    space: str | None = None, where: Filter | None = None) -> Hits:
        """Free-text search in a text space (``search(mode="semantic")``)."""
        return self.search(query, mode="semantic", space=space, k=k, index=index, where=where)

    def bm25_search(self, query: str, k: int = 10, where: Filter | None = None) -> Hits:
        """SQLite FTS5 BM25 over title, genres, tags and overview; empty (with a note) when no word matches."""
        return text_search.bm25(self, query, k, self.select(where))

    def keyword_search(self, query: str, k: int = 10, where: Filter | None = None) -> Hits:
        """The SQL LIKE baseline over title, genres, tags and overview (for comparison with mood search)."""
        return text_search.keyword(self, query, k, self.select(where))

    def personalize(self, clicks: Sequence[int], dislikes: Sequence[int] = (), model: str = "mf", k: int = 10,
                    taste: str = "mean", rerank: bool = False, recency_half_life: float | None = None,
                    index: IndexConfig | str | None = None, n_candidates: int = 100, ranker: str = "sasrec",
                    where: Filter | None = None, strategy: str = "average", diversity: float = 1.0,
                    split_below: float | None = None) -> Hits:
        """What Live personalization shows for one state of its controls: the taste vector's nearest
        movies (``taste="mean"``; several clicks combined by ``strategy``, re-ranked by MMR at
        ``diversity``; ``split_below`` the multi-interest split cosine, None = the default), the
        model's own user vector (``"native"``, MF and SASRec), or the two stages (``rerank``: the taste
        vector's ``n_candidates`` re-ranked by ``ranker``)."""
        if taste not in TASTES:
            raise BadQueryError(f"Unknown taste {taste!r}; choose one of {', '.join(TASTES)}.")
        if rerank:
            return self.two_stage(clicks, dislikes, model, k, n_candidates, True, recency_half_life, index, ranker,
                                  where=where)
        if taste == "native":
            return self.recommend_native(clicks, dislikes, model, k, where=where)
        return self.recommend(clicks, dislikes, model, k, recency_half_life, index=index, where=where,
                              strategy=strategy, diversity=diversity, split_below=split_below)

    def recommend(self, clicks: Sequence[int], dislikes: Sequence[int] = (), model: str = "mf", k: int = 10,
                  recency_half_life: float | None = None, dislike_weight: float = 0.5,
                  index: IndexConfig | str | None = None, where: Filter | None = None,
                  strategy: str = "average", diversity: float = 1.0, split_below: float | None = None) -> Hits:
        """Live personalisation: nearest movies to the taste vector, with "because you clicked"; only
        movies ``where`` keeps when given; ``strategy`` (:data:`~engine.core.registry.TASTE_STRATEGIES`) and
        MMR ``diversity`` as :func:`engine.recsys.taste.recommend_by` (``split_below``: its split cosine,
        None = :data:`~engine.recsys.taste.SPLIT_COSINE`).  For "multi", ``vector`` holds one row per interest."""
        k = check_k(k, MAX_K)
        taste = Taste.of(clicks, dislikes, TasteConfig(recency_half_life, dislike_weight))  # checked once, here
        sel = self.select(where)
        sp = self.space(model)
        t0 = time.perf_counter()
        idx = self.search_index(sp, index)
        rec = (run_recommend(sp, idx, taste, k=k, where=sel) if strategy == "average" and diversity == 1.0
               else recommend_by(sp, idx, taste, k, strategy, diversity, where=sel,
                                 split_below=SPLIT_COSINE if split_below is None else check_split(split_below)))
        ms = 1e3 * (time.perf_counter() - t0)
        items = self.hits(((r.movie_id, r.score) for r in rec.rows),
                          because_id=[r.because_id for r in rec.rows], because_score=[r.because_score for r in rec.rows])
        asked = Asked(model=sp.model, index=idx.config.label(), clicks=taste.clicks, dislikes=taste.dislikes,
                      taste="mean", recency_half_life=taste.config.recency_half_life, filter=_asked(sel))
        return Hits("recommend", asked, items, {"total": ms}, (*idx.notes, *idx.plan(sel).notes()), rec.vector)

    def recommend_native(self, clicks: Sequence[int], dislikes: Sequence[int] = (), model: str = "mf",
                         k: int = 10, where: Filter | None = None) -> Hits:
        """Live personalisation with the model's own user vector (MF fold-in, SASRec's last hidden
        state) scored against its item vectors by inner product — what the Home table measures.
        Dislikes are excluded from the list but do not move the user vector; with ``where``, every
        item is scored and the best that the filter keeps are listed (no index is involved)."""
        k = check_k(k, MAX_K)
        name = str(model).strip().lower()
        if name not in NATIVE_TASTE:
            raise BadQueryError(f"The {name} space has no user vector of its own; choose {' or '.join(NATIVE_TASTE)}.")
        taste = Taste.of(clicks, dislikes)
        sel = self.select(where)
        fitted = load_built(self.dataset, name)
        t0 = time.perf_counter()
        # a filter may keep movies far down the list: score them all (one matrix product) and cut after
        depth = k + len(taste.dislikes) if sel is None else len(fitted.item_ids())
        with enc_mod.single_thread_inference():  # this thread only, restored after (no process-wide change)
            ids, scores = fitted.recommend(list(taste.clicks), depth)
        ok = np.ones(len(ids), bool) if sel is None else sel.mask(np.asarray(ids, np.int64))
        keep = [(int(i), float(s)) for i, s, o in zip(ids, scores, ok) if o and int(i) not in set(taste.dislikes)][:k]
        ms = 1e3 * (time.perf_counter() - t0)
        asked = Asked(model=name, clicks=taste.clicks, dislikes=taste.dislikes, taste="native", filter=_asked(sel))
        notes = ((note("native_ignores_dislikes"),) if taste.dislikes else ()) + self.filter_plan(sel).notes()
        return Hits("recommend", asked, self.hits(keep), {"total": ms}, notes)

    def two_stage(self, clicks: Sequence[int], dislikes: Sequence[int] = (), model: str = "mf", k: int = 10,
                  n_candidates: int = 100, rerank: bool = True, recency_half_life: float | None = None,
                  index: IndexConfig | str | None = None, ranker: str = "sasrec", where: Filter | None = None) -> Hits:
        """Stage 1: ``n_candidates`` from the index; stage 2: ``ranker`` (SASRec or Wide & Deep,
        :data:`~engine.core.registry.RANKERS`) re-ranks them (rank before/after).  ``where``: stage 1
        retrieves only movies the filter keeps, so the final list holds only those too."""
        k = check_k(k, MAX_K)
        taste = Taste.of(clicks, dislikes, TasteConfig(recency_half_life))
        sel = self.select(where)
        if not isinstance(rerank, (bool, np.bool_)):
            raise BadQueryError(f"rerank must be True or False; got {rerank!r}.")
        sp = self.space(model)
        idx = self.search_index(sp, index)
        rr = self.reranker(ranker) if rerank else None
        with enc_mod.single_thread_inference():  # this thread only, restored after (no process-wide change)
            res = run_two_stage(sp, idx, rr, taste, k=k, n_candidates=n_candidates, where=sel)
        rows = res.items
        items = self.hits(((r.movie_id, r.rerank_score) for r in rows),
                          because_id=[r.because_id for r in rows], because_score=[r.because_score for r in rows],
                          rank_before=[r.rank_before for r in rows], rank_after=[r.rank_after for r in rows],
                          retrieval_score=[r.retrieval_score for r in rows], rerank_score=[r.rerank_score for r in rows])
        asked = Asked(model=sp.model, index=idx.config.label(), clicks=taste.clicks, dislikes=taste.dislikes,
                      taste="mean", recency_half_life=taste.config.recency_half_life,
                      n_candidates=int(len(res.candidates)), reranker=str(ranker).strip().lower() if rerank else None,
                      filter=_asked(sel))
        return Hits("two_stage", asked, items, res.timings_ms, (*idx.notes, *idx.plan(sel).notes()), res.vector)

    def diversify(self, hits: Hits, diversity: float, k: int = 10, space: str | None = None) -> Hits:
        """``hits`` (best first) re-ranked by MMR at ``diversity`` (:mod:`engine.recsys.diversity`; 1 =
        unchanged), cut to ``k``, similarity in ``space`` (default: the space the hits came from).
        Fused or keyword scores are min-max scaled first, so relevance and cosine share a range."""
        from dataclasses import replace

        from engine.recsys.diversity import check_lambda, mmr

        lam, k = check_lambda(diversity), check_k(k, MAX_K)
        if lam >= 1.0 or not hits.items:
            return replace(hits, items=hits.items[:k])
        sp = self.space(space or hits.query.space or hits.query.model or "text")
        items = [h for h in hits.items if h.movie_id in sp.row]
        rel = np.array([h.score for h in items], dtype=np.float64)
        if hits.query.mode in ("hybrid", "bm25", "keyword") and np.ptp(rel) > 0:
            rel = (rel - rel.min()) / np.ptp(rel)
        ids = np.array([h.movie_id for h in items], dtype=np.int64)
        by_id = {h.movie_id: h for h in items}
        picked = mmr(ids, rel, sp.unit[sp.rows(ids)], k, lam)
        return replace(hits, items=tuple(replace(by_id[int(m)], rank=r + 1) for r, m in enumerate(picked)))

    def similar_debiased(self, movie: str | int, model: str = "mf", k: int = 10, where: Filter | None = None) -> Hits:
        """Nearest movies to one movie in a collaborative space with item popularity taken out, by the
        method chosen on validation (:mod:`engine.recsys.beyond`; subtracting 0.1 x standardised log
        popularity before anything was measured).  Exact: every movie of the space is scored; only
        movies ``where`` keeps when given."""
        from engine.recsys.beyond import debiased_scores
        from engine.core.registry import COLLABORATIVE

        k = check_k(k, MAX_K)
        name = str(model).strip().lower()
        if name not in COLLABORATIVE:
            raise BadQueryError(f"Only the collaborative spaces ({', '.join(COLLABORATIVE)}) can be debiased; got {model!r}.")
        ev = self.evaluation()
        chosen = ev.beyond.debias.get(name) if ev is not None and ev.beyond is not None else None
        method, strength = (chosen.method, chosen.strength) if chosen else ("penalty", 0.1)
        ref = self.resolve(movie)
        sp = self.space(name)
        t0 = time.perf_counter()
        row = sp.rows([ref.movie_id], "movie")[0]
        s = debiased_scores(sp.unit, self.movies.ratings(sp.ids), sp.unit[row][None, :], method, strength)[0]
        s[row] = -np.inf
        sel = self.select(where)
        if sel is not None:
            s[~sel.mask(sp.ids)] = -np.inf
        top = [i for i in np.argsort(-s, kind="stable")[:k] if np.isfinite(s[i])]
        asked = Asked(model=sp.model, index=f"exact, debiased ({method})", movie_id=ref.movie_id, title=ref.title,
                      matched=ref.how)
        return Hits("similar", asked, self.hits(zip(sp.ids[top].tolist(), s[top].tolist())),
                    {"search": 1e3 * (time.perf_counter() - t0)}, (), sp.unit[row])

    # ------------------------------------------------------------------ maps
    def taste_position(self, clicks: Sequence[int], dislikes: Sequence[int] = (), model: str = "mf",
                       recency_half_life: float | None = None, *, map_ids: np.ndarray,
                       coords: np.ndarray) -> np.ndarray:
        """Where the taste vector lands on a 2-D map of the space: float32 (2,).  A page that already
        has the answer's vector calls :meth:`place` instead (the taste is not computed twice)."""
        sp = self.space(model)
        vector = taste_vector(sp, Taste.of(clicks, dislikes, TasteConfig(recency_half_life)))
        return self.place(model, vector, map_ids=map_ids, coords=coords)

    def place(self, model: str, vector: np.ndarray, *, map_ids: np.ndarray, coords: np.ndarray) -> np.ndarray:
        """Where a vector float32 (d,) of the space lands on its 2-D map: float32 (2,).

        ``map_ids`` int64 (n,) sorted and ``coords`` float32 (n, 2) are the map's movies and positions
        (a UMAP projection of the same vectors); see :func:`engine.lab.projection.place`."""
        from engine.lab.projection import place

        sp = self.space(model)
        rows = np.searchsorted(map_ids, sp.ids)
        if len(map_ids) != len(sp.ids) or not np.array_equal(np.asarray(map_ids)[np.minimum(rows, len(map_ids) - 1)], sp.ids):
            raise ArtifactError(f"The {sp.model} map was drawn from other vectors; reload the page to redraw it.")
        return place(np.asarray(vector, np.float32), sp.unit, coords[rows], unit=True)

    # ------------------------------------------------------------------ records and measurements
    def compare_backends(self, model: str, n_queries: int = 200) -> list[dict[str, Any]]:
        """This space's stored vectors loaded into every backend the operator enabled and timed with
        ``n_queries`` taste-like queries (:func:`engine.vectors.compare.compare_space`; one comparison
        at a time per process, a second caller gets :class:`~engine.core.errors.BusyError`)."""
        from engine.vectors.compare import compare_space

        if model not in SPACES:
            raise UnknownModelError(f"Unknown space {model!r}; choose one of {', '.join(SPACES)}.")
        vs = self.catalogue.get_vectors(model)
        return compare_space(vs.movie_ids, vs.vectors, model=model, n_queries=n_queries)

    def outdated_models(self) -> list[str]:
        """Built models whose build record holds other settings than this code builds with
        (:func:`engine.service.records.outdated_models`)."""
        return records.outdated_models(self.catalogue, self.models())

    def build_notes(self) -> list[Note]:
        """What training bounded or cut in each built space (:func:`engine.service.records.build_notes`)."""
        return records.build_notes(self.catalogue, self.models())

    def evaluation(self) -> "Evaluation | None":
        """The evaluation the pages show: the one ``python -m engine evaluate`` stored in this cache
        (``.source == "local"``), else the one published with the code for the same data, protocol
        and model settings (``"published"``, verified), else None."""
        from engine.recsys.evaluation import current_evaluation

        return current_evaluation(self.catalogue, self.dataset, self.catalogue.meta().get("data_hash"))

    def measured(self) -> "PageFigures | None":
        """What the pages do, as measured (:class:`~engine.recsys.figures.PageFigures`: figures by
        space, ranker and candidates, with their source, date and machine), or None before an
        evaluation with stages."""
        ev = self.evaluation()
        return ev.figures if ev is not None else None


def _asked(sel: Selection | None) -> Filter | None:
    """The filter an answer reports: as resolved (genres spelled as the catalogue spells them)."""
    return None if sel is None else sel.filter


def load_built(dataset: str, name: str) -> Any:
    """A fitted model of a built data set (SASRec, Wide & Deep, MF, ...), verified against its
    build manifest; raises ModelNotBuiltError with the build command when it is missing."""
    from engine.service.build import load_model

    return load_model(dataset, name)


def _files_key(path: str) -> tuple | None:
    """Size and modification time of an SQLite file and its write-ahead log; None for ":memory:"
    (always read again) or a file that cannot be seen."""
    if path == ":memory:":
        return None
    key = []
    for p in (path, path + "-wal"):
        try:
            st = os.stat(p)
            key.append((st.st_size, st.st_mtime_ns))
        except OSError:
            key.append(None)
    return tuple(key)

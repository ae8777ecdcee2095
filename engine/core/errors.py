"""Named exceptions for the MovieDNA engine.

Every error a user can cause derives from :class:`MovieDNAError`; its message is one
sentence that says what went wrong and what to do.  The CLI turns these into exit
code 2 with the message on stderr; the app shows them with ``st.error``.
"""

from __future__ import annotations


class MovieDNAError(Exception):
    """Base class: a problem the user can fix (bad input, missing data, stale cache)."""


# --- data layer -----------------------------------------------------------------
class UnknownDatasetError(MovieDNAError):
    """The data set name is not one MovieDNA knows."""


class DataFormatError(MovieDNAError):
    """A MovieLens file is missing, has the wrong columns, or cannot be decoded."""


class HashMismatchError(MovieDNAError):
    """A file's sha256 differs from the published one."""


class SourceUnavailableError(MovieDNAError):
    """No source (local dir, cache, GroupLens, PyPI wheel) could provide the data set."""


# --- catalogue / artifacts --------------------------------------------------------
class CatalogueError(MovieDNAError):
    """The SQLite catalogue is missing, corrupt or lacks what was asked for."""


class InvalidNameError(MovieDNAError):
    """A model or data set name is not a safe identifier (engine.core.config.validate_name)."""


class ArtifactError(MovieDNAError):
    """A stored artifact (vectors, weights, index, projection) fails verification."""


class ModelNotBuiltError(CatalogueError):
    """Vectors for the requested model are not in the catalogue yet (run build)."""


class UnknownModelError(MovieDNAError):
    """The model name is not one of the registered embedding models."""


class DimensionMismatchError(MovieDNAError):
    """Vectors or queries have the wrong shape or dimension."""


class EncoderMismatchError(MovieDNAError):
    """A text space's vectors were embedded by another encoder (name or weights) than the one asked to embed the query."""


# --- queries ----------------------------------------------------------------------
class BadQueryError(MovieDNAError):
    """A query is empty, too long, or otherwise unusable."""


class UnknownMovieError(MovieDNAError):
    """A title or movie id does not resolve to a movie in the catalogue."""

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions or [])


class UnknownGenreError(BadQueryError):
    """A filter names a genre the catalogue does not have; ``suggestions`` holds the close matches."""

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions or [])


class BackendError(MovieDNAError):
    """A vector database backend (pgvector, Milvus) cannot be reached or used."""


class UnknownBackendError(BadQueryError):
    """The vector backend asked for is not a name MovieDNA knows (faiss, pgvector, milvus)."""


class BackendNotEnabledError(BackendError):
    """The vector backend exists but the operator has not enabled it (MOVIEDNA_BACKENDS or the CLI's --backend)."""


class BusyError(MovieDNAError):
    """A heavy job that runs one at a time per process (a Scale lab run) is already running."""


# --- catalogue edits ----------------------------------------------------------------
class BadTitleError(BadQueryError):
    """A movie's title is empty, too long, or not text."""


class BadYearError(BadQueryError):
    """A movie's year is not a whole number in the range a film can have."""


class UnknownGenreError(BadQueryError):
    """A genre is not one of the catalogue's genres."""

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions or [])


class BadMovieTextError(BadQueryError):
    """A movie's overview or tags are too long or not text."""


class EditsNotEnabledError(MovieDNAError):
    """Catalogue edits were asked for where the operator has not enabled them (MOVIEDNA_EDITS)."""

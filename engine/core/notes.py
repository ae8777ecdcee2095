"""What an answer says about itself: a note is a code and its parameters, never a sentence.

The engine emits :class:`Note` objects; :data:`NOTES` holds the English text of every code (for the
CLI, logs and JSON), and ``ui/text.py`` renders the same codes in English and Korean.  A code that
is not in :data:`NOTES` cannot be made, so every note the engine can emit has a text.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any, Mapping

#: every note the engine can emit: code -> English template ({name} fields are the parameters)
NOTES: dict[str, str] = {
    # resolving a title
    "title_fuzzy": "Matched {title!r} (fuzzy match).",
    "title_others": "Other movies with this title: {titles}.",
    # how a backend searched
    "index_ef_capped": "{backend} caps HNSW ef_search at {cap}; searched with {cap} instead of {requested}.",
    "index_kind_unavailable": ("The {backend} backend cannot run an {kind} search here; this answer comes from its "
                               "{served}. Choose the faiss backend to compare index kinds."),
    # filtered search: which path the planner took
    "filter_none": "No movie matches the filter (0 of {total}); nothing was searched.",
    "filter_matched": "{matching} of {total} movies match the filter.",
    "filter_subset": "{matching} of {total} movies match the filter: exact search over just those.",
    "filter_index": "{matching} of {total} movies match the filter: {index} searched with the filter ({params}).",
    "filter_sql": "SQL that ran: {sql}",
    # which text space serves a query
    "route_user": "{space} space chosen by the user.",
    "route_multilingual": "{language} query: served by the multilingual {space} space.",
    "route_no_multilingual": ("{language} query but no multilingual space is built "
                              "(run `python -m engine build --models use`); results are unreliable."),
    "route_english": "English query: served by the {space} space.",
    "route_english_fallback": "English query: served by the {space} space ({default} is not built).",
    "english_model_only": "The text model was trained on English; results for other scripts are unreliable.",
    # keyword search and hybrid fusion
    "bm25_no_match": "No title, genre, tag or overview contains these words (BM25 matches words, not meanings).",
    "bm25_no_match_language": ("A {language} query has no keyword match: the catalogue's titles are in {titles} "
                               "and it has no overviews."),
    "bm25_no_match_language_plots": ("A {language} query has no keyword match: the catalogue's titles are in "
                                     "{titles}, its overviews in {overviews}."),
    "keyword_no_match": "No title, genre, tag or overview contains these words (keyword search matches words only).",
    "hybrid_bm25_none": "BM25 matched no word of the query, so the hybrid ranking is the semantic one.",
    "hybrid_bm25_abstained": ("BM25's best match lacks some of the query's words, so BM25 did not vote: the "
                              "hybrid ranking fuses the semantic lists only."),
    "hybrid_fused": "Hybrid fuses the {spaces} spaces.",
    "hybrid_fused_bm25": "Hybrid fuses the {spaces} spaces with BM25.",
    # personalisation
    "native_ignores_dislikes": "Dislikes are left out of the list; the model's user vector does not use them.",
    # a catalogue edited after its evaluation
    "evaluation_before_edits": ("These figures describe the catalogue before its edits: {added} movie(s) added and "
                                "{removed} removed since; an added movie's MF and SASRec vectors are cold-start "
                                "predictions from text, which no figure here measures."),
    # what training bounded
    "build_bounded": "{model} was trained {summary}.",
    "build_time_guard": "{model}: a time guard stopped training after {epochs} epochs.",
}


def fields_of(template: str) -> set[str]:
    """The parameter names a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class Note:
    """A caveat an answer carries: ``code`` (a key of :data:`NOTES`) and its ``params``.

    Parameters are plain values (text, numbers, lists of text); text in them may come from a query
    or a file, so whoever renders a note shows it as plain text.
    """

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in NOTES:
            raise ValueError(f"unknown note code {self.code!r}")
        missing = fields_of(NOTES[self.code]) - set(self.params)
        if missing:
            raise ValueError(f"note {self.code!r} lacks {sorted(missing)}")

    def text(self) -> str:
        """The note in English."""
        return NOTES[self.code].format(**{k: in_words(v) for k, v in self.params.items()})

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params), "text": self.text()}


def note(code: str, **params: Any) -> Note:
    """``note("title_fuzzy", title="Toy Story (1995)")``."""
    return Note(code, params)


def in_words(value: Any) -> Any:
    """Lists read as text in a sentence: ["use", "text"] -> "use and text"."""
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
        return " and ".join(items) if len(items) <= 2 else ", ".join(items[:-1]) + " and " + items[-1]
    return value

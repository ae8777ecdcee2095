"""The project's vocabulary: every model, space, ranker and search mode is declared here once.

Everything else asks this module (``SPACES``, ``TEXT_SPACES``, ``RANKERS``, ``NATIVE_TASTE``,
``spec("mf").label`` ...) instead of writing the names out again.  It imports nothing of the
engine but the errors, so every layer may read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.errors import UnknownModelError


@dataclass(frozen=True)
class ModelSpec:
    """One registered model.

    ``target``: ``"module:Class"`` (imported lazily, torch is heavy; None for the popularity
    baseline, which only the evaluation fits).  ``space``: its item vectors are a space the pages
    search.  ``text``: a text encoder's space (mood search); ``multilingual``: it reads more than
    English.  ``native``: it has a user vector of its own scored by inner product with its item
    vectors.  ``ranker``: it can re-rank candidates (stage 2).  ``build``: built by default.
    """

    name: str
    label: str
    target: str | None
    what: str
    space: bool = False
    text: bool = False
    multilingual: bool = False
    native: bool = False
    ranker: bool = False
    build: bool = False


#: every model, in display order
REGISTRY: tuple[ModelSpec, ...] = (
    ModelSpec("popularity", "Popularity", None, "most-rated movies (the baseline)"),
    ModelSpec("mf", "MF", "engine.models.mf:MFModel", "rated like", space=True, native=True, build=True),
    ModelSpec("sasrec", "SASRec", "engine.models.sasrec.model:SASRecModel", "watched next",
              space=True, native=True, ranker=True, build=True),
    ModelSpec("text", "Text (MiniLM)", "engine.models.text:TextModel", "what it is about (English)",
              space=True, text=True, build=True),
    ModelSpec("use", "USE (multilingual)", "engine.models.use:UseModel", "what it is about (16 languages)",
              space=True, text=True, multilingual=True, build=True),
    ModelSpec("widedeep", "Wide & Deep", "engine.models.widedeep.model:WideDeepModel", "stage-2 ranker",
              ranker=True),
)

_BY_NAME = {s.name: s for s in REGISTRY}

#: name -> "module:Class" of every model a build can fit
MODELS: dict[str, str] = {s.name: s.target for s in REGISTRY if s.target}
#: the spaces the pages search, in display order
SPACES: tuple[str, ...] = tuple(s.name for s in REGISTRY if s.space)
#: text spaces (mood search): name -> multilingual?
TEXT_SPACES: dict[str, bool] = {s.name: s.multilingual for s in REGISTRY if s.text}
#: spaces whose model has its own user vector (Live personalization's "model's own user vector")
NATIVE_TASTE: tuple[str, ...] = tuple(s.name for s in REGISTRY if s.native)
#: stage-2 models of the two-stage pipeline
RANKERS: tuple[str, ...] = tuple(s.name for s in REGISTRY if s.ranker)
#: what ``python -m engine build`` fits without ``--models``
DEFAULT_BUILD: tuple[str, ...] = tuple(s.name for s in REGISTRY if s.build)
#: the baseline the evaluation fits besides the registered models
BASELINES: tuple[str, ...] = tuple(s.name for s in REGISTRY if s.target is None)
#: every row of the evaluation, in display order
EVAL_MODELS: tuple[str, ...] = tuple(s.name for s in REGISTRY)

#: how several clicks make one taste (Live personalization): the mean of the clicks, each movie's
#: best similarity to any click, or the clicks clustered into up to three interests, interleaved
TASTE_STRATEGIES: tuple[str, ...] = ("average", "best", "multi")
#: collaborative spaces (learnt from who rated what): their neighbours can be debiased and carry support
COLLABORATIVE: tuple[str, ...] = tuple(s.name for s in REGISTRY if s.space and not s.text)

#: the Scale lab's vector distributions: "hard" (isotropic gaussian blobs: intrinsic dimension near
#: the full dimension, neighbours spread over many clusters) and "real-like" (a mixture of low-rank
#: gaussians fitted to a built catalogue's own vectors, engine.lab.mixture)
SCALE_DISTRIBUTIONS: tuple[str, ...] = ("hard", "real-like")

#: free-text search modes
MODES: tuple[str, ...] = ("semantic", "keyword", "bm25", "hybrid")
#: chosen on the validation sets (docs/SEARCH.md): best mean nDCG@10 over the sets and languages,
#: both data sets (hybrid 0.707 / 0.739, semantic use 0.654 / 0.688 on ml-100k / ml-latest-small)
DEFAULT_MODE = "hybrid"


def spec(name: object) -> ModelSpec:
    """The registered model ``name`` (case and spaces ignored); :class:`UnknownModelError` otherwise."""
    key = str(name).strip().lower() if isinstance(name, str) else None
    if key not in _BY_NAME:
        raise UnknownModelError(f"Unknown model {name!r}; choose one of {', '.join(_BY_NAME)}.")
    return _BY_NAME[key]


def label(name: str) -> str:
    """The display name of a model (``"mf"`` -> ``"MF"``); an unknown name is shown upper-cased."""
    return _BY_NAME[name].label if name in _BY_NAME else str(name).upper()

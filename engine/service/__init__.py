"""The facade: :class:`Engine` (engine.py), its typed answers (results.py), the free-text search flow
(search.py) and what the build records say (records.py)."""

from engine.core.errors import BadQueryError
from engine.service.engine import Engine, as_index_config, load_built
from engine.service.results import Agreement, Asked, Encoder, Feedback, Fusion, Hit, Hits
from engine.vectors.faiss_index import IndexConfig

__all__ = ["Engine", "Hits", "Hit", "Asked", "Agreement", "Encoder", "Feedback", "Fusion", "IndexConfig",
           "BadQueryError", "as_index_config", "load_built"]

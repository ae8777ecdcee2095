"""Vector search: one contract (``contract``: search / upsert / count / drop) served by FAISS in process
(``faiss_index``), PostgreSQL + pgvector (``pgvector``) or Milvus (``milvus``); ``served`` adapts any
store to the engine's index surface; ``compare`` measures the backends side by side."""

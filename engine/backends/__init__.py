"""Real vector database backends behind :class:`engine.store.VectorStore`.

- :mod:`engine.backends.pgvector`: PostgreSQL + pgvector (embedded server or ``MOVIEDNA_PG_URL``).
- :mod:`engine.backends.milvus`: Milvus Lite file or a Milvus server (``MOVIEDNA_MILVUS_URI``).
- :mod:`engine.backends.compare`: the scale-lab comparison of load time, latency and recall.
"""

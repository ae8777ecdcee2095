"""Data: where MovieLens files come from (``sources``), how they parse (``movielens``, ``titles``),
the loaded and verified data set (``dataset``), a user's own catalogue (``custom``: schema, readers,
normalise, cache), seeded synthetic catalogues (``synth``) and the SQLite catalogue of movies and
vectors (``catalogue``, with its BM25 index in ``fts``).

This layer imports only the foundation below it (errors, registry, inputs, arrays, machine, config,
artifacts, published) and itself; tests/test_layering.py holds it to that."""

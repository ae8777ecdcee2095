"""Data: where MovieLens files come from (``sources``), how they parse (``movielens``, ``titles``),
the loaded and verified data set (``dataset``) and the SQLite catalogue of movies and vectors (``catalogue``)."""

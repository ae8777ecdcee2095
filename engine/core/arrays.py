"""Numeric helpers every layer shares (vectors from the catalogue, an encoder, an index)."""

from __future__ import annotations

import numpy as np

from engine.core.errors import DimensionMismatchError

def normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation. float (n, d) -> float32 (n, d), C-contiguous; zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise DimensionMismatchError(f"Expected a 2-D array of vectors, got shape {x.shape}.")
    norms = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64))[:, None]
    if not np.isfinite(norms).all():
        raise DimensionMismatchError("Vectors contain NaN or infinite values.")
    return np.ascontiguousarray(x / np.maximum(norms, 1e-12).astype(np.float32), dtype=np.float32)

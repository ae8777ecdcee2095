"""The model contract, parametrised over every registered model."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from engine.core.errors import ArtifactError, BadQueryError, MovieDNAError, UnknownModelError
from engine.models import MODELS, get_model
from engine.models.base import Interactions

from .synth import interactions, movies_frame

FAST = {"mf": {"iterations": 3, "dim": 8}, "sasrec": {"epochs": 3, "hidden": 16, "maxlen": 20}, "text": {}, "use": {},
        "widedeep": {"epochs": 2, "dim": 8, "feat_dim": 4, "hidden": (16,), "history": 5}}


@pytest.fixture(scope="module")
def data() -> Interactions:
    return interactions()


@pytest.fixture(scope="module", params=sorted(MODELS))
def fitted(request, data):
    name = request.param
    return name, get_model(name, **FAST[name]).fit(data)


def _bump(model) -> None:
    """Change one weight in place."""
    if model.name == "mf":
        model.Y[0, 0] += 1.0
    elif model.name in ("sasrec", "widedeep"):
        with __import__("torch").no_grad():
            model.net.item_emb.weight[1, 0] += 1.0
    else:
        model.V[0, 0] += 1.0


def test_registry_covers_the_spaces_and_the_ranker():
    assert set(MODELS) == {"mf", "sasrec", "text", "use", "widedeep"}
    with pytest.raises(UnknownModelError, match="choose one of"):
        get_model("word2vec")


def test_vectors_shape_dtype_finite(fitted, data):
    name, m = fitted
    ids, vecs = m.item_ids(), m.item_embeddings()
    assert ids.dtype == np.int64 and vecs.dtype == np.float32
    assert vecs.ndim == 2 and len(vecs) == len(ids) == data.n_items
    assert np.array_equal(ids, data.item_ids)
    assert np.isfinite(vecs).all()


def test_score_and_recommend(fitted, data):
    name, m = fitted
    ids = m.item_ids()
    hist = ids[[3, 4, 5]].tolist()
    cand = np.concatenate([ids[:10], [999_999]])
    s = m.score(hist, cand)
    assert s.dtype == np.float32 and s.shape == (11,)
    assert np.isfinite(s[:10]).all() and s[10] == -np.inf        # unknown candidate
    rec, rs = m.recommend(hist, k=5)
    assert rec.dtype == np.int64 and rs.dtype == np.float32 and len(rec) == 5
    assert not set(rec.tolist()) & set(hist)
    assert np.all(np.diff(rs) <= 0)
    # score and recommend agree
    assert np.allclose(m.score(hist, rec), rs, rtol=1e-4, atol=1e-5)
    with pytest.raises(BadQueryError):
        m.score([999_999], cand)


def test_deterministic_with_seed(fitted, data):
    name, m = fitted
    again = get_model(name, **FAST[name]).fit(data)
    assert again.content_hash == m.content_hash
    assert np.array_equal(again.item_embeddings(), m.item_embeddings())


def test_save_load_round_trip_and_tamper(fitted, tmp_path):
    name, m = fitted
    path = tmp_path / f"{name}.npz"
    h = m.save(path)
    assert h == m.content_hash
    back = type(m).load(path)
    assert back.content_hash == h
    assert np.array_equal(back.item_embeddings(), m.item_embeddings())
    hist, cand = m.item_ids()[:3].tolist(), m.item_ids()[5:15]
    assert np.allclose(back.score(hist, cand), m.score(hist, cand), atol=1e-6)
    raw = bytearray(path.read_bytes())                # flip bytes inside the largest array's data
    big = max(zipfile.ZipFile(path).infolist(), key=lambda i: i.file_size)
    off = big.header_offset                           # local header: 30 bytes + name + extra field
    mid = off + 30 + int.from_bytes(raw[off + 26:off + 28], "little") + int.from_bytes(raw[off + 28:off + 30], "little") \
        + big.file_size // 2
    raw[mid:mid + 8] = bytes(b ^ 0xFF for b in raw[mid:mid + 8])   # always a change (zeroing may not be)
    path.write_bytes(bytes(raw))
    with pytest.raises(ArtifactError):
        type(m).load(path)


def test_hash_changes_when_weights_change(fitted, data):
    name, m = fitted
    copy = get_model(name, **FAST[name]).fit(data)
    before = copy.content_hash
    _bump(copy)
    assert copy.content_hash != before


def test_empty_data_is_a_clear_error():
    empty = Interactions(item_ids=np.zeros(0, np.int64), sequences=(), movies=movies_frame(3))
    for name in ("mf", "sasrec", "text", "widedeep"):
        with pytest.raises(MovieDNAError):
            get_model(name, **FAST[name]).fit(empty)


def test_single_interaction_users_sasrec():
    data = Interactions(item_ids=np.array([1, 2, 3], np.int64),
                        sequences=(np.array([0]), np.array([1]), np.array([2])))
    with pytest.raises(MovieDNAError, match="two or more"):
        get_model("sasrec", epochs=1).fit(data)


def test_unfitted_model_raises():
    with pytest.raises(MovieDNAError, match="not fitted"):
        get_model("mf").item_ids()

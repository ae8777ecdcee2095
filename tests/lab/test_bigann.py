"""Disk-backed vectors for the 100M benchmark: each piece must agree with the in-RAM version."""

from __future__ import annotations

import json

import faiss
import numpy as np
import pytest

from engine.core.errors import ArtifactError, BadQueryError
from engine.lab import bigann
from engine.lab.scale import clustered_chunks, clustered_vectors, recall_at

N, D = 20_000, 16


@pytest.fixture()
def vf(tmp_path):
    return bigann.write_clustered(tmp_path / "v.f32", N, D, chunk=3_001)


@pytest.fixture()
def queries():
    return clustered_vectors(30, D, n_clusters=max(16, int(np.sqrt(N))), seed=1)


def test_chunked_generation_is_the_scale_labs_distribution(vf) -> None:
    # the file (written in odd-sized chunks) holds exactly clustered_vectors' rows
    assert np.array_equal(np.asarray(vf.memmap()), clustered_vectors(N, D))
    blocks = [b for _, b in clustered_chunks(N, D, chunk=7_777)]
    assert np.array_equal(np.concatenate(blocks), clustered_vectors(N, D))
    assert vf.nbytes == N * D * 4 and len(vf.sha256) == 64


def test_an_existing_file_is_reused_only_with_its_own_parameters(tmp_path, vf) -> None:
    again = bigann.write_clustered(tmp_path / "v.f32", N, D)
    assert again.meta["sha256"] == vf.sha256 and again.meta["seconds"] == vf.meta["seconds"]  # not rewritten
    other = bigann.write_clustered(tmp_path / "v.f32", N, D, seed=5)
    assert other.sha256 != vf.sha256


def test_streamed_exact_equals_flat_search(vf, queries) -> None:
    x = clustered_vectors(N, D)
    flat = faiss.IndexFlatIP(D)
    flat.add(x)
    want_s, want_i = flat.search(queries, 10)
    # blocks of 19,995 rows: the last holds 5, fewer than k
    got_s, got_i = bigann.streamed_exact(vf, queries, 10, rows_per_block=19_995)
    assert np.array_equal(got_i, want_i) and np.allclose(got_s, want_s, atol=1e-6)
    s, ids = bigann.exact_from_disk(vf, queries[0], 10, rows_per_block=6_664)  # last block: 8 rows
    assert s > 0 and set(ids.tolist()) == set(want_i[0].tolist())
    _, ids = bigann.exact_in_ram(x, queries[0], 10)
    assert set(ids.tolist()) == set(want_i[0].tolist())


def test_streamed_exact_over_a_prefix(vf, queries) -> None:
    x = clustered_vectors(N, D)[:5_000]
    flat = faiss.IndexFlatIP(D)
    flat.add(x)
    _, want = flat.search(queries, 5)
    _, got = bigann.streamed_exact(vf, queries, 5, stop=5_000)
    assert np.array_equal(got, want)


def test_a_changed_file_is_refused(tmp_path, vf, queries) -> None:
    with open(vf.path, "r+b") as fh:  # flip bytes inside, same size: only the hash can tell
        fh.seek(1000)
        fh.write(b"\x00\x01\x02\x03")
    with pytest.raises(ArtifactError, match="sha256"):
        bigann.streamed_exact(bigann.VectorFile.open(vf.path), queries, 10)
    with open(vf.path, "ab") as fh:
        fh.write(b"\x00" * 8)
    with pytest.raises(ArtifactError, match="generate it again"):
        bigann.VectorFile.open(vf.path)
    bigann.sidecar(vf.path).unlink()
    with pytest.raises(ArtifactError, match="missing or unfinished"):
        bigann.VectorFile.open(vf.path)


def test_ivf_with_exact_rerank_from_the_file(vf, queries) -> None:
    index, facts = bigann.build_ivf(vf, bigann.IvfPlan("IVF64_HNSW32,SQ8", train_rows=64 * 40, niter=5))
    assert facts["n"] == N and facts["ram_bytes"] > N * (D + 8)
    _, truth = bigann.streamed_exact(vf, queries, 10)
    all_lists = bigann.ivf_params(64)
    base = vf.memmap()
    _, plain = bigann.refine_search(index, base, queries, 10, 1, all_lists)
    scores, reranked = bigann.refine_search(index, base, queries, 10, 4, all_lists)
    # every list probed + exact re-ranking of 40 candidates recovers the exact top-10 (SQ8 alone may not)
    assert recall_at(reranked, truth) == 1.0 >= recall_at(plain, truth)
    x = clustered_vectors(N, D)
    assert np.allclose(scores[:, 0], np.einsum("qd,qd->q", x[reranked[:, 0]], queries), atol=1e-5)
    few = bigann.ivf_params(1)
    assert recall_at(bigann.refine_search(index, base, queries, 10, 4, few)[1], truth) < 1.0


def test_rerank_pads_missing_candidates() -> None:
    base = np.eye(4, dtype=np.float32)
    s, i = bigann.rerank(np.array([[2, -1, 0], [-1, -1, -1]]), base, np.eye(4, dtype=np.float32)[:2], 3)
    assert i.tolist() == [[0, 2, -1], [-1, -1, -1]] and s[0, 0] == 1.0 and np.isneginf(s[1]).all()


def test_the_sidecar_is_written_after_the_data(tmp_path, monkeypatch) -> None:
    def boom(*a, **k):
        raise RuntimeError("disk full")
        yield  # pragma: no cover

    monkeypatch.setattr(bigann, "clustered_chunks", boom)
    with pytest.raises(RuntimeError):
        bigann.write_clustered(tmp_path / "w.f32", 100, 4)
    assert not (tmp_path / "w.f32").exists() and not bigann.sidecar(tmp_path / "w.f32").exists()


def test_a_shared_coarse_quantizer_skips_kmeans_and_gives_the_same_lists(vf, queries) -> None:
    first, facts = bigann.build_ivf(vf, bigann.IvfPlan("IVF32_HNSW32,SQ8", train_rows=32 * 40, niter=5))
    coarse = faiss.extract_index_ivf(first).quantizer
    second, facts2 = bigann.build_ivf(vf, bigann.IvfPlan("IVF32_HNSW32,PQ8x4fs", train_rows=32 * 40), coarse=coarse)
    assert facts["kmeans"] == "trained" and facts2["kmeans"] == "shared"
    a, b = faiss.extract_index_ivf(first), faiss.extract_index_ivf(second)
    assert [a.invlists.list_size(i) for i in range(32)] == [b.invlists.list_size(i) for i in range(32)]
    with pytest.raises(BadQueryError, match="centroids"):
        bigann.build_ivf(vf, bigann.IvfPlan("IVF64_HNSW32,SQ8", train_rows=64 * 40), coarse=coarse)


def test_prefetch_covers_rows_of_a_memmap_at_any_offset(tmp_path) -> None:
    data = np.arange(3 * 4096 * 16, dtype=np.float32).reshape(-1, 16)
    path = tmp_path / "m.f32"
    data.tofile(path)
    for offset_rows in (0, 3, 5000):  # the array's start inside numpy's mapping moves with the offset
        mm = np.memmap(path, dtype=np.float32, mode="r", offset=offset_rows * 64, shape=(len(data) - offset_rows, 16))
        rows = np.array([0, 1, 4095, len(mm) - 1])
        bigann.prefetch_rows(mm, rows)  # madvise raises on a range outside the mapping
        assert np.array_equal(mm[rows], data[rows + offset_rows])
    bigann.prefetch_rows(data, np.array([0, 1]))  # an array in RAM: nothing to do


def test_headline_of_the_committed_result_and_of_a_damaged_one() -> None:
    from engine.published import published_path

    doc = json.loads(published_path("bigann-100000000").read_text())
    h = bigann.headline(doc)
    assert h["n"] == 100_000_000 and h["best"]["recall_at_10"] >= 0.99 and "2 cores" in h["where"]
    assert h["speedup_vs_disk"] == pytest.approx(h["exact_disk_s"] * 1e3 / h["best"]["p50_ms"])
    del doc["exact"]["ram"]
    with pytest.raises(ArtifactError, match="lacks 'ram'"):
        bigann.headline(doc)


def test_two_level_kmeans_gives_a_coarse_quantizer_as_good_as_one_level(vf, queries) -> None:
    plan = bigann.IvfPlan("IVF256_HNSW32,SQ8", train_rows=256 * 40, niter=10)
    coarse, seconds = bigann.two_level_quantizer(vf, plan.factory, plan.train_rows, plan.niter)
    assert coarse.ntotal == 256 and seconds > 0
    assert np.allclose(np.linalg.norm(coarse.reconstruct_n(0, 256), axis=1), 1.0, atol=1e-4)  # spherical centroids
    two, facts = bigann.build_ivf(vf, plan, coarse=coarse)
    one, _ = bigann.build_ivf(vf, plan)
    assert facts["kmeans"] == "shared"
    sizes = [faiss.extract_index_ivf(two).invlists.list_size(i) for i in range(256)]
    assert sum(sizes) == N and max(sizes) < N / 16          # the rows spread over the lists, none swallows them
    _, truth = bigann.streamed_exact(vf, queries, 10)
    base, few = vf.memmap(), bigann.ivf_params(16)
    r_two = recall_at(bigann.refine_search(two, base, queries, 10, 4, few)[1], truth)
    r_one = recall_at(bigann.refine_search(one, base, queries, 10, 4, few)[1], truth)
    assert r_two >= r_one - 0.05 and r_two > 0.5
    with pytest.raises(BadQueryError, match="HNSW coarse quantizer"):
        bigann.two_level_quantizer(vf, "IVF256,SQ8", plan.train_rows)

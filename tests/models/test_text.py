"""Text model: the bundled encoder's hash check, documents, query encoding."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import ArtifactError, BadQueryError
from engine.models import text as textmod

from .synth import movies_frame


def test_bundled_model_verifies():
    textmod.verify_model_dir(textmod.bundled_model_path())


def test_tampered_copy_is_refused(tmp_path):
    src = textmod.bundled_model_path()
    for f in src.iterdir():                      # a copy whose weights differ by one byte
        if f.is_file() and f.name != "model.safetensors":
            (tmp_path / f.name).write_bytes(f.read_bytes())
    raw = bytearray((src / "model.safetensors").read_bytes())
    raw[-1] ^= 0xFF
    (tmp_path / "model.safetensors").write_bytes(bytes(raw))
    with pytest.raises(ArtifactError, match="sha256"):
        textmod.verify_model_dir(tmp_path)
    with pytest.raises(ArtifactError):
        textmod.load_encoder(textmod.BUNDLED_NAME, model_dir=tmp_path)


def test_documents_use_title_year_genres_tags():
    movies = movies_frame(6)
    docs = textmod.movie_documents(movies, movies["movie_id"].to_numpy())
    assert docs[0] == "Film number 0 (1980). Genres: Action. Tags: space, robots."   # the fixture repeats the genre
    assert "Tags" not in docs[1]
    assert textmod.movie_documents(movies, np.array([5]))[0] == "Movie 5"


def test_documents_dedupe_genres_and_tags_and_use_overviews():
    import pandas as pd

    movies = pd.DataFrame({
        "movie_id": [1, 2, 3], "title": ["Heat", "Up", "Moon"], "year": pd.array([1995, None, 2009], dtype="Int64"),
        "genres": [["Action", "Crime", "Action"], [], ["Sci-Fi"]], "tags": [["heist", "Heist", "la"], [], []],
        "overview": ["A thief and a detective circle each other in Los Angeles.", "", None],
    })
    docs = textmod.movie_documents(movies, np.array([3, 1, 2]))
    assert docs == [
        "Moon (2009). Genres: Sci-Fi.",
        "Heat (1995). Genres: Action, Crime. A thief and a detective circle each other in Los Angeles. Tags: heist, la.",
        "Up.",
    ]


@pytest.mark.parametrize("style, first", [("year", "Moon (2009)."), ("decade", "Moon (2000s)."), ("none", "Moon.")])
def test_documents_date_style(style, first):
    import pandas as pd

    movies = pd.DataFrame({"movie_id": [3, 1], "title": ["Moon", "Up"], "year": pd.array([2009, None], dtype="Int64"),
                           "genres": [["Sci-Fi"], []]})
    docs = textmod.movie_documents(movies, np.array([3, 1]), year=style)
    assert docs == [first + " Genres: Sci-Fi.", "Up."]            # no year: nothing to say in any style
    with pytest.raises(BadQueryError, match="document_year"):
        textmod.movie_documents(movies, np.array([3]), year="month")


def test_the_date_style_is_part_of_the_build_key():
    import dataclasses

    from engine.service.build import build_config, build_key

    for name in ("text", "use"):
        cfg = build_config(name)
        assert cfg.document_year in textmod.DOCUMENT_YEARS
        other = dataclasses.replace(cfg, document_year="none" if cfg.document_year != "none" else "year")
        assert build_key("d", name, cfg) != build_key("d", name, other)


def test_encode_queries_normalised():
    q = textmod.encode_queries(["a scary film about ghosts", "romantic comedy in Paris"])
    assert q.dtype == np.float32 and q.shape == (2, 384)
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    for bad in ([], [""], ["x" * 2000]):
        with pytest.raises(BadQueryError):
            textmod.encode_queries(bad)


def test_model_name_from_env(monkeypatch):
    monkeypatch.setenv("MOVIEDNA_TEXT_MODEL", "paraphrase-multilingual-MiniLM-L12-v2")
    assert textmod.TextConfig().model_name == "paraphrase-multilingual-MiniLM-L12-v2"
    monkeypatch.delenv("MOVIEDNA_TEXT_MODEL")
    assert textmod.TextConfig().model_name == textmod.BUNDLED_NAME


def test_encode_batches_by_length_but_keeps_input_order():
    """Documents are batched sorted by length (less padding); each row still belongs to its text."""
    class Fake:
        batches: list[list[str]] = []

        def encode(self, texts, **kw):
            self.batches.append(list(texts))
            return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    texts = ["a" * n for n in (50, 3, 40, 1, 7, 30, 2)]
    fake = Fake()
    out = textmod._encode(fake, texts, batch_size=3)
    assert out[:, 0].tolist() == [len(t) for t in texts]
    assert [len(b) for b in fake.batches] == [3, 3, 1]
    assert [sorted(map(len, b)) for b in fake.batches] == [[1, 2, 3], [7, 30, 40], [50]]

"""A build learns the cold-start maps and keeps the catalogue's edits (added movies get cold-start vectors)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.service import build as buildmod
from engine.data.catalogue import open_catalogue
from engine.recsys import coldstart
from engine.service import Engine

from tests.models.synth_dataset import synthetic_dataset

pytestmark = pytest.mark.slow


def test_build_fits_the_map_and_a_rebuild_keeps_the_edits():
    ds = synthetic_dataset()
    buildmod.build(dataset=ds, models="mf,use", epochs=2)
    path = coldstart.map_path(buildmod.models_dir(ds.name), "mf")
    assert path.is_file() and coldstart.load(path).source == "use"   # learned at build time
    eng = Engine(ds.name, catalogue=open_catalogue(ds))
    done = eng.add_movie("Quokka Harbor", 2022, list(ds.movies["genres"].iloc[0])[:1], overview="A harbour.")
    assert done.cold_start == {"mf": "use"}
    removed = int(eng.similar(done.movie_id, "use", k=1).ids()[0])
    eng.remove_movie(removed)
    eng.catalogue.close()
    buildmod.build(dataset=ds, models="mf", epochs=3)  # other settings: MF trained again from ratings
    cat = open_catalogue(ds)
    mf = cat.get_vectors("mf")
    assert done.movie_id in mf.movie_ids and removed not in mf.movie_ids   # removed stays removed
    assert cat.cold_start("mf").tolist() == [done.movie_id]                # still predicted, still flagged
    assert done.movie_id in cat.movies()["movie_id"].tolist()
    assert cat.get_json("build:mf")["vectors_hash"] == mf.content_hash
    eng = Engine(ds.name, catalogue=cat)
    assert eng.similar(done.movie_id, "mf", k=3).ids()
    assert np.isfinite(mf.vectors).all()

"""Local outliers in space and time: local Moran's I of every bin equals esda.Moran_Local on
the constructed space-time weights; a planted outlier and a planted cluster are named."""

from __future__ import annotations

import warnings

import esda
import numpy as np
import pandas as pd
import pytest
from libpysal.weights import WSP
from scipy import sparse

from geo.hotspots.emerging import SpaceTimeCube
from geo.hotspots.local import grid_weights
from geo.hotspots.outliers import OUTLIER_CATEGORIES, space_time_outliers
from tests.geo.test_emerging import lattice


def cube(weights, counts):  # type: ignore[no-untyped-def]
    edges = pd.date_range("2026-01-05", periods=counts.shape[1] + 1, freq="7D")
    return SpaceTimeCube(weights.ids, edges, counts.astype(np.int64), "week", 0)


def test_local_moran_of_each_bin_equals_esda_on_space_time_weights():
    weights = grid_weights(lattice(5, 5))
    n = weights.n
    counts = np.random.default_rng(1).poisson(3.0, (n, 4))
    result = space_time_outliers(cube(weights, counts), weights, permutations=99)
    a = weights.matrix.tocsr()
    a_star = (a + sparse.identity(n, format="csr")).tocsr()
    for t in range(1, 4):
        # Row block of bin t: neighbours in bin t, itself and neighbours in bin t - 1.
        w = WSP(sparse.bmat([[a, a_star], [a_star, a]], format="csr"),
                id_order=list(range(2 * n))).to_W(silence_warnings=True)  # fmt: skip
        w.transform = "R"
        stacked = np.concatenate([counts[:, t], counts[:, t - 1]]).astype(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peer = esda.Moran_Local(stacked, w, transformation="R", permutations=0)
        scale = 2 * n / (2 * n - 1)  # esda multiplies by (N - 1) / N
        np.testing.assert_allclose(result.moran[:, t], peer.Is[:n] * scale, rtol=1e-9)
        codes = np.array(["", "HH", "LH", "LL", "HL"])[peer.q[:n]]
        sig = result.cell_type[:, t] != ""
        assert (result.cell_type[sig, t] == codes[sig]).all()


def test_a_planted_outlier_and_cluster_are_named():
    weights = grid_weights(lattice(7, 7))
    rng = np.random.default_rng(2)
    counts = rng.poisson(4.0, (weights.n, 8))
    ids = weights.ids.tolist()
    block = [ids.index(f"G{r:02d}{c:02d}") for r in (0, 1) for c in (0, 1)]
    counts[block] += 30  # a cluster, high among high, in every bin
    lone = ids.index("G0404")
    around = [ids.index(code) for code in weights.neighbours("G0404")]
    counts[np.ix_(around, [4, 5])] = 0  # a quiet neighbourhood in weeks 4 and 5 …
    counts[lone, 4], counts[lone, 5] = 0, 40  # … and one loud week in the middle of it
    result = space_time_outliers(cube(weights, counts), weights, permutations=999, seed=3)
    frame = result.to_frame().set_index("grid_code")
    assert set(frame["outlier_category"]) <= set(OUTLIER_CATEGORIES)
    assert (frame.loc[[ids[i] for i in block], "n_HH_bins"] >= 6).all()
    assert result.cell_type[lone, 5] == "HL" and frame.loc["G0404", "n_HH_bins"] == 0
    # Ordinary grids away from both are mostly never significant.
    far = [f"G{r:02d}{c:02d}" for r in (0, 6) for c in (5, 6)]
    assert (frame.loc[far, "outlier_category"] != "multiple").all()


def test_options_are_checked():
    weights = grid_weights(lattice(3, 3))
    c = cube(weights, np.ones((weights.n, 3)))
    with pytest.raises(ValueError, match="at least 99"):
        space_time_outliers(c, weights, permutations=10)
    with pytest.raises(ValueError, match="time_step=0"):
        space_time_outliers(c, weights, global_window="individual")
    flat = space_time_outliers(c, weights, permutations=99)
    assert (flat.to_frame()["outlier_category"] == "never").all()

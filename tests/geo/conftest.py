"""Fixtures shared by the domain tests."""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import pytest

from geo.core.tickets import with_deadlines
from geo.demo import build as demo
from geo.store.county import CATEGORICAL, County


@pytest.fixture(scope="session")
def demo_layers() -> dict[str, pd.DataFrame]:
    """The demo county for seed 0, generated once per test session (about 10 s; do not mutate)."""
    return demo.generate(seed=0)


@pytest.fixture(scope="session")
def memory_county() -> Callable[..., County]:
    """Builds a :class:`County` held in memory, its issues given ``due_at`` as on loading.

    ``make(towns=…, villages=…, grids=…, issues=…, as_of=…, categorical=False)``: the layers
    in EPSG:4549, ``issues`` a GeoDataFrame; a synthetic county whose "now" is ``as_of``;
    ``categorical`` turns the code columns into categoricals as :func:`load_county` does.
    """

    def make(
        *,
        towns: gpd.GeoDataFrame,
        villages: gpd.GeoDataFrame,
        grids: gpd.GeoDataFrame,
        issues: gpd.GeoDataFrame,
        as_of: pd.Timestamp,
        categorical: bool = False,
    ) -> County:
        prepared = with_deadlines(issues)
        if categorical:
            for col in CATEGORICAL:
                if col in prepared.columns:
                    prepared[col] = prepared[col].astype("category")
        return County(
            towns=towns,
            villages=villages,
            grids=grids,
            service_points=gpd.GeoDataFrame(),
            issues=prepared,
            meta={"synthetic": "true", "as_of": str(as_of)},
            store_location="memory",
        )

    return make

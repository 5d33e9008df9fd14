"""Fixtures shared by the domain tests.

Fixtures
--------
demo_layers
    The demo county for seed 0, generated once per session (do not mutate).
demo_layers_second_seed
    The demo county for :data:`SECOND_SEED`, generated once per session (do not mutate).
demo_county
    A :class:`DemoCounty` for each of the two seeds (parametrised, ids ``seed0`` and
    ``seed1``): tests of what the demo promises or plants run on both. Figures measured on
    seed 0 are asserted only there and labelled as such; the second seed gets the thresholds
    that follow from the planting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.core.tickets import with_deadlines
from geo.demo import build as demo
from geo.store.county import CATEGORICAL, County

#: The other seed the demo's promises and planted patterns are checked on.
SECOND_SEED = 1


@dataclass(frozen=True)
class PlantedPattern:
    """Where one planted pattern of the demo put its events.

    Attributes
    ----------
    row
        The pattern's row of the ``planted`` table (category, start, end, …).
    top
        The 12 grids holding most of its events (``top_grids``), busiest first.
    grids
        Every grid holding any of its events, busiest first.
    core
        The fewest grids, busiest first, that hold at least half of its events: where the
        planting put its weight, whatever the seed made of the grids there.
    MIN_GRIDS
        The fewest grids a cluster must be spread over for the planting to promise that it is
        found: Gi*'s conditional permutations hold a grid's own count fixed (a cluster inside
        one or two large grids is judged by their neighbours only), and after the FDR
        correction over 3,689 grids a grid is hot at 90 % only when at least 8 grids reach the
        smallest pseudo p of 9,999 permutations (2 / 10,000 × 3,689 / 0.10 ≈ 7.4).
    """

    MIN_GRIDS: ClassVar[int] = 8

    row: pd.Series
    top: list[str]
    grids: list[str]
    core: list[str]


@dataclass(frozen=True)
class DemoCounty:
    """The layers of ``geo.demo.build.generate(seed=seed)``."""

    seed: int
    layers: dict[str, pd.DataFrame]

    def planted(self, pattern: str) -> PlantedPattern:
        """Where pattern ``pattern`` (``"P1"`` … ``"P6"``) put its events."""
        row = self.layers["planted"].set_index("pattern_id").loc[pattern]
        issues = self.layers["issues"]
        held = issues.loc[issues["demo_pattern"] == pattern, "grid_code"].value_counts()
        held = held.drop("", errors="ignore")  # events outside every grid
        half = int(np.searchsorted(held.cumsum().to_numpy(), held.sum() / 2)) + 1
        top = str(row["top_grids"]).split(",")
        return PlantedPattern(row, top, list(held.index), list(held.index[:half]))


@pytest.fixture(scope="session")
def demo_layers() -> dict[str, pd.DataFrame]:
    """The demo county for seed 0, generated once per test session (about 10 s; do not mutate)."""
    return demo.generate(seed=0)


@pytest.fixture(scope="session")
def demo_layers_second_seed() -> dict[str, pd.DataFrame]:
    """The demo county for the second seed, generated once per session (do not mutate)."""
    return demo.generate(seed=SECOND_SEED)


@pytest.fixture(params=[0, SECOND_SEED], ids=lambda seed: f"seed{seed}")
def demo_county(request: pytest.FixtureRequest) -> DemoCounty:
    """The demo county of seed 0, then of the second seed (each built once per session)."""
    name = "demo_layers" if request.param == 0 else "demo_layers_second_seed"
    return DemoCounty(request.param, request.getfixturevalue(name))


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

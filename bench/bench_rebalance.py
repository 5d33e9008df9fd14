"""Re-partitioning 四明镇 (23 villages, 181 demo grids): GridGov's two methods vs spopt.

Every method works village by village on the same building blocks (``village_atoms``: 120 m
lattice cells clipped to the village, crowded cells quartered, empty cells merged into
inhabited neighbours), communities against the urban rule (40–400 households), villages
against the rural one (40–250); workload = households + issues of the last 12 months.

- ``balanced``: ``rebalance_town(method="balanced")``, GridGov's recursive bisection (median of
  3 runs).
- ``maxp``: ``rebalance_town(method="maxp")``, spopt's MaxPHeuristic on atoms grouped to
  floor/8 households, then GridGov's fix-up (one run).
- peer ``spopt max-p``: ``spopt.region.MaxPHeuristic`` directly on the atoms of each village,
  same floor (rural 125, urban 200) and the same effort (10 constructions, 1 annealing round;
  spopt's defaults, 99 and 10, take minutes per village), no fix-up (one run).
- peer ``spopt region-k-means``: ``RegionKMeansHeuristic`` on the atoms with the number of
  grids ``balanced`` chose for that village (one run).

Times include building the atoms. Prints seconds, the ratio of each peer's time to GridGov's
``balanced``, and the quality table (grids, households min/median/max, share of grids within
the rule, workload coefficient of variation, mean Polsby-Popper compactness) next to the
current demo grids.

Every method must place the same households (each partition covers the same villages; exit 1
otherwise).

Run: ``python bench/bench_rebalance.py [TOWN_CODE] [--quick]`` from the repository root (about
8 minutes on 四明镇, six of them in the spopt max-p peer; ``--quick``: the first
village of 四明镇 in the small county, one run each).
"""

from __future__ import annotations

import math
import time
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from _demo import arguments, check, county_gpkg, median_time

from geo.core.settings import get_settings
from geo.grids.partition import dissolve
from geo.planning.rebalance import (
    MAXP_CONSTRUCTIONS,
    MAXP_SA_ROUNDS,
    Method,
    Proposal,
    atom_weights,
    grid_metrics,
    maxp_floor,
    rebalance_town,
    village_atoms,
)

SIMING = "320924104"
QUICK_VILLAGES = 1


def peer(
    villages: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    issues: gpd.GeoDataFrame,
    grids_per_village: dict[str, int],
    *,
    solver: str,
) -> tuple[float, pd.Series, int]:
    """Seconds, metrics and households placed by spopt run on the atoms of every village."""
    from spopt.region import MaxPHeuristic, RegionKMeansHeuristic

    cfg = get_settings()
    as_of = issues["received_at"].max()
    rows = []
    start = time.perf_counter()
    for v in villages.itertuples(index=False):
        urban = v.kind == "社区"
        rule = cfg.urban_rule if urban else cfg.rural_rule
        atoms = village_atoms(
            v.geometry,
            homes,
            issues,
            max_atom_households=math.ceil(rule.max_households / 8),
            as_of=as_of,
        )
        w = atom_weights(atoms)
        xy_km = atoms[["x", "y"]].to_numpy() / 1000.0
        state = np.random.get_state()
        np.random.seed(0)  # spopt max-p draws from NumPy's legacy global generator
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if solver == "maxp":
                    model = MaxPHeuristic(
                        atoms.assign(x=xy_km[:, 0], y=xy_km[:, 1]),
                        w,
                        ["x", "y"],
                        "households",
                        maxp_floor(rule),
                        top_n=2,
                        max_iterations_construction=MAXP_CONSTRUCTIONS,
                        max_iterations_sa=MAXP_SA_ROUNDS,
                    )
                else:
                    k = min(grids_per_village[str(v.village_code)], len(atoms))
                    model = RegionKMeansHeuristic(xy_km, k, w, seed=0)
                model.solve()
        finally:
            np.random.set_state(state)
        labels = np.asarray(model.labels_)
        sums = atoms.groupby(labels)[["households", "residents", "workload"]].sum()
        shapes = dissolve(atoms.geometry.to_numpy(), labels)
        rows.append(
            gpd.GeoDataFrame(
                sums.assign(area_type="城镇" if urban else "农村"),
                geometry=[shapes[str(k)] for k in sums.index],
                crs=atoms.crs,
            )
        )
    seconds = time.perf_counter() - start
    grids = gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), crs=rows[0].crs)
    return seconds, grid_metrics(grids, settings=cfg), int(grids["households"].sum())


def main() -> None:
    args = arguments(__doc__, add=lambda p: p.add_argument("town_code", nargs="?", default=SIMING))
    town_code = args.town_code
    import spopt.region  # noqa: F401  (import once, outside the timings)

    path = county_gpkg(args.quick)
    villages = pyogrio.read_dataframe(path, layer="villages", where=f"town_code = '{town_code}'")
    villages = villages.sort_values("village_code", ignore_index=True)
    if args.quick:
        villages = villages.head(QUICK_VILLAGES)
    keep = set(villages["village_code"])
    homes = pyogrio.read_dataframe(
        path, layer="households", where=f"village_code LIKE '{town_code}%'", use_arrow=True
    )
    issues = pyogrio.read_dataframe(
        path,
        layer="issues",
        where=f"town_code = '{town_code}'",
        columns=["received_at", "grid_code"],
        use_arrow=True,
    )
    grids = pyogrio.read_dataframe(path, layer="grids", where=f"town_code = '{town_code}'")
    if args.quick:
        homes = homes[homes["village_code"].isin(keep)]
        grids = grids[grids["village_code"].isin(keep)]

    def run(method: Method) -> Proposal:
        return rebalance_town(
            villages, homes, issues, town_code=town_code, method=method, current=grids, seed=0
        )

    repeat = 1 if args.quick else 3
    t_bal, bal = median_time(lambda: run("balanced"), repeat=repeat)
    t_maxp, maxp = median_time(lambda: run("maxp"), repeat=1)
    per_village = bal.grids.groupby("village_code").size().to_dict()
    t_peer_maxp, m_peer_maxp, hh_peer_maxp = peer(
        villages, homes, issues, per_village, solver="maxp"
    )
    t_peer_rkm, m_peer_rkm, hh_peer_rkm = peer(villages, homes, issues, per_village, solver="rkm")
    placed = {
        "balanced": int(bal.grids["households"].sum()),
        "maxp": int(maxp.grids["households"].sum()),
        "spopt max-p": hh_peer_maxp,
        "spopt rkm": hh_peer_rkm,
    }

    print(
        f"town {town_code}: {len(villages)} villages, {len(homes):,} households, "
        f"{len(issues):,} issues ({int(bal.grids.issues_12m.sum()):,} in the last 12 months), "
        f"{len(grids)} current grids"
    )
    table = pd.DataFrame(
        {
            "current": bal.metrics_before,
            "balanced": bal.metrics_after,
            "maxp": maxp.metrics_after,
            "spopt max-p": m_peer_maxp,
            "spopt rkm": m_peer_rkm,
        }
    )
    times = {
        "balanced": t_bal,
        "maxp": t_maxp,
        "spopt max-p": t_peer_maxp,
        "spopt rkm": t_peer_rkm,
    }
    table.loc["seconds"] = pd.Series(times)
    with pd.option_context("display.float_format", "{:,.3f}".format, "display.width", 120):
        print(table)
    print(f"GridGov balanced:          {t_bal:.2f} s (median of {repeat})")
    print(f"GridGov maxp:              {t_maxp:.2f} s")
    print(
        f"spopt max-p on the atoms:  {t_peer_maxp:.2f} s  = {t_peer_maxp / t_bal:.1f}x balanced, "
        f"{t_peer_maxp / t_maxp:.1f}x GridGov maxp"
    )
    print(f"spopt region-k-means:      {t_peer_rkm:.2f} s  = {t_peer_rkm / t_bal:.1f}x balanced")
    same = len(set(placed.values())) == 1
    print(
        "households placed: "
        + ", ".join(f"{name} {n:,}" for name, n in placed.items())
        + f"; the same in every partition: {same}"
    )
    check(same, f"the partitions place different numbers of households: {placed}")


if __name__ == "__main__":
    main()

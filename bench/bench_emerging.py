"""Hot spots on the demo county: GridGov's vectorised Gi* vs esda, and the planted patterns found.

1. Timings (medians of 3, same run): queen weights vs ``libpysal.weights.Queen``; Gi* with
   permutations vs ``esda.G_Local(star=True, permutations=999)``; the space-time Gi* of 104
   weekly bins (one sparse product) vs a loop of ``esda.G_Local(permutations=0)`` over the bins
   on the same space-time weights (built once, outside the timing), with the largest z
   difference; the whole emerging analysis, analytic and with 9999 permutations per bin.
2. Planted patterns (``data/README.md``): for P1 (环境卫生, persistent), P2 (噪音扰民, new,
   last 8 weeks) and P4 (物业管理, diminishing), the planted grids are the ``top_grids`` of the
   ``planted`` table. Recall = planted grids found (hot for Gi*, an expected category for
   emerging analysis); false discoveries = grids found outside the planted area (the planted
   grids and their queen neighbours) for the same category of issues. Emerging analysis is
   shown with queen weights and with the 8 or 10 nearest grids, weekly and monthly, with normal
   and with permutation p-values: each pattern shows at its own time and space scale.

esda runs without numba (numba is not a dependency; with it esda's permutations compile for
20-27 s and then run no faster on 3,689 grids); the printed lines say which. GridGov's z-scores
must equal esda's (largest difference under 1e-8, exit 1 otherwise).

Run: ``python bench/bench_emerging.py [path/to/sheyang_demo.gpkg] [--quick]`` from the
repository root (``--quick``: the small county, one run each, 999 permutations where the full
run uses 9999, the planted patterns it holds).
"""

from __future__ import annotations

import time
import warnings
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
from _demo import arguments, check, county_gpkg, esda_label, median_time
from scipy import sparse

from geo.core.scope import Scope
from geo.grids.aggregate import IssueFilter
from geo.hotspots.emerging import Freq, emerging_hotspots, space_time_cube, space_time_gi
from geo.hotspots.local import GridWeights, gi_star, grid_counts, grid_weights
from geo.store.base import open_store
from geo.store.county import County, load_county

T = TypeVar("T")

EXPECTED = {
    "P1": ("persistent_hot", "intensifying_hot"),
    "P2": ("new_hot", "consecutive_hot", "intensifying_hot"),
    "P4": ("diminishing_hot", "historical_hot"),
}


TOLERANCE_Z = 1e-8


def timings(county: County, weights: GridWeights, *, repeat: int, most: int) -> None:
    """Print our timings next to libpysal/esda measured in the same run."""
    import esda
    from libpysal.weights import WSP, Queen

    label = esda_label()
    print(f"== timings (median of {repeat}; {label}) ==")
    t_ours, _ = median_time(lambda: grid_weights(county.grids), repeat)
    t_peer, _ = median_time(
        lambda: Queen.from_dataframe(county.grids, use_index=False, silence_warnings=True),
        repeat,
    )
    print(
        f"queen weights        GridGov {t_ours:7.3f} s   libpysal {t_peer:7.3f} s   "
        f"x{t_peer / t_ours:6.1f}"
    )

    y = grid_counts(county.issues, county.grids, flt=IssueFilter(categories=("环境卫生",)))
    y_count = y["count"].to_numpy(dtype=float)
    w = weights.to_libpysal()
    for perms in dict.fromkeys((999, most)):
        t_ours, ours = median_time(partial(gi_star, y_count, weights, permutations=perms), repeat)
        print(f"Gi* {perms:5d} perms      GridGov {t_ours:7.3f} s", end="")
        if perms == 999:
            t_peer, peer = median_time(
                lambda: esda.G_Local(
                    y_count, w, star=True, transform="B", permutations=999, seed=0
                ),
                repeat,
            )
            dz = float(np.abs(ours.z - peer.Zs).max())
            print(f"   {label} {t_peer:7.3f} s   x{t_peer / t_ours:6.1f}   max|dz| {dz:.1e}")
            check(dz < TOLERANCE_Z, f"Gi* z-scores differ from esda's by {dz:.1e}")
        else:
            print()

    t_cube, cube = median_time(lambda: space_time_cube(county.issues, weights, freq="week"), repeat)
    counts = cube.counts.astype(float)
    n, n_bins = counts.shape
    t_gi, z = median_time(lambda: space_time_gi(counts, weights), repeat)
    a_star = (weights.matrix + sparse.identity(n, format="csr")).tocsr()
    start = time.perf_counter()
    w1 = WSP(a_star, id_order=list(range(n))).to_W(silence_warnings=True)
    w2 = WSP(
        sparse.bmat([[a_star, a_star], [a_star, a_star]], format="csr"),
        id_order=list(range(2 * n)),
    ).to_W(silence_warnings=True)
    t_build = time.perf_counter() - start

    def esda_loop() -> np.ndarray:
        out = np.empty((n, n_bins))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for t in range(n_bins):
                if t == 0:
                    g = esda.G_Local(counts[:, 0], w1, star=True, transform="B", permutations=0)
                    out[:, 0] = g.Zs
                else:
                    y2 = np.concatenate([counts[:, t], counts[:, t - 1]])
                    g = esda.G_Local(y2, w2, star=True, transform="B", permutations=0)
                    out[:, t] = g.Zs[:n]
        return out

    t_loop, z_esda = median_time(esda_loop, repeat)
    both = np.isfinite(z) & np.isfinite(z_esda)
    dz = float(np.abs(z - z_esda)[both].max())
    print(
        f"cube {n} grids x {n_bins} weekly bins: {t_cube:.3f} s ({cube.n_outside} issues "
        "outside the bins)"
    )
    print(
        f"space-time Gi*       GridGov {t_gi:7.3f} s   {label} loop {t_loop:6.3f} s   "
        f"x{t_loop / t_gi:6.1f}   max|dz| {dz:.1e}   "
        f"(esda space-time W built once: {t_build:.2f} s, not timed)"
    )
    same_finite = bool(np.array_equal(np.isfinite(z), np.isfinite(z_esda)))
    check(dz < TOLERANCE_Z, f"space-time Gi* z-scores differ from the esda loop by {dz:.1e}")
    check(same_finite, "space-time Gi*: NaN z-scores in one and not in the other")
    t_em, _ = median_time(lambda: emerging_hotspots(cube, weights), repeat)
    t_perm, _ = median_time(lambda: emerging_hotspots(cube, weights, permutations=most), 1)
    print(
        f"emerging analysis    analytic {t_em:6.3f} s   with {most} permutations per bin "
        f"{t_perm:6.3f} s (1 run)"
    )


def _area(weights: GridWeights, planted: list[str]) -> set[str]:
    """The planted grids and their queen neighbours."""
    area = set(planted)
    for code in planted:
        area.update(weights.neighbours(code))
    return area


def planted_report(
    county: County, weights: GridWeights, planted: pd.DataFrame, *, most: int
) -> None:
    """Print recall and false discoveries of the planted patterns P1, P2, P4 (those present)."""
    print("\n== planted patterns: recall (planted grids found) and false discoveries ==")
    print(f"Gi* over the pattern's span, queen, {most} permutations, FDR; found = hot_90/95/99")
    rows = planted.set_index("pattern_id")
    patterns = [pid for pid in EXPECTED if pid in rows.index]
    if len(patterns) < len(EXPECTED):
        print(f"  (this county holds {', '.join(patterns) or 'none'} of {', '.join(EXPECTED)})")
    for pid in patterns:
        row = rows.loc[pid]
        grids = [g for g in str(row["top_grids"]).split(",") if g]
        area = _area(weights, grids)
        flt = IssueFilter(
            start=pd.Timestamp(str(row["start"])).normalize(),
            end=pd.Timestamp(str(row["end"])).normalize(),
            categories=(str(row["category"]),),
        )
        table = grid_counts(county.issues, county.grids, flt=flt)
        for column in ("count", "rate_per_1000"):
            values = table[column].fillna(0).to_numpy(dtype=float)
            result = gi_star(values, weights, permutations=most).to_frame()
            result = result.set_index("grid_code")
            hot = set(result.index[result["hotspot_class"].str.startswith("hot")])
            found = len(hot & set(grids))
            print(
                f"  {pid} {row['category']} {column:14s} recall {found:2d}/{len(grids)}   "
                f"hot outside the planted area {len(hot - area):4d} (of {len(hot)} hot)"
            )
    expected = ", ".join(
        f"{pid}: {'/'.join(c.removesuffix('_hot') for c in EXPECTED[pid])}" for pid in patterns
    )
    print(f"Emerging hot spots over the whole history; found = {expected}")
    print("  false = grids outside the planted area (planted grids + queen neighbours)")
    knn8 = grid_weights(county.grids, method="knn", k=8)
    knn10 = grid_weights(county.grids, method="knn", k=10)
    configs: list[tuple[str, GridWeights, Freq, int]] = [
        ("queen", weights, "week", 0),
        ("queen", weights, "week", most),
        ("queen", weights, "month", 0),
        ("knn8", knn8, "month", 0),
        ("knn10", knn10, "month", 0),
    ]
    for name, w, freq, perms in configs:
        for pid in patterns:
            categories = EXPECTED[pid]
            row = rows.loc[pid]
            grids = [g for g in str(row["top_grids"]).split(",") if g]
            area = _area(weights, grids)
            flt = IssueFilter(categories=(str(row["category"]),))
            cube = space_time_cube(county.issues, w, freq=freq, flt=flt)
            frame = emerging_hotspots(cube, w, permutations=perms).to_frame()
            category = frame.set_index("grid_code")["emerging_category"]
            found = int(category.loc[grids].isin(categories).sum())
            outside = category[~category.index.isin(list(area))]
            mix = category.loc[grids].value_counts().to_dict()
            print(
                f"  {name:6s}{freq:5s} perms={perms:<5d} {pid} recall {found:2d}/{len(grids)}  "
                f"false: {int(outside.isin(categories).sum()):3d} same categories, "
                f"{int(outside.str.endswith('_hot').sum()):4d} any hot   planted grids: {mix}"
            )


def main() -> None:
    args = arguments(
        __doc__, add=lambda p: p.add_argument("gpkg", nargs="?", type=Path, default=None)
    )
    store = open_store(args.gpkg or county_gpkg(args.quick))
    county = load_county(store, scope=Scope.county())
    weights = grid_weights(county.grids)
    most = 999 if args.quick else 9999
    timings(county, weights, repeat=1 if args.quick else 3, most=most)
    planted_report(county, weights, store.read("planted"), most=most)


if __name__ == "__main__":
    main()

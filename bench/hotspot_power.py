"""Which hot-spot method finds a real cluster of a few grids, and flags nothing where there is
none?  Power and false discoveries on synthetic counties the demo never shaped.

Each county is made for the run: grid centres on a jittered lattice (``even``) or crowded
around five town centres (``towns``: small dense grids there, large rural ones between),
cut into Voronoi cells, queen neighbours; residents log-normal with spread ``sigma`` (0.5 or
1.2; in ``towns`` the town grids hold three times as many). Issues are Poisson around each
grid's residents x one county rate x a grid's own unexplained factor (gamma, mean 1,
coefficient of variation ``--dispersion`` 0.3: real counts vary more than Poisson), at
``--means`` issues per grid on average (4: the demo's 30-day level; 12: a quarter). One
cluster is planted per county: a connected set of 1, 3, 6 or 12 grids whose rate is
multiplied by 1.5, 2, 3 or 6. Null counties have no cluster.

Methods, each given the same counts:

- ``GridGov default``: Gi* of the Poisson excess ``(O − E) / √E`` (E from residents at the
  county rate), analytic z, Benjamini–Hochberg — ArcGIS's method on the right quantity;
- ``GridGov, permutations``: the same with 9999 conditional permutations;
- ``ArcGIS on counts``: Gi* z + FDR of the raw counts, as Hot Spot Analysis with FDR is
  usually run on a count field;
- ``esda G*``: ``esda.G_Local(counts, w, star=True)`` with its defaults (row-standardised,
  999 permutations), flagged where ``p_sim <= 0.05`` and ``Zs > 0`` — as a user calls it;
- ``GridGov before``: conditional permutations + FDR of raw counts (the previous default);
- ``scan``: Kulldorff's Poisson scan (999 replications), the grids of clusters with p <= 0.05.

Then emerging hot spots on planted space-time patterns (52 weekly bins, 0.6 issues per grid
and week; 6 grids at 3x the rate in the last 12 weeks): the share of grids outside the
planted area (planted grids and their neighbours) given any pattern, and the planted grids
named new, consecutive, intensifying, persistent or sporadic hot — for the page's analytic and
permutation p-values. ``--demo`` adds the demo's planted patterns P1–P4 (the README's table).

GridGov's Gi* flags hot grids at 95 % (FDR-adjusted p <= 0.05). Recall = planted grids
flagged; false-discovery proportion (FDP) = flagged grids that are neither planted nor a
queen neighbour of a planted grid, over all flagged (0 when none is); on null counties, the
share of grids flagged. Means over ``--reps`` counties per cell.

Run: ``python bench/hotspot_power.py [--quick] [--reps N] [--grids N]`` from the repository
root. ``--quick``: 400 grids, 2 counties per cell, 199 permutations for esda and the scan.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import _demo  # noqa: F401  (puts the repository on the path)
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.hotspots.excess import expected_counts, poisson_excess
from geo.hotspots.local import GridWeights, gi_star
from geo.hotspots.scan import scan

SIZES = (1, 3, 6, 12)
RATIOS = (1.5, 2.0, 3.0, 6.0)
LAYOUTS = (("even", 0.5), ("even", 1.2), ("towns", 0.5), ("towns", 1.2))
HOT = ("hot_95", "hot_99")


@dataclass
class County:
    weights: GridWeights
    population: np.ndarray
    centroids: np.ndarray


def make_county(rng: np.random.Generator, n: int, layout: str, sigma: float) -> County:
    """A county of about ``n`` Voronoi grids (see the module's text)."""
    side = 10_000.0
    if layout == "even":
        k = round(np.sqrt(n))
        col, row = np.meshgrid(np.arange(k), np.arange(k))
        step = side / k
        pts = np.c_[col.ravel(), row.ravel()] * step + step / 2
        pts += rng.uniform(-0.35, 0.35, pts.shape) * step
        in_town = np.zeros(len(pts), dtype=bool)
    else:
        centres = rng.uniform(0.15, 0.85, (5, 2)) * side
        n_town = int(0.5 * n)
        town_pts = centres[rng.integers(0, 5, n_town)] + rng.normal(0, 0.04 * side, (n_town, 2))
        pts = np.r_[town_pts, rng.uniform(0, side, (n - n_town, 2))]
        pts = np.clip(pts, 1, side - 1)
        in_town = np.r_[np.ones(n_town, bool), np.zeros(n - n_town, bool)]
    box = shapely.box(0, 0, side, side)
    cells = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=box, ordered=True)
    polygons = shapely.intersection(shapely.get_parts(cells), box)
    grids = gpd.GeoDataFrame(
        {"grid_code": [f"G{i:05d}" for i in range(len(pts))]}, geometry=polygons, crs="EPSG:4549"
    )
    weights = GridWeights.queen(grids)
    population = 1500 * rng.lognormal(-(sigma**2) / 2, sigma, len(pts)) * np.where(in_town, 3, 1)
    return County(weights, population, pts)


def plant(rng: np.random.Generator, weights: GridWeights, size: int) -> np.ndarray:
    """A connected set of ``size`` grids grown from a random one."""
    m = weights.matrix.tocsr()
    while True:
        chosen = [int(rng.integers(weights.n))]
        frontier = set(m.indices[m.indptr[chosen[0]] : m.indptr[chosen[0] + 1]].tolist())
        while len(chosen) < size and frontier:
            nxt = int(rng.choice(sorted(frontier)))
            chosen.append(nxt)
            frontier |= set(m.indices[m.indptr[nxt] : m.indptr[nxt + 1]].tolist())
            frontier -= set(chosen)
        if len(chosen) == size:
            return np.array(chosen)


def _gi(values: np.ndarray, county: County, permutations: int, seed: int) -> np.ndarray:
    shifted = values - values.min()  # Gi*'s z and p do not change with a constant added
    result = gi_star(shifted, county.weights, permutations=permutations, seed=seed)
    return np.isin(result.classes, HOT)


def methods(perms: int) -> dict[str, Callable[[np.ndarray, County, int], np.ndarray]]:
    def esda_default(counts: np.ndarray, county: County, seed: int) -> np.ndarray:
        from esda import G_Local

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = G_Local(counts, county.weights.to_libpysal(), star=True, permutations=perms,
                        seed=seed)  # fmt: skip
        return (g.p_sim <= 0.05) & (g.Zs > 0)

    def excess(counts: np.ndarray, county: County) -> np.ndarray:
        return poisson_excess(counts, expected_counts(counts, county.population))

    def scan_flags(counts: np.ndarray, county: County, seed: int) -> np.ndarray:
        found = scan(counts, expected_counts(counts, county.population), county.centroids,
                     county.weights.ids, replications=perms, seed=seed)  # fmt: skip
        flagged = {g for c in found.clusters if c.p_value <= 0.05 for g in c.grids}
        return np.isin(county.weights.ids, list(flagged))

    return {
        "GridGov default": lambda c, k, s: _gi(excess(c, k), k, 0, s),
        "GridGov, permutations": lambda c, k, s: _gi(excess(c, k), k, 9999, s),
        "ArcGIS on counts": lambda c, k, s: _gi(c.astype(float), k, 0, s),
        "esda G*": esda_default,
        "GridGov before": lambda c, k, s: _gi(c.astype(float), k, 9999, s),
        "scan": scan_flags,
    }


def scores(flagged: np.ndarray, planted: np.ndarray, county: County) -> tuple[float, float]:
    """Recall and false-discovery proportion of one run."""
    m = county.weights.matrix.tocsr()
    near = np.zeros(county.weights.n, dtype=bool)
    near[planted] = True
    near[m[planted].indices] = True
    recall = float(flagged[planted].mean())
    fdp = float((flagged & ~near).sum() / flagged.sum()) if flagged.any() else 0.0
    return recall, fdp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--grids", type=int, default=None)
    parser.add_argument("--means", default=None, help="expected issues per grid (default 4,12)")
    parser.add_argument("--dispersion", type=float, default=0.3, help="CV of the grid factor")
    parser.add_argument("--demo", action="store_true", help="also the demo's planted patterns")
    args = parser.parse_args()
    means = args.means or ("4" if args.quick else "4,12")
    same_z_as_esda(args)
    for mean in (float(m) for m in means.split(",")):
        run_level(args, mean)
    emerging_section(args)
    if args.demo:
        demo_section(args)


def same_z_as_esda(args: argparse.Namespace) -> None:
    """Check that the peer is run on the same statistic: GridGov's Gi* z of raw counts equals
    ``esda.G_Local(star=True, transform="B").Zs`` on one synthetic county (exit 1 if not)."""
    from _demo import check
    from esda import G_Local

    rng = np.random.default_rng(1)
    county = make_county(rng, args.grids or 400, "towns", 1.2)
    counts = rng.poisson(county.population * (4 / county.population.mean())).astype(float)
    ours = gi_star(counts, county.weights, permutations=0).z
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = G_Local(counts, county.weights.to_libpysal(), star=True, transform="B",
                         permutations=0).Zs  # fmt: skip
    gap = float(np.nanmax(np.abs(ours - theirs)))
    check(gap < 1e-8, f"Gi* z equals esda's on the same counts (largest difference {gap:.1e})")
    print(f"GridGov's Gi* z of the counts equals esda's (largest difference {gap:.1e})")


def emerging_section(args: argparse.Namespace) -> None:
    """Emerging hot spots on counties with a planted new hot spot (see the module's text)."""
    from geo.hotspots.emerging import SpaceTimeCube, emerging_hotspots

    reps = args.reps or (2 if args.quick else 6)
    n = args.grids or (400 if args.quick else 900)
    bins, per_week, recent = 52, 0.6, 12
    rng = np.random.default_rng(7)
    found = {"analytic": [], "permutations": []}
    outside = {"analytic": [], "permutations": []}
    hot = ("new_hot", "consecutive_hot", "intensifying_hot", "persistent_hot", "sporadic_hot")
    edges = pd.date_range("2025-12-01", periods=bins + 1, freq="7D")
    for rep in range(reps):
        for layout, sigma in LAYOUTS:
            county = make_county(rng, n, layout, sigma)
            rate = county.population * (per_week / county.population.mean())
            planted = plant(rng, county.weights, 6)
            mean = np.repeat(rate[:, None], bins, axis=1)
            mean[np.ix_(planted, range(bins - recent, bins))] *= 3
            cube = SpaceTimeCube(county.weights.ids, edges, rng.poisson(mean), "week", 0)
            m = county.weights.matrix.tocsr()
            near = np.zeros(county.weights.n, dtype=bool)
            near[planted] = True
            near[m[planted].indices] = True
            for name, perms in (("analytic", 0), ("permutations", 9999)):
                result = emerging_hotspots(cube, county.weights, permutations=perms, seed=rep)
                named = result.category != "no_pattern"
                outside[name].append(float(named[~near].mean()))
                found[name].append(float(np.isin(result.category[planted], hot).mean()))
    print(f"\n######## emerging hot spots: {n} grids, {bins} weekly bins, {per_week} issues per "
          f"grid and week, 6 planted grids at 3x in the last {recent} weeks, {reps} counties "
          "per layout")  # fmt: skip
    for name in found:
        hit, elsewhere = np.mean(found[name]), np.mean(outside[name])
        print(f"{name:<13} planted grids named hot: {hit:>5.0%}   grids outside the planted "
              f"area given a pattern: {elsewhere:>6.2%}")  # fmt: skip


def demo_section(args: argparse.Namespace) -> None:
    """Each method on the demo's planted patterns P1–P4 over their own span and category."""
    import pyogrio
    from _demo import county_gpkg

    from geo.core.scope import Scope
    from geo.grids.aggregate import IssueFilter
    from geo.hotspots.local import grid_counts, grid_weights
    from geo.store.base import open_store
    from geo.store.county import load_county

    path = county_gpkg(args.quick)
    data = load_county(open_store(path), scope=Scope.county())
    planted = pyogrio.read_dataframe(path, layer="planted").set_index("pattern_id")
    weights = grid_weights(data.grids)
    order = pd.Index(data.grids["grid_code"].astype(str)).get_indexer(pd.Index(weights.ids))
    centroids = shapely.get_coordinates(
        shapely.point_on_surface(data.grids.geometry.to_numpy()[order])
    )
    county = County(weights, data.grids["residents"].to_numpy(dtype=float)[order], centroids)
    runners = methods(199 if args.quick else 999)
    print("\n######## the demo's planted patterns (12 grids each): found / flagged elsewhere")
    print(f"{'method':<22} " + " ".join(f"{p:>10}" for p in ("P1", "P2", "P3", "P4")))
    rows: dict[str, list[str]] = {name: [] for name in runners}
    for pid in ("P1", "P2", "P3", "P4"):
        if pid not in planted.index:
            for name in runners:
                rows[name].append("-")
            continue
        row = planted.loc[pid]
        codes = str(row["top_grids"]).split(",")
        start, end = pd.Timestamp(row["start"]), pd.Timestamp(row["end"])
        span = IssueFilter(start.normalize(), end.normalize(), (str(row["category"]),))
        counted = grid_counts(data.issues, data.grids, flt=span).set_index("grid_code")["count"]
        counts = counted.reindex(weights.ids).to_numpy(dtype=float)
        index = np.flatnonzero(np.isin(weights.ids, codes))
        m = weights.matrix.tocsr()
        near = np.zeros(weights.n, dtype=bool)
        near[index] = True
        near[m[index].indices] = True
        for name, run in runners.items():
            flagged = run(counts, county, 0)
            rows[name].append(f"{int(flagged[index].sum())}/{int((flagged & ~near).sum())}")
    for name, cells in rows.items():
        print(f"{name:<22} " + " ".join(f"{c:>10}" for c in cells))


def run_level(args: argparse.Namespace, mean_count: float) -> None:
    """The tables for one level of expected issues per grid."""
    reps = args.reps or (2 if args.quick else 12)
    n = args.grids or (400 if args.quick else 900)
    perms = 199 if args.quick else 999
    runners = methods(perms)
    print(
        f"\n######## {n} grids per county, {mean_count:g} expected issues per grid, "
        f"dispersion {args.dispersion:g}, {reps} counties per cell, layouts {LAYOUTS}"
    )
    shape = 1 / args.dispersion**2 if args.dispersion > 0 else None
    rng = np.random.default_rng(20261207)
    recall = {(m, s, r): [] for m in runners for s in SIZES for r in RATIOS}
    fdp = {(m, s, r): [] for m in runners for s in SIZES for r in RATIOS}
    null_share: dict[str, list[float]] = {m: [] for m in runners}
    null_any: dict[str, list[bool]] = {m: [] for m in runners}
    spent = dict.fromkeys(runners, 0.0)
    for rep in range(reps):
        for layout, sigma in LAYOUTS:
            county = make_county(rng, n, layout, sigma)
            base = county.population * (mean_count / county.population.mean())
            if shape is not None:
                base = base * rng.gamma(shape, 1 / shape, len(base))
            counts = rng.poisson(base).astype(float)
            for name, run in runners.items():
                start = time.perf_counter()
                flagged = run(counts, county, rep)
                spent[name] += time.perf_counter() - start
                null_share[name].append(float(flagged.mean()))
                null_any[name].append(bool(flagged.any()))
            for size in SIZES:
                for ratio in RATIOS:
                    planted = plant(rng, county.weights, size)
                    planted_mean = base.copy()
                    planted_mean[planted] *= ratio
                    counts = rng.poisson(planted_mean).astype(float)
                    for name, run in runners.items():
                        start = time.perf_counter()
                        flagged = run(counts, county, rep)
                        spent[name] += time.perf_counter() - start
                        r, f = scores(flagged, planted, county)
                        recall[name, size, ratio].append(r)
                        fdp[name, size, ratio].append(f)
    width = max(len(m) for m in runners)
    print("\nrecall (planted grids flagged) / false-discovery proportion, by cluster size and "
          "rate ratio")  # fmt: skip
    head = " ".join(f"{f'{s} x{r:g}':>11}" for s in SIZES for r in RATIOS)
    print(f"{'method':<{width}} {head}")
    for name in runners:
        cells = " ".join(
            f"{np.mean(recall[name, s, r]):>5.0%}/{np.mean(fdp[name, s, r]):<4.0%}".rjust(11)
            for s in SIZES
            for r in RATIOS
        )
        print(f"{name:<{width}} {cells}")
    print("\nnull counties (no cluster): mean share of grids flagged, counties with any flag, "
          "time per county")  # fmt: skip
    runs = reps * len(LAYOUTS) * (1 + len(SIZES) * len(RATIOS))
    for name in runners:
        print(f"{name:<{width}} {np.mean(null_share[name]):>7.2%} "
              f"{np.mean(null_any[name]):>6.0%} {spent[name] / runs * 1000:>8.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()

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

- ``esda G*``: ``esda.G_Local(counts, w, star=True)`` with its defaults (row-standardised,
  999 permutations), flagged where ``p_sim <= 0.05`` and ``Zs > 0`` — as a user calls it;
- ``Gi* z+FDR excess``: GridGov's Gi* of the Poisson excess ``(O − E) / √E``, analytic z,
  Benjamini–Hochberg — the ArcGIS Hot Spot Analysis method on the right quantity;
- ``Gi* perm+FDR excess``: the same with 9999 conditional permutations;
- ``Gi* perm+FDR counts``: GridGov's method before this benchmark (raw counts);
- ``scan``: Kulldorff's Poisson scan (999 replications), the grids of clusters with p <= 0.05.

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
        "esda G*": esda_default,
        "Gi* z+FDR excess": lambda c, k, s: _gi(excess(c, k), k, 0, s),
        "Gi* perm+FDR excess": lambda c, k, s: _gi(excess(c, k), k, 9999, s),
        "Gi* perm+FDR counts": lambda c, k, s: _gi(c.astype(float), k, 9999, s),
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
    parser.add_argument("--means", default="4,12", help="expected issues per grid (a list)")
    parser.add_argument("--dispersion", type=float, default=0.3, help="CV of the grid factor")
    args = parser.parse_args()
    for mean in (float(m) for m in args.means.split(",")):
        run_level(args, mean)


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

"""热点研判 page: script time after a filter change the cache misses, against esda.

Runs ``dashboard.py`` in Streamlit's AppTest on the demo county, opens the hotspots page and
warms its caches (weights, warnings, the emerging analysis of each category used). Then it
changes one filter at a time to a window not analysed before (same end date and categories
already seen, so the emerging analysis over the history is cached but the window's Gi* and
local Moran are not) and times each full script run. Each timed change is checked to run the
county-wide statistics (``county_hotspots``) exactly once: only cache-missing changes count.
Changes the cache already holds (another town, another map) are timed apart, for
information, and checked to run no statistics.

The peer, in the same run: the page's statistics done the usual way, with the page's options
(9,999 permutations, binary weights for Gi*, row-standardised for Moran) —
``esda.G_Local(star=True, transform="B")`` and ``esda.Moran_Local`` on libpysal weights of
the same queen neighbours, built once outside the peer's timer. Its z-scores and local I
must equal GridGov's ``gi_star`` and ``local_moran`` on the same counts (exit 1 otherwise).
esda runs without numba here (numba is not a dependency); the printed line says so.

Run: ``python bench/bench_hotspots_page.py [--quick]`` from the repository root.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time

import numpy as np
from _demo import arguments, check, county_gpkg, esda_label, median_time, rerun_times, signed_in_app

import geo.views.hotspots as hotspot_views
from geo.core.scope import Scope
from geo.grids.aggregate import IssueFilter
from geo.hotspots.local import gi_star, grid_counts, grid_weights, local_moran
from geo.store.base import open_store
from geo.store.county import load_county

PERMUTATIONS = 9999  # county_hotspots' default, which the page uses
TOWNS = ("320924101", "320924104")  # 合德镇, 四明镇 (the quick county: its own first two)


def _count_calls(counter: list[int]) -> None:
    """Count the page's county-wide statistics runs (the work its cache saves)."""
    real = hotspot_views.county_hotspots

    def counted(*args, **kwargs):
        counter[0] += 1
        return real(*args, **kwargs)

    hotspot_views.county_hotspots = counted


def main() -> None:
    args = arguments(__doc__)
    path = county_gpkg(args.quick)
    os.environ["GRIDGOV_DATA_DIR"] = str(path.parent)
    data = load_county(open_store(path), scope=Scope.county())
    codes = sorted(data.towns.town_code)
    towns = TOWNS if set(TOWNS) <= set(codes) else tuple(codes[:2])

    runs = [0]
    _count_calls(runs)
    at = signed_in_app(path)
    start = time.perf_counter()
    at.switch_page("pages/views/hotspots.py").run()
    cold = time.perf_counter() - start
    end = dt.date(2026, 11, 20)
    at.sidebar.multiselect(key="categories").select("环境卫生").run()  # warm its history
    at.sidebar.multiselect(key="categories").unselect("环境卫生").run()

    def dates(days: int):
        return lambda: at.sidebar.date_input(key="dates").set_value(
            (end - dt.timedelta(days=days - 1), end)
        )

    missing = [
        dates(60),
        dates(14),
        lambda: at.sidebar.multiselect(key="categories").select("环境卫生"),
        dates(90),
        dates(45),
        lambda: at.sidebar.multiselect(key="categories").unselect("环境卫生"),
        dates(7),
    ]
    if args.quick:
        missing = missing[:3]
    held = [
        lambda: at.sidebar.selectbox(key="town").set_value(towns[0]),
        lambda: at.sidebar.selectbox(key="town").set_value(towns[1]),
        lambda: at.radio(key="hot_map_kind").set_value("emerging"),
    ]
    times: list[float] = []
    for change in missing:
        before = runs[0]
        times += rerun_times(at, [change])
        check(runs[0] == before + 1, f"a timed change ran the statistics {runs[0] - before} times")
    hits: list[float] = []
    for change in held:
        before = runs[0]
        hits += rerun_times(at, [change])
        check(runs[0] == before, "a change the cache should hold ran the statistics again")

    import esda

    y = grid_counts(
        data.issues,
        data.grids,
        flt=IssueFilter(
            start=data.as_of.normalize() - dt.timedelta(days=29), end=data.as_of.normalize()
        ),
    )
    weights = grid_weights(data.grids)
    w_gi, w_moran = weights.to_libpysal(), weights.to_libpysal()  # outside the peer's timer
    values = y.set_index("grid_code")["count"].reindex(w_gi.id_order).to_numpy(dtype=float)
    repeat = 1 if args.quick else 3

    def peer(permutations: int = PERMUTATIONS):
        g = esda.G_Local(values, w_gi, star=True, transform="B", permutations=permutations, seed=0)
        m = esda.Moran_Local(values, w_moran, permutations=permutations, seed=0)
        return g, m

    t_peer, (g, m) = median_time(peer, repeat)
    t_peer_999, _ = median_time(lambda: peer(999), repeat)
    ours_gi = gi_star(values, weights, permutations=0)
    ours_moran = local_moran(values, weights, permutations=0)
    dz = float(np.nanmax(np.abs(ours_gi.z - g.Zs)))
    di = float(np.nanmax(np.abs(ours_moran.i - m.Is)))
    ours = statistics.median(times)
    label = esda_label()
    print(f"grids: {len(data.grids):,}; issues: {len(data.issues):,}")
    print(f"first visit (weights, warnings, emerging analysis): {cold:.2f} s")
    print(
        f"script time after a change the cache misses (Gi* + local Moran + page): median "
        f"{ours:.3f} s, max {max(times):.3f} s over {len(times)} changes"
    )
    print(
        f"  (changes the cache holds — town, map kind: median {statistics.median(hits):.3f} s, "
        "not in the ratio)"
    )
    print(
        f"peer: {label}, G_Local + Moran_Local ({PERMUTATIONS:,} permutations, as the page), "
        f"weights prebuilt: {t_peer:.3f} s (at esda's default 999: {t_peer_999:.3f} s)"
    )
    print(f"ratio peer statistics alone / our whole script run: {t_peer / ours:.1f}x")
    print(f"same statistics as esda: max |dz| {dz:.1e}, max |dI| {di:.1e}")
    check(dz < 1e-8 and di < 1e-8, f"Gi* z or local I differ from esda (dz {dz}, dI {di})")


if __name__ == "__main__":
    main()

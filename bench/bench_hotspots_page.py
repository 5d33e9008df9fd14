"""热点研判 page: script time after a filter change with the cache warm, against esda.

Runs ``dashboard.py`` in Streamlit's AppTest on the demo county, opens the hotspots page,
warms its caches (weights, alerts, the emerging analysis of each category used), then changes
one filter at a time to values already analysed over the history but with a new window, and
times each full script run. The peer, in the same run: the page's statistics done the usual
way — ``esda.G_Local(star=True, permutations=999)`` and ``esda.Moran_Local(permutations=999)``
on libpysal queen weights of the same counts.

Run: ``python bench/bench_hotspots_page.py`` from the repository root.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time

import numpy as np
from _demo import ROOT, demo_gpkg, rerun_times
from streamlit.testing.v1 import AppTest

from geo.grids.aggregate import IssueFilter
from geo.hotspots.local import grid_counts, grid_weights
from geo.store.base import open_store
from geo.store.county import load_county


def main() -> None:
    path = demo_gpkg()
    os.environ["GRIDGOV_DATA_DIR"] = str(path.parent)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600).run()
    start = time.perf_counter()
    at.switch_page("pages/views/hotspots.py").run()
    cold = time.perf_counter() - start
    end = dt.date(2026, 11, 20)
    at.sidebar.multiselect(key="categories").select("环境卫生").run()  # warm its history
    at.sidebar.multiselect(key="categories").unselect("环境卫生").run()
    changes = [
        lambda: at.sidebar.date_input(key="dates").set_value((end - dt.timedelta(days=59), end)),
        lambda: at.sidebar.date_input(key="dates").set_value((end - dt.timedelta(days=13), end)),
        lambda: at.sidebar.selectbox(key="town").set_value("320924101"),
        lambda: at.sidebar.selectbox(key="town").set_value("320924104"),
        lambda: at.sidebar.multiselect(key="categories").select("环境卫生"),
        lambda: at.sidebar.date_input(key="dates").set_value((end - dt.timedelta(days=89), end)),
        lambda: at.radio(key="hot_map_kind").set_value("emerging"),
    ]
    times = rerun_times(at, changes)

    import esda
    import libpysal

    data = load_county(open_store(path))
    y = grid_counts(
        data.issues,
        data.grids,
        flt=IssueFilter(
            start=data.as_of.normalize() - dt.timedelta(days=29), end=data.as_of.normalize()
        ),
    )
    w = grid_weights(data.grids).to_libpysal()
    values = y.set_index("grid_code")["count"].reindex(w.id_order).to_numpy(dtype=float)
    peer = []
    for _ in range(3):
        start = time.perf_counter()
        esda.G_Local(values, libpysal.weights.W(w.neighbors), star=True, permutations=999, seed=0)
        esda.Moran_Local(values, w, permutations=999, seed=0)
        peer.append(time.perf_counter() - start)
    ours = statistics.median(times)
    print(f"first visit (weights, warnings, emerging analysis): {cold:.2f} s")
    print(
        f"script time after a filter change, cache warm: median {ours:.3f} s, "
        f"max {max(times):.3f} s over {len(times)} changes"
    )
    print(
        f"peer: esda G_Local + Moran_Local (999 permutations) alone: "
        f"{statistics.median(peer):.3f} s; ratio {statistics.median(peer) / ours:.1f}x"
    )
    print(f"(values checked: {np.isfinite(values).all()})")


if __name__ == "__main__":
    main()

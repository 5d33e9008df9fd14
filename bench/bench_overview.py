"""Overview script time on a filter change with the cache warm, and the map payload.

Runs ``dashboard.py`` in Streamlit's AppTest on the demo county, warms the caches (data
loaded, grid topology packed), then changes one filter at a time — each to a value not seen
before, so the per-filter work (counts, KPIs, the map's values and classes) really runs — and
times each full script run. The peer, measured in the same run on the same filtered grids, is
the usual way to draw the map: ``folium.GeoJson`` with a ``GeoJsonTooltip`` and a
``style_function``, built and rendered to HTML. Prints medians, the ratio and payload sizes.

Run: ``python bench/bench_overview.py [--quick]`` from the repository root (``--quick``: the
small county, four changes, one peer run).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import time

import folium
from _demo import arguments, county_gpkg, rerun_times, signed_in_app
from streamlit.testing.v1 import AppTest

from geo.core.scope import Scope
from geo.core.settings import DISPLAY_CRS
from geo.grids.aggregate import IssueFilter
from geo.store.base import open_store
from geo.store.county import load_county
from geo.views.overview import overview


def _map_bytes(at: AppTest) -> int:
    maps = [c for c in at.get("component_instance") if "st_folium" in c.proto.component_name]
    args = json.loads(maps[0].proto.json_args)
    return sum(len(str(args[k]).encode()) for k in ("script", "header", "html"))


def _peer_seconds(view) -> tuple[float, int]:
    grids = view.grids.to_crs(DISPLAY_CRS)[
        ["grid_code", "grid_name", "grid_worker", "households", "count", "geometry"]
    ]
    top = max(float(grids["count"].max()), 1.0)
    start = time.perf_counter()
    m = folium.Map(tiles=None)
    folium.GeoJson(
        grids,
        style_function=lambda f: {
            "fillColor": f"rgba(200,0,0,{f['properties']['count'] / top:.2f})",
            "weight": 0.5,
        },
        tooltip=folium.GeoJsonTooltip(
            ["grid_code", "grid_name", "grid_worker", "households", "count"]
        ),
    ).add_to(m)
    html = m.get_root().render()
    return time.perf_counter() - start, len(html.encode())


TOWNS = ("320924101", "320924104")  # 合德镇, 四明镇 (the quick county: its own first two)


def main() -> None:
    args = arguments(__doc__)
    path = county_gpkg(args.quick)
    os.environ["GRIDGOV_DATA_DIR"] = str(path.parent)
    data = load_county(open_store(path), scope=Scope.county())
    codes = sorted(data.towns.town_code)
    towns = TOWNS if set(TOWNS) <= set(codes) else tuple(codes[:2])
    start = time.perf_counter()
    at = signed_in_app(path)  # the sign-in page, then the Overview as 县指挥中心
    cold = time.perf_counter() - start
    at.run()  # warm: same filters again
    end = dt.date(2026, 11, 20)
    changes = [
        lambda: at.sidebar.multiselect(key="categories").select("环境卫生"),
        lambda: at.sidebar.multiselect(key="sources").select("12345"),
        lambda: at.sidebar.date_input(key="dates").set_value((end - dt.timedelta(days=89), end)),
        lambda: at.radio(key="metric").set_value("rate_per_1000"),
        lambda: at.sidebar.multiselect(key="categories").select("噪音扰民"),
        lambda: at.sidebar.multiselect(key="sources").select("网格巡查"),
        lambda: at.sidebar.date_input(key="dates").set_value((end - dt.timedelta(days=6), end)),
        lambda: at.sidebar.selectbox(key="town").set_value(towns[0]),
        lambda: at.sidebar.selectbox(key="town").set_value(towns[1]),
    ]
    if args.quick:
        changes = [*changes[:2], *changes[-2:]]
    times = rerun_times(at, changes)
    at.sidebar.selectbox(key="town").set_value("").run()
    payload = _map_bytes(at)

    view = overview(data, IssueFilter(start=None, end=None))
    peer = [_peer_seconds(view) for _ in range(1 if args.quick else 3)]
    peer_s = statistics.median(p[0] for p in peer)
    ours = statistics.median(times)
    print(f"first run (cold: sign in, load county, build topology): {cold:.2f} s")
    print(
        f"script time after a filter change, cache warm: median {ours:.3f} s, "
        f"max {max(times):.3f} s over {len(times)} changes"
    )
    print(
        f"peer: folium.GeoJson map of the same {len(view.grids):,} grids built and rendered: "
        f"{peer_s:.3f} s "
        f"({peer[0][1] / 1e6:.2f} MB)"
    )
    print(f"ratio peer map alone / our whole script run: {peer_s / ours:.1f}x")
    print(f"Overview map payload (script + header + html of the component): {payload / 1e6:.3f} MB")


if __name__ == "__main__":
    main()

"""Overview in a real browser: navigation to a drawn map, and many sessions changing a filter.

Starts ``streamlit run dashboard.py`` on the demo county and drives Debian's headless Chromium
(/usr/bin/chromium), signed in as the county-wide ``county`` account. Every request not to
127.0.0.1 goes to a proxy that does not exist, fails and is counted (any fails the run).
Unlike ``bench_wall_memory.py`` this does not abort them with Playwright's request routing:
routing turns the browser's HTTP cache off, and a returning visitor has Streamlit's frontend
(about 4 MB of content-hashed scripts, cached for a year) in its cache. Every time is taken
inside the browser (``performance`` clocks, a MutationObserver in the page and one in the
map's iframe), not by polling.

1. Navigation to a drawn map. ``page.goto`` of the Overview until every grid polygon of the
   folium map is in its iframe's DOM (Leaflet's filled SVG paths) and the next frame has
   painted. A reload is a new Streamlit session, and the session holds the sign-in, so the
   sign-in form always comes first; what is counted is the page load up to the sign-in form
   (HTML, Streamlit's frontend, the sign-in page's script run) plus everything from the first
   element of the signed-in run (the sidebar's 退出登录 button) to the drawn map. Not counted:
   typing and submitting the form and checking the password (Argon2id). That first element
   can reach the browser in one batch with later ones, so the figure with the sign-in
   counted (from the click on 登录) is printed too, as an upper bound. Goal ≤ 3 s. Cold: the
   first visit after the server started (the county is loaded during it, the browser's cache
   is empty); warm: later visits of the same browser. Each run's stages are printed.
2. Concurrent sessions. ``--sessions`` browser contexts in one Chromium sit on the Overview;
   each opens a sidebar filter (a different category each, then sources) and all click their
   option at the same instant. Counted per session: from the click to the moment the script
   has finished (no running indicator) and the new map's grid polygons are drawn (one map
   iframe left). p50 and p95 over the sessions; goal p95 ≤ 1 s. The server's resident memory
   (VmRSS from /proc) is read with 1 and with every session open, giving MB per extra session.
   Every session's browser shares the machine with the server here (users have their own),
   so the browser's part of these times is inflated; the stages printed separate it.

The peer, in the same run: the usual way to build this page — a minimal Streamlit page (a
temporary file) that reads the same county's grids, villages, towns and issues with
geopandas (``st.cache_data``), applies the same date window and the same sidebar filters,
and draws the grids with ``folium.GeoJson`` + ``GeoJsonTooltip`` (outlines as two more
``GeoJson`` layers, Leaflet served locally as an intranet needs, no legend: branca's loads d3
from the internet) through ``streamlit_folium.st_folium``. It has no sign-in, so its
navigation time runs from ``page.goto`` to the drawn map. Its own ``streamlit run``, timed the
same way; both must draw the same number of grid polygons, before and after the change.
Prints each run, medians, p50/p95, MB per session and the ratios peer / ours.

Run: ``python bench/bench_browser.py [--sessions 20] [--warm 5] [--quick]`` from the
repository root. The machine has 2 cores shared by the server, Chromium and anything else
running: times are inflated, most of all with many sessions. ``--quick``: the small county,
3 sessions, 1 warm visit, asserts that both sides agree and nothing about time. With no
Chromium at /usr/bin/chromium (a system package, not a Python one) it says so and stops
without failing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _demo import ROOT, arguments, browser_sign_in, check, county_gpkg, ensure_county_account
from bench_wall_memory import CHROMIUM, CHROMIUM_ARGS, _free_port, _wait_healthy, rss_mb

from geo.core.i18n import translator

GOAL_NAV_S = 3.0
GOAL_P95_S = 1.0
TIMEOUT_MS = 600_000
LOCAL = ("http://127.0.0.1", "data:", "blob:", "about:")
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
#: Grid polygons: Leaflet's interactive paths that are filled (outlines are drawn unfilled).
GRID_PATHS = "path.leaflet-interactive:not([fill='none'])"

# Runs in every frame before its scripts. In the map's iframe it stamps when the folium map's
# div appears, when all grid polygons are in the DOM and when the next frame has painted; in
# the page it stamps the sign-in form, the first element of the signed-in run and each map
# drawn, and (once armed) one filter change from the click to the finished rerun.
_PROBE_JS = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const expected = %(expected)d;
  if (window !== window.top) {
    // The iframe starts as about:blank and keeps its window when it loads the component, so
    // the probe waits for the component's document.
    const install = () => {
      if (window.__benchMap || !location.pathname.includes('streamlit_folium')) return;
      const mark = {origin: performance.timeOrigin, installed: now(), mapDiv: null,
                    paths: null, drawn: null, count: 0};
      window.__benchMap = mark;
      const seen = () => {
        const div = document.querySelector('#map_div, .folium-map');
        if (mark.mapDiv === null && div) mark.mapDiv = now();
        if (mark.paths !== null) return;
        const n = document.querySelectorAll(%(grids)s).length;
        if (n < expected) return;
        mark.paths = now();
        mark.count = n;
        observer.disconnect();
        requestAnimationFrame(() => setTimeout(() => {
          mark.drawn = now();
          if (window.parent.__benchPing) window.parent.__benchPing([]);
        }, 0));
      };
      const observer = new MutationObserver(seen);
      observer.observe(document, {childList: true, subtree: true});
      seen();
    };
    install();
    window.addEventListener('DOMContentLoaded', install);
    return;
  }
  const b = {nav: {origin: performance.timeOrigin, form: null, click: null, signedIn: null,
                   map: null}, change: null};
  window.__bench = b;
  document.addEventListener('click', (e) => {
    const button = e.target && e.target.closest ? e.target.closest('button') : null;
    if (b.nav.click === null && button && button.textContent.trim() === %(sign_in)s) {
      b.nav.click = now();
    }
  }, true);
  const frames = () => [...document.querySelectorAll(%(iframe)s)];
  const drawnMap = (fresh) => {
    for (const f of frames()) {
      const m = f.contentWindow && f.contentWindow.__benchMap;
      if (m && m.drawn !== null && !(fresh && f.__benchOld)) return Object.assign({}, m);
    }
    return null;
  };
  const check = (records) => {
    const nav = b.nav;
    if (nav.form === null && document.querySelector(%(user_input)s)) nav.form = now();
    if (nav.signedIn === null && [...document.querySelectorAll('[data-testid="stSidebar"] button')]
        .some((x) => x.textContent.trim() === %(sign_out)s)) nav.signedIn = now();
    if (nav.map === null) nav.map = drawnMap(false);
    const c = b.change;
    if (!c || c.t0 === null || c.done !== null) return;
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app && app.getAttribute('data-test-script-state');
    if (records.some((r) => r.type === 'attributes') || (state && state !== 'notRunning')) {
      c.running = true;
    }
    if (c.running && c.finished === null && state === 'notRunning') c.finished = now();
    if (c.map === null) c.map = drawnMap(true);
    if (c.finished !== null && c.map !== null && frames().length === 1 &&
        !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')) c.done = now();
  };
  window.__benchPing = check;
  window.__benchArm = (value, at) => {
    frames().forEach((f) => { f.__benchOld = true; });
    const option = [...document.querySelectorAll('[role="option"]')]
      .find((o) => o.textContent.trim() === value);
    if (!option) return false;
    const c = {t0: null, running: false, finished: null, map: null, done: null};
    b.change = c;
    setTimeout(() => { c.t0 = now(); option.click(); }, Math.max(0, at - Date.now()));
    return true;
  };
  new MutationObserver(check).observe(document, {childList: true, subtree: true,
    attributes: true, attributeFilter: ['data-test-script-state']});
})();
"""

# The peer: a plain Streamlit page as one would write it for this map (offline: Leaflet from
# its own static folder, see write_peer). Filled in with the county's file and its "now".
_PEER_PAGE = '''"""Issues per grid on a map: geopandas, folium and streamlit-folium."""

import datetime as dt

import branca.colormap as cm
import folium
import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

GPKG = {gpkg!r}
END = dt.date.fromisoformat({end!r})

st.set_page_config(page_title="Overview", layout="wide")


@st.cache_data
def load():
    grids = gpd.read_file(GPKG, layer="grids").to_crs(4326)
    villages = gpd.read_file(GPKG, layer="villages", columns=["village_code"]).to_crs(4326)
    towns = gpd.read_file(GPKG, layer="towns", columns=["town_name"]).to_crs(4326)
    issues = gpd.read_file(
        GPKG, layer="issues", columns=["received_at", "category", "source", "grid_code"],
        ignore_geometry=True,
    )
    return grids, villages, towns, issues


grids, villages, towns, issues = load()
first = min(issues["received_at"].min().date(), END)
default = (max(END - dt.timedelta(days=29), first), END)
picked = st.sidebar.date_input(
    {dates!r}, value=default, min_value=first, max_value=END, key="dates"
)
start, stop = (picked[0], picked[-1]) if picked else default
categories = st.sidebar.multiselect(
    {category!r}, sorted(issues["category"].dropna().unique()), placeholder={all!r}
)
sources = st.sidebar.multiselect(
    {source!r}, sorted(issues["source"].dropna().unique()), placeholder={all!r}
)

received = issues["received_at"]
chosen = issues[
    (received >= pd.Timestamp(start)) & (received < pd.Timestamp(stop) + pd.Timedelta(days=1))
]
if categories:
    chosen = chosen[chosen["category"].isin(categories)]
if sources:
    chosen = chosen[chosen["source"].isin(sources)]
counts = chosen.groupby("grid_code").size()
shown = grids.assign(count=grids["grid_code"].map(counts).fillna(0).astype(int))
shown = shown[["grid_code", "grid_name", "grid_worker", "households", "count", "geometry"]]

st.title(f"Issues {{start:%Y-%m-%d}} – {{stop:%Y-%m-%d}}: {{len(chosen):,}}")
colors = cm.linear.YlOrRd_09.scale(0, max(int(shown["count"].max()), 1))
m = folium.Map(tiles=None)
m.default_js = [("leaflet", "/app/static/leaflet/leaflet.js")]
m.default_css = [("leaflet_css", "/app/static/leaflet/leaflet.css")]
folium.GeoJson(
    shown,
    style_function=lambda f: {{
        "fillColor": colors(f["properties"]["count"]),
        "color": "#ffffff",
        "weight": 0.5,
        "fillOpacity": 0.85,
    }},
    tooltip=folium.GeoJsonTooltip(
        fields=["grid_code", "grid_name", "grid_worker", "households", "count"]
    ),
).add_to(m)
folium.GeoJson(
    villages, style_function=lambda f: {{"fill": False, "color": "#5f6b7a", "weight": 1}}
).add_to(m)
folium.GeoJson(
    towns,
    style_function=lambda f: {{"fill": False, "color": "#1f2d3d", "weight": 3}},
    tooltip=folium.GeoJsonTooltip(fields=["town_name"]),
).add_to(m)
min_x, min_y, max_x, max_y = grids.total_bounds
m.fit_bounds([[min_y, min_x], [max_y, max_x]])
st_folium(
    m,
    key="map",
    height=620,
    use_container_width=True,
    returned_objects=["last_active_drawing", "last_object_clicked"],
)
'''


@dataclass
class App:
    """One side of the comparison: how to start it and how to open it signed in."""

    name: str
    script: Path
    cwd: Path
    signs_in: bool
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    """What one side measured."""

    nav_s: list[float] = field(default_factory=list)  # cold first, then warm
    with_sign_in_s: list[float] = field(default_factory=list)  # the same, sign-in counted
    stages: list[dict[str, float]] = field(default_factory=list)
    change_s: list[float] = field(default_factory=list)
    change_stages: list[dict[str, float]] = field(default_factory=list)
    spread_s: float = 0.0
    rss_mb: dict[str, float] = field(default_factory=dict)
    grid_paths: list[int] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


@contextmanager
def serving(app: App, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``streamlit run`` of ``app`` on a free loopback port in its own process group."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app.script),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--server.fileWatcherType", "none",
        "--server.enableStaticServing", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=app.cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **app.env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait_healthy(url, proc)
        yield url, proc
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def write_peer(folder: Path, gpkg: Path, end: str) -> Path:
    """The peer's page and its static folder (Leaflet's files) in ``folder``."""
    t = translator("zh")
    shutil.copytree(ROOT / "static" / "vendor" / "leaflet", folder / "static" / "leaflet")
    page = folder / "peer_overview.py"
    page.write_text(
        _PEER_PAGE.format(
            gpkg=str(gpkg),
            end=end,
            dates=t("date_range"),
            category=t("category"),
            source=t("source"),
            all=t("all"),
        ),
        encoding="utf-8",
    )
    return page


def _wait(page: Any, expression: str, what: str, timeout_ms: float = TIMEOUT_MS) -> None:
    try:
        page.wait_for_function(expression, polling=100, timeout=timeout_ms)
    except Exception as exc:
        count = page.evaluate(
            """([frames, grids]) => [...document.querySelectorAll(frames)].map((f) =>
                f.contentDocument ? f.contentDocument.querySelectorAll(grids).length : -1)""",
            [MAP_IFRAME, GRID_PATHS],
        )
        raise SystemExit(
            f"{what}: not done in {timeout_ms / 1000:.0f} s (grid polygons in each map "
            f"iframe now: {count})"
        ) from exc


def navigate(page: Any, app: App, url: str) -> tuple[float, float, dict[str, float], int]:
    """Open ``url`` (signing in when the app asks) until the map is drawn.

    Returns the counted seconds, the same with the sign-in counted too (from the click on
    登录), the stages (seconds each) and the grid polygons drawn.
    """
    if app.signs_in:
        browser_sign_in(page, url)
    else:
        page.goto(url)
    _wait(page, "() => window.__bench.nav.map !== null", f"{app.name}: map after page.goto")
    nav = page.evaluate("() => window.__bench.nav")
    m = nav["map"]
    if app.signs_in:
        before = nav["form"] - nav["origin"]
        counted = before + m["drawn"] - nav["signedIn"]
        with_sign_in = before + m["drawn"] - nav["click"]
        stages = {
            "page load to the sign-in form": before,
            "(not counted) 登录 clicked to signed in": nav["signedIn"] - nav["click"],
            "signed-in run to the map iframe": m["origin"] - nav["signedIn"],
        }
    else:
        counted = with_sign_in = m["drawn"] - nav["origin"]
        stages = {"page load and run to the map iframe": m["origin"] - nav["origin"]}
    stages |= {
        "iframe, component and Leaflet files": m["mapDiv"] - m["origin"],
        "map script to every grid in the DOM": m["paths"] - m["mapDiv"],
        "next frame painted": m["drawn"] - m["paths"],
    }
    seconds = {k: v / 1000 for k, v in stages.items()}
    return counted / 1000, with_sign_in / 1000, seconds, int(m["count"])


def change_stages(c: dict[str, Any]) -> dict[str, float]:
    """Seconds from the click to each step of one session's rerun."""
    m = c["map"]
    steps = {
        "script finished (no running indicator)": c["finished"],
        "new map iframe created": m["origin"],
        "its map script ran": m["mapDiv"],
        "every grid in the DOM": m["paths"],
        "next frame painted": m["drawn"],
        "done: both, one map iframe left": c["done"],
    }
    return {k: (v - c["t0"]) / 1000 for k, v in steps.items()}


def filter_changes(sessions: int, categories: list[str], sources: list[str]) -> list[tuple]:
    """(label, option) of each session's change: a different category each, then sources."""
    t = translator("zh")
    options = [(t("category"), c) for c in categories] + [(t("source"), s) for s in sources]
    return [options[i % len(options)] for i in range(sessions)]


def open_filter(page: Any, label: str, option: str) -> None:
    """Open the sidebar multiselect ``label`` and type ``option`` so that it is listed."""
    box = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").filter(
        has_text=label
    )
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).wait_for(timeout=60_000)


def measure(
    app: App,
    browser: Any,
    *,
    sessions: int,
    warm: int,
    changes: list[tuple],
    log: Path,
    expected: int,
) -> Result:
    """Both measurements for one app on a server of its own."""
    res = Result()
    t = translator("zh")
    probe = _PROBE_JS % {
        "expected": expected,
        "grids": repr(GRID_PATHS),
        "iframe": repr(MAP_IFRAME),
        "user_input": repr(f"input[aria-label='{t('username')}']"),
        "sign_out": repr(t("sign_out")),
        "sign_in": repr(t("sign_in")),
    }

    def not_local(request: Any) -> None:
        if not request.url.startswith(LOCAL):
            res.blocked.append(request.url)

    def new_page() -> tuple[Any, Any]:
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        context.on("request", not_local)
        context.add_init_script(probe)
        return context, context.new_page()

    with serving(app, log) as (url, proc):
        res.rss_mb["idle"] = rss_mb(proc.pid)
        print(f"{app.name}: server {url} (pid {proc.pid}, log {log})", flush=True)
        opened = [new_page()]
        seconds, with_sign_in, stages, count = navigate(opened[0][1], app, url)
        res.nav_s.append(seconds)
        res.with_sign_in_s.append(with_sign_in)
        res.stages.append(stages)
        res.grid_paths.append(count)
        print(f"  cold navigation {seconds:.2f} s ({count:,} grid polygons)", flush=True)
        opened[0][1].wait_for_timeout(1000)
        res.rss_mb["1 session"] = rss_mb(proc.pid)
        for _ in range(sessions - 1):
            opened.append(new_page())
            navigate(opened[-1][1], app, url)
        opened[-1][1].wait_for_timeout(1000)
        res.rss_mb[f"{sessions} sessions"] = rss_mb(proc.pid)
        for (_, page), (label, option) in zip(opened, changes, strict=True):
            open_filter(page, label, option)
        at = time.time() * 1000 + 500 + 100 * sessions
        for (_, page), (_, option) in zip(opened, changes, strict=True):
            armed = page.evaluate("([v, at]) => window.__benchArm(v, at)", [option, at])
            check(armed, f"{app.name}: the option {option} is not listed")
        for _, page in opened:
            _wait(page, "() => window.__bench.change.done !== null", f"{app.name}: rerun")
        done = [page.evaluate("() => window.__bench.change") for _, page in opened]
        res.change_s = [(c["done"] - c["t0"]) / 1000 for c in done]
        res.change_stages = [change_stages(c) for c in done]
        res.spread_s = (max(c["t0"] for c in done) - min(c["t0"] for c in done)) / 1000
        res.grid_paths += [int(c["map"]["count"]) for c in done]
        res.rss_mb["after the changes"] = rss_mb(proc.pid)
        print(
            f"  {sessions} sessions changed a filter: p50 {pct(res.change_s, 50):.2f} s, "
            f"p95 {pct(res.change_s, 95):.2f} s",
            flush=True,
        )
        for context, _ in opened[1:]:
            context.close()
        page = opened[0][1]
        for _ in range(warm):
            seconds, with_sign_in, stages, count = navigate(page, app, url)
            res.nav_s.append(seconds)
            res.with_sign_in_s.append(with_sign_in)
            res.stages.append(stages)
            res.grid_paths.append(count)
        opened[0][0].close()
    return res


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile (linear between closest ranks)."""
    if len(values) == 1:
        return values[0]
    return float(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1])


def ratio(peer: float, ours: float) -> str:
    return f"{peer / ours:.2f}" if ours > 0 else "n/a"


def report(
    ours: Result, peer: Result, *, sessions: int, names: tuple[str, str], quick: bool
) -> None:
    """Print every run, the medians, the percentiles, memory and the ratios."""
    per: dict[str, float] = {}
    for name, res in zip(names, (ours, peer), strict=True):
        warm = res.nav_s[1:]
        print(f"\n{name}")
        print(
            f"  navigation → drawn map: cold {res.nav_s[0]:.2f} s; warm "
            + ", ".join(f"{s:.2f}" for s in warm)
            + (f" s, median {statistics.median(warm):.2f} s" if warm else "")
        )
        if res.with_sign_in_s != res.nav_s:
            print(
                "  the same with the sign-in counted (from the click on 登录): cold "
                f"{res.with_sign_in_s[0]:.2f} s; warm "
                + ", ".join(f"{s:.2f}" for s in res.with_sign_in_s[1:])
                + " s"
            )
        print("  where the time goes (median of the warm runs, s):")
        runs = res.stages[1:] or res.stages
        for stage in runs[0]:
            print(f"    {stage:<40} {statistics.median(r[stage] for r in runs):6.3f}")
        print(
            f"  filter change → finished rerun, {sessions} sessions at once (clicks spread "
            f"over {res.spread_s * 1000:.0f} ms): p50 {pct(res.change_s, 50):.2f} s, "
            f"p95 {pct(res.change_s, 95):.2f} s, max {max(res.change_s):.2f} s"
        )
        print("    each: " + ", ".join(f"{s:.2f}" for s in sorted(res.change_s)))
        print("    from the click to (median over the sessions, s):")
        for stage in res.change_stages[0]:
            median = statistics.median(r[stage] for r in res.change_stages)
            print(f"      {stage:<40} {median:6.3f}")
        rss = res.rss_mb
        extra = (rss[f"{sessions} sessions"] - rss["1 session"]) / max(sessions - 1, 1)
        per[name] = extra
        print(
            "  server VmRSS (MB): "
            + ", ".join(f"{k} {v:.0f}" for k, v in rss.items())
            + f"; {extra:.1f} MB per extra session"
        )
        print(f"  requests not to 127.0.0.1 (each failed): {len(res.blocked)}")
    warm_o, warm_p = ours.nav_s[1:] or ours.nav_s, peer.nav_s[1:] or peer.nav_s
    nav_o = statistics.median(warm_o)
    p95_o = pct(ours.change_s, 95)
    print("\nratios peer / ours (above 1: ours is faster or smaller)")
    print(f"  cold navigation {ratio(peer.nav_s[0], ours.nav_s[0])}")
    print(f"  warm navigation (medians) {ratio(statistics.median(warm_p), nav_o)}")
    print(
        f"  filter change p50 {ratio(pct(peer.change_s, 50), pct(ours.change_s, 50))}, "
        f"p95 {ratio(pct(peer.change_s, 95), p95_o)}"
    )
    print(f"  MB per extra session {ratio(per[names[1]], per[names[0]])}")
    if quick:
        print("quick run (small county, few sessions): no verdict on the goals")
        return
    print(
        f"RESULT: navigation median {nav_o:.2f} s warm, {ours.nav_s[0]:.2f} s cold "
        f"({'within' if max(nav_o, ours.nav_s[0]) <= GOAL_NAV_S else 'OVER'} the "
        f"{GOAL_NAV_S:.0f} s goal); filter change p95 {p95_o:.2f} s with {sessions} sessions "
        f"({'within' if p95_o <= GOAL_P95_S else 'OVER'} the {GOAL_P95_S:.0f} s goal)"
    )


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sessions", type=int, default=None, help="concurrent sessions (20)")
    parser.add_argument("--warm", type=int, default=None, help="warm navigations (5)")


def main() -> None:
    args = arguments(__doc__, add=_options)
    sessions = args.sessions or (3 if args.quick else 20)
    warm = args.warm if args.warm is not None else (1 if args.quick else 5)
    if not Path(CHROMIUM).exists():
        print(f"skipped: no Chromium at {CHROMIUM} (apt-get install chromium): not measured")
        return
    import pyogrio
    from playwright.sync_api import sync_playwright

    from geo.core.settings import DEMO_FILENAME
    from geo.store.base import open_store
    from geo.store.county import as_of as county_as_of
    from geo.store.county import read_meta

    gpkg = county_gpkg(args.quick)
    check(gpkg.name == DEMO_FILENAME, f"the county file is {gpkg.name}")
    ensure_county_account(gpkg)
    expected = int(pyogrio.read_info(gpkg, layer="grids")["features"])
    end = county_as_of(read_meta(open_store(gpkg))).date().isoformat()
    issues = pyogrio.read_dataframe(
        gpkg, layer="issues", columns=["category", "source"], read_geometry=False
    )
    changes = filter_changes(
        sessions,
        list(issues["category"].value_counts().index),
        list(issues["source"].value_counts().index),
    )
    logs = Path(tempfile.gettempdir())
    with tempfile.TemporaryDirectory(prefix="gridgov-bench-peer-") as folder:
        peer_page = write_peer(Path(folder), gpkg, end)
        apps = (
            App(
                "GridGov Overview (streamlit run dashboard.py)",
                ROOT / "dashboard.py",
                ROOT,
                signs_in=True,
                env={"GRIDGOV_DATA_DIR": str(gpkg.parent)},
            ),
            App(
                "peer: folium.GeoJson + GeoJsonTooltip via st_folium",
                peer_page,
                Path(folder),
                signs_in=False,
            ),
        )
        print(
            f"county {gpkg} ({expected:,} grids, as of {end}); {sessions} sessions, "
            f"{warm} warm navigations; changes: " + ", ".join(o for _, o in changes),
            flush=True,
        )
        results: list[Result] = []
        with sync_playwright() as pw:
            # Not Playwright's request routing: it turns the HTTP cache off, and a returning
            # browser has Streamlit's frontend (about 4 MB of scripts) cached. Whatever is
            # not loopback goes to a proxy that does not exist and fails; it is counted.
            dead_proxy = f"--proxy-server=http://127.0.0.1:{_free_port()}"
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, dead_proxy]
            )
            for n, app in enumerate(apps):
                log = logs / f"bench-browser-{os.getpid()}-{n}.log"
                results.append(
                    measure(
                        app,
                        browser,
                        sessions=sessions,
                        warm=warm,
                        changes=changes,
                        log=log,
                        expected=expected,
                    )
                )
            browser.close()
    ours, peer = results
    check(
        ours.grid_paths == peer.grid_paths == [expected] * len(ours.grid_paths),
        f"grid polygons drawn: ours {ours.grid_paths}, peer {peer.grid_paths}, county {expected}",
    )
    check(
        not ours.blocked and not peer.blocked,
        f"requests left 127.0.0.1: {ours.blocked[:3]} {peer.blocked[:3]}",
    )
    print(
        f"\nboth drew {expected:,} grid polygons on every navigation and after every change "
        f"({len(ours.grid_paths)} maps each)"
    )
    report(ours, peer, sessions=sessions, names=(apps[0].name, apps[1].name), quick=args.quick)


if __name__ == "__main__":
    main()

"""指挥大屏 Wall screen: full-screen and dark; tiles, 3D map and a rotating panel refresh in place.

URL options: ``?refresh=10`` (seconds between refreshes), ``?lang=en``. The refresh reruns
only the fragment below (``st.fragment(run_every=…)``): no page reload.
"""

from html import escape

import pandas as pd
import streamlit as st

from geo.core.errors import InputProblems
from geo.core.i18n import LANGUAGES
from geo.hotspots.alerts import detect_alerts
from geo.store.county import County
from geo.views.wall import (
    PANEL_COLUMNS,
    PANELS,
    REFRESH_S,
    TILES,
    WallView,
    panel_for,
    panel_rows,
    refresh_seconds,
    wall_as_of,
    wall_outlines,
    wall_view,
)
from layers.wall_map import share_legend, wall_deck
from pages.views._access import checked, run_safely
from pages.views._common import county, lang, plain, store, synthetic_banner, tr

ROWS = 9  # rows of the side panel
CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"]
  { display: none !important; }
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] { background: #060c19; }
[data-testid="stMainBlockContainer"] { max-width: 100% !important;
  padding: 1.2vh 1.4vw 0 !important; }
.stApp p, .stApp span, .stApp div { color: #e2e8f0; }
[data-stale="true"] { opacity: 1 !important; }
[data-testid="stMetric"] { background: #0d1830; border: 1px solid #1d3557; border-radius: .5vw;
  padding: .6vh 1vw; }
[data-testid="stMetricLabel"] p { font-size: clamp(20px, 1.3vw, 72px) !important; color: #93c5fd; }
[data-testid="stMetricValue"] div { font-size: clamp(64px, 4.2vw, 220px) !important;
  line-height: 1.1; color: #f8fafc; font-weight: 700; }
.wall-head { display: flex; justify-content: space-between; align-items: baseline; }
.wall-title { font-size: clamp(32px, 2.2vw, 120px); font-weight: 700; color: #f8fafc; }
.wall-status, .wall-legend { font-size: clamp(18px, 1.05vw, 56px); color: #94a3b8; }
.wall-legend { display: flex; gap: 1vw; align-items: center; }
.wall-ramp { display: inline-block; width: 10vw; height: 1.2vh; border-radius: .3vh; }
.wall-tabs span { font-size: clamp(18px, 1.1vw, 60px); padding: .3vh .8vw; margin-right: .4vw;
  border-radius: .4vw; color: #64748b; border: 1px solid #1d3557; }
.wall-tabs span.on { color: #060c19; background: #93c5fd; }
.wall-panel-head { font-size: clamp(22px, 1.45vw, 80px); font-weight: 700; margin: 1vh 0 .6vh; }
.wall-table { width: 100%; border-collapse: collapse; font-size: clamp(20px, 1.2vw, 66px); }
.wall-table th { color: #93c5fd; text-align: left; border-bottom: 2px solid #1d3557;
  padding: .4vh .4vw; white-space: nowrap; }
.wall-table td { padding: .55vh .4vw; border-bottom: 1px solid #13223c; white-space: nowrap;
  max-width: 12vw; overflow: hidden; text-overflow: ellipsis; }
/* 4K at 100 % scale: the map's box at twice its 1080p size (200 % scale is crisper). */
@media (min-width: 2880px) {
  [data-testid="stElementContainer"]:has([data-testid="stDeckGlJsonChart"]) { zoom: 2; } }
[data-testid="stPageLink"] p { font-size: clamp(14px, .75vw, 40px); }
[data-testid="stAlert"] > div { background: #2a1f05; padding: .4vh .8vw; }
[data-testid="stAlert"] p { font-size: clamp(15px, .85vw, 46px); color: #fcd34d; }
</style>"""

st.html(CSS)
if st.query_params.get("lang") in LANGUAGES:
    st.session_state["lang"] = st.query_params["lang"]
t = tr()
try:
    seconds = refresh_seconds(st.query_params.get("refresh"))
except InputProblems:
    asked = plain(str(st.query_params["refresh"])[:40])  # a visitor's text: never Markdown
    st.warning(t("wall_bad_refresh").format(value=asked, default=REFRESH_S))
    seconds = REFRESH_S


@st.cache_resource(show_spinner=False, max_entries=2)
def _alerts(key: tuple, _data: County) -> pd.DataFrame:
    return detect_alerts(_data.issues, as_of=key[-1])


@st.cache_resource(show_spinner=False, max_entries=2)
def _view(key: tuple, _data: County, _alerts: pd.DataFrame) -> WallView:
    return wall_view(_data, alerts=_alerts, as_of=key[-1])


@st.cache_resource(show_spinner=False, max_entries=4)
def _deck(key: tuple, language: str, _data: County, _view: WallView):
    return wall_deck(_view.grids, wall_outlines(_data.towns), tooltip=tr())


def _panel(panel: str, view: WallView) -> str:
    """The side panel as one HTML block (tabs, heading, table), so that it changes in one step."""
    k = {name: f"{value:,.0f}" for name, value in view.tiles.items() if name != "cleared_rate"}
    tabs = "".join(
        f'<span class="{"on" * (p == panel)}">{t("wall_panel_" + p)}</span>' for p in PANELS
    )
    rows = panel_rows(view, panel, lang=lang(), rows=ROWS)
    shown = rows.rename(columns=lambda c: t(PANEL_COLUMNS[panel][c]))
    table = shown.to_html(index=False, border=0, classes="wall-table") if len(rows) else ""
    return (
        f'<div class="wall-panel" id="wall-panel-{panel}"><div class="wall-tabs">{tabs}</div>'
        f'<div class="wall-panel-head">{t("wall_head_" + panel).format(**k)}</div>'
        f"{table or t('wall_none')}</div>"
    )


@st.fragment(run_every=seconds)
def live() -> None:
    run_safely(_live)  # a refresh that fails says so with a reference id, like a page


def _live() -> None:
    # The screen refreshes itself: each refresh checks the session (and counts as use, so
    # a command-centre wall stays signed in until the absolute expiry).
    if checked(store()) is None:
        st.rerun(scope="app")
    data = county()
    tick = st.session_state["wall_tick"] = st.session_state.get("wall_tick", -1) + 1
    loaded = data.key
    view = _view(
        (*loaded, wall_as_of(data)), data, _alerts((*loaded, wall_as_of(data, minutes=10)), data)
    )
    now = pd.Timestamp.now(tz="Asia/Shanghai")
    as_of = t("wall_demo_as_of" if data.synthetic else "wall_live_as_of")
    st.html(
        f'<div class="wall-head"><span class="wall-title">{escape(data.place_name(lang()))} · '
        f"{t('wall_title')}</span>"
        f'<span class="wall-status">{as_of} {view.as_of:%Y-%m-%d %H:%M} · {t("wall_updated")} '
        f'<b id="wall-clock">{now:%H:%M:%S}</b> · '
        f"{t('wall_every').format(s=f'{seconds:g}', n=tick)}</span></div>"
    )
    for col, (key, label) in zip(st.columns(len(TILES)), TILES.items(), strict=True):
        value = view.tiles[key]
        text = (
            "—" if pd.isna(value) else f"{value:.1%}" if key.endswith("_rate") else f"{value:,.0f}"
        )
        col.metric(t(label), text)
    left, right = st.columns([11, 9], gap="medium")
    with left:
        st.pydeck_chart(_deck((*loaded, view.as_of), lang(), data, view), height=660)
        st.html(share_legend(t, max_open=int(view.grids["open"].max())))
    right.html(_panel(panel_for(tick), view))


live()
synthetic_banner(county())
st.page_link("pages/views/overview.py", label=t("wall_exit"), icon=":material/logout:")

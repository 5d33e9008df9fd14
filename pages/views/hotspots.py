"""热点研判 Hotspots: which grids in my town are hot, for what, since when; the warnings."""

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.grids.aggregate import IssueFilter
from geo.hotspots.alerts import detect_alerts
from geo.hotspots.emerging import EmergingHotSpots
from geo.hotspots.local import GridWeights, grid_weights
from geo.store.county import County
from geo.views.hotspots import (
    alert_table,
    county_hotspots,
    emerging_for,
    grid_reason,
    ranked_table,
    scope_alerts,
    scope_view,
    weekly_series,
)
from geo.views.overview import grid_detail
from layers.charts import weekly_bars
from pages.views._common import category_mix, county, lang, plain, synthetic_banner, tr
from pages.views._hot_map import KINDS, hot_map
from pages.views._hot_settings import analysis_settings
from pages.views._personal import unmask_panel
from pages.views._sidebar import sidebar_filters
from pages.views._tables import show_table

t = tr()
data = county()
flt = sidebar_filters(data)
synthetic_banner(data)
key = data.key


if data.issues.empty:  # a county just onboarded: nothing to analyse yet
    st.title(t("page_hotspots"))
    st.info(t("no_tickets_yet"))
    st.stop()


@st.cache_resource(show_spinner=False, max_entries=4)
def _weights(key: tuple[str, ...], near: str, _data: County) -> GridWeights:
    if near == "knn10":
        return grid_weights(_data.grids, method="knn", k=10)
    return grid_weights(_data.grids, method="rook" if near == "rook" else "queen")


@st.cache_resource(show_spinner=False, max_entries=16)
def _emerging(
    key: tuple, cats: tuple, sources: tuple, end, _data: County, _w: GridWeights
) -> EmergingHotSpots:
    flt = IssueFilter(end=end, categories=cats, sources=sources)
    freq, time_step, window = key[-3:]  # the settings are the last parts of the key
    return emerging_for(_data, flt, _w, freq=freq, time_step=time_step, global_window=window)


@st.cache_resource(show_spinner=False, max_entries=32)  # county-wide: every town shares it
def _table(
    key: tuple, flt: IssueFilter, _data: County, _w: GridWeights, _e: EmergingHotSpots
) -> gpd.GeoDataFrame:
    value, inference = key[-2:]  # the settings are the last parts of the key
    return county_hotspots(_data, flt, weights=_w, emerging=_e, value=value, inference=inference)


@st.cache_data(show_spinner=False, max_entries=2)
def _alerts(key: tuple[str, ...], _data: County) -> pd.DataFrame:
    return detect_alerts(_data.issues, as_of=_data.as_of)


settings = analysis_settings()
bins, near = settings.bins, settings.near
weights = _weights(key, near, data)
try:
    emerging_key = (*key, near, bins, settings.time_step, settings.window)
    emerging = _emerging(emerging_key, flt.categories, flt.sources, flt.end, data, weights)
except ValueError:  # too short a history for trends over time (a county that just started)
    st.title(t("page_hotspots"))
    st.info(t("history_too_short"))
    st.stop()
window = IssueFilter(flt.start, flt.end, flt.categories, flt.sources)
table_key = (*emerging_key, settings.value, settings.inference)
view = scope_view(_table(table_key, window, data, weights, emerging), flt)
names = dict(zip(view.grids.grid_code, view.grids.grid_name.astype(str), strict=True))
scope = (
    plain(str(view.grids.town_name.iloc[0]))
    if flt.town_code and len(view.grids)
    else t("scope_county")
)
st.title(f"{t('page_hotspots')} · {scope}")

kind = st.radio(
    t("map_kind"), KINDS, horizontal=True, key="hot_map_kind", format_func=lambda k: t(f"map_{k}")
)
left, right = st.columns([3, 2])
with left:
    hot_map(kind, view, data, flt, key)

with right:
    st.subheader(t("hot_grids"))
    if view.ranked.empty:
        st.info(t("no_hot_grids"))
    else:
        show_table(ranked_table(view, lang()), height=240)
    if "_hot_grid_request" in st.session_state:  # a warning was picked below
        st.session_state["hot_grid"] = st.session_state.pop("_hot_grid_request")
    alerts = scope_alerts(_alerts(key, data), flt)
    picked = st.session_state.get("hot_grid", "")
    choices = list(dict.fromkeys([*view.ranked.grid_code, *alerts.grid_code, picked]))
    shown_grids = set(view.grids.grid_code)
    choices = [c for c in choices if c in shown_grids]
    if choices:
        grid = st.selectbox(
            t("pick_grid"), choices, key="hot_grid", format_func=lambda c: f"{names[c]} ({c})"
        )
        st.write(plain(grid_reason(view, grid, lang())))
        st.caption(t("trend_26w"))
        weekly = weekly_series(data, grid, flt)
        chart = weekly_bars(weekly, week_label=t("week_of"), count_label=t("count"))
        st.altair_chart(chart, width="stretch")
        attrs, latest, mix = grid_detail(data, grid, flt)
        st.caption(f"{t('grid_worker')} {plain(str(attrs['grid_worker']))} · {t('category_mix')}")
        category_mix(mix, height=150)
        st.caption(t("recent_issues"))
        show_table(latest, height=200)
        unmask_panel(latest["ticket_id"].astype(str).tolist(), "hot_unmask")

st.subheader(t("warnings"))
if alerts.empty:
    st.info(t("no_warnings"))
else:
    chosen = show_table(
        alert_table(alerts, lang(), grid_names=names),
        key="alert_table",
        on_select="rerun",
        selection_mode="single-row",
    )
    rows = chosen.selection.rows  # picking a warning opens its grid above
    if rows and alerts.grid_code.iloc[rows[0]] != st.session_state.get("hot_grid"):
        st.session_state["_hot_grid_request"] = alerts.grid_code.iloc[rows[0]]
        st.rerun()
with st.expander(t("explain_title")):
    st.markdown(t("explain_text"))

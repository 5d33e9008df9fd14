"""一图观全域 Overview: KPIs, the issue choropleth with drill-down, grid details."""

import math

import streamlit as st
from streamlit_folium import st_folium

from geo.core.settings import get_settings
from geo.grids.aggregate import IssueFilter
from geo.store.county import County
from geo.views.overview import Overview, grid_detail, overview, unassigned_table
from layers.overview_map import overview_map
from pages.views._common import (
    category_mix,
    county,
    kpi_help,
    lang,
    plain,
    synthetic_banner,
    tr,
)
from pages.views._personal import unmask_panel
from pages.views._sidebar import request_scope, sidebar_filters
from pages.views._tables import show_table

t = tr()
data = county()
flt = sidebar_filters(data)
synthetic_banner(data)


@st.cache_data(show_spinner=False, max_entries=64)
def _overview(key: tuple[str, ...], flt: IssueFilter, _data: County) -> Overview:
    return overview(_data, flt)


def _map(view: Overview, metric: str):
    # A folium Map renders once: build a fresh one each run (its parts are cached in layers/).
    cfg = get_settings()
    return overview_map(
        view,
        metric=metric,
        tr=t,
        tile_url=cfg.tile_url or None,
        tile_attribution=cfg.tile_attribution or None,
    )


def _share(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.1%}"


key = data.key
view = _overview(key, flt, data)
scope = plain(str(view.towns.town_name.iloc[0])) if flt.town_code else t("scope_county")
st.title(f"{plain(data.name(lang()))} · {scope}")
if data.population_approximate:
    st.caption(t("population_approximate"))

k = view.kpis
cols = st.columns(7)
tiles = (
    ("issues", "kpi_issues", f"{k['issues']:,.0f}"),
    ("open", "kpi_open", f"{k['open']:,.0f}"),
    ("overdue", "kpi_overdue", f"{k['overdue']:,.0f}"),
    ("resolution_rate", "kpi_resolution", _share(k["resolution_rate"])),
    ("on_time_rate", "kpi_on_time", _share(k["on_time_rate"])),
)
for col, (name, label, value) in zip(cols, tiles, strict=False):
    col.metric(t(label), value, help=kpi_help(name, flt, data.as_of))
cols[5].metric(t("kpi_grids"), f"{k['grids']:,.0f}")
cols[6].metric(t("kpi_residents"), f"{k['residents']:,.0f}")

metric = st.radio(
    t("metric"),
    ["count", "rate_per_1000"],
    horizontal=True,
    key="metric",
    format_func=lambda m: t("metric_count" if m == "count" else "metric_rate"),
)
left, right = st.columns([3, 2])
with left:
    if flt.town_code and data.scope.whole_county and st.button(t("back_to_county")):
        request_scope(None)
    st.caption(t("click_hint_town" if flt.town_code else "click_hint"))
    clicked = st_folium(
        _map(view, metric),
        key="overview_map",
        height=620,
        use_container_width=True,
        returned_objects=["last_active_drawing", "last_object_clicked"],
    )
props = ((clicked or {}).get("last_active_drawing") or {}).get("properties") or {}
click = str((clicked or {}).get("last_object_clicked"))
new_click = click != st.session_state.get("_handled_click")
st.session_state["_handled_click"] = click
if new_click and props.get("grid_code"):
    st.session_state["overview_grid"] = props["grid_code"]  # kept across the drill-down
    town_of = data.grids.set_index("grid_code")["town_code"]
    if not flt.town_code and props["grid_code"] in town_of.index:
        request_scope(str(town_of[props["grid_code"]]))  # county-wide: into the grid's town
picked = st.session_state.get("overview_grid")
props = {"grid_code": picked} if picked in set(view.grids.grid_code) else {}

with right:
    columns = ["grid_code", "grid_name", "grid_worker", "households", "count", "rate_per_1000"]
    if props.get("grid_code"):
        attrs, latest, mix = grid_detail(data, props["grid_code"], flt)
        st.subheader(f"{t('grid_details')} · {plain(str(attrs['grid_name']))}")
        st.write(
            f"{t('grid_code')} {plain(str(attrs['grid_code']))} · {t('grid_worker')} "
            f"{plain(str(attrs['grid_worker']))} · {t('households')} {attrs['households']} · "
            f"{t('residents')} {attrs['residents']}"
        )
        if not flt.town_code and st.button(f"{t('drill_to')} {plain(str(attrs['town_name']))}"):
            request_scope(attrs["town_code"])
        if (
            flt.town_code
            and not flt.village_code
            and st.button(f"{t('drill_to')} {plain(str(attrs['village_name']))}")
        ):
            request_scope(attrs["town_code"], attrs["village_code"])
        st.caption(t("category_mix"))
        category_mix(mix, height=180)
        st.caption(t("recent_issues"))
        show_table(latest, height=260)
        unmask_panel(latest["ticket_id"].astype(str).tolist(), "ov_unmask")
    else:
        st.subheader(t("top_grids"))
        top = view.grids.sort_values(metric, ascending=False).head(15)[columns]
        show_table(top, height=560)

if len(view.unassigned):
    with st.expander(f"{t('unassigned')}: {len(view.unassigned):,}"):
        st.caption(t("unassigned_note"))
        show_table(unassigned_table(view, lang()))

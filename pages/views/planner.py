"""网格规划 Grid planner: edit a village's grids on the map, check them, publish a new version.

One screen holds the map with its drawing tools, the edits, the metrics, the check, the diff,
rebalancing, files and publishing: this file picks the village (or town), loads it and draws
the map; the panels and tabs are render functions in pages/views/_planner_panels.py and
_planner_tabs.py (their shared state in _planner_state.py). What they compute comes from
geo.views.planner, geo.planning.draw and geo.planning.edit.
"""

from typing import Any

import streamlit as st
from streamlit_folium import st_folium

from geo.core.settings import get_settings
from geo.planning.versions import VersionedGrids
from geo.store.county import County
from geo.views import planner as pv
from layers.planner_map import DRAW_TEXT_PATHS, planner_map
from pages.views import _planner_panels as panels
from pages.views import _planner_state as state
from pages.views import _planner_tabs as tabs
from pages.views._common import county, plain, synthetic_banner, tr

t = tr()
data = county()
synthetic_banner(data)
cfg = get_settings()
ss = st.session_state


@st.cache_resource(show_spinner=False)
def _versions(location: str, _data: County) -> VersionedGrids:
    return VersionedGrids(_data.store)  # type: ignore[arg-type]


@st.cache_resource(show_spinner=False, max_entries=4)
def _scope(key: tuple[str, ...], _data: County) -> pv.PlanScope:
    store = _data.store
    return pv.load_scope(store, key[-1], villages=_data.villages, issues=_data.issues)  # type: ignore[arg-type]


towns = data.towns.sort_values("town_code").set_index("town_code")["town_name"]
# The place is the address's (a reload keeps it), else the sidebar's town on other pages.
KEPT: dict[str, Any] = {"persist_state": "session", "bind": "query-params"}
asked = {k: ss.get(k, st.query_params.get(k)) for k in ("plan_town", "plan_village")}
if asked["plan_town"] not in towns.index and ss.get("town") in towns.index:
    ss["plan_town"] = ss["town"]
c1, c2, c3 = st.columns([2, 3, 2])
town = str(
    c1.selectbox(
        t("town"),
        list(towns.index),
        key="plan_town",
        format_func=lambda c: str(towns.get(c, c)),
        **KEPT,
    )
)
vs = data.villages[data.villages.town_code == town].sort_values("village_code")
names = dict(zip(vs.village_code, vs.village_name, strict=True))
if asked["plan_village"] not in names:
    ss["plan_village"] = next(iter(names))
village = str(
    c2.selectbox(
        t("village"), list(names), key="plan_village", format_func=lambda c: names.get(c, c), **KEPT
    )
)
whole_town = c3.toggle(t("plan_whole_town"), key="plan_whole_town", help=t("plan_whole_town_help"))
code = town if whole_town else village
vg = _versions(data.store_location, data)
scope = _scope((*data.key, code), data)
benches: dict[str, pv.Workbench] = ss.setdefault("plan_benches", {})  # unsaved work per scope
if code not in benches:
    benches[code] = pv.Workbench.open(vg, code, scope.of(data.grids))
plan = state.Planner(
    data, vg, scope, benches[code], names, whole_town, ss.setdefault("plan_proposals", {})
)
place = plain(str(towns[town])) + ("" if whole_town else " · " + plain(str(names[village])))
st.title(f"{t('page_planner')} · {place}")

state.flash()
panels.kpis(plan)
left, right = st.columns([3, 2])
with left:
    shown = pv.map_layer(plan.bench.grids, plan.report, plan.metrics)
    proposal = plan.proposals.get(code)
    m = planner_map(
        shown.grids,
        state=shown.state,
        labels=shown.labels,
        tooltip_fields={f: state.head(f) for f in pv.MAP_FIELDS},
        legend_title=t("plan_legend"),
        state_labels=[t(f"plan_state_{i}") for i in range(3)],
        villages=scope.villages,
        proposal=proposal.grids if proposal is not None else None,
        draw_texts={k: t(f"plan_draw.{k}") for k in DRAW_TEXT_PATHS},
        tile_url=cfg.tile_url or None,
        tile_attribution=cfg.tile_attribution or None,
    )
    out = st_folium(
        m, key="plan_map", height=600, use_container_width=True, returned_objects=["all_drawings"]
    )
    ss["plan_drawings"] = (out or {}).get("all_drawings") or []
    st.caption(t("plan_draw_hint"))
with right:
    panels.edit_panel(plan)
    panels.save_panel(plan)
tabs.tabs(plan)

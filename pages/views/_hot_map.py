"""The 热点研判 page's map: Gi* classes, patterns over time, the scan statistic's clusters or
the raw event density; a click on a grid picks it."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo.core.settings import get_settings
from geo.grids.aggregate import IssueFilter
from geo.hotspots.scan import ScanResult
from geo.store.county import County
from geo.views.hotspots import HotspotView, class_labels, event_points
from geo.views.scan_view import SCAN_COLORS, county_scan, scan_classes, scan_labels, scan_table
from layers.hotspot_map import CLASS_COLORS, EMERGING_COLORS, event_density, hotspot_map
from pages.views._common import lang, tr
from pages.views._tables import show_table

KINDS = ("classes", "emerging", "scan", "density")


@st.cache_resource(show_spinner=False, max_entries=16)
def _scan(key: tuple, flt: IssueFilter, _data: County) -> ScanResult:
    return county_scan(_data, flt)


def hot_map(kind: str, view: HotspotView, data: County, flt: IssueFilter, key: tuple) -> None:
    """Draw the map of ``kind`` (one of :data:`KINDS`) for ``view``, the picked grid (the
    hottest until one is picked: the grid the page describes) outlined."""
    t = tr()
    if kind == "density":
        st.pydeck_chart(event_density(event_points(data, flt), tooltip=t), height=620)
        return
    grids = view.grids
    if kind == "scan":
        window = IssueFilter(flt.start, flt.end, flt.categories, flt.sources)
        found = _scan(key, window, data)
        grids = grids.assign(scan_class=scan_classes(found, grids["grid_code"]).to_numpy())
        column, colors, labels = "scan_class", SCAN_COLORS, scan_labels(found, lang())
    elif kind == "classes":
        column, colors = "hotspot_class", CLASS_COLORS
        labels = class_labels(column, lang())
    else:
        column, colors = "emerging_category", EMERGING_COLORS
        labels = class_labels(column, lang())
    tips = {f: t(f) for f in ["grid_code", "grid_name", "grid_worker", "count", "expected"]}
    cfg = get_settings()
    focus = (
        grids.grid_code[grids.scan_class != "none"].tolist()
        if kind == "scan"
        else view.ranked.grid_code.tolist()
    )
    m = hotspot_map(
        grids,
        data.villages[data.villages.village_code.isin(grids.village_code)],
        column=column,
        labels=labels,
        colors={c: colors[c] for c in colors if c in labels},
        tooltip_fields=tips,
        legend_title=t("map_scan" if kind == "scan" else column),
        tile_url=cfg.tile_url or None,
        tile_attribution=cfg.tile_attribution or None,
        focus=focus if flt.town_code or kind == "scan" else (),
        selected=st.session_state.get("hot_grid") or next(iter(view.ranked.grid_code), None),
    )
    clicked = st_folium(
        m, key=f"hot_{kind}", height=620, use_container_width=True,
        returned_objects=["last_active_drawing"],
    )  # fmt: skip
    props = ((clicked or {}).get("last_active_drawing") or {}).get("properties") or {}
    if props.get("grid_code"):
        st.session_state["hot_grid"] = props["grid_code"]
    if kind == "scan":
        st.caption(t("scan_note"))
        names = dict(zip(data.grids.grid_code.astype(str), data.grids.grid_name.astype(str),
                         strict=True))  # fmt: skip
        show_table(scan_table(found, names, lang()), empty=t("no_scan_clusters"))

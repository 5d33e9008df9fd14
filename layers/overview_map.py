"""The Overview map: issues per grid as a choropleth, with village and town outlines."""

from __future__ import annotations

from collections.abc import Callable

import folium

from geo.views.overview import Overview
from layers.choropleth import OutlineSpec, grid_choropleth
from layers.offline import base_map, display_bounds


def overview_map(
    view: Overview,
    *,
    metric: str,
    tr: Callable[[str], str],
    tile_url: str | None = None,
    tile_attribution: str | None = None,
) -> folium.Map:
    """Build the offline folium map of ``view`` coloured by ``metric``.

    Parameters
    ----------
    view
        From :func:`geo.views.overview.overview` (grids in EPSG:4549).
    metric
        ``count`` or ``rate_per_1000``.
    tr
        Translator for labels (Chinese or English).
    tile_url, tile_attribution
        Optional intranet basemap; none by default.
    """
    m = base_map(
        bounds_wgs84=display_bounds(view.grids),
        tile_url=tile_url,
        tile_attribution=tile_attribution,
    )
    fields = [
        "grid_code",
        "grid_name",
        "town_name",
        "village_name",
        "grid_worker",
        "households",
        "count",
        "open",
        "rate_per_1000",
    ]
    # Town outlines take no clicks: a click anywhere in a town lands on a grid, which the
    # page turns into the drill-down (an outline over the grids would catch the click).
    towns = OutlineSpec(
        frame=view.towns[["town_code", "geometry"]],
        name="towns",
        color="#1f2d3d",
        weight_px=3.0,
        opacity=0.9,
    )
    grid_choropleth(
        m,
        view.grids[[*fields, "geometry"]],
        value_column=metric,
        tooltip_fields={f: tr(f) for f in fields},
        legend_title=tr("metric_count" if metric == "count" else "metric_rate"),
        outlines=[OutlineSpec.villages(view.villages[["village_code", "geometry"]]), towns],
        no_data_label=tr("no_data"),
    )
    return m

"""Hot-spot maps: Gi* classes or emerging categories per grid, and a pydeck event density."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import folium
import geopandas as gpd
import pandas as pd
import pydeck as pdk
import shapely

from layers.choropleth import OutlineSpec, grid_choropleth
from layers.classify import categorical_breaks
from layers.offline import base_map, display_bounds, static_url

#: Colours of the Gi* classes (ColorBrewer RdBu, hot red, cold blue).
CLASS_COLORS: dict[str, str] = {
    "hot_99": "#b2182b",
    "hot_95": "#ef8a62",
    "hot_90": "#fddbc7",
    "not_significant": "#f0f0f0",
    "cold_90": "#d1e5f0",
    "cold_95": "#67a9cf",
    "cold_99": "#2166ac",
}
#: Colours of the emerging categories (reds/purples for hot patterns, blues for cold).
EMERGING_COLORS: dict[str, str] = {
    "new_hot": "#fdae61",
    "consecutive_hot": "#f46d43",
    "intensifying_hot": "#a50026",
    "persistent_hot": "#d73027",
    "diminishing_hot": "#f4a582",
    "sporadic_hot": "#fee090",
    "oscillating_hot": "#c2a5cf",
    "historical_hot": "#9970ab",
    "new_cold": "#abd9e9",
    "consecutive_cold": "#74add1",
    "intensifying_cold": "#313695",
    "persistent_cold": "#4575b4",
    "diminishing_cold": "#92c5de",
    "sporadic_cold": "#e0f3f8",
    "oscillating_cold": "#80cdc1",
    "historical_cold": "#35978f",
    "no_pattern": "#f0f0f0",
}


def hotspot_map(
    grids: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    *,
    column: str,
    labels: dict[str, str],
    colors: dict[str, str],
    tooltip_fields: dict[str, str],
    legend_title: str,
    tile_url: str | None = None,
    tile_attribution: str | None = None,
    focus: Sequence[str] = (),
    selected: str | None = None,
) -> folium.Map:
    """A categorical grid map of ``column`` (e.g. ``hotspot_class`` or ``emerging_category``),
    fitted to the ``focus`` grids (e.g. the hot ones) and with the ``selected`` grid drawn
    with a thick outline.

    Parameters
    ----------
    grids
        Grids (EPSG:4549) with ``column`` and the tooltip columns.
    villages
        Village outlines drawn over the grids.
    column
        Categorical column; its values are keys of ``colors``.
    labels
        Category → legend label (already translated).
    colors
        Category → colour, in legend order; only categories present are listed.
    tooltip_fields
        Column → label for the tooltip.
    legend_title
        Legend heading.
    focus
        Codes of the grids the map opens on (with a margin of half their extent, at least
        600 m); all grids when empty or none is among them.
    selected
        Code of the grid picked on the page, outlined.
    """
    present = set(grids[column].astype(str))
    order: Sequence[str] = [c for c in colors if c in present]
    code = {c: i for i, c in enumerate(order)}
    shown = grids.assign(_class=grids[column].astype(str).map(code).astype(float))
    shown["_label"] = grids[column].astype(str).map(labels)
    wanted = grids[grids["grid_code"].astype(str).isin([str(c) for c in focus])]
    m = base_map(
        bounds_wgs84=display_bounds(_padded(wanted) if len(wanted) else grids),
        tile_url=tile_url,
        tile_attribution=tile_attribution,
    )
    fields = {"_label": legend_title, **tooltip_fields}
    grid_choropleth(
        m,
        shown[[*dict.fromkeys(["grid_code", "_class", *fields]), "geometry"]],
        value_column="_class",
        tooltip_fields=fields,
        legend_title=legend_title,
        outlines=[OutlineSpec.villages(villages[["village_code", "geometry"]])],
        breaks=categorical_breaks([(labels[c], colors[c]) for c in order]),
    )
    picked = grids[grids["grid_code"].astype(str) == str(selected)] if selected else grids[:0]
    if len(picked):
        outline = gpd.GeoDataFrame(geometry=picked.geometry.boundary, crs=picked.crs)
        folium.GeoJson(
            outline.to_crs(4326).__geo_interface__,
            name="selected",
            style_function=lambda _: {"color": "#111827", "weight": 4, "opacity": 1},
            interactive=False,
        ).add_to(m)
    return m


def _padded(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A rectangle around ``frame`` (a metric CRS) with a margin of half its extent, at
    least 600 m, so a few small grids open large enough to read, with their surroundings."""
    west, south, east, north = frame.total_bounds
    margin = max(0.5 * max(east - west, north - south), 600.0)
    box = shapely.box(west - margin, south - margin, east + margin, north + margin)
    return gpd.GeoDataFrame(geometry=[box], crs=frame.crs)


def event_density(
    points: pd.DataFrame, *, tooltip: Callable[[str], str], radius_m: float = 400.0
) -> pdk.Deck:
    """A pydeck hexagon density of events (``lon``, ``lat`` in WGS84), with no basemap.

    Offline: deck.gl ships inside Streamlit, and the map style is a local blank style (without
    one, Streamlit would fetch its default basemap style from the internet).
    """
    lon = float(points["lon"].mean()) if len(points) else 120.25
    lat = float(points["lat"].mean()) if len(points) else 33.78
    layer = pdk.Layer(
        "HexagonLayer",
        data=points[["lon", "lat"]],
        get_position=["lon", "lat"],
        radius=radius_m,
        elevation_scale=8,
        elevation_range=[0, 1500],
        extruded=True,
        coverage=0.9,
        pickable=True,
    )
    return pdk.Deck(
        layers=[layer],
        initial_view_state=pdk.ViewState(latitude=lat, longitude=lon, zoom=9, pitch=45),
        map_style=static_url("gridgov/blank-style.json"),  # a local style: no tiles, no CDN
        map_provider=None,
        tooltip={"text": tooltip("hex_tooltip")},
    )

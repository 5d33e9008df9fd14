"""The 15-minute circle map: coverage per grid, service points, their circles, gaps, proposals."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo.views.safety import html_text
from layers.choropleth import OutlineSpec, grid_choropleth
from layers.classify import categorical_breaks
from layers.offline import base_map, display_bounds, wgs84_geometry

#: Coverage classes (upper bounds, exclusive) and colours, red (poorly covered) to green.
COVERAGE_EDGES: tuple[float, ...] = (0.5, 0.7, 0.85, 0.95)
COVERAGE_COLORS: tuple[str, ...] = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")
COVERAGE_LABELS: tuple[str, ...] = ("< 50%", "50–70%", "70–85%", "85–95%", "≥ 95%")


def coverage_class(share: np.ndarray) -> np.ndarray:
    """Class index 0–4 of each coverage share (NaN stays NaN: a grid with no residents)."""
    share = np.asarray(share, dtype=float)
    out = np.digitize(share, COVERAGE_EDGES).astype(float)
    out[np.isnan(share)] = np.nan
    return out


def service_map(
    grids: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    tooltip_fields: Mapping[str, str],
    legend_title: str,
    no_data_label: str,
    circle_radius_m: float | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    proposals: gpd.GeoDataFrame | None = None,
    proposal_label: str,
    gap_label: str,
    type_label: Callable[[str], str] = str,
    tile_url: str | None = None,
    tile_attribution: str | None = None,
) -> folium.Map:
    """Grids coloured by ``coverage`` (share 0–1) with service points and extras on top.

    Parameters
    ----------
    grids
        Grids (EPSG:4549) with a ``coverage`` column (share 0–1; the tooltip shows it in %)
        and the tooltip columns.
    villages
        Village outlines drawn over the grids.
    services
        Service points (EPSG:4549) with ``name`` and ``service_type``; drawn as dots.
    tooltip_fields
        Column → label for the grid tooltip (already translated).
    legend_title, no_data_label
        Legend heading and the label of grids without residents.
    circle_radius_m
        Straight-line circle radius drawn around every service (the detour already applied);
        ``None`` draws none (the road-network engine has no circles).
    gaps
        Polygons of uncovered residents (EPSG:4549) with ``uncovered_residents``, hatched red.
    proposals
        Proposed new sites (EPSG:4549 points) with ``rank``, drawn as numbered red markers.
    proposal_label, gap_label
        Tooltip words for a proposal and for a gap's residents (already translated).
    type_label
        The words of a ``service_type`` value in a service point's tooltip (a translator;
        default: the value itself).
    """
    m = base_map(
        bounds_wgs84=display_bounds(grids),
        tile_url=tile_url,
        tile_attribution=tile_attribution,
    )
    share = grids["coverage"].to_numpy(dtype=float)
    # Tooltips show the share as a percentage (0.0411 reads as 4.1).
    shown = grids.assign(_class=coverage_class(share), coverage=(share * 100).round(1))
    grid_choropleth(
        m,
        shown[[*dict.fromkeys(["grid_code", "_class", *tooltip_fields]), "geometry"]],
        value_column="_class",
        tooltip_fields=tooltip_fields,
        legend_title=legend_title,
        no_data_label=no_data_label,
        outlines=[OutlineSpec.villages(villages[["village_code", "geometry"]])],
        breaks=categorical_breaks(list(zip(COVERAGE_LABELS, COVERAGE_COLORS, strict=True))),
    )
    if gaps is not None and len(gaps):
        _gap_layer(gaps, gap_label).add_to(m)
    _service_layer(services, circle_radius_m, type_label).add_to(m)
    if proposals is not None and len(proposals):
        _proposal_layer(proposals, proposal_label).add_to(m)
    return m


def _service_layer(
    services: gpd.GeoDataFrame, radius_m: float | None, type_label: Callable[[str], str]
) -> folium.FeatureGroup:
    """Service points as one GeoJSON layer (one element, not one per point: folium renders each
    element through a template, which costs ~3 ms a point), with their circles under them."""
    group = folium.FeatureGroup(name="services")
    kinds = services["service_type"].astype(str)
    words = kinds.map({kind: type_label(kind) for kind in kinds.unique()})
    shown = gpd.GeoDataFrame(
        # folium's GeoJsonTooltip inserts the text as HTML: escape what came from data.
        {"label": [html_text(v) for v in (words + " · " + services["name"].astype(str))]},
        geometry=shapely.set_precision(wgs84_geometry(services), 1e-6),
        crs="EPSG:4326",
    )
    data = shown.to_json()
    if radius_m:
        circle = folium.Circle(radius=radius_m, color="#2b83ba", weight=1, fill_opacity=0.06)
        folium.GeoJson(data, marker=circle, interactive=False).add_to(group)
    dot = folium.CircleMarker(
        radius=4, color="#08306b", weight=1, fill=True, fill_color="#2b83ba", fill_opacity=1.0
    )
    folium.GeoJson(
        data, marker=dot, tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False)
    ).add_to(group)
    return group


def _lonlat(frame: gpd.GeoDataFrame) -> np.ndarray:
    """WGS84 lon/lat pairs of point rows (cached reprojection, see layers.offline)."""
    geometry = wgs84_geometry(frame)
    return np.column_stack([shapely.get_x(geometry), shapely.get_y(geometry)]).round(6)


def _gap_layer(gaps: gpd.GeoDataFrame, label: str) -> folium.GeoJson:
    # Outlines of merged lattice squares: simplified to 10 m and rounded to ~1 m for the browser.
    simple = gaps.assign(geometry=shapely.simplify(gaps.geometry.to_numpy(), 10.0))
    shown = gpd.GeoDataFrame(
        {"residents": gaps["uncovered_residents"].astype(int).to_numpy()},
        geometry=shapely.set_precision(wgs84_geometry(simple), 1e-5),
        crs="EPSG:4326",
    )
    return folium.GeoJson(
        shown.to_json(),
        name="gaps",
        style_function=lambda _f: {
            "color": "#7f2704",
            "weight": 1.5,
            "dashArray": "4 3",
            "fillColor": "#7f2704",
            "fillOpacity": 0.08,
        },
        tooltip=folium.GeoJsonTooltip(fields=["residents"], aliases=[label]),
    )


def _proposal_layer(proposals: gpd.GeoDataFrame, label: str) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name="proposals")
    ranks: Sequence[int] = proposals["rank"].astype(int).tolist()
    for (lon, lat), rank in zip(_lonlat(proposals), ranks, strict=True):
        folium.CircleMarker(
            (lat, lon),
            radius=8,
            color="#67000d",
            weight=2,
            fill=True,
            fill_color="#ef3b2c",
            fill_opacity=0.9,
            tooltip=f"{label} #{rank}",
        ).add_to(group)
    return group

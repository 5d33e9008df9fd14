"""The wall screen's 3D county map: a pydeck column per grid over town outlines, no basemap.

Offline by construction: deck.gl ships inside Streamlit's frontend, and the deck has no map
provider and pydeck's own "no style" marker (``__MAP_STYLE__``), which Streamlit's frontend
reads as "no basemap". ``map_style=None`` or ``""`` would NOT do: Streamlit then fetches a
CARTO basemap style from ``basemaps.cartocdn.com`` (streamlit 1.67, DeckGlJsonChart).
:func:`external_urls` lists any URL a deck spec would load, for tests.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import pydeck as pdk
import shapely

from geo.views.safety import html_text
from layers.offline import wgs84_geometry

#: Column colour by overdue share (overdue / open): stops at 0, ½ and 1 (RGB).
SHARE_STOPS: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.0, (45, 212, 191)),  # teal: nothing overdue
    (0.5, (250, 204, 21)),  # amber
    (1.0, (239, 68, 68)),  # red: everything open is overdue
)
#: Fonts for the town names, CJK first (the wall's browser has WenQuanYi Micro Hei).
CJK_FONTS = "WenQuanYi Micro Hei, Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
#: Width (CSS px) and colour of the outlines: the county light blue, the towns slate.
_LINES: dict[str, dict[str, object]] = {
    "county": {"w": 3.0, "c": [147, 197, 253, 255]},
    "town": {"w": 1.2, "c": [100, 116, 139, 255]},
}
_TILE_PX = 512  # deck.gl's world is 512 px wide at zoom 0


def share_colors(share: Sequence[float] | np.ndarray) -> np.ndarray:
    """RGB (uint8, n × 3) of overdue shares in [0, 1] along :data:`SHARE_STOPS`."""
    values = np.clip(np.nan_to_num(np.asarray(share, dtype=float)), 0.0, 1.0)
    xs = [s for s, _ in SHARE_STOPS]
    rgb = [np.interp(values, xs, [c[k] for _, c in SHARE_STOPS]) for k in range(3)]
    return np.rint(np.column_stack(rgb)).astype(np.uint8)


def wall_deck(
    grids: gpd.GeoDataFrame,
    outlines: gpd.GeoDataFrame,
    *,
    tooltip: Callable[[str], str],
    max_height_m: float = 9000.0,
    radius_m: float = 260.0,
    view_px: tuple[int, int] = (1000, 640),
    pitch: float = 50.0,
    bearing: float = -12.0,
    label_px: float = 20.0,
) -> pdk.Deck:
    """A dark 3D map: one column per grid with open tickets, over county and town outlines.

    Parameters
    ----------
    grids
        :attr:`geo.views.wall.WallView.grids`: points (any CRS) with ``grid_name``, ``town_name``,
        ``open``, ``overdue`` and ``overdue_share``. Column height is proportional to
        ``open`` (the busiest grid is ``max_height_m`` metres tall); colour follows
        ``overdue_share`` (:data:`SHARE_STOPS`). Grids with nothing open get no column.
    outlines
        :func:`geo.views.wall.wall_outlines`: ``county`` and ``town`` boundaries and ``label``
        points with the town names.
    tooltip
        Translator for the tooltip's words (keys ``open`` and ``kpi_overdue``).
    radius_m
        Column radius in metres.
    view_px
        Width and height (CSS px) the county should fit in at the start.
    pitch, bearing
        Camera tilt and turn in degrees.
    label_px
        Size of the town names in CSS pixels.

    Returns
    -------
    pydeck.Deck
        No basemap and no map provider; nothing to fetch.
    """
    _check(grids, outlines, max_height_m=max_height_m, radius_m=radius_m)
    kinds = outlines["kind"].to_numpy()
    shapes = wgs84_geometry(outlines)
    labels = [
        {"p": _lonlat(g), "t": str(name)}
        for g, kind, name in zip(shapes, kinds, outlines["name"], strict=True)
        if kind == "label"
    ]
    # The glyphs the labels need (a double quote cannot travel in deck.gl's literal text: a
    # name holding one is drawn without it).
    characters = "".join(sorted({c for label in labels for c in str(label["t"])} - {'"'}))
    layers = [
        pdk.Layer(
            "PathLayer",
            id="outlines",
            data=_outline_paths(shapes, kinds),
            get_path="path",
            get_width="w",
            get_color="c",
            width_units=_literal("pixels"),
        ),
        pdk.Layer(
            "ColumnLayer",
            id="grid-columns",
            data=_columns(grids, max_height_m),
            get_position="p",
            get_elevation="h",
            get_fill_color="c",
            radius=radius_m,
            disk_resolution=12,
            extruded=True,
            pickable=True,
            auto_highlight=True,
        ),
        pdk.Layer(
            "TextLayer",
            id="town-names",
            data=labels,
            get_position="p",
            get_text="t",
            get_size=label_px,
            get_color=[226, 232, 240, 230],
            font_family=_literal(CJK_FONTS),
            character_set=_literal(characters),  # the atlas holds only these glyphs
            font_settings={"sdf": True},
            outline_width=3,
            outline_color=[6, 12, 25, 255],
            parameters={"depthCompare": "always", "depthWriteEnabled": False},  # on top
        ),
    ]
    words = f"{tooltip('open')} {{o}} · {tooltip('kpi_overdue')} {{d}}"
    return pdk.Deck(
        layers=layers,
        initial_view_state=_view(shapes[kinds != "label"], view_px, pitch, bearing),
        map_provider=None,  # with pydeck's default map_style: no basemap (module docstring)
        tooltip={"html": f"<b>{{name}}</b><br/>{words}"},
    )


def _check(
    grids: gpd.GeoDataFrame, outlines: gpd.GeoDataFrame, *, max_height_m: float, radius_m: float
) -> None:
    """Every problem with the inputs of :func:`wall_deck` at once."""
    problems = []
    need = ("grid_name", "town_name", "open", "overdue", "overdue_share")
    missing = [c for c in need if c not in grids.columns]
    if missing:
        problems.append(f"grids lack the column(s) {missing} (use geo.views.wall.WallView.grids)")
    if "kind" not in outlines.columns or "name" not in outlines.columns:
        problems.append(
            "outlines need 'kind' and 'name' columns (use geo.views.wall.wall_outlines)"
        )
    if not (max_height_m > 0 and radius_m > 0):
        problems.append(f"max_height_m and radius_m must be > 0, got {max_height_m}, {radius_m}")
    if problems:
        raise ValueError("cannot draw the wall map:\n- " + "\n- ".join(problems))


def _columns(grids: gpd.GeoDataFrame, max_height_m: float) -> list[dict[str, object]]:
    """One record per grid with open tickets: position, height, colour, tooltip fields."""
    busy = grids[(grids["open"] > 0).to_numpy()]
    if busy.empty:
        return []
    per_open = max_height_m / int(busy["open"].max())
    colors = share_colors(busy["overdue_share"].to_numpy()).tolist()
    fields = zip(
        wgs84_geometry(busy),
        busy["open"],
        busy["overdue"],
        colors,
        busy["grid_name"],
        busy["town_name"],
        strict=True,
    )
    return [
        {
            "p": _lonlat(pt),
            "h": round(int(n) * per_open),
            "c": rgb,
            "name": html_text(f"{town} · {name}"),  # the tooltip is HTML: data as text
            "o": int(n),
            "d": int(d),
        }
        for pt, n, d, rgb, name, town in fields
    ]


def _outline_paths(shapes: np.ndarray, kinds: np.ndarray) -> list[dict[str, object]]:
    """Path records of the county (wide, light blue) and town (thin, slate) boundaries."""
    out: list[dict[str, object]] = []
    for geom, kind in zip(shapes, kinds, strict=True):
        if kind in _LINES:
            out.extend({"path": path, **_LINES[kind]} for path in _paths(geom))
    return out


def _lonlat(point: shapely.Point) -> list[float]:
    return [round(float(point.x), 5), round(float(point.y), 5)]  # 5 decimals: about 1 m


def share_legend(tr: Callable[[str], str], *, max_open: int) -> str:
    """HTML legend of the map: what height and colour mean (``tr`` keys ``wall_legend_*``)."""
    stops = ", ".join(f"rgb{c} {int(s * 100)}%" for s, c in SHARE_STOPS)
    return (
        f'<div class="wall-legend"><span>{tr("wall_legend_height")} '
        f"({tr('wall_legend_max')} {max_open})</span>"
        f"<span>{tr('wall_legend_color')} 0%</span>"
        f'<span class="wall-ramp" style="background:linear-gradient(90deg, {stops})"></span>'
        "<span>100%</span></div>"
    )


def external_urls(deck: pdk.Deck) -> list[str]:
    """Every http(s) URL or map style in the deck's JSON spec (empty: nothing to fetch)."""
    spec = json.loads(deck.to_json())
    found = re.findall(r"https?://[^\s\"']+|mapbox://[^\s\"']+", json.dumps(spec))
    style = spec.get("mapStyle")
    if style not in (None, "__MAP_STYLE__"):
        found.append(f"mapStyle={style!r}")
    if spec.get("mapProvider"):
        found.append(f"mapProvider={spec['mapProvider']!r}")
    return list(dict.fromkeys(found))


def _literal(text: str) -> str:
    """A text prop passed to deck.gl as it is.

    pydeck turns every plain string prop into a deck.gl expression (``"pixels"`` would
    become ``@@=pixels``, an undefined name, and the paths would be drawn wrongly); a
    string wrapped in quotes is passed literally, without them.
    """
    if '"' in text:
        raise ValueError(f"a literal deck.gl text cannot hold a double quote: {text!r}")
    return f'"{text}"'


def _paths(geom: shapely.Geometry) -> list[list[list[float]]]:
    """Coordinate lists (lon, lat rounded to ~1 m) of a (multi)line's parts."""
    parts = shapely.get_parts(geom)
    return [np.round(shapely.get_coordinates(p), 5).tolist() for p in parts if not p.is_empty]


def _view(
    shapes: np.ndarray, view_px: tuple[int, int], pitch: float, bearing: float
) -> pdk.ViewState:
    """Camera centred on the shapes (WGS84), zoomed so they fit ``view_px``."""
    west, south, east, north = shapely.total_bounds(shapes)
    if not np.isfinite([west, south, east, north]).all():
        return pdk.ViewState(latitude=33.78, longitude=120.25, zoom=9, pitch=pitch, bearing=bearing)

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    width_frac = max(east - west, 1e-6) / 360
    # A tilted camera foreshortens north-south by about cos(pitch).
    height_frac = (
        max(merc(north) - merc(south), 1e-6) / (2 * math.pi) * math.cos(math.radians(pitch))
    )
    # 0.85: a margin, and room for the near (southern) side that the tilt enlarges.
    zoom = math.log2(0.85 * min(view_px[0] / width_frac, view_px[1] / height_frac) / _TILE_PX)
    return pdk.ViewState(
        latitude=(south + north) / 2 - 0.06 * (north - south),
        longitude=(west + east) / 2,
        zoom=round(zoom, 2),
        pitch=pitch,
        bearing=bearing,
    )

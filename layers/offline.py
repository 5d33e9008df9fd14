"""Folium base maps that load Leaflet from GridGov's own static files: no internet needed."""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import branca.colormap
import branca.element
import folium
import folium.elements
import geopandas as gpd
import numpy as np
import shapely

__all__ = ["STATIC_DIR", "STATIC_URL_PREFIX", "base_map", "external_links", "static_url"]

#: Where Streamlit serves the repository's ``static/`` folder
#: (``[server] enableStaticServing = true``).
STATIC_URL_PREFIX = "/app/static"

#: The repository's ``static/`` folder (vendored Leaflet, topojson-client, GridGov's own JS/CSS).
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

_LEAFLET_JS = "vendor/leaflet/leaflet.js"  # leaflet 1.9.4, see static/vendor/README.md
_LEAFLET_CSS = "vendor/leaflet/leaflet.css"
_MAP_CSS = "gridgov/map.css"


def static_url(path: str, *, prefix: str = STATIC_URL_PREFIX) -> str:
    """URL of a file under ``static/`` as the browser should request it.

    GridGov's own files (``gridgov/…``) get a ``?v=`` content hash so that a
    browser never keeps a stale copy after an upgrade; vendored files carry
    their version in the folder README and are left as they are.

    Parameters
    ----------
    path : str
        Path relative to ``static/``, e.g. ``"vendor/leaflet/leaflet.js"``.
    prefix : str, default :data:`STATIC_URL_PREFIX`
        URL path where ``static/`` is served (change it when Streamlit runs
        under ``server.baseUrlPath``).

    Returns
    -------
    str
    """
    url = f"{prefix.rstrip('/')}/{path.lstrip('/')}"
    if path.startswith("gridgov/"):
        digest = _content_hash(path)
        if digest:
            url += f"?v={digest}"
    return url


def _content_hash(path: str) -> str:
    file = STATIC_DIR / path
    return hashlib.sha1(file.read_bytes()).hexdigest()[:10] if file.is_file() else ""


def base_map(
    *,
    bounds_wgs84: tuple[float, float, float, float],
    tile_url: str | None = None,
    tile_attribution: str | None = None,
    static_url_prefix: str = STATIC_URL_PREFIX,
    prefer_canvas: bool = False,
    max_zoom: int = 18,
) -> folium.Map:
    """A folium map fitted to ``bounds_wgs84`` that fetches nothing from the internet.

    Leaflet's script and stylesheet come from ``static/vendor/leaflet`` (set on
    this map only: folium's class-wide CDN lists are left untouched), and
    there is no basemap unless an intranet tile server is named: the grid
    outlines are the context, on a light grey ground.

    Parameters
    ----------
    bounds_wgs84 : tuple of float
        ``(min_lon, min_lat, max_lon, max_lat)`` in degrees, EPSG:4326; the
        map opens fitted to them.
    tile_url : str, optional
        XYZ template of an intranet tile server, e.g.
        ``"http://tiles.county.lan/{z}/{x}/{y}.png"``; omitted: no basemap.
    tile_attribution : str, optional
        Attribution shown for ``tile_url``; required with it.
    static_url_prefix : str, default :data:`STATIC_URL_PREFIX`
        URL path where the repository's ``static/`` folder is served.
    prefer_canvas : bool, default False
        Draw vector layers on a canvas instead of SVG.
    max_zoom : int, default 18
        Deepest zoom level allowed.

    Returns
    -------
    folium.Map

    Raises
    ------
    ValueError
        Listing every problem with the bounds or the tile arguments.
    """
    _check_base_map_args(bounds_wgs84, tile_url, tile_attribution)
    min_lon, min_lat, max_lon, max_lat = (float(b) for b in bounds_wgs84)
    m = folium.Map(
        location=[(min_lat + max_lat) / 2, (min_lon + max_lon) / 2],
        zoom_start=10,
        tiles=None,
        control_scale=False,  # Leaflet's default scale adds miles: a metric one below
        prefer_canvas=prefer_canvas,
        max_zoom=max_zoom,
    )
    # Instance attributes shadow folium.Map's class lists (CDN links to
    # leaflet, jquery, bootstrap, awesome-markers); fresh lists, so a later
    # add_js_link on this map cannot leak into other maps.
    m.default_js = [("leaflet", static_url(_LEAFLET_JS, prefix=static_url_prefix))]
    m.default_css = [
        ("leaflet_css", static_url(_LEAFLET_CSS, prefix=static_url_prefix)),
        ("gridgov_map_css", static_url(_MAP_CSS, prefix=static_url_prefix)),
    ]
    if tile_url is not None:
        folium.TileLayer(
            tiles=tile_url, attr=tile_attribution, max_zoom=max_zoom, name="basemap"
        ).add_to(m)
    _MetricScale().add_to(m)
    m.fit_bounds([[min_lat, min_lon], [max_lat, max_lon]])
    return m


class _MetricScale(branca.element.MacroElement):
    """Leaflet's scale bar in metres and kilometres only (no miles, no feet)."""

    _template = branca.element.Template(
        """{% macro script(this, kwargs) %}
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )


def _check_base_map_args(
    bounds: tuple[float, float, float, float], tile_url: str | None, tile_attribution: str | None
) -> None:
    problems: list[str] = []
    try:
        min_lon, min_lat, max_lon, max_lat = (float(b) for b in bounds)
    except (TypeError, ValueError):
        problems.append(
            "bounds_wgs84 must be four numbers (min_lon, min_lat, max_lon, max_lat), "
            f"got {bounds!r}"
        )
    else:
        if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
            problems.append(f"bounds_wgs84 must be finite, got {bounds!r}")
        elif not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
            problems.append(
                "bounds_wgs84 must be (min_lon, min_lat, max_lon, max_lat) in degrees with "
                f"min < max, got {bounds!r}"
                " (metres? reproject to EPSG:4326 first)"
            )
    if tile_url is not None:
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in tile_url]
        if missing:
            problems.append(
                "tile_url must be an XYZ template with {z}, {x}, {y}; "
                f"{tile_url!r} lacks {missing}"
            )
        if not tile_attribution:
            problems.append("tile_attribution is required with tile_url (who made the tiles)")
    elif tile_attribution is not None:
        problems.append("tile_attribution was given without tile_url")
    if problems:
        raise ValueError("cannot build base map:\n- " + "\n- ".join(problems))


def external_links(
    m: folium.Map, *, allowed_prefixes: tuple[str, ...] = (STATIC_URL_PREFIX,)
) -> list[str]:
    """Script and stylesheet URLs the map would load from outside ``allowed_prefixes``.

    Walks the map's elements the way streamlit-folium does when it collects
    links, so an empty list means the map needs no internet (tile URLs are not
    links and are not listed).

    Parameters
    ----------
    m : folium.Map
    allowed_prefixes : tuple of str, default ``(STATIC_URL_PREFIX,)``

    Returns
    -------
    list of str
        Offending URLs, in the order found, without repeats.
    """
    found: list[str] = []
    for element in _walk(m):
        if isinstance(element, branca.colormap.ColorMap):
            found.append("d3.js from a CDN (streamlit-folium adds it for every branca ColorMap)")
        for _, url in [*getattr(element, "default_js", []), *getattr(element, "default_css", [])]:
            if not url.startswith(allowed_prefixes):
                found.append(url)
    return list(dict.fromkeys(found))


def _walk(element: branca.element.Element) -> Iterator[branca.element.Element]:
    if isinstance(element, (folium.elements.JSCSSMixin, branca.colormap.ColorMap)):
        yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


#: Reprojected geometry of recent layers, by content hash (reprojecting 3,689 grids, and
#: building a PROJ transformer in each new script thread, costs more than drawing them).
_WGS84_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
_WGS84_CACHE_SIZE = 8


def _geometry_key(geometry: gpd.GeoSeries) -> str:
    digest = hashlib.sha1(str(geometry.crs).encode())
    digest.update(b"".join(shapely.to_wkb(geometry.to_numpy())))
    return digest.hexdigest()


def wgs84_geometry(frame: gpd.GeoDataFrame) -> np.ndarray:
    """The layer's geometries in EPSG:4326, reused while the geometry is unchanged."""
    if frame.crs is None:
        raise ValueError("the layer has no CRS; set it (EPSG:4549 for GridGov's layers)")
    if frame.crs.to_epsg() == 4326:
        return frame.geometry.to_numpy()
    key = _geometry_key(frame.geometry)
    if key not in _WGS84_CACHE:
        _WGS84_CACHE[key] = frame.geometry.to_crs(4326).to_numpy()
        while len(_WGS84_CACHE) > _WGS84_CACHE_SIZE:
            _WGS84_CACHE.popitem(last=False)
    _WGS84_CACHE.move_to_end(key)
    return _WGS84_CACHE[key]


def display_bounds(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of a layer in WGS84 degrees, for :func:`base_map`."""
    west, south, east, north = shapely.total_bounds(wgs84_geometry(frame))
    return (float(west), float(south), float(east), float(north))

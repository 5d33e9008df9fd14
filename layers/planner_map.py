"""The planner's map: draft grids by size status, their labels and the drawing tools, offline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import folium
import geopandas as gpd
import shapely
from branca.element import MacroElement
from folium.plugins import Draw
from folium.template import Template

from layers.choropleth import OutlineSpec, grid_choropleth
from layers.classify import categorical_breaks
from layers.offline import STATIC_URL_PREFIX, base_map, display_bounds, static_url, wgs84_geometry

__all__ = ["DRAW_CSS", "DRAW_JS", "DRAW_TEXT_PATHS", "STATE_COLORS", "OfflineDraw", "planner_map"]

DRAW_JS = "vendor/leaflet-draw/leaflet.draw.js"  # leaflet-draw 1.0.4, see static/vendor/README.md
DRAW_CSS = "vendor/leaflet-draw/leaflet.draw.css"

#: The leaflet-draw texts (``L.drawLocal`` paths) a page should translate for the tools used.
DRAW_TEXT_PATHS: tuple[str, ...] = (
    "draw.toolbar.buttons.polyline",
    "draw.toolbar.buttons.polygon",
    "draw.toolbar.actions.title",
    "draw.toolbar.actions.text",
    "draw.toolbar.finish.title",
    "draw.toolbar.finish.text",
    "draw.toolbar.undo.title",
    "draw.toolbar.undo.text",
    "draw.handlers.polyline.tooltip.start",
    "draw.handlers.polyline.tooltip.cont",
    "draw.handlers.polyline.tooltip.end",
    "draw.handlers.polygon.tooltip.start",
    "draw.handlers.polygon.tooltip.cont",
    "draw.handlers.polygon.tooltip.end",
    "edit.toolbar.buttons.remove",
    "edit.toolbar.buttons.removeDisabled",
    "edit.toolbar.actions.save.text",
    "edit.toolbar.actions.cancel.text",
    "edit.toolbar.actions.clearAll.text",
    "edit.handlers.remove.tooltip.text",
)

#: Fill of a grid by state: 0 within the size standard, 1 outside it, 2 with a blocking error.
STATE_COLORS: tuple[str, str, str] = ("#9ecae1", "#fdae61", "#d7191c")
_PROPOSAL_STYLE = {"color": "#6a3d9a", "weight": 2.5, "dashArray": "6 4", "fill": False}
#: A village's few grids: dark borders a planner can see and click on every fill.
_GRID_BORDERS = {"color": "#1f2d3d", "weight": 1.6, "opacity": 0.9, "fillOpacity": 0.7}


class OfflineDraw(Draw):
    """folium's Draw control with leaflet-draw served from ``static/`` instead of a CDN.

    The class-wide ``default_js``/``default_css`` of :class:`folium.plugins.Draw` point at
    cdnjs; this instance carries its own lists (as :func:`layers.offline.base_map` does for
    Leaflet itself), so nothing is fetched from the internet.
    """

    def __init__(self, *, static_url_prefix: str = STATIC_URL_PREFIX, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.default_js = [("leaflet_draw_js", static_url(DRAW_JS, prefix=static_url_prefix))]
        self.default_css = [("leaflet_draw_css", static_url(DRAW_CSS, prefix=static_url_prefix))]


class _DrawTexts(MacroElement):
    """Sets leaflet-draw's texts (``L.drawLocal``) by dotted path (``draw.toolbar.finish.text``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (texts) {
            Object.keys(texts).forEach(function (path) {
                var keys = path.split("."), node = L.drawLocal;
                for (var i = 0; i < keys.length - 1; i++) {
                    node = node[keys[i]] = node[keys[i]] || {};
                }
                node[keys[keys.length - 1]] = texts[path];
            });
        })({{ this.texts|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, texts: Mapping[str, str]) -> None:
        super().__init__()
        self._name = "DrawTexts"
        self.texts = dict(texts)


class _Labels(MacroElement):
    """Text labels at points (one script for all of them; text set as text, never HTML)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.get_name() }} = L.layerGroup({{ this.points|tojson }}.map(function (p) {
            var div = document.createElement("div");
            div.className = "gridgov-plan-label";
            div.style.cssText = "font: 600 12px sans-serif; color: #1f2d3d; " +
                "text-align: center; white-space: nowrap; pointer-events: none; " +
                "text-shadow: 0 0 3px #fff, 0 0 3px #fff;";
            div.textContent = p[2];
            return L.marker([p[0], p[1]], {
                icon: L.divIcon(
                    {html: div, className: "", iconSize: [60, 18], iconAnchor: [30, 9]}
                ),
                interactive: false, keyboard: false
            });
        })).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, points: Sequence[tuple[float, float, str]]) -> None:
        super().__init__()
        self._name = "PlanLabels"
        self.points = [[round(lat, 6), round(lon, 6), str(text)] for lat, lon, text in points]


def planner_map(
    grids: gpd.GeoDataFrame,
    *,
    state: Sequence[int],
    labels: Sequence[str],
    tooltip_fields: Mapping[str, str],
    legend_title: str,
    state_labels: Sequence[str],
    villages: gpd.GeoDataFrame | None = None,
    proposal: gpd.GeoDataFrame | None = None,
    draw_texts: Mapping[str, str] | None = None,
    tile_url: str | None = None,
    tile_attribution: str | None = None,
) -> folium.Map:
    """The grids of a draft coloured by size status, labelled, with drawing tools.

    Parameters
    ----------
    grids
        The draft's grids (EPSG:4549) with ``grid_code`` and the tooltip columns.
    state
        Per grid: 0 within the size standard, 1 outside it, 2 with a blocking error.
    labels
        Per grid: a short label drawn at its representative point (e.g. the sequence number).
    tooltip_fields
        Column → label for the grid tooltip (already translated).
    legend_title, state_labels
        Legend heading and the three state labels (already translated).
    villages
        Village outlines drawn over the grids.
    proposal
        A proposed partition (EPSG:4549), drawn as dashed outlines on top.
    draw_texts
        leaflet-draw texts by dotted ``L.drawLocal`` path, in the UI language.
    tile_url, tile_attribution
        Optional intranet basemap (see :func:`layers.offline.base_map`).

    Returns
    -------
    folium.Map
        With a polyline tool (split) and a polygon tool (redraw); streamlit-folium returns
        what is drawn as ``all_drawings`` (GeoJSON in WGS84).
    """
    if len(state) != len(grids) or len(labels) != len(grids):
        raise ValueError(
            f"state and labels need one value per grid ({len(grids)}), "
            f"got {len(state)} and {len(labels)}"
        )
    if len(state_labels) != len(STATE_COLORS):
        raise ValueError(f"state_labels needs {len(STATE_COLORS)} labels, got {len(state_labels)}")
    m = base_map(
        bounds_wgs84=display_bounds(grids), tile_url=tile_url, tile_attribution=tile_attribution
    )
    shown = grids.assign(_state=[float(s) for s in state])
    outlines = []
    if villages is not None and len(villages):
        outlines.append(OutlineSpec.villages(villages[["village_code", "geometry"]]))
    grid_choropleth(
        m,
        shown[[*dict.fromkeys(["grid_code", "_state", *tooltip_fields]), "geometry"]],
        value_column="_state",
        tooltip_fields=tooltip_fields,
        legend_title=legend_title,
        outlines=outlines,
        breaks=categorical_breaks(list(zip(state_labels, STATE_COLORS, strict=True))),
        grid_style=_GRID_BORDERS,
    )
    inner = gpd.GeoSeries(
        shapely.point_on_surface(grids.geometry.to_numpy()), crs=grids.crs
    ).to_crs(4326)
    _Labels([(p.y, p.x, text) for p, text in zip(inner.to_numpy(), labels, strict=True)]).add_to(m)
    if proposal is not None and len(proposal):
        geometry = shapely.set_precision(wgs84_geometry(proposal), 1e-6)
        folium.GeoJson(
            gpd.GeoDataFrame(geometry=geometry, crs=4326).to_json(),
            style_function=lambda _f: _PROPOSAL_STYLE,
            interactive=False,
        ).add_to(m)
    if draw_texts:
        _DrawTexts(draw_texts).add_to(m)
    OfflineDraw(
        position="topleft",
        show_geometry_on_click=False,
        draw_options={
            "polyline": {"shapeOptions": {"color": "#e31a1c", "weight": 3}},
            "polygon": {"allowIntersection": False, "shapeOptions": {"color": "#6a3d9a"}},
            "rectangle": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
        },
        edit_options={"edit": False},
    ).add_to(m)
    return m

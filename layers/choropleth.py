"""Grid choropleth for folium: one Leaflet layer carrying grids and outlines as packed TopoJSON."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import folium
import geopandas as gpd
import pandas as pd
import shapely
from branca.element import CssLink, Element, Figure, JavascriptLink
from folium.elements import ElementAddToElement, JSCSSMixin
from folium.map import Layer
from folium.template import Template

from layers._pack import pack_columns, pack_topology
from layers.classify import ClassBreaks, Scheme, class_breaks
from layers.offline import STATIC_URL_PREFIX, static_url, wgs84_geometry
from layers.topology import encode_topology

__all__ = ["NO_DATA_COLOR", "GridChoropleth", "OutlineSpec", "grid_choropleth"]

#: Fill of grids whose value is missing.
NO_DATA_COLOR = "#d9d9d9"

_GRID_STYLE = {"color": "#ffffff", "weight": 0.5, "opacity": 1.0, "fillOpacity": 0.85}
_GRID_HIGHLIGHT = {"color": "#222222", "weight": 2.0}
_GRID_OBJECT = "grids"
LegendPosition = Literal["topleft", "topright", "bottomleft", "bottomright"]


@dataclass(frozen=True, eq=False)
class OutlineSpec:
    """An outline layer drawn over the grids, e.g. town or village boundaries.

    Build one with :meth:`towns` or :meth:`villages` for the house style, or
    directly for anything else.

    Attributes
    ----------
    frame : GeoDataFrame
        Polygons in EPSG:4549 (metres) or EPSG:4326, whose edges coincide
        with grid edges (dissolved from the grids): shared edges are then
        stored once for both layers.
    name : str
        Name of the layer in the topology; unique, not ``"grids"``.
    color : str
        CSS colour of the line.
    weight_px : float
        Line width in screen pixels.
    opacity : float
        Line opacity, 0–1.
    properties : sequence of str
        Columns kept in each feature's ``properties`` (streamlit-folium
        reports them in ``last_active_drawing`` when the outline is clicked).
    tooltip_column : str or None
        Column shown on hover; ``None``: no tooltip.
    zoom_on_click : bool
        Clicking the outline fits the map to that polygon.
    """

    frame: gpd.GeoDataFrame
    name: str
    color: str = "#333333"
    weight_px: float = 1.0
    opacity: float = 0.9
    properties: Sequence[str] = ()
    tooltip_column: str | None = None
    zoom_on_click: bool = False

    @classmethod
    def towns(
        cls, frame: gpd.GeoDataFrame, *, name_column: str, name: str = "towns"
    ) -> OutlineSpec:
        """Thick dark town outlines that show the town name and zoom to the town when clicked."""
        return cls(
            frame=frame,
            name=name,
            color="#1f2d3d",
            weight_px=3.0,
            opacity=0.9,
            properties=(name_column,),
            tooltip_column=name_column,
            zoom_on_click=True,
        )

    @classmethod
    def villages(cls, frame: gpd.GeoDataFrame, *, name: str = "villages") -> OutlineSpec:
        """Thin grey village outlines that do not take clicks (the grid under the pointer does)."""
        return cls(frame=frame, name=name, color="#5f6b7a", weight_px=1.0, opacity=0.8)

    @property
    def columns(self) -> list[str]:
        """Columns carried into the browser."""
        extra = [self.tooltip_column] if self.tooltip_column else []
        return list(dict.fromkeys([*self.properties, *extra]))


class _Verbatim(Element):
    """Already rendered HTML or JavaScript, emitted as it is (not compiled as a template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


class GridChoropleth(JSCSSMixin, Layer):
    """Folium layer drawing grids by class, outlines on top, and a legend.

    Built by :func:`grid_choropleth`; see there. In the browser the layer is
    an ``L.LayerGroup`` holding one ``L.GeoJSON`` for the grids and one per
    outline, decoded from a single packed TopoJSON by
    ``static/gridgov/grid-choropleth.js``.

    Attributes
    ----------
    breaks : ClassBreaks
        The classes, colours and legend labels used.
    payload : dict
        The packed topology embedded in the page.
    options : dict
        Styles, class bins, tooltip fields and legend shipped with it.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = GridGov.gridChoropleth(
                {{ this.payload_js }},
                {{ this.options_js }}
            );
        {% endmacro %}
        """
    )

    def __init__(
        self,
        *,
        payload: dict[str, Any],
        options: dict[str, Any],
        breaks: ClassBreaks,
        bounds: tuple[float, float, float, float],
        name: str | None = None,
        static_url_prefix: str = STATIC_URL_PREFIX,
    ) -> None:
        super().__init__(name=name, overlay=True, control=name is not None, show=True)
        self._name = "GridChoropleth"
        self.payload = payload
        self.options = options
        self.breaks = breaks
        self._bounds = bounds
        self.default_js = [
            (
                "topojson_client",
                static_url(
                    "vendor/topojson-client/topojson-client.min.js", prefix=static_url_prefix
                ),
            ),
            (
                "gridgov_choropleth",
                static_url("gridgov/grid-choropleth.js", prefix=static_url_prefix),
            ),
        ]
        self.default_css = [
            (
                "gridgov_choropleth_css",
                static_url("gridgov/grid-choropleth.css", prefix=static_url_prefix),
            ),
        ]

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Render, dropping the ``addTo`` left by an earlier render.

        ``folium.map.Layer.render`` adds an ``addTo`` child named after
        ``get_name()``; streamlit-folium renames elements in place, so a map
        passed to ``st_folium`` again (e.g. kept by ``st.cache_resource``)
        would also carry the old name, an undefined variable that stops the
        map script.
        """
        for key in [k for k, c in self._children.items() if isinstance(c, ElementAddToElement)]:
            del self._children[key]
        # What JSCSSMixin, Layer and MacroElement do, except that the rendered script (the
        # ~0.45 MB payload) goes in verbatim: branca would compile it as a Jinja template
        # on every render, which costs more than building the whole layer.
        figure = self.get_root()
        assert isinstance(figure, Figure), "render GridChoropleth inside a folium Map"
        for name, url in self.default_js:
            figure.header.add_child(JavascriptLink(url), name=name)
        for name, url in self.default_css:
            figure.header.add_child(CssLink(url), name=name)
        if self.show and self._parent is not None:
            self.add_child(
                ElementAddToElement(
                    element_name=self.get_name(), element_parent_name=self._parent.get_name()
                ),
                name=self.get_name() + "_add",
            )
        script = self._template.module.__dict__["script"]
        figure.script.add_child(_Verbatim(script(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)

    @cached_property
    def payload_js(self) -> str:
        """The packed topology as a JavaScript literal safe inside ``<script>``."""
        return _script_json(self.payload)

    @property
    def options_js(self) -> str:
        """The options as a JavaScript literal safe inside ``<script>``."""
        return _script_json(self.options)

    def _get_self_bounds(self) -> list[list[float | None]]:
        min_lon, min_lat, max_lon, max_lat = self._bounds
        return [[min_lat, min_lon], [max_lat, max_lon]]


def grid_choropleth(
    m: folium.Map,
    grids: gpd.GeoDataFrame,
    *,
    value_column: str,
    tooltip_fields: Mapping[str, str],
    legend_title: str,
    id_column: str = "grid_code",
    classes: int = 7,
    scheme: Scheme = "quantiles",
    colors: Sequence[str] | None = None,
    outlines: Sequence[OutlineSpec] = (),
    no_data_label: str = "—",
    legend_position: LegendPosition = "bottomright",
    breaks: ClassBreaks | None = None,
    layer_name: str | None = None,
    tolerance_m: float = 1.0,
    float_decimals: int = 2,
    grid_style: Mapping[str, object] | None = None,
    static_url_prefix: str = STATIC_URL_PREFIX,
) -> GridChoropleth:
    """Add grids coloured by ``value_column``, outlines and a legend to ``m``.

    Grids and outlines travel as one packed TopoJSON (shared edges once,
    vertices quantized to ``tolerance_m``) and are decoded in the browser by
    the vendored topojson-client, so the page stays small (≈ 0.45 MB for
    3,689 grids with five properties, 238 villages and 15 towns, against
    ≈ 2 MB for folium's GeoJson). Class breaks are computed here and
    shipped as a few numbers and colours. Every feature keeps its columns
    in ``feature.properties``: streamlit-folium's ``last_active_drawing``
    reports the clicked grid (or clicked town outline).

    Parameters
    ----------
    m : folium.Map
        Map to draw on, normally from :func:`layers.offline.base_map`.
    grids : GeoDataFrame
        Grid polygons sharing edges exactly, in EPSG:4549 (metres) or
        EPSG:4326; reprojected to EPSG:4326 for display. Not modified.
    value_column : str
        Numeric column that colours the grids; missing values are drawn
        grey and listed in the legend as ``no_data_label``.
    tooltip_fields : mapping of str to str
        Column → label (already translated), in display order. Values are
        shown as text, never as HTML.
    legend_title : str
        Legend heading (already translated).
    id_column : str, default "grid_code"
        Column identifying a grid; always carried in ``feature.properties``.
    classes : int, default 7
        Number of classes (fewer if the data have fewer distinct breaks).
    scheme : {"quantiles", "natural_breaks"}, default "quantiles"
        See :func:`layers.classify.class_breaks`.
    breaks : ClassBreaks, optional
        Classes to use as they are (e.g. from :func:`layers.classify.categorical_breaks`
        for coded categories such as hot-spot classes); ``classes``, ``scheme`` and
        ``colors`` are then ignored.
    colors : sequence of str, optional
        Hex colours light to dark; default ColorBrewer YlOrRd.
    outlines : sequence of OutlineSpec, default ()
        Drawn over the grids in the given order (so pass villages before towns).
    no_data_label : str, default "—"
        Legend and tooltip text for missing values (a dash by default, in no language;
        pages pass the words in theirs).
    legend_position : {"topleft", "topright", "bottomleft", "bottomright"}
    layer_name : str, optional
        Name in a ``folium.LayerControl``; ``None`` keeps it out of the control.
    tolerance_m : float, default 1.0
        Largest vertex displacement from quantization, in metres.
    float_decimals : int, default 2
        Decimals kept in float columns sent to the browser (a rate like
        3.7037037037037037 costs 18 bytes a grid); the classes are computed
        on the same rounded values, so colours and legend agree.
    grid_style : mapping, optional
        Leaflet path options over the default grid style (thin white borders, which suit a
        county of thousands of grids; a village of seven wants dark, visible ones).
    static_url_prefix : str, default "/app/static"
        URL path of the repository's ``static/`` folder.

    Returns
    -------
    GridChoropleth
        The layer, already added to ``m``; its ``breaks`` hold the classes.

    Raises
    ------
    ValueError
        Listing every problem with the arguments (missing columns, CRS,
        non-numeric values, clashing outline names…).
    """
    _check_args(grids, value_column, tooltip_fields, id_column, outlines, legend_position)

    grid_columns = list(dict.fromkeys([id_column, value_column, *tooltip_fields]))
    shown = _display_frame(grids, grid_columns, float_decimals=float_decimals)
    if breaks is None:
        breaks = class_breaks(shown[value_column], classes=classes, scheme=scheme, colors=colors)
    layers = {_GRID_OBJECT: shown}
    columns = {_GRID_OBJECT: grid_columns}
    for outline in outlines:
        layers[outline.name] = _display_frame(
            outline.frame, outline.columns, float_decimals=float_decimals
        )
        columns[outline.name] = outline.columns
    bbox, payload = _payload(layers, columns, tolerance_m=tolerance_m)
    min_lon, min_lat, max_lon, max_lat = bbox  # TopoJSON bbox: [west, south, east, north]

    legend_entries = [
        [label, color] for label, color in zip(breaks.labels, breaks.colors, strict=True)
    ]
    if shown[value_column].isna().any():
        legend_entries.append([no_data_label, NO_DATA_COLOR])
    options = {
        "grids": {
            "object": _GRID_OBJECT,
            "id": id_column,
            "value": value_column,
            "bins": list(breaks.bins),
            "colors": list(breaks.colors),
            "noDataColor": NO_DATA_COLOR,
            "tooltip": [[column, label] for column, label in tooltip_fields.items()],
            "style": {**_GRID_STYLE, **(grid_style or {})},
            "highlight": _GRID_HIGHLIGHT,
        },
        "outlines": [
            {
                "object": o.name,
                "style": {"color": o.color, "weight": o.weight_px, "opacity": o.opacity},
                "tooltip": o.tooltip_column,
                "zoomOnClick": o.zoom_on_click,
            }
            for o in outlines
        ],
        "legend": {"title": legend_title, "position": legend_position, "entries": legend_entries},
        "noDataLabel": no_data_label,
    }
    layer = GridChoropleth(
        payload=payload,
        options=options,
        breaks=breaks,
        bounds=(min_lon, min_lat, max_lon, max_lat),
        name=layer_name,
        static_url_prefix=static_url_prefix,
    )
    layer.add_to(m)
    return layer


#: Packed geometry (arcs and rings, no properties) of recent layer sets, by content hash:
#: a filter change recolours the same grids, so only the property columns are packed again.
_GEOMETRY_CACHE: OrderedDict[str, tuple[list[float], dict[str, Any]]] = OrderedDict()
_GEOMETRY_CACHE_SIZE = 8


def _payload(
    layers: Mapping[str, gpd.GeoDataFrame],
    columns: Mapping[str, Sequence[str]],
    *,
    tolerance_m: float,
) -> tuple[list[float], dict[str, Any]]:
    """The packed topology of ``layers`` with ``columns``, reusing cached geometry."""
    digest = hashlib.sha1(repr(tolerance_m).encode())
    for name, frame in layers.items():
        digest.update(name.encode())
        digest.update(b"".join(shapely.to_wkb(frame.geometry.to_numpy(), include_srid=True)))
    key = digest.hexdigest()
    cached = _GEOMETRY_CACHE.get(key)
    if cached is None:
        topology = encode_topology(layers, tolerance_m=tolerance_m)
        cached = (topology["bbox"], pack_topology(topology, properties={}))
        _GEOMETRY_CACHE[key] = cached
        while len(_GEOMETRY_CACHE) > _GEOMETRY_CACHE_SIZE:
            _GEOMETRY_CACHE.popitem(last=False)
    else:
        _GEOMETRY_CACHE.move_to_end(key)
    bbox, packed = cached
    objects = {
        name: {
            "geometries": obj["geometries"],
            "properties": _packed_columns(layers[name], columns.get(name, ())),
        }
        for name, obj in packed["objects"].items()
    }
    return bbox, {**packed, "objects": objects}


_COLUMN_CACHE: OrderedDict[str, Any] = OrderedDict()


def _packed_columns(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, Any]:
    """:func:`pack_columns`, reusing the packed form of a column whose values are unchanged."""
    out = {}
    for column in columns:
        values = frame[column]
        digest = hashlib.sha1(column.encode() + str(values.dtype).encode())
        digest.update(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
        key = digest.hexdigest()
        if key not in _COLUMN_CACHE:
            _COLUMN_CACHE[key] = pack_columns(frame, [column])[column]
            while len(_COLUMN_CACHE) > 64:
                _COLUMN_CACHE.popitem(last=False)
        _COLUMN_CACHE.move_to_end(key)
        out[column] = _COLUMN_CACHE[key]
    return out


def _check_args(
    grids: gpd.GeoDataFrame,
    value_column: str,
    tooltip_fields: Mapping[str, str],
    id_column: str,
    outlines: Sequence[OutlineSpec],
    legend_position: str,
) -> None:
    problems: list[str] = []
    if not isinstance(grids, gpd.GeoDataFrame):
        raise TypeError(f"grids must be a GeoDataFrame, got {type(grids).__name__}")
    problems += _frame_problems("grids", grids, [id_column, value_column, *tooltip_fields])
    if value_column in grids.columns and not pd.api.types.is_numeric_dtype(grids[value_column]):
        problems.append(
            f"value_column {value_column!r} must be numeric to be classed, "
            f"it is {grids[value_column].dtype}"
        )
    bad_labels = [k for k, v in tooltip_fields.items() if not isinstance(v, str)]
    if bad_labels:
        problems.append(
            f"tooltip_fields maps column → label text; these labels are not str: {bad_labels}"
        )
    if legend_position not in ("topleft", "topright", "bottomleft", "bottomright"):
        problems.append(
            "legend_position must be 'topleft', 'topright', 'bottomleft' or 'bottomright', "
            f"got {legend_position!r}"
        )
    names = [o.name for o in outlines]
    clashes = sorted({n for n in names if names.count(n) > 1 or n == _GRID_OBJECT})
    if clashes:
        problems.append(
            f"outline names must be unique and not {_GRID_OBJECT!r}; clashing: {clashes}"
        )
    for o in outlines:
        problems += _frame_problems(f"outline {o.name!r}", o.frame, o.columns)
    if problems:
        raise ValueError("cannot draw grid choropleth:\n- " + "\n- ".join(problems))


def _frame_problems(what: str, frame: gpd.GeoDataFrame, columns: Sequence[str]) -> list[str]:
    problems = []
    if not isinstance(frame, gpd.GeoDataFrame):
        return [f"{what} must be a GeoDataFrame, got {type(frame).__name__}"]
    if frame.crs is None:
        problems.append(f"{what} has no CRS: set it (EPSG:4549 for metres, EPSG:4326 for degrees)")
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        problems.append(f"{what} has no column(s) {missing}; it has {list(frame.columns)}")
    return problems


def _display_frame(
    frame: gpd.GeoDataFrame, columns: Sequence[str], *, float_decimals: int
) -> gpd.GeoDataFrame:
    """Copy of the needed columns in EPSG:4326, floats rounded (display only).

    The reprojected geometry is reused while the input geometry is unchanged (a filter
    change keeps the grids and changes their values).
    """
    out = pd.DataFrame(frame[list(columns)]).reset_index(drop=True)
    for column in columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(float_decimals)
    return gpd.GeoDataFrame(out, geometry=wgs84_geometry(frame), crs=4326)


def _script_json(obj: Any) -> str:
    """JSON that can sit inside an inline ``<script>``: no ``</script>``, no raw U+2028/9."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )

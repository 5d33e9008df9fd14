/*
 * GridGov grid choropleth for Leaflet 1.9 + topojson-client 3.
 *
 * Python side: layers/choropleth.py builds the options, layers/_pack.py the
 * packed topology (its docstring describes the format, version 1).
 *
 *   GridGov.unpackTopology(packed) -> {topology, properties}
 *       topology: a standard TopoJSON Topology (delta-encoded arcs, transform);
 *       properties: {objectName: [record, ...]} in feature order.
 *   GridGov.gridChoropleth(packed, options) -> L.LayerGroup
 *       grids filled by class breaks, outline layers on top, legend control
 *       added and removed with the layer.
 *
 * Every text from the data or the caller goes into the page through
 * textContent, never innerHTML.
 */
(function (root, factory) {
  "use strict";
  var api = factory(root);
  root.GridGov = Object.assign(root.GridGov || {}, api);
  if (typeof module === "object" && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : globalThis, function (root) {
  "use strict";

  function unpackColumn(column) {
    var kind = column[0];
    if (kind === "v") return column[1];
    if (kind === "d") {
      var distinct = column[1];
      return column[2].map(function (code) { return distinct[code]; });
    }
    if (kind === "f") {
      var prefixes = column[1], suffixes = column[2], out = new Array(prefixes.length), previous = "";
      for (var i = 0; i < prefixes.length; i++) {
        previous = previous.slice(0, prefixes[i]) + suffixes[i];
        out[i] = previous;
      }
      return out;
    }
    throw new Error("GridGov: unknown column encoding " + kind);
  }

  function unpackArcs(flat) {
    var arcs = [], i = 0, x = 0, y = 0;
    while (i < flat.length) {
      var n = flat[i++], arc = new Array(n);
      x += flat[i]; y += flat[i + 1];
      arc[0] = [x, y];
      i += 2;
      for (var k = 1; k < n; k++, i += 2) {
        arc[k] = [flat[i], flat[i + 1]];
        x += flat[i]; y += flat[i + 1];
      }
      arcs.push(arc);
    }
    return arcs;
  }

  function unpackRing(ring, state) {
    return ring.map(function (code) {
      var backwards = code & 1, index = state.index + (code - backwards) / 2;
      state.index = index;
      return backwards ? ~index : index;
    });
  }

  function unpackGeometry(packed, state) {
    if (packed === null) return {type: null};
    if (packed.length && Array.isArray(packed[0][0])) {
      return {type: "MultiPolygon", arcs: packed.map(function (polygon) {
        return polygon.map(function (ring) { return unpackRing(ring, state); });
      })};
    }
    return {type: "Polygon", arcs: packed.map(function (ring) { return unpackRing(ring, state); })};
  }

  function unpackTopology(packed) {
    if (packed.v !== 1) throw new Error("GridGov: packed topology version " + packed.v + " is not supported");
    var topology = {type: "Topology", bbox: packed.bbox, transform: packed.transform,
                    arcs: unpackArcs(packed.arcs), objects: {}};
    var properties = {};
    Object.keys(packed.objects).forEach(function (name) {
      var object = packed.objects[name], state = {index: 0};
      var geometries = object.geometries.map(function (g) { return unpackGeometry(g, state); });
      var columns = {};
      Object.keys(object.properties).forEach(function (c) { columns[c] = unpackColumn(object.properties[c]); });
      var records = geometries.map(function (g, i) {
        var record = {};
        Object.keys(columns).forEach(function (c) { record[c] = columns[c][i]; });
        return record;
      });
      topology.objects[name] = {type: "GeometryCollection", geometries: geometries};
      properties[name] = records;
    });
    return {topology: topology, properties: properties};
  }

  function features(unpacked, name) {
    var collection = unpacked.topology.objects[name], records = unpacked.properties[name];
    collection.geometries.forEach(function (g, i) { g.properties = records[i]; });
    return root.topojson.feature(unpacked.topology, collection);
  }

  function classOf(value, bins) {
    if (value === null || value === undefined || typeof value !== "number" || isNaN(value)) return -1;
    for (var i = 0; i < bins.length - 1; i++) if (value <= bins[i]) return i;
    return bins.length - 1;
  }

  function formatValue(value, noData) {
    if (value === null || value === undefined || (typeof value === "number" && isNaN(value))) return noData;
    if (typeof value === "number") return value.toLocaleString(undefined, {maximumFractionDigits: 2});
    return String(value);
  }

  function tooltipTable(fields, noData) {
    return function (layer) {
      var props = (layer.feature && layer.feature.properties) || {};
      var table = document.createElement("table");
      table.className = "gridgov-tooltip";
      fields.forEach(function (field) {
        var row = table.insertRow(), th = document.createElement("th"), td = document.createElement("td");
        th.textContent = field[1];
        td.textContent = formatValue(props[field[0]], noData);
        row.appendChild(th);
        // whitespace between table cells is not drawn, but keeps the text
        // that streamlit-folium reports (last_object_clicked_tooltip) readable
        row.appendChild(document.createTextNode("\t"));
        row.appendChild(td);
        row.appendChild(document.createTextNode("\n"));
      });
      return table;
    };
  }

  function tooltipText(column, noData) {
    return function (layer) {
      var span = document.createElement("span");
      span.textContent = formatValue(((layer.feature && layer.feature.properties) || {})[column], noData);
      return span;
    };
  }

  function legendControl(legend) {
    var control = L.control({position: legend.position});
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "gridgov-legend");
      var title = L.DomUtil.create("div", "gridgov-legend-title", div);
      title.textContent = legend.title;
      legend.entries.forEach(function (entry) {
        var row = L.DomUtil.create("div", "gridgov-legend-row", div);
        var swatch = L.DomUtil.create("span", "gridgov-legend-swatch", row);
        swatch.style.background = entry[1];
        var label = L.DomUtil.create("span", "gridgov-legend-label", row);
        label.textContent = entry[0];
      });
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    return control;
  }

  // A press on the map focuses it, and a focused map lower than the window's bottom edge
  // is scrolled into view before the button comes up: the release then lands on another
  // grid and the browser drops the click (the first click on a page that is not scrolled
  // yet). Focusing it first without scrolling keeps the page still under the pointer.
  function keepPageStill(map) {
    var box = map && map.getContainer();
    if (!box || box._gridgovStill) return;
    box._gridgovStill = true;
    box.addEventListener("mousedown", function () {
      if (document.activeElement !== box) box.focus({preventScroll: true});
    }, true);
  }

  function gridChoropleth(packed, options) {
    var unpacked = unpackTopology(packed), g = options.grids;
    var fill = function (feature) {
      var k = classOf(feature.properties[g.value], g.bins);
      return k < 0 ? g.noDataColor : g.colors[k];
    };
    var grids = L.geoJSON(features(unpacked, g.object), {
      style: function (feature) { return Object.assign({fillColor: fill(feature)}, g.style); }
    });
    grids.bindTooltip(tooltipTable(g.tooltip, options.noDataLabel), {sticky: true});
    grids.on("mouseover", function (e) { e.layer.setStyle(g.highlight); });
    grids.on("mouseout", function (e) { grids.resetStyle(e.layer); });

    var group = L.layerGroup([grids]);
    group.grids = grids;
    group.outlines = {};
    options.outlines.forEach(function (o) {
      var interactive = !!(o.zoomOnClick || o.tooltip);
      var outline = L.geoJSON(features(unpacked, o.object), {
        interactive: interactive,
        style: Object.assign({fill: false, interactive: interactive}, o.style)
      });
      if (o.tooltip) outline.bindTooltip(tooltipText(o.tooltip, options.noDataLabel), {sticky: true});
      if (o.zoomOnClick) {
        outline.on("click", function (e) {
          var map = e.layer._map;
          if (map) map.fitBounds(e.layer.getBounds(), {padding: [12, 12]});
        });
      }
      group.addLayer(outline);
      group.outlines[o.object] = outline;
    });

    group.on("add", function (e) { keepPageStill(e.target._map); });

    if (options.legend) {
      var legend = legendControl(options.legend);
      group.on("add", function (e) { legend.addTo(e.target._map); });
      group.on("remove", function () { legend.remove(); });
    }
    return group;
  }

  return {unpackTopology: unpackTopology, gridChoropleth: gridChoropleth, classOf: classOf};
});

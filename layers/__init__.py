"""Map layers: GeoDataFrames in, folium layers out (offline map, TopoJSON, choropleth)."""

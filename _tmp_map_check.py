"""Throwaway browser check for layers/ (delete after use)."""
import sys
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit_folium import st_folium

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "bench"))
import bench_payload as bp  # noqa: E402

from layers.choropleth import OutlineSpec, grid_choropleth  # noqa: E402
from layers.offline import base_map  # noqa: E402


@st.cache_resource
def county():
    grids, villages, towns = bp.synthetic_county()
    grids = grids.copy()
    grids.loc[0, "grid_name"] = "<script>alert('x')</script><b>粗体</b>"
    grids["open_issues"] = grids["open_issues"].astype(float)
    grids.loc[1:40, "open_issues"] = np.nan
    return grids, villages, towns


grids, villages, towns = county()
m = base_map(bounds_wgs84=tuple(towns.to_crs(4326).total_bounds))
grid_choropleth(
    m, grids, value_column="open_issues", tooltip_fields=bp.TOOLTIP_FIELDS, legend_title="未办结事项（件）",
    outlines=[OutlineSpec.villages(villages), OutlineSpec.towns(towns, name_column="town_name")],
)
out = st_folium(m, key="overview", height=640, use_container_width=True,
                returned_objects=["last_active_drawing", "last_object_clicked_tooltip"])
drawing = (out or {}).get("last_active_drawing") or {}
st.code("CLICKED=" + repr(drawing.get("properties")), language=None)
st.code("TOOLTIP=" + repr((out or {}).get("last_object_clicked_tooltip")), language=None)

"""geo.planning.edit: every edit keeps each village an exact coverage, and refuses clearly when it
can't."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geo.core.errors import GridGovError
from geo.demo import build as demo
from geo.planning.edit import (
    Change,
    EditError,
    EditResult,
    merge_grids,
    move_to_village,
    redraw_boundary,
    rename,
    renumber,
    split_grid,
)

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0
TOWN = "320924101"
V1, V2 = TOWN + "001", TOWN + "002"
COLS, ROWS, SPLIT_COL = 7, 3, 4  # V1 has columns 0..3, V2 columns 4..6
EXACT_M2 = 1e-6
SIMING = "320924104"  # 四明镇 of the demo county: 181 grids, urban and rural villages

#: Refusals that random drawings may legitimately run into.
LEGIT = "sliver|takes all of|would be cut into|does not touch|already part of"


# --------------------------------------------------------------------------- fixtures


def lattice(seed: int | None = None, *, jitter_m: float = 30.0) -> gpd.GeoDataFrame:
    """Two villages of 100 m cells, one grid per cell, nodes moved by up to ``jitter_m``.

    Neighbouring cells are built from the same node coordinates, so the layer is an exact
    coverage; jittered nodes make the crossing points of drawn lines inexact in floating point.
    The outer boundary of the lattice stays straight.
    """
    xs = X0 + 100.0 * np.arange(COLS + 1)
    ys = Y0 + 100.0 * np.arange(ROWS + 1)
    nx, ny = np.meshgrid(xs, ys, indexing="ij")
    if seed is not None:
        rng = np.random.default_rng(seed)
        inner = np.zeros_like(nx, dtype=bool)
        inner[1:-1, 1:-1] = True
        nx = nx + np.where(inner, rng.uniform(-jitter_m, jitter_m, nx.shape), 0)
        ny = ny + np.where(inner, rng.uniform(-jitter_m, jitter_m, ny.shape), 0)
    rows = []
    seq = {V1: 0, V2: 0}
    for c in range(COLS):
        for r in range(ROWS - 1, -1, -1):
            v = V1 if c < SPLIT_COL else V2
            seq[v] += 1
            cell = shapely.Polygon(
                [(nx[c + i, r + j], ny[c + i, r + j]) for i, j in ((0, 0), (1, 0), (1, 1), (0, 1))]
            )
            rows.append(
                {
                    "grid_code": f"{v}{seq[v]:03d}",
                    "grid_name": f"{'一村' if v == V1 else '二村'}第{seq[v]}网格",
                    "village_code": v,
                    "town_code": TOWN,
                    "area_type": "农村",
                    "grid_worker": f"网格员{len(rows)}",
                    "grid_worker_phone": f"1390000{len(rows):04d}",
                    "households": 100,
                    "residents": 270,
                    "geometry": cell,
                }
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


def villages_of(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    parts = grids.dissolve("village_code").reset_index()
    kind = np.where(parts["area_type"] == "城镇", "社区", "村")
    return gpd.GeoDataFrame(
        {"village_code": parts["village_code"], "town_code": parts["town_code"], "kind": kind},
        geometry=parts.geometry.to_numpy(),
        crs=grids.crs,
    )


@pytest.fixture(scope="module")
def siming() -> gpd.GeoDataFrame:
    """The 181 grids of 四明镇 from the demo county (the cached GeoPackage, else generated)."""
    path = demo.demo_path()
    if path.exists():
        return pyogrio.read_dataframe(path, layer="grids", where=f"town_code = '{SIMING}'")
    grids = demo.generate(seed=0)["grids"]
    return grids[grids["town_code"] == SIMING].reset_index(drop=True)


def cell(grids: gpd.GeoDataFrame, c: int, r: int) -> str:
    """Code of the lattice cell at column c, row r (row 0 is the southern row)."""
    v = V1 if c < SPLIT_COL else V2
    col = c if c < SPLIT_COL else c - SPLIT_COL
    return f"{v}{col * ROWS + (ROWS - r):03d}"


def geom(grids: gpd.GeoDataFrame, code: str) -> shapely.Geometry:
    return grids.geometry.to_numpy()[np.flatnonzero(grids["grid_code"] == code)[0]]


def assert_exact(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> None:
    """Same villages, same outlines, no overlaps, a valid coverage, codes unique."""
    assert after["grid_code"].is_unique
    assert bool(shapely.coverage_is_valid(after.geometry.to_numpy()))
    assert abs(after.area.sum() - before.area.sum()) < EXACT_M2
    for v in before["village_code"].unique():
        old = before.geometry[before["village_code"] == v].to_numpy()
        new = after.geometry[after["village_code"] == v].to_numpy()
        old_u, new_u = shapely.union_all(old), shapely.union_all(new)
        assert shapely.symmetric_difference(old_u, new_u).area < EXACT_M2, v
        assert abs(shapely.area(new).sum() - new_u.area) < EXACT_M2, v  # no overlaps
        assert bool(shapely.coverage_is_valid(new)), v
        assert shapely.get_num_geometries(new).max() <= shapely.get_num_geometries(old).max()


def crossing_line(g: shapely.Geometry, u: float, v: float, angle: float) -> shapely.LineString:
    """A line through a point of ``g`` (picked by u, v in its bounds) long enough to leave it."""
    x0, y0, x1, y1 = g.bounds
    p = shapely.Point(x0 + u * (x1 - x0), y0 + v * (y1 - y0))
    if not (g.contains(p) and g.boundary.distance(p) > 0.5):  # not on (or a hair off) an edge
        p = g.point_on_surface()
    half = 2 * np.hypot(x1 - x0, y1 - y0)
    dx, dy = half * np.cos(angle), half * np.sin(angle)
    return shapely.LineString([(p.x - dx, p.y - dy), (p.x + dx, p.y + dy)])


def edge_neighbours(grids: gpd.GeoDataFrame, code: str) -> list[str]:
    """Codes of the grids of the same village sharing an edge with ``code``."""
    me = geom(grids, code)
    village = grids.loc[grids["grid_code"] == code, "village_code"].iloc[0]
    same = grids[(grids["village_code"] == village) & (grids["grid_code"] != code)]
    share = shapely.relate_pattern(same.geometry.to_numpy(), me, "****1****")
    return sorted(same["grid_code"][share])


# --------------------------------------------------------------------------- properties

unit = st.floats(0.0, 1.0)
angles = st.floats(0.0, float(np.pi))
PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(seed=st.integers(0, 2**16), pick=st.integers(0, COLS * ROWS - 1), u=unit, v=unit, a=angles)
def test_split_keeps_area_and_villages_lattice(seed, pick, u, v, a):
    grids = lattice(seed)
    kept = grids.copy()
    code = grids["grid_code"].iloc[pick]
    line = crossing_line(geom(grids, code), u, v, a)
    try:
        out, change = split_grid(grids, code, line)
    except EditError as exc:
        assume("sliver" not in str(exc))
        raise
    assert_geodataframe_equal(grids, kept)  # the input is untouched
    assert len(out) == len(grids) + len(change.added)
    assert len(change.added) >= 1
    assert_exact(grids, out)
    assert out["households"].sum() == grids["households"].sum()  # apportioned, totals kept
    for new in change.added:
        assert new.startswith(grids.loc[grids["grid_code"] == code, "village_code"].iloc[0])


@PROPS
@given(pick=st.integers(0, 180), u=unit, v=unit, a=angles)
def test_split_keeps_area_and_villages_demo(siming, pick, u, v, a):
    code = siming["grid_code"].iloc[pick]
    line = crossing_line(geom(siming, code), u, v, a)
    try:
        out, change = split_grid(siming, code, line)
    except EditError as exc:
        assume("sliver" not in str(exc))
        raise
    assert len(out) == len(siming) + len(change.added)
    assert_exact(siming, out)


@PROPS
@given(seed=st.integers(0, 2**16), pick=st.integers(0, COLS * ROWS - 1), which=st.integers(0, 9))
def test_merge_adjacent_pairs_lattice(seed, pick, which):
    grids = lattice(seed)
    code = grids["grid_code"].iloc[pick]
    other = edge_neighbours(grids, code)
    other = other[which % len(other)]
    out, change = merge_grids(grids, [code, other])
    assert change.removed == (other,) and change.modified == (code,)
    assert len(out) == len(grids) - 1
    assert abs(geom(out, code).area - geom(grids, code).area - geom(grids, other).area) < EXACT_M2
    assert geom(out, code).geom_type == "Polygon"
    assert out.loc[out["grid_code"] == code, "households"].iloc[0] == 200
    assert_exact(grids, out)


@PROPS
@given(pick=st.integers(0, 180), which=st.integers(0, 9))
def test_merge_adjacent_pairs_demo(siming, pick, which):
    code = siming["grid_code"].iloc[pick]
    other = edge_neighbours(siming, code)
    assume(other)
    out, _ = merge_grids(siming, [code, other[which % len(other)]])
    assert len(out) == len(siming) - 1
    assert shapely.get_num_geometries(geom(out, code)) == 1
    assert_exact(siming, out)


@PROPS
@given(seed=st.integers(0, 2**16), pick=st.integers(0, COLS * ROWS - 1), u=unit, v=unit, a=angles)
def test_split_then_merge_gives_the_grid_back(seed, pick, u, v, a):
    grids = lattice(seed)
    code = grids["grid_code"].iloc[pick]
    line = crossing_line(geom(grids, code), u, v, a)
    try:
        pieces, change = split_grid(grids, code, line)
    except EditError as exc:
        assume("sliver" not in str(exc))
        raise
    back, _ = merge_grids(pieces, [code, *change.added])
    assert len(back) == len(grids)
    old, new = geom(grids, code), geom(back, code)
    assert abs(new.area - old.area) < EXACT_M2
    assert shapely.symmetric_difference(old, new).area < EXACT_M2
    assert back.loc[back["grid_code"] == code, "households"].iloc[0] == 100
    assert_exact(grids, back)


def _drawn(grids: gpd.GeoDataFrame, code: str, other: str, t: float, size: float, spin: float):
    """A rotated square centred on a point of the edge ``code`` shares with ``other``."""
    shared = shapely.intersection(geom(grids, code).boundary, geom(grids, other).boundary)
    centre = shapely.line_interpolate_point(shapely.line_merge(shared), t, normalized=True)
    if centre.is_empty:
        centre = shared.representative_point()
    r = size * np.sqrt(min(geom(grids, code).area, geom(grids, other).area))
    corners = [
        (centre.x + r * np.cos(spin + k * np.pi / 2), centre.y + r * np.sin(spin + k * np.pi / 2))
        for k in range(4)
    ]
    return shapely.Polygon(corners)


@PROPS
@given(
    seed=st.integers(0, 2**16),
    pick=st.integers(0, COLS * ROWS - 1),
    which=st.integers(0, 9),
    t=unit,
    size=st.floats(0.05, 0.6),
    spin=angles,
)
def test_redraw_keeps_the_village_lattice(seed, pick, which, t, size, spin):
    grids = lattice(seed)
    code = grids["grid_code"].iloc[pick]
    others = edge_neighbours(grids, code)
    other = others[which % len(others)]
    polygon = _drawn(grids, code, other, t, size, spin)
    try:
        out, change = redraw_boundary(grids, code, polygon)
    except EditError as exc:
        assume(not pd.Series([str(exc)]).str.contains(LEGIT).iloc[0])
        raise
    assert code in change.modified and other in change.modified
    assert geom(out, code).area > geom(grids, code).area
    assert out["households"].sum() == grids["households"].sum()
    assert_exact(grids, out)


@PROPS
@given(
    pick=st.integers(0, 180),
    which=st.integers(0, 9),
    t=unit,
    size=st.floats(0.05, 0.5),
    spin=angles,
)
def test_redraw_keeps_the_village_demo(siming, pick, which, t, size, spin):
    code = siming["grid_code"].iloc[pick]
    others = edge_neighbours(siming, code)
    assume(others)
    polygon = _drawn(siming, code, others[which % len(others)], t, size, spin)
    try:
        out, _ = redraw_boundary(siming, code, polygon)
    except EditError as exc:
        assume(not pd.Series([str(exc)]).str.contains(LEGIT).iloc[0])
        raise
    assert geom(out, code).area > geom(siming, code).area
    assert_exact(siming, out)


# --------------------------------------------------------------------------- split


def test_split_straight_lattice_known_answer():
    grids = lattice()
    code = cell(grids, 1, 1)  # x 100..200, y 100..200
    line = shapely.LineString([(X0 + 130, Y0 + 50), (X0 + 130, Y0 + 250)])
    result = split_grid(grids, code, line)
    assert isinstance(result, EditResult)
    out, change = result
    assert isinstance(change, Change)
    assert change.op == "split" and change.counts == "area"
    assert change.added == (f"{V1}013",)  # the village's codes run 001..012
    kept, new = geom(out, code), geom(out, f"{V1}013")
    assert kept.area == pytest.approx(7_000) and new.area == pytest.approx(3_000)
    row = out.set_index("grid_code").loc[[code, f"{V1}013"]]
    assert row["households"].tolist() == [70, 30]
    assert row["residents"].tolist() == [189, 81]
    assert row.loc[f"{V1}013", "grid_name"] == row.loc[code, "grid_name"] + "-2"
    assert row.loc[f"{V1}013", "grid_worker"] == row.loc[code, "grid_worker"]
    # the new row sits right after the split grid
    pos = out["grid_code"].tolist().index(code)
    assert out["grid_code"].iloc[pos + 1] == f"{V1}013"
    # the cells above and below gained the crossing vertices
    assert set(change.renoded) == {cell(grids, 1, 0), cell(grids, 1, 2)}
    assert_exact(grids, out)


def test_split_through_a_corner_and_along_nothing_else():
    grids = lattice(7)
    code = cell(grids, 1, 1)
    g = geom(grids, code)
    xy = shapely.get_coordinates(g)[:4]
    a, c = xy[0], xy[2]  # opposite corners: the diagonal
    d = (c - a) * 0.5
    line = shapely.LineString([a - d, c + d])
    out, change = split_grid(grids, code, line)
    assert len(change.added) == 1
    assert change.renoded == ()  # the line crosses the boundary at existing vertices only
    assert_exact(grids, out)


def test_split_concave_grid_into_three():
    grids = lattice()
    u = [cell(grids, 0, 1), cell(grids, 0, 0), cell(grids, 1, 0), cell(grids, 2, 0)]
    merged, _ = merge_grids(grids, [*u, cell(grids, 2, 1)])
    code = u[0]  # a U: cells (0, 0..1), (1, 0), (2, 0..1); the line crosses both arms
    line = shapely.LineString([(X0 - 10, Y0 + 150), (X0 + 310, Y0 + 150)])
    out, change = split_grid(merged, code, line, new_codes=[f"{V1}101", f"{V1}102"])
    assert change.added == (f"{V1}101", f"{V1}102")
    assert geom(out, code).area == pytest.approx(40_000)  # the largest piece keeps the code
    assert geom(out, f"{V1}101").centroid.x < geom(out, f"{V1}102").centroid.x  # west first
    assert cell(grids, 1, 1) in change.renoded
    assert_exact(merged, out)


def test_split_one_part_of_a_two_part_grid():
    grids = lattice()
    far = cell(grids, 0, 2)
    code = cell(grids, 0, 0)
    i, j = (np.flatnonzero(grids["grid_code"] == c)[0] for c in (code, far))
    geoms = grids.geometry.to_numpy().copy()
    geoms[i] = shapely.MultiPolygon([geoms[i], geoms[j]])  # an exclave two cells north
    two = grids.set_geometry(gpd.GeoSeries(geoms, crs=METRIC)).drop(index=j)
    line = shapely.LineString([(X0 + 30, Y0 - 10), (X0 + 30, Y0 + 110)])
    out, change = split_grid(two, code, line)
    kept, new = geom(out, code), geom(out, change.added[0])
    assert shapely.get_num_geometries(kept) == 2  # the missed part stays with the code
    assert kept.area == pytest.approx(17_000) and new.area == pytest.approx(3_000)
    assert_exact(two, out)


def test_split_recounts_households_from_points():
    grids = lattice()
    code = cell(grids, 1, 1)
    pts = [(X0 + 110, Y0 + 150)] * 3 + [(X0 + 180, Y0 + 150)] * 5 + [(X0 + 500, Y0 + 50)]
    homes = gpd.GeoDataFrame(
        {"residents": [2, 2, 2, 3, 3, 3, 3, 3, 9]},
        geometry=gpd.points_from_xy(*zip(*pts, strict=True)),
        crs=METRIC,
    )
    line = shapely.LineString([(X0 + 130, Y0 + 50), (X0 + 130, Y0 + 250)])
    out, change = split_grid(grids, code, line, households=homes)
    assert change.counts == "points"
    row = out.set_index("grid_code")
    assert row.loc[code, ["households", "residents"]].tolist() == [5, 15]  # east, larger piece
    assert row.loc[f"{V1}013", ["households", "residents"]].tolist() == [3, 6]
    assert "re-counted from household points" in change.note.en


def test_split_errors():
    grids = lattice()
    code = cell(grids, 1, 1)
    with pytest.raises(EditError, match="unknown grid_code '320924101001099'"):
        split_grid(grids, f"{V1}099", shapely.LineString([(0, 0), (1, 1)]))
    with pytest.raises(EditError, match=f"the line does not cross grid {code}"):
        split_grid(grids, code, shapely.LineString([(X0 + 500, Y0), (X0 + 500, Y0 + 300)]))
    with pytest.raises(EditError, match="does not cross"):  # enters but stops inside
        split_grid(grids, code, shapely.LineString([(X0 + 150, Y0 + 50), (X0 + 150, Y0 + 150)]))
    with pytest.raises(EditError, match="must be a LineString"):
        split_grid(grids, code, shapely.box(X0, Y0, X0 + 1, Y0 + 1))
    with pytest.raises(EditError, match="looks like longitude/latitude degrees"):
        split_grid(grids, code, shapely.LineString([(120.25, 33.7), (120.26, 33.8)]))
    with pytest.raises(EditError, match="sliver"):
        split_grid(grids, code, shapely.LineString([(X0 + 100.005, Y0), (X0 + 100.005, Y0 + 300)]))
    line = shapely.LineString([(X0 + 130, Y0 + 50), (X0 + 130, Y0 + 250)])
    with pytest.raises(EditError, match="is already in use"):
        split_grid(grids, code, line, new_codes=[f"{V1}002"])
    with pytest.raises(EditError, match="is not 320924101001 \\+ a 3-digit number"):
        split_grid(grids, code, line, new_codes=[f"{V2}020"])
    with pytest.raises(EditError, match="1 new code\\(s\\) needed, got 2"):
        split_grid(grids, code, line, new_codes=[f"{V1}020", f"{V1}021"])
    dup = pd.concat([grids, grids.iloc[[0]]], ignore_index=True)
    with pytest.raises(EditError, match="2 grids share grid_code"):
        split_grid(dup, grids["grid_code"].iloc[0], line)


def test_edit_error_is_a_domain_value_error():
    grids = lattice()
    with pytest.raises(GridGovError) as info:
        rename(grids, "nope", "x")
    assert isinstance(info.value, ValueError)
    assert info.value.feature == "nope"
    assert "pick a grid_code of the layer" in str(info.value.hint)


def test_unknown_code_suggests_close_ones():
    with pytest.raises(EditError, match=r"\(did you mean 320924101001\d{3}, "):
        rename(lattice(), "320924101001000", "x")


def test_refuses_a_village_that_is_not_a_coverage_before():
    grids = lattice()
    geoms = grids.geometry.to_numpy().copy()
    i = grids.index[grids["grid_code"] == cell(grids, 0, 0)][0]
    geoms[i] = shapely.box(X0, Y0, X0 + 120, Y0 + 100)  # overlaps its eastern neighbour
    broken = grids.set_geometry(gpd.GeoSeries(geoms, crs=METRIC))
    line = shapely.LineString([(X0 + 250, Y0 + 250), (X0 + 350, Y0 + 250)])
    with pytest.raises(EditError, match="do not tile it exactly before this edit"):
        split_grid(broken, cell(grids, 2, 2), line)


def test_refuses_degrees():
    with pytest.raises(EditError, match="not metres"):
        rename(lattice().to_crs("EPSG:4326"), f"{V1}001", "x")


# --------------------------------------------------------------------------- merge


def test_merge_errors():
    grids = lattice()
    a, b = cell(grids, 0, 0), cell(grids, 2, 0)
    with pytest.raises(EditError, match=f"grids {a} and {b} do not share an edge.*"):
        merge_grids(grids, [a, b])
    with pytest.raises(EditError, match="they are apart"):
        merge_grids(grids, [a, b])
    with pytest.raises(EditError, match="meet only at a corner"):
        merge_grids(grids, [cell(grids, 0, 0), cell(grids, 1, 1)])
    with pytest.raises(EditError, match="the grids are in different villages"):
        merge_grids(grids, [cell(grids, 3, 0), cell(grids, 4, 0)])
    with pytest.raises(EditError, match="needs at least two grid codes"):
        merge_grids(grids, [a, a])
    with pytest.raises(EditError, match="keep_code '320924101001005' is not one of"):
        merge_grids(grids, [a, cell(grids, 1, 0)], keep_code=f"{V1}005")


def test_merge_three_keeps_the_chosen_code():
    grids = lattice(3)
    codes = [cell(grids, 0, 0), cell(grids, 1, 0), cell(grids, 1, 1)]
    out, change = merge_grids(grids, codes, keep_code=codes[2])
    assert set(out["grid_code"]) == set(grids["grid_code"]) - {codes[0], codes[1]}
    assert change.removed == (codes[0], codes[1])
    assert out.loc[out["grid_code"] == codes[2], ["households", "residents"]].iloc[0].tolist() == [
        300,
        810,
    ]
    assert_exact(grids, out)


# --------------------------------------------------------------------------- redraw


def test_redraw_known_answer_and_clipping():
    grids = lattice()
    code, east = cell(grids, 1, 1), cell(grids, 2, 1)
    # 40 m x 60 m of the eastern neighbour
    polygon = shapely.box(X0 + 150, Y0 + 120, X0 + 240, Y0 + 180)
    out, change = redraw_boundary(grids, code, polygon)
    assert change.modified == (code, east)
    assert geom(out, code).area == pytest.approx(10_000 + 40 * 60)
    assert geom(out, east).area == pytest.approx(10_000 - 40 * 60)
    row = out.set_index("grid_code")
    assert row.loc[east, "households"] == 76 and row.loc[code, "households"] == 124
    assert_exact(grids, out)
    edge, north = cell(grids, 6, 1), cell(grids, 6, 2)
    beyond = shapely.box(X0 + 650, Y0 + 150, X0 + 900, Y0 + 250)  # 200 m past the lattice
    out, change = redraw_boundary(grids, edge, beyond)
    assert change.modified == (north, edge)
    assert geom(out, edge).area == pytest.approx(10_000 + 50 * 50)
    assert "20,000 m² outside the village clipped" in change.note.en
    assert_exact(grids, out)


def test_redraw_across_the_village_boundary_renodes_the_other_village():
    grids = lattice(11)
    code = cell(grids, 3, 1)  # V1's eastern column; V2 lies east of it
    south = cell(grids, 3, 0)
    a, b = geom(grids, code), geom(grids, south)
    shared = shapely.line_merge(shapely.intersection(a.boundary, b.boundary))
    mid = shared.interpolate(0.5, normalized=True)
    polygon = shapely.box(mid.x - 10, mid.y - 30, mid.x + 400, mid.y + 40)
    out, change = redraw_boundary(grids, code, polygon)
    assert {code, south} <= set(change.modified)
    assert any(c.startswith(V2) for c in change.renoded)  # V2 grids got the crossing vertex
    assert_exact(grids, out)


def test_redraw_errors():
    grids = lattice()
    code = cell(grids, 1, 1)
    with pytest.raises(EditError, match=f"the drawn polygon lies outside village {V1}"):
        redraw_boundary(grids, code, shapely.box(X0 + 450, Y0, X0 + 550, Y0 + 100))
    with pytest.raises(EditError, match=f"the drawn polygon does not touch grid {code}"):
        redraw_boundary(grids, code, shapely.box(X0 + 320, Y0 + 120, X0 + 380, Y0 + 180))
    with pytest.raises(EditError, match=f"takes all of grid {cell(grids, 2, 1)}"):
        redraw_boundary(grids, code, shapely.box(X0 + 150, Y0 + 90, X0 + 310, Y0 + 210))
    with pytest.raises(EditError, match=f"grid {cell(grids, 2, 1)} would be cut into 2 parts"):
        redraw_boundary(grids, code, shapely.box(X0 + 150, Y0 + 120, X0 + 310, Y0 + 180))
    with pytest.raises(EditError, match="is already part of grid"):
        redraw_boundary(grids, code, shapely.box(X0 + 110, Y0 + 110, X0 + 190, Y0 + 190))
    with pytest.raises(EditError, match="must be a Polygon"):
        redraw_boundary(grids, code, shapely.LineString([(X0, Y0), (X0 + 1, Y0)]))
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    with pytest.raises(EditError, match="not a valid area"):
        redraw_boundary(grids, code, bowtie)


# --------------------------------------------------------------------------- move, renumber


def test_move_to_village():
    grids = lattice()
    villages = villages_of(grids)
    code = cell(grids, 3, 1)  # on V1's eastern edge
    # the villages are redrawn: V1's eastern column now belongs to V2
    column = shapely.union_all([geom(grids, cell(grids, 3, r)) for r in range(ROWS)])
    geoms = villages.geometry.to_numpy().copy()
    geoms[0], geoms[1] = geoms[0].difference(column), geoms[1].union(column)
    redrawn = villages.set_geometry(gpd.GeoSeries(geoms, crs=METRIC))
    redrawn["kind"] = ["村", "社区"]
    kept = grids.copy()
    out, change = move_to_village(grids, code, V2, redrawn)
    assert change.renamed == {code: f"{V2}010"}
    row = out.set_index("grid_code").loc[f"{V2}010"]
    assert row["village_code"] == V2 and row["town_code"] == TOWN and row["area_type"] == "城镇"
    assert geom(out, f"{V2}010").equals_exact(geom(grids, code), 0)
    assert len(out) == len(grids) and code not in set(out["grid_code"])
    assert_geodataframe_equal(grids, kept)  # the input is untouched

    with pytest.raises(EditError, match=f"grid {code} is not within village {V2}"):
        move_to_village(grids, code, V2, villages)  # the villages were not redrawn
    with pytest.raises(EditError, match="unknown village_code '320924101009'"):
        move_to_village(grids, code, TOWN + "009", villages)
    with pytest.raises(EditError, match=f"already in village {V1}"):
        move_to_village(grids, code, V1, villages)
    with pytest.raises(EditError, match="different CRS"):
        move_to_village(grids, code, V2, redrawn.to_crs("EPSG:4326"))


def test_renumber_reading_order():
    grids = lattice(5, jitter_m=20)
    out, change = renumber(grids, V1)
    # reading order: north row first (r = 2), west to east
    expected = [cell(grids, c, r) for r in (2, 1, 0) for c in range(SPLIT_COL)]
    assert [change.renamed[old] for old in expected] == [f"{V1}{k:03d}" for k in range(1, 13)]
    assert set(change.renamed) == set(grids.loc[grids["village_code"] == V1, "grid_code"])
    assert (
        out.loc[out["village_code"] == V2, "grid_code"].tolist()
        == grids.loc[grids["village_code"] == V2, "grid_code"].tolist()
    )
    assert len(change.modified) == sum(o != n for o, n in change.renamed.items())
    with pytest.raises(EditError, match="no grid has village_code '320924101003'"):
        renumber(grids, TOWN + "003")


def test_rename():
    grids = lattice()
    code = cell(grids, 0, 0)
    out, change = rename(grids, code, "  海滨网格 ")
    assert out.loc[out["grid_code"] == code, "grid_name"].iloc[0] == "海滨网格"
    assert grids.loc[grids["grid_code"] == code, "grid_name"].iloc[0] != "海滨网格"
    assert change.as_dict()["op"] == "rename"
    with pytest.raises(EditError, match=f"the new name of grid {code} is empty"):
        rename(grids, code, "   ")

"""Known-answer tests for geo.grids.validate: every problem of a grid layer found at once."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pytest
import shapely

from geo.core.errors import GridValidationError
from geo.core.i18n import Text
from geo.grids.validate import ERROR, WARNING, GridReport, validate_grids

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0
TOWN = "320924101"
V1 = TOWN + "001"  # a village (村), x 0..300 m
V2 = TOWN + "002"  # a community (社区), x 300..600 m


def sq(c: float, r: float, w: float = 1, h: float = 1) -> shapely.Polygon:
    """A ``w`` x ``h`` block of 100 m cells with its lower left cell at column c, row r."""
    return shapely.box(X0 + 100 * c, Y0 + 100 * r, X0 + 100 * (c + w), Y0 + 100 * (r + h))


def layer(rows: list[tuple]) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        rows,
        columns=["grid_code", "village_code", "grid_worker", "households", "residents", "geometry"],
        geometry="geometry",
        crs=METRIC,
    )
    frame.insert(2, "town_code", TOWN)
    return frame


@pytest.fixture
def villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"village_code": [V1, V2], "kind": ["村", "社区"]},
        geometry=[sq(0, 0, 3, 6), sq(3, 0, 3, 6)],
        crs=METRIC,
    )


@pytest.fixture
def clean() -> gpd.GeoDataFrame:
    """Six grids that tile both villages (3 x 3 cells each, rows 0..2), all sizes in range."""
    return layer(
        [
            (V1 + "001", V1, "张三", 100, 250, sq(0, 0, 3, 1)),
            (V1 + "002", V1, "李四", 120, 300, sq(0, 1, 3, 1)),
            (V1 + "003", V1, "王五", 250, 700, sq(0, 2, 3, 1)),
            (V2 + "001", V2, "赵六", 300, 800, sq(3, 0, 3, 1)),  # 300 is fine in a community
            (V2 + "002", V2, "钱七", 400, 1000, sq(3, 1, 3, 1)),
            (V2 + "003", V2, "孙八", 40, 2500, sq(3, 2, 3, 1)),
        ]
    )


BOWTIE = shapely.Polygon(
    [(X0, Y0 + 500), (X0 + 100, Y0 + 600), (X0 + 100, Y0 + 500), (X0, Y0 + 600)]
)

#: What the broken layer holds, and what the report must say: (code, feature, severity).
EXPECTED = [
    ("duplicate_code", V1 + "006", ERROR),
    ("empty_geometry", V2 + "008", ERROR),
    ("gap", None, ERROR),  # the hole at cell (1, 1); its feature is gap@x,y
    ("invalid_geometry", V2 + "007", ERROR),
    ("missing_code", "row 17", ERROR),
    ("missing_hierarchy", "row 17", ERROR),  # no code and no village_code either
    ("missing_hierarchy", V1 + "008", ERROR),
    ("missing_worker", V2 + "001", ERROR),
    ("not_polygon", V2 + "009", ERROR),
    ("overlap", V2 + "002", ERROR),
    ("overlap", V2 + "002", ERROR),  # it overlaps 001 and 003
    ("overlap", V2 + "001", ERROR),
    ("overlap", V2 + "003", ERROR),
    ("spans_villages", V2 + "004", ERROR),
    ("code_not_hierarchical", TOWN + "009001", WARNING),
    ("size_households", V1 + "004", WARNING),  # 10 < 40
    ("size_households", V1 + "005", WARNING),  # 300 > 250 (rural)
    ("size_households", V2 + "005", WARNING),  # 450 > 400 (urban)
    ("size_residents", V1 + "006", WARNING),  # 3000 > 2500 (the first of the duplicates)
]


@pytest.fixture
def broken() -> gpd.GeoDataFrame:
    """One layer with every problem :func:`validate_grids` knows, at once."""
    return layer(
        [
            # Village V1: a ring of eight cells around an empty cell (1, 1), rows 0..2.
            (V1 + "001", V1, "张三", 100, 250, sq(0, 0)),
            (V1 + "002", V1, "李四", 100, 250, sq(1, 0)),
            (V1 + "003", V1, "王五", 100, 250, sq(2, 0)),
            (V1 + "004", V1, "赵六", 10, 30, sq(0, 1)),  # too few households
            (V1 + "005", V1, "钱七", 300, 800, sq(2, 1)),  # too many households for a 村
            (V1 + "006", V1, "孙八", 100, 3000, sq(0, 2)),  # too many residents
            (V1 + "006", V1, "周九", 100, 250, sq(1, 2)),  # duplicate code
            (V1 + "008", None, "吴十", 100, 250, sq(2, 2)),  # no village_code
            # Village V2 (社区), row 0: 001 and 003 with 002 overlapping both by 50 m x 100 m.
            (V2 + "001", V2, "", 100, 250, sq(3, 0)),  # no grid worker
            (V2 + "002", V2, "郑一", 100, 250, sq(3.5, 0)),
            (V2 + "003", V2, "冯二", 100, 250, sq(4, 0)),
            (V2 + "005", V2, "褚四", 450, 900, sq(3, 1)),  # too many households for a 社区
            (V2 + "004", V2, "陈三", 100, 250, sq(2.5, 3)),  # half in V1, half in V2
            (TOWN + "009001", V2, "卫五", 100, 250, sq(4, 1)),  # code not under V2
            (V2 + "007", V2, "蒋六", 100, 250, BOWTIE),  # self-intersecting
            (V2 + "008", V2, "沈七", 100, 250, shapely.Polygon()),  # empty
            (None, None, "韩八", 100, 250, sq(5, 4)),  # no code at all: reported as row 17
            (V2 + "009", V2, "杨九", 100, 250, shapely.LineString([(X0, Y0), (X0 + 99, Y0 + 99)])),
        ]
    )


def found(report: GridReport) -> list[tuple[str, str | None, str]]:
    return sorted(
        (p.code, None if p.code == "gap" else p.feature, p.severity) for p in report.problems
    )


def test_clean_layer_has_no_problems(clean, villages):
    outline = shapely.union_all(villages.geometry.to_numpy()).intersection(sq(0, 0, 6, 3))
    report = validate_grids(clean, outline=outline, villages=villages)
    assert report.problems == []
    assert report.ok
    assert report.errors == [] and report.warnings == []
    assert report.n_grids == 6
    report.raise_if_errors()  # nothing to raise
    assert report.to_frame().empty
    assert list(report.to_frame().columns) == ["code", "severity", "feature", "message", "hint"]


def test_every_problem_is_reported_at_once(broken, villages):
    report = validate_grids(broken, villages=villages)
    assert found(report) == sorted(EXPECTED)
    assert report.n_grids == len(broken)
    assert not report.ok
    assert all(isinstance(p.message, Text) and isinstance(p.hint, Text) for p in report.problems)
    # Errors come first, each group in feature order.
    severities = [p.severity for p in report.problems]
    assert severities == sorted(severities, key=[ERROR, WARNING].index)
    assert len(report.errors) == sum(s == ERROR for _, _, s in EXPECTED)
    assert len(report.warnings) == sum(s == WARNING for _, _, s in EXPECTED)


def test_messages_carry_the_known_numbers(broken, villages):
    report = validate_grids(broken, villages=villages)
    by = {(p.code, p.feature): p for p in report.problems}
    assert "rows 6, 7" in str(by["duplicate_code", V1 + "006"].message)
    overlaps = [str(p.message) for p in report.problems if p.code == "overlap"]
    assert all("5,000 m²" in m for m in overlaps)
    assert any(f"overlaps grid {V2}003" in m for m in overlaps)
    spans = str(by["spans_villages", V2 + "004"].message)
    assert f"{V1} 5,000 m²" in spans and f"{V2} 5,000 m²" in spans
    (gap,) = [p for p in report.problems if p.code == "gap"]
    assert "10,000 m²" in str(gap.message)
    assert gap.feature == "gap@524150,3737150"  # representative point of the missing cell
    assert all(f"{V1}{s:03d}" in str(gap.message) for s in (1, 2, 3, 4, 5))
    assert "LineString" in str(by["not_polygon", V2 + "009"].message)
    assert "Self-intersection" in str(by["invalid_geometry", V2 + "007"].message)
    assert "450 户" in str(by["size_households", V2 + "005"].message)
    assert "城镇" in str(by["size_households", V2 + "005"].message)
    assert "40–250" in str(by["size_households", V1 + "004"].message)
    assert "3000 人" in str(by["size_residents", V1 + "006"].message)


def test_missing_village_code_is_not_also_a_wrong_village(broken, villages):
    # Regression: a missing village_code was compared as the text "None"/"nan".
    report = validate_grids(broken, villages=villages)
    assert [p.code for p in report.problems if p.feature == V1 + "008"] == ["missing_hierarchy"]


def test_wrong_village(clean, villages):
    grids = clean.copy()
    grids.loc[0, "village_code"] = V2
    grids.loc[0, "grid_code"] = V2 + "009"
    report = validate_grids(grids, villages=villages)
    assert [(p.code, p.feature) for p in report.problems] == [("wrong_village", V2 + "009")]
    assert f"lies in village {V1} but says {V2}" in str(report.problems[0].message)


def test_gap_against_an_outline(broken):
    outline = sq(0, 0, 6, 6)
    report = validate_grids(broken, outline=outline)
    gaps = sorted(str(p.message) for p in report.problems if p.code == "gap")
    # The hole (10,000 m²) plus the rest of the 600 m x 600 m square not covered.
    covered = shapely.union_all(
        [g for g in broken.geometry if g is not None and g.is_valid and g.area > 0]
    ).area
    outer = 360_000 - covered - 10_000
    assert len(gaps) == 2
    assert any("10,000 m²" in m for m in gaps)
    assert any(f"{outer:,.0f} m²" in m for m in gaps)
    # Without villages= the spans-villages check is off.
    assert "spans_villages" not in {p.code for p in report.problems}


def test_gap_smaller_than_tolerance_is_ignored(clean, villages):
    grids = clean.copy()
    grids.loc[1, "geometry"] = grids.geometry[1].difference(
        shapely.box(X0 + 100, Y0 + 150, X0 + 100.5, Y0 + 151)  # a 0.5 m² hole
    )
    assert validate_grids(grids, villages=villages).problems == []


def test_raise_if_errors_lists_every_error(broken, villages):
    report = validate_grids(broken, villages=villages)
    with pytest.raises(GridValidationError, match=r"^14 grid error\(s\)") as info:
        report.raise_if_errors()
    text = str(info.value)
    for problem in report.errors:
        assert f"[{problem.code}] {problem.feature}: " in text
    assert "size_households" not in text  # warnings are not errors
    assert info.value.problems == report.problems


def test_warnings_alone_do_not_raise(clean, villages):
    grids = clean.copy()
    grids.loc[0, "households"] = 5
    report = validate_grids(grids, villages=villages)
    assert report.ok
    assert [p.code for p in report.warnings] == ["size_households"]
    report.raise_if_errors()


def test_to_frame(broken, villages):
    report = validate_grids(broken, villages=villages)
    frame = report.to_frame()
    assert len(frame) == len(EXPECTED)
    assert list(frame.columns) == ["code", "severity", "feature", "message", "hint"]
    assert set(frame.severity) == {ERROR, WARNING}
    assert frame.message.tolist() == [p.message for p in report.problems]
    assert frame.hint.tolist() == [p.hint for p in report.problems]
    assert report.problems[0].as_dict()["hint"] == report.problems[0].hint.as_dict()
    json.dumps([p.as_dict() for p in report.problems])  # plain values for --json


def test_area_type_column_picks_the_rule(clean):
    grids = clean.copy()
    grids["area_type"] = ["城镇", "农村", "农村", "城镇", "城镇", "农村"]
    grids["households"] = [300, 300, 100, 100, 100, 100]
    report = validate_grids(grids)
    assert [(p.code, p.feature) for p in report.problems] == [("size_households", V1 + "002")]


def test_missing_columns_are_reported_per_layer(clean):
    report = validate_grids(clean.drop(columns=["village_code", "grid_worker"]))
    missing = [p for p in report.problems if p.code == "missing_column"]
    assert [p.feature for p in missing] == ["(layer)", "(layer)"]
    assert any("village_code" in str(p.message) for p in missing)
    assert any("grid_worker" in str(p.message) for p in missing)


def test_geographic_crs_is_refused(clean):
    with pytest.raises(ValueError, match=re.escape("grids.to_crs('EPSG:4549')")):
        validate_grids(clean.to_crs("EPSG:4326"))

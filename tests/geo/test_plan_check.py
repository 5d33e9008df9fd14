"""geo.planning.check: a draft with one known problem gets exactly that error or warning."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.core.errors import InputProblems
from geo.core.i18n import Text
from geo.grids.validate import ERROR, WARNING
from geo.planning.check import (
    BALANCE_HIGH,
    COMPACTNESS_MIN,
    DraftReport,
    check_draft,
    grid_metrics,
)
from geo.planning.edit import split_grid
from geo.planning.metrics import WORKLOAD_WINDOW_DAYS

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0
TOWN = "320924101"
V1, V2 = TOWN + "001", TOWN + "002"  # V1: columns 0..2, V2: columns 3..5; rows 0..2
AS_OF = pd.Timestamp("2026-11-20 23:59:59")


def box(c: float, r: float, w: float = 1, h: float = 1) -> shapely.Polygon:
    """A ``w`` x ``h`` block of 100 m cells with its lower left corner at column c, row r."""
    return shapely.box(X0 + 100 * c, Y0 + 100 * r, X0 + 100 * (c + w), Y0 + 100 * (r + h))


def code(c: int, r: int) -> str:
    village = V1 if c < 3 else V2
    return f"{village}{(c % 3) * 3 + r + 1:03d}"


def draft() -> gpd.GeoDataFrame:
    """18 square grids of 100 households in two villages: a clean, publishable draft."""
    rows = [
        {
            "grid_code": code(c, r),
            "grid_name": f"第{(c % 3) * 3 + r + 1}网格",
            "village_code": V1 if c < 3 else V2,
            "town_code": TOWN,
            "area_type": "农村",
            "grid_worker": f"网格员{c}{r}",
            "grid_worker_phone": f"139000000{c}{r}",
            "households": 100,
            "residents": 270,
            "geometry": box(c, r),
        }
        for c in range(6)
        for r in range(3)
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


def villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"village_code": [V1, V2], "town_code": [TOWN, TOWN], "kind": ["村", "村"]},
        geometry=[box(0, 0, 3, 3), box(3, 0, 3, 3)],
        crs=METRIC,
    )


def at(grids: gpd.GeoDataFrame, grid: str) -> int:
    return int(np.flatnonzero(grids["grid_code"] == grid)[0])


def with_geom(grids: gpd.GeoDataFrame, grid: str, shape: shapely.Geometry) -> gpd.GeoDataFrame:
    out = grids.copy()
    out.iloc[at(out, grid), out.columns.get_loc("geometry")] = shape
    return out


def with_value(grids: gpd.GeoDataFrame, grid: str, **values: object) -> gpd.GeoDataFrame:
    out = grids.copy()
    for col, value in values.items():
        out.iloc[at(out, grid), out.columns.get_loc(col)] = value
    return out


def issues(counts: dict[str, int], *, old: dict[str, int] | None = None) -> gpd.GeoDataFrame:
    """Issue points at grid centres: ``counts`` in the last month, ``old`` two years ago."""
    rows = []
    centres = {g: s.centroid for g, s in zip(draft()["grid_code"], draft().geometry, strict=True)}
    for batch, when in (
        (counts, AS_OF - pd.Timedelta(days=30)),
        (old or {}, AS_OF - pd.Timedelta(days=800)),
    ):
        for grid, n in batch.items():
            rows += [{"received_at": when, "grid_code": grid, "geometry": centres[grid]}] * n
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


def kinds(report: DraftReport) -> set[tuple[str, str, str]]:
    return {(p.code, p.severity, p.feature) for p in report.problems}


# --------------------------------------------------------------------------- the clean draft


def test_clean_draft_is_publishable():
    grids = draft()
    kept = grids.copy()
    report = check_draft(grids, villages=villages())
    assert report.problems == []
    assert report.publishable
    assert report.n_grids == 18
    assert_geodataframe_equal(grids, kept)
    assert report.summary().startswith("草案可发布：0 个错误，0 个警告（18 个网格，2 个村(居)）")
    assert (
        "draft publishable: 0 error(s), 0 warning(s) (18 grids in 2 villages)" in report.summary()
    )
    assert list(report.to_frame().columns) == [
        "grid_code",
        "village_code",
        "severity",
        "code",
        "message",
        "hint",
    ]


def test_an_edited_draft_stays_publishable():
    grids = draft()
    line = shapely.LineString([(X0 + 150, Y0 - 10), (X0 + 150, Y0 + 310)])
    for r in range(3):  # split the middle column of V1 in halves
        grids, _ = split_grid(grids, code(1, r), line)
    report = check_draft(grids, villages=villages())
    assert report.errors == []
    assert report.publishable


# --------------------------------------------------------------------------- errors


def _overlap(g):
    return with_geom(g, code(0, 0), box(0, 0, 1.2, 1))


def _gap(g):
    return g[g["grid_code"] != code(1, 1)]


def _spans(g):
    g = with_geom(g, code(2, 1), box(2, 1, 1.5, 1))
    return with_geom(g, code(3, 1), box(3.5, 1, 0.5, 1))


def _split_apart(g):
    g = with_geom(g, code(0, 0), shapely.MultiPolygon([box(0, 0), box(2, 2)]))
    return g[g["grid_code"] != code(2, 2)]


def _duplicate(g):
    return with_value(g, code(0, 1), grid_code=code(0, 0))


def _not_digits(g):
    return with_value(g, code(0, 0), grid_code="32092410100100A")


def _other_village(g):
    return with_value(g, code(0, 0), grid_code=V2 + "099")


def _bowtie(g):
    x, y = X0, Y0
    shape = shapely.Polygon([(x, y), (x + 100, y + 100), (x + 100, y), (x, y + 100)])
    return with_geom(g, code(0, 0), shape)


def _beyond(g):
    return with_geom(g, code(0, 0), box(-0.5, 0, 1.5, 1))


ERRORS = {
    "overlap": (_overlap, "overlap", code(1, 0)),
    "gap": (_gap, "gap", "gap@524150,3737150"),
    "spans_villages": (_spans, "spans_villages", code(2, 1)),
    "not_contiguous": (_split_apart, "not_contiguous", code(0, 0)),
    "duplicate_code": (_duplicate, "duplicate_code", code(0, 0)),
    "malformed_not_digits": (_not_digits, "malformed_code", "32092410100100A"),
    "malformed_other_village": (_other_village, "malformed_code", V2 + "099"),
    "invalid_geometry": (_bowtie, "invalid_geometry", code(0, 0)),
    "outside_villages": (_beyond, "outside_villages", code(0, 0)),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_each_error_is_found_and_blocks_publishing(case):
    mutate, kind, feature = ERRORS[case]
    report = check_draft(mutate(draft()), villages=villages())
    assert (kind, ERROR, feature) in kinds(report)
    assert not report.publishable
    frame = report.to_frame()
    row = frame[(frame["code"] == kind) & (frame["grid_code"] == feature)].iloc[0]
    assert row["village_code"] == V1
    assert isinstance(row["message"], Text) and isinstance(row["hint"], Text)
    assert frame["severity"].iloc[0] == ERROR  # errors come first
    assert "不可发布" in report.summary() and f"{kind} ×" in report.summary()


def test_malformed_code_replaces_the_hierarchy_warning():
    report = check_draft(_other_village(draft()), villages=villages())
    found = [p for p in report.problems if p.feature == V2 + "099"]
    assert [p.code for p in found] == ["malformed_code"]
    assert "does not start with village_code 320924101001" in str(found[0].message)


def test_not_contiguous_names_the_parts():
    report = check_draft(_split_apart(draft()), villages=villages())
    (p,) = [p for p in report.problems if p.code == "not_contiguous"]
    assert "the grid is in 2 separate parts (10,000, 10,000 m²)" in str(p.message)


def test_outside_villages_says_how_much():
    report = check_draft(_beyond(draft()), villages=villages())
    (p,) = [p for p in report.problems if p.code == "outside_villages"]
    assert "5,000 m² of the grid lie outside every village" in str(p.message)


# --------------------------------------------------------------------------- warnings


def test_size_rule_on_recounted_households():
    grids = draft()  # the column says 100 everywhere
    homes = gpd.GeoDataFrame(
        {"residents": [3] * 300},
        geometry=[box(0, 0).centroid] * 300,
        crs=METRIC,
    )
    report = check_draft(grids, villages=villages(), households=homes)
    assert ("size_households", WARNING, code(0, 0)) in kinds(report)
    (p,) = [p for p in report.problems if p.code == "size_households" and p.feature == code(0, 0)]
    assert p.message.zh.startswith("300 户")
    assert report.metrics.loc[at(grids, code(0, 0)), ["households", "residents"]].tolist() == [
        300,
        900,
    ]
    # every other grid has no household point now: 0 households, below the rural minimum
    assert sum(p.code == "size_households" for p in report.problems) == 18


@pytest.mark.parametrize(("households", "ratio"), [(210, "2.10"), (45, "0.45")])
def test_household_balance(households, ratio):
    grids = with_value(draft(), code(0, 0), households=households)
    report = check_draft(grids, villages=villages())
    (p,) = [p for p in report.problems if p.code == "balance_households"]
    assert p.feature == code(0, 0) and p.severity == WARNING
    assert f"households {households} is {ratio}× the village median 100" in str(p.message)
    assert f"rule: above {BALANCE_HIGH:g}× or below 0.5×" in str(p.message)
    assert report.publishable


def test_balance_of_an_empty_grid_names_the_village_median():
    # 0 households: the ratio is 0, and the median must not be derived as 0 ÷ 0
    grids = with_value(draft(), code(0, 0), households=0)
    report = check_draft(grids, villages=villages())
    (p,) = [p for p in report.problems if p.code == "balance_households"]
    assert p.feature == code(0, 0)
    assert "户数 0，为本村(居)中位数 100 的 0.00 倍" in str(p.message)
    assert "households 0 is 0.00× the village median 100" in str(p.message)
    assert "nan" not in str(p.message)


def test_workload_balance_counts_households_and_the_last_12_months_by_location():
    # Workload = 100 households + issues of the last 12 months: 110 in most grids.
    counts = {g: 10 for g in draft()["grid_code"]}
    counts[code(1, 0)] = 250  # 350: 3.18× the village median of 110
    counts[code(4, 0)] = 25  # 125: 1.14×, though 2.5× the median issue count
    points = issues(counts, old={code(2, 0): 300})
    points.loc[points["grid_code"] == code(1, 0), "grid_code"] = "stale"  # located by point
    report = check_draft(draft(), villages=villages(), issues=points, as_of=AS_OF)
    assert report.as_of == AS_OF
    (p,) = [p for p in report.problems if p.code == "balance_workload"]
    assert p.feature == code(1, 0)
    assert "workload (households + issues in the last 12 months) 350 is 3.18× the village " in (
        p.message.en
    )
    assert "工作量（户数+近12个月诉求） 350，为本村(居)中位数 110 的 3.18 倍" in str(p.message)
    metrics = report.metrics.set_index("grid_code")
    assert metrics.loc[code(2, 0), ["issues_12m", "workload"]].tolist() == [10, 110]  # 300 old
    assert WORKLOAD_WINDOW_DAYS == 365


def test_area_balance_and_compactness():
    line = shapely.LineString([(X0 + 5, Y0 - 10), (X0 + 5, Y0 + 110)])
    grids, change = split_grid(draft(), code(0, 0), line)  # a 5 m x 100 m strip
    strip = change.added[0]
    report = check_draft(grids, villages=villages())
    found = kinds(report)
    assert ("compactness", WARNING, strip) in found
    assert ("balance_area", WARNING, strip) in found
    (p,) = [p for p in report.problems if p.code == "compactness" and p.feature == strip]
    assert f"Polsby–Popper 4πA/P² = 0.14, below {COMPACTNESS_MIN:g}" in str(p.message)
    assert report.publishable


def test_unmatched_edges_are_a_warning():
    # an extra vertex on grid 0,0's eastern edge that its neighbour does not have
    corners = [(0, 0), (100, 0), (100, 50), (100, 100), (0, 100)]
    shape = shapely.Polygon([(X0 + x, Y0 + y) for x, y in corners])
    report = check_draft(with_geom(draft(), code(0, 0), shape), villages=villages())
    assert ("edges_not_matched", WARNING, code(0, 0)) in kinds(report)
    assert report.publishable


# --------------------------------------------------------------------------- metrics, guards


def test_grid_metrics_known_answers():
    grids = draft()
    homes = gpd.GeoDataFrame(
        {"residents": [2, 4, 3], "grid_code": [code(0, 0), code(0, 0), "nowhere"]},
        geometry=[box(0, 0).centroid, box(0, 0).centroid, box(4, 2).centroid],
        crs=METRIC,
    )
    m = grid_metrics(grids, households=homes, issues=issues({code(5, 2): 3}), as_of=AS_OF)
    assert list(m.columns) == [
        "grid_code",
        "village_code",
        "households",
        "residents",
        "issues_12m",
        "workload",
        "area_km2",
        "polsby_popper",
        "parts",
        "households_vs_median",
        "workload_vs_median",
        "area_vs_median",
    ]
    first = m.iloc[at(grids, code(0, 0))]
    assert first[["households", "residents"]].tolist() == [2, 6]
    assert m.iloc[at(grids, code(4, 2))]["households"] == 1  # its code said "nowhere"
    assert m["area_km2"].tolist() == pytest.approx([0.01] * 18)
    assert m["polsby_popper"].tolist() == pytest.approx([math.pi / 4] * 18)
    assert m["issues_12m"].sum() == 3 and m.iloc[at(grids, code(5, 2))]["issues_12m"] == 3
    # households + issues: 2 in grid 0,0, 1 in grid 4,2, 3 in grid 5,2, none elsewhere
    assert m["workload"].sum() == 6 and m.iloc[at(grids, code(5, 2))]["workload"] == 3
    assert m["workload_vs_median"].isna().all()  # the village medians are 0
    assert m["area_vs_median"].tolist() == pytest.approx([1.0] * 18)
    plain = grid_metrics(grids)
    assert plain["households"].tolist() == [100] * 18 and plain["workload"].isna().all()


def test_guards_list_every_input_problem():
    with pytest.raises(InputProblems, match="grids is in EPSG:4326, not a metric CRS") as info:
        check_draft(draft().to_crs("EPSG:4326"), villages=villages())
    assert isinstance(info.value, ValueError)
    late = issues({code(0, 0): 1}).drop(columns="received_at")
    with pytest.raises(InputProblems, match="2 problem") as info:
        check_draft(draft(), villages=villages().to_crs("EPSG:4326"), issues=late)
    assert info.value.problems == [
        "the layers are in different CRS (grids in EPSG:4549, villages in EPSG:4326); "
        "project all to one, e.g. .to_crs('EPSG:4549')",
        "issues has no received_at column (needed for the 12-month workload)",
    ]

"""validate_grids' shortcuts give the report a plain pairwise check gives, problem for problem.

validate_grids skips the pairwise overlay when the grids form a valid coverage (or their areas
add up to their union's), intersects grids with villages only when a grid is not covered by
the village it names, and applies the size rules as arrays. The reference below does each of
those rules the straightforward way (every pair, every row); the cases are a small county
drawn like the demo (Voronoi grids inside Voronoi villages) with planted gaps, overlaps,
grids across a village boundary, wrong village codes, villages overlapping each other and
grids outside the size rules.
"""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.core.errors import Problem
from geo.core.i18n import Text
from geo.core.settings import get_settings
from geo.grids.validate import ERROR, WARNING, validate_grids

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0
SIDE_M = 3_000.0
TOWN = "320924101"
FAST_RULES = (
    "overlap",
    "gap",
    "spans_villages",
    "wrong_village",
    "size_households",
    "size_residents",
)


def county(seed: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, shapely.Polygon]:
    """About 60 Voronoi grids in 4 villages (unions of grids) tiling a 3 km square."""
    rng = np.random.default_rng(seed)
    frame = shapely.box(X0, Y0, X0 + SIDE_M, Y0 + SIDE_M)
    seeds = shapely.multipoints(rng.uniform(0, SIDE_M, (60, 2)) + np.array([X0, Y0]))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame))
    cells = shapely.intersection(cells, frame)
    centre = shapely.centroid(cells)
    column = (shapely.get_x(centre) > X0 + SIDE_M / 2).astype(int)
    row = (shapely.get_y(centre) > Y0 + SIDE_M / 2).astype(int)
    which = column + 2 * row
    vcodes = [f"{TOWN}{v + 1:03d}" for v in range(4)]
    villages = gpd.GeoDataFrame(
        {"village_code": vcodes, "kind": ["村", "社区", "村", "社区"]},
        geometry=[shapely.coverage_union_all(cells[which == v]) for v in range(4)],
        crs=METRIC,
    )
    seq = Counter[int]()
    rows: list[dict[str, object]] = []
    for cell, v in zip(cells, which.tolist(), strict=True):
        seq[v] += 1
        rows.append(
            {
                "grid_code": f"{vcodes[v]}{seq[v]:03d}",
                "village_code": vcodes[v],
                "town_code": TOWN,
                "grid_worker": f"网格员{len(rows) + 1}",
                "households": int(rng.integers(60, 240)),
                "residents": int(rng.integers(150, 600)),
                "geometry": cell,
            }
        )
    return gpd.GeoDataFrame(rows, crs=METRIC), villages, frame


def planted(seed: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, shapely.Polygon]:
    """The county with two gaps, two overlaps, a grid across villages, a wrong village code
    and grids outside the size rules."""
    grids, villages, outline = county(seed)
    rng = np.random.default_rng(seed + 1)
    grids = grids.drop(grids.index[[3, 17]]).reset_index(drop=True)  # gaps
    geoms = grids.geometry.to_numpy().copy()
    for i in (5, 30):
        geoms[i] = shapely.buffer(geoms[i], 25.0, join_style="mitre")  # overlaps neighbours
    other = np.flatnonzero(grids["village_code"] != grids["village_code"].iloc[10])
    far = other[np.argmin(shapely.distance(geoms[other], geoms[10]))]
    geoms[10] = shapely.union(geoms[10], shapely.buffer(geoms[far], -5.0))  # across villages
    grids["geometry"] = geoms
    own = grids["village_code"].iloc[20]
    grids.loc[20, "village_code"] = next(v for v in villages.village_code if v != own)  # wrong
    picks = rng.choice(len(grids), 6, replace=False)
    grids.loc[picks[:3], "households"] = [5, 900, 1_200]
    grids.loc[picks[3:], "residents"] = [3_000, 9_999, 2_600]
    return grids, villages, outline


# --------------------------------------------------------------------------- the reference


def _labels(grids: gpd.GeoDataFrame) -> list[str]:
    return [
        c if isinstance(c, str) and c.strip() else f"row {i + 1}"
        for i, c in enumerate(grids["grid_code"].to_numpy(dtype=object))
    ]


def reference(
    grids: gpd.GeoDataFrame,
    *,
    outline: shapely.Geometry | None,
    villages: gpd.GeoDataFrame,
) -> Counter[Problem]:
    """The rules validate_grids speeds up, written as plain loops over pairs and rows."""
    cfg = get_settings()
    tol = cfg.boundary_tolerance_m2
    labels = _labels(grids)
    geoms = list(grids.geometry)
    usable = [
        g is not None and not g.is_empty and g.geom_type in ("Polygon", "MultiPolygon")
        for g in geoms
    ]
    usable = [ok and g.is_valid for ok, g in zip(usable, geoms, strict=True)]
    found: list[Problem] = []
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            if not (usable[i] and usable[j]) or not geoms[i].intersects(geoms[j]):
                continue
            area = geoms[i].intersection(geoms[j]).area
            if area > tol:
                for me, other in ((i, j), (j, i)):
                    found.append(
                        Problem(
                            "overlap",
                            ERROR,
                            labels[me],
                            Text(
                                f"与网格 {labels[other]} 重叠 {area:,.0f} m²",
                                f"overlaps grid {labels[other]}",
                            ),
                            Text(
                                "调整公共边界，使每处只属于一个网格",
                                "move the shared boundary so each place belongs to one grid",
                            ),
                        )
                    )
    union = shapely.union_all([g for g, ok in zip(geoms, usable, strict=True) if ok])
    if outline is not None:
        holes = list(shapely.get_parts(shapely.difference(outline, union)))
    else:
        holes = [shapely.Polygon(r) for p in shapely.get_parts(union) for r in p.interiors]
    seen = set()
    for gap in holes:
        if gap.area <= tol or gap.wkb in seen:
            continue
        seen.add(gap.wkb)
        near = sorted(labels[k] for k, g in enumerate(geoms) if usable[k] and g.intersects(gap))
        names = ", ".join(near[:6]) or "—"
        c = gap.representative_point()
        found.append(
            Problem(
                "gap",
                ERROR,
                f"gap@{c.x:.0f},{c.y:.0f}",
                Text(
                    f"网格间空隙 {gap.area:,.0f} m²，邻近网格 {names}",
                    f"gap not covered by any grid (near {names})",
                ),
                Text("扩大相邻网格以覆盖空隙", "extend a neighbouring grid to cover it"),
            )
        )
    vcodes = villages["village_code"].astype(str).tolist()
    for i, g in enumerate(geoms):
        if not usable[i]:
            continue
        shares = [
            (code, g.intersection(v).area)
            for code, v in zip(vcodes, villages.geometry, strict=True)
            if g.intersects(v)
        ]
        shares = [(code, a) for code, a in shares if a > tol]
        said = str(grids["village_code"].iloc[i])
        if len(shares) > 1:
            text = ", ".join(f"{code} {a:,.0f} m²" for code, a in shares)
            found.append(
                Problem(
                    "spans_villages",
                    ERROR,
                    labels[i],
                    Text(f"跨越 {len(shares)} 个村(居)", f"spans {len(shares)} villages ({text})"),
                    Text(
                        "沿村界切分网格，或调整村界",
                        "cut the grid along the village boundary, or move the boundary",
                    ),
                )
            )
        elif shares and shares[0][0] != said:
            found.append(
                Problem(
                    "wrong_village",
                    ERROR,
                    labels[i],
                    Text(
                        f"位于村(居) {shares[0][0]}，但登记为 {said}",
                        f"lies in village {shares[0][0]} but says {said}",
                    ),
                    Text("更正村(居)编码或边界", "correct village_code or the boundary"),
                )
            )
    kinds = dict(zip(vcodes, villages["kind"].astype(str), strict=True))
    for i in range(len(grids)):
        if "area_type" in grids.columns:
            urban = str(grids["area_type"].iloc[i]) == "城镇"
        else:
            urban = kinds.get(str(grids["village_code"].iloc[i]), "") == "社区"
        rule, kind = (
            (cfg.urban_rule, Text("城镇", "urban"))
            if urban
            else (cfg.rural_rule, Text("农村", "rural"))
        )
        hh, res = float(grids["households"].iloc[i]), float(grids["residents"].iloc[i])
        if not rule.min_households <= hh <= rule.max_households:
            few = hh < rule.min_households
            span = f"{rule.min_households}–{rule.max_households}"
            found.append(
                Problem(
                    "size_households",
                    WARNING,
                    labels[i],
                    Text(
                        f"{int(hh)} 户，{'少于' if few else '多于'}{kind.zh}网格标准 {span} 户",
                        f"{int(hh)} households, {'fewer' if few else 'more'} than the {kind.en} "
                        f"standard of {span}",
                    ),
                    Text(
                        "与邻格合并，或从邻格划入区域",
                        "merge it with a neighbour or take area from one",
                    )
                    if few
                    else Text(
                        "拆分该网格，或把部分区域划给邻格", "split it or give area to a neighbour"
                    ),
                )
            )
        if res > rule.max_residents:
            found.append(
                Problem(
                    "size_residents",
                    WARNING,
                    labels[i],
                    Text(
                        f"{int(res)} 人，超过 {rule.max_residents} 人",
                        "more residents than allowed",
                    ),
                    Text("拆分该网格", "split the grid"),
                )
            )
    return Counter(_same_order(p) for p in found)


def fast(grids, *, outline, villages) -> Counter[Problem]:
    report = validate_grids(grids, outline=outline, villages=villages)
    return Counter(_same_order(p) for p in report.problems if p.code in FAST_RULES)


def _same_order(p: Problem) -> Problem:
    """A spans_villages message lists the villages in spatial-index order: sort the list."""
    if p.code != "spans_villages":
        return p
    head, _, shares = p.message.en.rpartition(" (")
    listed = ", ".join(sorted(shares.rstrip(")").split(", ")))
    message = Text(p.message.zh, f"{head} ({listed})")
    return Problem(p.code, p.severity, p.feature, message, p.hint)


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("with_outline", [True, False])
def test_clean_county_takes_the_shortcuts_and_agrees(seed, with_outline):
    grids, villages, outline = county(seed)
    assert shapely.coverage_is_valid(grids.geometry.to_numpy())  # the shortcut applies
    shape = outline if with_outline else None
    got = fast(grids, outline=shape, villages=villages)
    assert got == reference(grids, outline=shape, villages=villages)
    assert not any(p.severity == ERROR for p in got)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("with_outline", [True, False])
def test_planted_problems_same_as_the_plain_check(seed, with_outline):
    grids, villages, outline = planted(seed)
    shape = outline if with_outline else None
    got = fast(grids, outline=shape, villages=villages)
    assert got == reference(grids, outline=shape, villages=villages)
    codes = Counter(p.code for p in got.elements())
    assert codes["overlap"] >= 4  # two grids, each over at least one neighbour, both sides
    assert codes["spans_villages"] >= 1
    assert codes["wrong_village"] >= 1
    assert codes["size_households"] >= 3
    assert codes["size_residents"] >= 1  # 3,000 exceeds the rural limit at least
    if with_outline:
        assert codes["gap"] >= 2  # the two dropped grids (with the outline, edge ones count)


def test_gaps_alone_keep_the_coverage_shortcut_and_agree():
    grids, villages, outline = county(3)
    grids = grids.drop(grids.index[[4, 25, 40]]).reset_index(drop=True)
    assert shapely.coverage_is_valid(grids.geometry.to_numpy())
    for shape in (outline, None):
        got = fast(grids, outline=shape, villages=villages)
        assert got == reference(grids, outline=shape, villages=villages)
    assert sum(p.code == "gap" for p in fast(grids, outline=outline, villages=villages)) == 3


def test_unmatched_vertices_without_overlap_agree():
    """Grids cut by the village lines, so neighbours' vertices differ: not a valid coverage,
    yet no overlap (the area shortcut)."""
    grids, villages, outline = county(4)
    cut = shapely.LineString([(X0 + 1_111.1, Y0 - 10), (X0 + 1_377.7, Y0 + SIDE_M + 10)])
    geoms = grids.geometry.to_numpy().copy()
    for i in np.flatnonzero(shapely.intersects(geoms, cut))[:1]:
        ring = shapely.segmentize(geoms[i].exterior, 7.0)  # extra vertices on shared edges
        geoms[i] = shapely.Polygon(ring)
    grids["geometry"] = geoms
    assert not shapely.coverage_is_valid(geoms)
    got = fast(grids, outline=outline, villages=villages)
    assert got == reference(grids, outline=outline, villages=villages)
    assert not any(p.code == "overlap" for p in got)


def test_overlapping_villages_and_area_type_agree():
    grids, villages, outline = planted(5)
    vgeoms = villages.geometry.to_numpy().copy()
    vgeoms[1] = shapely.buffer(vgeoms[1], 150.0)  # reaches over its neighbours' grids
    villages = villages.set_geometry(vgeoms)
    grids["area_type"] = np.where(np.arange(len(grids)) % 3 == 0, "城镇", "农村")
    got = fast(grids, outline=outline, villages=villages)
    assert got == reference(grids, outline=outline, villages=villages)
    assert sum(p.code == "spans_villages" for p in got) >= 3


def test_reference_finds_what_was_planted():
    """Guard the guard: the reference is not an empty check that agrees with anything."""
    grids, villages, outline = planted(0)
    found = Counter(p.code for p in reference(grids, outline=outline, villages=villages))
    assert {"overlap", "gap", "spans_villages", "wrong_village"} <= set(found)
    clean, *_ = county(0)
    assert pd.Series([p.code for p in reference(clean, outline=outline, villages=villages)])[
        lambda s: s.isin(["overlap", "gap", "spans_villages", "wrong_village"])
    ].empty

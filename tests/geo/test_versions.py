"""Versioned grid layers on a GeoPackage file and a PostGIS schema (geo.planning.versions)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import geo.planning._versions_publish
from geo.core.errors import GridValidationError
from geo.core.i18n import Text
from geo.grids.assign import PROBLEM_NO_COORDS, assign_events
from geo.planning._versions_model import from_cell, to_cell
from geo.planning.versions import (
    ConflictError,
    PublishBlockedError,
    VersionedGrids,
    VersionError,
)
from geo.store.base import Store, StoreError
from geo.store.gpkg import GeoPackageStore
from geo.store.postgis import PostGISStore

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0
CELL_M = 100.0
COLS, ROWS = 6, 4  # the lattice: 6 × 4 cells of 100 m; village A = columns 0-2, B = 3-5
TOWN = "320924101"
VILLAGE_A, VILLAGE_B = "320924101001", "320924101002"
ROOT = Path(__file__).resolve().parents[2]

# --- the small county --------------------------------------------------------------------


def cell(col: int, row: int) -> shapely.Polygon:
    x, y = X0 + col * CELL_M, Y0 + row * CELL_M
    return shapely.box(x, y, x + CELL_M, y + CELL_M)


def village_of(col: int) -> str:
    return VILLAGE_A if col < COLS // 2 else VILLAGE_B


def grids_from_labels(labels: dict[tuple[int, int], int]) -> gpd.GeoDataFrame:
    """Grids from cell → label (cells with the same village and label form one grid)."""
    groups: dict[tuple[str, int], list[shapely.Polygon]] = {}
    for (col, row), label in sorted(labels.items()):
        groups.setdefault((village_of(col), label), []).append(cell(col, row))
    rows = []
    for i, ((village, label), cells) in enumerate(sorted(groups.items())):
        rows.append(
            {
                "grid_code": f"{village}{label + 1:03d}",
                "grid_name": f"第{label + 1}网格",
                "village_code": village,
                "town_code": TOWN,
                "households": 2 * len(cells),
                "residents": 5 * len(cells) + i,
                "geometry": shapely.union_all(cells),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


def initial_grids() -> gpd.GeoDataFrame:
    """Twelve grids, each one column wide and two rows high."""
    return grids_from_labels(
        {(c, r): (c % (COLS // 2)) * 2 + r // 2 for c in range(COLS) for r in range(ROWS)}
    )


def households(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    xy = [
        (X0 + (c + fx) * CELL_M, Y0 + (r + fy) * CELL_M)
        for c in range(COLS)
        for r in range(ROWS)
        for fx, fy in ((0.25, 0.3), (0.7, 0.8))
    ]
    points = gpd.GeoDataFrame(
        {"household_id": [f"H{i:04d}" for i in range(len(xy))], "residents": 3},
        geometry=gpd.points_from_xy(*zip(*xy, strict=True)),
        crs=METRIC,
    )
    got = assign_events(points, grids)
    points["village_code"] = got["village_code"].astype(str).to_numpy()
    points["grid_code"] = got["grid_code"].astype(str).to_numpy()
    return points


def issues(grids: gpd.GeoDataFrame, xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    """Issues at ``xy`` plus one without coordinates, assigned to ``grids``."""
    geometry = [shapely.Point(x, y) for x, y in xy] + [None]
    n = len(geometry)
    frame = gpd.GeoDataFrame(
        {
            "ticket_id": [f"RX{i:06d}" for i in range(n)],
            "received_at": pd.date_range("2026-01-01", periods=n, freq="h"),
            "category": "环境卫生",
        },
        geometry=geometry,
        crs=METRIC,
    )
    got = assign_events(frame, grids)
    for col in ("grid_code", "village_code", "town_code", "assign_problem"):
        frame[col] = got[col].astype(str).to_numpy()
    return frame


def issue_points(seed: int = 0, n: int = 80) -> list[tuple[float, float]]:
    """Random points around the lattice (some outside) plus points on edges and corners."""
    rng = np.random.default_rng(seed)
    xs = rng.uniform(X0 - 50, X0 + COLS * CELL_M + 50, n)
    ys = rng.uniform(Y0 - 50, Y0 + ROWS * CELL_M + 50, n)
    on_lines = [(X0 + c * CELL_M, Y0 + (r + 0.5) * CELL_M) for c in range(COLS + 1) for r in (0, 2)]
    corners = [(X0 + c * CELL_M, Y0 + r * CELL_M) for c in (1, 3, 5) for r in (1, 2, 3)]
    return [*zip(xs.tolist(), ys.tolist(), strict=True), *on_lines, *corners]


def seed_store(store: Store, seed: int = 0) -> None:
    grids = initial_grids()
    store.write(
        {
            "grids": grids,
            "households": households(grids),
            "issues": issues(grids, issue_points(seed)),
        }
    )


def by_code(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("grid_code").reset_index(drop=True)


def assert_same_grids(got: gpd.GeoDataFrame, expected: gpd.GeoDataFrame) -> None:
    columns = ["grid_code", "grid_name", "village_code", "town_code", "households", "residents"]
    a = by_code(got)[[*columns, "geometry"]]
    b = by_code(expected)[[*columns, "geometry"]]
    assert_geodataframe_equal(
        gpd.GeoDataFrame(a, crs=got.crs),
        gpd.GeoDataFrame(b, crs=expected.crs),
        check_dtype=False,
        check_geom_type=False,
        normalize=True,
    )


def issue_codes(store: Store) -> pd.DataFrame:
    frame = store.read("issues")
    cols = ["ticket_id", "grid_code", "village_code", "town_code", "assign_problem"]
    return (
        pd.DataFrame({c: frame[c].fillna("").astype(str) for c in cols})
        .sort_values("ticket_id")
        .reset_index(drop=True)
    )


def split_village_a() -> gpd.GeoDataFrame:
    """Village A's 12 cells as 3 grids, one column each (codes 001, 002 kept; 003 new)."""
    return grids_from_labels({(c, r): c for c in range(COLS // 2) for r in range(ROWS)})


# --- stores --------------------------------------------------------------------------------


@contextmanager
def fresh_store(kind: str, folder: Path, url: str | None) -> Iterator[Store]:
    """An empty store of ``kind``; a PostGIS one gets its own schema, dropped afterwards."""
    if kind == "gpkg":
        yield GeoPackageStore(folder / f"{uuid.uuid4().hex[:8]}.gpkg")
        return
    from sqlalchemy import text

    assert url is not None
    schema = f"gridgov_test_{uuid.uuid4().hex[:12]}"
    pg = PostGISStore(url, schema=schema)
    try:
        yield pg
    finally:
        with pg.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        pg.engine.dispose()


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def make_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[], AbstractContextManager[Store]]:
    """A factory of empty stores of one kind (for tests that need several)."""
    url = request.getfixturevalue("postgis_url") if request.param == "postgis" else None
    return lambda: fresh_store(request.param, tmp_path, url)


@pytest.fixture
def store(make_store: Callable[[], AbstractContextManager[Store]]) -> Iterator[Store]:
    """A store of each kind seeded with the small county."""
    with make_store() as s:
        seed_store(s)
        yield s


# --- versions ------------------------------------------------------------------------------


def test_first_use_makes_version_one_from_the_grids_layer(store):
    vg = VersionedGrids(store)
    table = vg.versions()
    assert table["version"].tolist() == [1]
    assert table["current"].tolist() == [True]
    assert table["source"].tolist() == ["initial"]
    assert table["n_grids"].tolist() == [12]
    assert_same_grids(vg.read_version(1), initial_grids())
    assert vg.change_log()["action"].tolist() == ["init"]
    assert table["reason"].tolist() == [
        Text("启用版本管理时的网格", "grids found when versioning began")
    ]
    # A second handle on the same store does not initialise again.
    assert VersionedGrids(store).versions()["version"].tolist() == [1]


def test_words_gridgov_writes_are_stored_as_json_and_read_back_as_text(store):
    VersionedGrids(store).versions()
    with store.transaction(readonly=True) as tx:
        stored = tx.read("change_log")["detail"].iloc[0]
    assert json.loads(stored) == {"zh": "12 个网格", "en": "12 grids"}
    assert from_cell(to_cell(Text("草案", "draft"))) == Text("草案", "draft")
    # A planner's words, and a note written before notes were JSON, read back as they are.
    for typed in ("按道路重划", "{not json", '{"zh": "只有中文"}', "旧 / old"):
        assert to_cell(typed) == typed and from_cell(typed) == typed
    assert from_cell(None) == ""


def test_publish_diff_rollback_round_trip(store):
    vg = VersionedGrids(store)
    issues_before = issue_codes(store)
    draft = vg.open_draft(VILLAGE_A, "王规划")
    assert (draft.revision, draft.base_version, draft.scope) == (0, 1, "village")
    assert sorted(draft.grids.grid_code) == [f"{VILLAGE_A}{i:03d}" for i in range(1, 7)]

    saved = vg.save_draft(
        draft, split_village_a(), author="王规划", reason="按道路重划", expected_revision=0
    )
    assert saved.revision == 1
    result = vg.publish(saved, author="王规划", reason="镇党委会议通过")
    assert result.version == 2
    assert result.removed == [f"{VILLAGE_A}{i:03d}" for i in (4, 5, 6)]
    assert result.changed == [f"{VILLAGE_A}{i:03d}" for i in (1, 2, 3)]
    assert result.added == []

    v2 = pd.concat([initial_grids().query("village_code == @VILLAGE_B"), split_village_a()])
    assert_same_grids(vg.read_version(2), v2)
    assert_same_grids(store.read("grids"), v2)  # the layer the app reads is the new version
    assert vg.versions()["current"].tolist() == [False, True]

    diff = vg.diff(1, 2)
    assert diff.added == [] and diff.removed == result.removed and diff.changed == result.changed
    assert set(diff.grids.loc[diff.grids.status == "unchanged", "grid_code"]) == set(
        initial_grids().query("village_code == @VILLAGE_B").grid_code
    )
    # Village A's area moved between its grids and nowhere else: 12 cells of 100 m.
    assert diff.flows["area_m2"].sum() == pytest.approx(12 * CELL_M**2)
    assert set(diff.flows["from_grid"]) | set(diff.flows["to_grid"]) <= set(
        initial_grids().query("village_code == @VILLAGE_A").grid_code
    )
    # Old grid 001 (column 0, rows 0-1) lies wholly in new grid 001 (column 0).
    row = diff.flows.query("from_grid == '320924101001001'")
    assert row["to_grid"].tolist() == ["320924101001001"]
    assert row["area_m2"].tolist() == pytest.approx([2 * CELL_M**2])
    assert row["households"].tolist() == [4]
    assert diff.flows["households"].sum() == 24  # 2 per cell
    changed = diff.grids.set_index("grid_code")
    assert changed.loc["320924101001001", "households_a"] == 4
    assert changed.loc["320924101001001", "households_b"] == 8

    back = vg.rollback(1, author="李科长", reason="方案暂缓")
    assert back.version == 3
    assert_same_grids(vg.read_version(3), vg.read_version(1))
    assert_same_grids(store.read("grids"), initial_grids())
    pd.testing.assert_frame_equal(issue_codes(store), issues_before)
    assert vg.versions()["source"].tolist()[-1] == "rollback to 1"
    assert vg.diff(1, 3).grids["status"].eq("unchanged").all()

    log = vg.change_log()
    assert log["action"].tolist() == ["init", "open_draft", "save_draft", "publish", "rollback"]
    assert log["author"].tolist()[1:] == ["王规划", "王规划", "王规划", "李科长"]
    assert log["reason"].tolist()[2:] == ["按道路重划", "镇党委会议通过", "方案暂缓"]
    assert log["at"].is_monotonic_increasing
    assert vg.drafts(VILLAGE_A)["status"].tolist() == ["published"]
    # The notes people read in the planner's history, in Chinese and English.
    assert all(isinstance(d, Text) for d in log["detail"])
    assert [str(d) for d in log["detail"]] == [
        "12 个网格 / 12 grids",
        "村(居)草案，基于第 1 版 / village draft based on version 1",
        "3 个网格 / 3 grids",
        f"草案 {draft.draft_id}：新增 0、撤销 3、调整 3 个网格，"
        f"{result.issues_moved} 件诉求、{result.households_moved} 户住户改换网格 / draft "
        f"{draft.draft_id}: 0 added, 3 removed, 3 changed; {result.issues_moved} issues and "
        f"{result.households_moved} households moved",
        f"回退到第 1 版：新增 3、撤销 0、调整 3 个网格，{back.issues_moved} 件诉求、"
        f"{back.households_moved} 户住户改换网格 / rollback to 1: 3 added, 0 removed, 3 changed; "
        f"{back.issues_moved} issues and {back.households_moved} households moved",
    ]


def test_publish_moves_every_issue_to_its_new_grid(store):
    vg = VersionedGrids(store)
    before = issue_codes(store)
    draft = vg.open_draft(VILLAGE_A, "王规划")
    draft = vg.save_draft(
        draft, split_village_a(), author="王规划", reason="r", expected_revision=0
    )
    result = vg.publish(draft, author="王规划", reason="r")

    after = issue_codes(store)
    assert len(after) == len(before)
    assert after["ticket_id"].tolist() == before["ticket_id"].tolist()
    # Every issue, wherever it is, has what assigning all of them to the new grids gives.
    everything = store.read("issues")
    expected = assign_events(everything, store.read("grids"))
    expected = pd.DataFrame(
        {"ticket_id": everything["ticket_id"]}
        | {c: expected[c].astype(str) for c in ("grid_code", "village_code", "town_code")}
        | {"assign_problem": expected["assign_problem"].astype(str)}
    )
    expected = expected.sort_values("ticket_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(after, expected)
    assert (after["assign_problem"] == PROBLEM_NO_COORDS).sum() == 1

    moved = after["grid_code"] != before["grid_code"]
    assert result.issues_moved == moved.sum() > 0
    history = store.read("issue_grid_history").sort_values("ticket_id").reset_index(drop=True)
    assert history["ticket_id"].tolist() == after.loc[moved, "ticket_id"].tolist()
    assert history["old_grid_code"].tolist() == before.loc[moved, "grid_code"].tolist()
    assert history["grid_code"].tolist() == after.loc[moved, "grid_code"].tolist()
    assert set(history["version"]) == {2}
    # Trends stay continuous: the grids of version 1 are still known for every issue.
    assert vg.issue_grids(1).sort_index().tolist() == before["grid_code"].tolist()
    assert vg.issue_grids(2).sort_index().tolist() == after["grid_code"].tolist()

    homes = store.read("households")
    expected_homes = assign_events(homes, store.read("grids"))["grid_code"].astype(str)
    assert homes["grid_code"].tolist() == expected_homes.tolist()

    mapping = store.read("grid_version_map")
    assert set(mapping["version"]) == {2} and set(mapping["old_version"]) == {1}
    shares = mapping.groupby("old_grid_code")["share_of_old"].sum()
    assert shares.to_numpy() == pytest.approx(np.ones(len(shares)))


@st.composite
def splits(draw: st.DrawFn) -> tuple[dict[tuple[int, int], int], int]:
    """A random re-division of village A (or of both villages), some cells left out."""
    both = draw(st.booleans())
    cols = range(COLS) if both else range(COLS // 2)
    k = draw(st.integers(1, 6))
    labels = {}
    for c in cols:
        for r in range(ROWS):
            label = draw(st.integers(-1 if draw(st.booleans()) else 0, k - 1))
            if label >= 0:
                labels[(c, r)] = label
    if not both:  # village B keeps its grids
        labels |= {
            (c, r): (c % (COLS // 2)) * 2 + r // 2
            for c in range(COLS // 2, COLS)
            for r in range(ROWS)
        }
    seed = draw(st.integers(0, 2**16))
    return labels, seed


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(split=splits())
def test_every_issue_in_the_county_has_exactly_one_grid_after_publish(make_store, split):
    labels, seed = split
    with make_store() as store:
        seed_store(store, seed)
        vg = VersionedGrids(store)
        before = issue_codes(store)
        new = grids_from_labels(labels)
        try:
            vg.publish(new, author="测试", reason="随机重划")
        except VersionError as exc:
            # the random layer may equal the current one: draw another, fail on any other refusal
            assume("nothing to publish" not in str(exc))
            raise
        after = issue_codes(store)
        assert after["ticket_id"].tolist() == before["ticket_id"].tolist()  # none lost
        points = store.read("issues").sort_values("ticket_id").reset_index(drop=True)
        county = shapely.union_all(new.geometry.to_numpy())
        inside = points.geometry.intersects(county).to_numpy()
        # Inside the county: exactly one grid, one that contains the issue.
        grids = new.set_index("grid_code")
        for code, point in zip(after["grid_code"][inside], points.geometry[inside], strict=True):
            assert code in grids.index
            assert grids.geometry[code].intersects(point)
        assert (after["assign_problem"][inside] == "").all()
        # Outside (or without coordinates): no grid.
        assert (after["grid_code"][~inside] == "").all()
        expected = assign_events(points, new)["grid_code"].astype(str).tolist()
        assert after["grid_code"].tolist() == expected
        assert vg.issue_grids(1).sort_index().tolist() == before["grid_code"].tolist()


def test_two_planners_saving_the_same_village(store):
    vg = VersionedGrids(store)
    mine = vg.open_draft(VILLAGE_A, "王规划")
    theirs = vg.open_draft(VILLAGE_A, "赵规划")
    assert theirs.draft_id == mine.draft_id and theirs.revision == mine.revision == 0

    first = split_village_a()
    vg.save_draft(mine, first, author="王规划", reason="三列", expected_revision=0)
    second = grids_from_labels({(c, r): r for c in range(COLS // 2) for r in range(ROWS)})
    with pytest.raises(
        ConflictError,
        match=r"changed since revision 0: 王规划 saved revision 1 at 20\d\d-.* \(UTC\+8\)\. "
        r"Your edits were not merged; they are kept as draft 320924101001-",
    ) as info:
        vg.save_draft(theirs, second, author="赵规划", reason="四行", expected_revision=0)
    err = info.value
    assert (err.saved_by, err.expected_revision, err.current_revision) == ("王规划", 0, 1)
    assert err.kept_draft_id and err.kept_draft_id != mine.draft_id

    kept = vg.read_draft(err.kept_draft_id)
    assert (kept.status, kept.conflict_of, kept.author) == ("conflicted", mine.draft_id, "赵规划")
    assert_same_grids(kept.grids, second)  # nothing of the losing planner's work is lost
    assert_same_grids(vg.read_draft(mine.draft_id).grids, first)  # the winner's draft stands
    assert vg.change_log()["action"].tolist()[-1] == "conflict"

    # Publishing a draft object that is no longer the stored revision is refused too.
    with pytest.raises(ConflictError, match=r"is not the one you read \(revision 0\): 王规划"):
        vg.publish(theirs, author="赵规划", reason="r")
    assert vg.current_version() == 1


def test_a_draft_whose_village_changed_since_its_base_cannot_be_published(store):
    vg = VersionedGrids(store)
    early = vg.open_draft(VILLAGE_A, "王规划")
    early = vg.save_draft(
        early, split_village_a(), author="王规划", reason="r", expected_revision=0
    )
    # Someone else publishes a whole layer that changes village A meanwhile.
    other = grids_from_labels({(c, r): r for c in range(COLS) for r in range(ROWS)})
    vg.publish(other, author="赵规划", reason="全县调整")
    with pytest.raises(ConflictError, match=r"赵规划 published version 2 at .*全县调整"):
        vg.publish(early, author="王规划", reason="r")
    assert vg.current_version() == 2


@pytest.mark.parametrize("stage", ["grids", "issues-moved", "issues", "done"])
def test_crash_mid_publish_leaves_the_previous_version(store, monkeypatch, stage):
    vg = VersionedGrids(store)
    draft = vg.open_draft(VILLAGE_A, "王规划")
    draft = vg.save_draft(
        draft, split_village_a(), author="王规划", reason="r", expected_revision=0
    )
    grids_before, issues_before = store.read("grids"), issue_codes(store)
    homes_before = store.read("households")
    log_before = vg.change_log()

    def crash(at: str) -> None:
        if at == stage:
            raise RuntimeError(f"power cut at {at}")

    monkeypatch.setattr(geo.planning._versions_publish, "_checkpoint", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        vg.publish(draft, author="王规划", reason="r")

    assert vg.versions()["version"].tolist() == [1]
    assert_same_grids(store.read("grids"), grids_before)
    pd.testing.assert_frame_equal(issue_codes(store), issues_before)
    pd.testing.assert_frame_equal(store.read("households"), homes_before, check_like=True)
    assert len(store.read("issue_grid_history")) == 0
    assert len(store.read("grid_version_map")) == 0
    pd.testing.assert_frame_equal(vg.change_log(), log_before)
    assert vg.read_draft(draft.draft_id).status == "open"

    monkeypatch.undo()
    assert vg.publish(draft, author="王规划", reason="r").version == 2


_KILLED = """
import os, sys
sys.path.insert(0, {root!r})
import geo.store.gpkg
import geo.planning._versions_publish
from geo.store.base import open_store
from geo.planning.versions import VersionedGrids

geo.store.gpkg._SQLITE_CACHE_KIB = 16  # spill early: the file is half-written when we die

def die(stage):
    if stage == "issues":
        os._exit(7)  # no rollback, no cleanup: as if the machine lost power

geo.planning._versions_publish._checkpoint = die
vg = VersionedGrids(open_store({location!r}, schema={schema!r}))
vg.publish(vg.read_draft({draft!r}), author="王规划", reason="r")
"""


def test_process_killed_mid_publish_leaves_the_previous_version(store):
    vg = VersionedGrids(store)
    draft = vg.open_draft(VILLAGE_A, "王规划")
    draft = vg.save_draft(
        draft, split_village_a(), author="王规划", reason="r", expected_revision=0
    )
    issues_before = issue_codes(store)
    if isinstance(store, PostGISStore):
        location, schema = store.url, store.schema
    else:
        location, schema = store.location, "public"
    code = _KILLED.format(root=str(ROOT), location=location, schema=schema, draft=draft.draft_id)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], timeout=120, check=False)
    assert done.returncode == 7
    if isinstance(store, GeoPackageStore):
        import pyogrio

        journal = Path(f"{store.path}-journal").read_bytes()
        assert journal[:8] == bytes.fromhex("d9d505f920a163d7")  # a hot journal: must roll back
        with pytest.raises(pyogrio.errors.DataSourceError, match="readonly database"):
            pyogrio.read_dataframe(store.path, layer="grids")  # GDAL alone cannot recover

    # Reading through the store rolls the unfinished transaction back.
    assert_same_grids(store.read("grids"), initial_grids())
    pd.testing.assert_frame_equal(issue_codes(store), issues_before)
    assert VersionedGrids(store).versions()["version"].tolist() == [1]
    if isinstance(store, GeoPackageStore):
        assert len(pyogrio.read_dataframe(store.path, layer="issues")) == len(issues_before)


def test_earlier_versions_stay_readable(store):
    vg = VersionedGrids(store)
    v1 = vg.read_version(1)
    draft = vg.open_draft(VILLAGE_A, "王规划")
    draft = vg.save_draft(
        draft, split_village_a(), author="王规划", reason="r", expected_revision=0
    )
    vg.publish(draft, author="王规划", reason="第一次")
    v2 = vg.read_version(2)
    renamed = v2.assign(
        grid_name=np.where(v2.grid_code == f"{VILLAGE_B}001", "新名字", v2.grid_name)
    )
    vg.publish(renamed, author="李科长", reason="改名")

    assert_same_grids(vg.read_version(1), v1)
    assert_same_grids(vg.read_version(2), v2)
    assert_same_grids(vg.read_version(3), renamed)
    assert vg.read_version(1).crs == METRIC
    with pytest.raises(VersionError, match=r"no grid version 9; the versions are \[1, 2, 3\]"):
        vg.read_version(9)
    diff = vg.diff(2, 3)
    assert diff.changed == [f"{VILLAGE_B}001"]
    assert diff.grids.set_index("grid_code").loc[f"{VILLAGE_B}001", "changed_columns"] == (
        "grid_name"
    )
    assert len(diff.flows) == 0  # a new name moves no area

    life = vg.history(f"{VILLAGE_A}004")
    assert life["status"].tolist() == ["added", "removed"]
    assert life["version"].tolist() == [1, 2]
    assert life["issues_out"].tolist()[1] > 0
    life = vg.history(f"{VILLAGE_B}001")
    assert life["status"].tolist() == ["added", "unchanged", "changed"]
    assert life["changed_columns"].tolist()[2] == "grid_name"
    assert life["published_by"].tolist()[2] == "李科长"
    with pytest.raises(VersionError, match="is in no published version"):
        vg.history("nope")


def test_diff_takes_layers_that_are_not_versions(store):
    vg = VersionedGrids(store)
    draft = vg.save_draft(
        vg.open_draft(VILLAGE_A, "王规划"),
        split_village_a(),
        author="王规划",
        reason="r",
        expected_revision=0,
    )
    layer = vg.draft_layer(draft)  # what publishing the draft would give
    v2 = pd.concat([initial_grids().query("village_code == @VILLAGE_B"), split_village_a()])
    assert_same_grids(layer, v2)
    before = vg.diff(1, layer)
    assert (before.a, before.b) == (1, None)
    vg.publish(draft, author="王规划", reason="r")
    after = vg.diff(1, 2)
    pd.testing.assert_frame_equal(before.grids, after.grids)
    pd.testing.assert_frame_equal(before.flows, after.flows)

    # One village on both sides: its rows, as in the whole-layer diff.
    old_a = vg.read_version(1).query("village_code == @VILLAGE_A")
    mine = vg.diff(old_a, split_village_a().to_crs(4326))  # any CRS: reprojected
    assert (mine.a, mine.b) == (None, None)
    rows = after.grids[after.grids.grid_code.str.startswith(VILLAGE_A)].reset_index(drop=True)
    cols = ["grid_code", "status", "changed_columns", "households_a", "households_b"]
    pd.testing.assert_frame_equal(mine.grids[cols], rows[cols], check_dtype=False)
    assert mine.grids["area_b_m2"].to_numpy() == pytest.approx(rows["area_b_m2"], nan_ok=True)
    assert mine.flows["households"].sum() == after.flows["households"].sum()

    with pytest.raises(VersionError, match="the layer to compare has no grid_code column"):
        vg.diff(1, split_village_a().drop(columns="grid_code"))
    twice = pd.concat([split_village_a(), split_village_a().iloc[:1]])
    with pytest.raises(VersionError, match=r"grid code\(s\) \['320924101001001'\] twice"):
        vg.diff(twice, 1)


def test_check_can_block_a_publish(store):
    vg = VersionedGrids(store)
    draft = vg.open_draft(VILLAGE_A, "王规划")
    draft = vg.save_draft(
        draft, split_village_a(), author="王规划", reason="r", expected_revision=0
    )
    seen = []

    def plan_check(grids):
        seen.append(len(grids))
        return SimpleNamespace(publishable=False, errors=["网格重叠"])

    with pytest.raises(PublishBlockedError, match=r"is not publishable") as info:
        vg.publish(draft, author="王规划", reason="r", check=plan_check)
    assert getattr(info.value.report, "errors", None) == ["网格重叠"]
    assert seen == [9]  # the whole candidate layer: 6 + 3 grids
    assert vg.current_version() == 1
    assert vg.publish(draft, author="王规划", reason="r", check=lambda g: True).version == 2


def test_refusals(store):
    vg = VersionedGrids(store)
    with pytest.raises(VersionError, match=r"nothing to publish: layer has the same grids"):
        vg.publish(store.read("grids"), author="王规划", reason="r")
    with pytest.raises(ValueError, match=r"author and reason must not be empty"):
        vg.publish(store.read("grids"), author=" ", reason="")
    with pytest.raises(VersionError, match=r"no grid of version 1 has village_code or town_code"):
        vg.open_draft("320924999999", "王规划")
    draft = vg.open_draft(VILLAGE_A, "王规划")
    with pytest.raises(VersionError, match="has no saved edits; save it first"):
        vg.publish(draft, author="王规划", reason="r")
    foreign = initial_grids().query("village_code == @VILLAGE_B")
    with pytest.raises(GridValidationError, match=r"outside_scope.*320924101002001") as info:
        vg.save_draft(draft, foreign, author="王规划", reason="r", expected_revision=0)
    assert len(info.value.problems) == len(foreign)
    with pytest.raises(TypeError, match="must be a Draft or a GeoDataFrame"):
        vg.publish("grids.gpkg", author="王规划", reason="r")


def test_a_town_draft(store):
    vg = VersionedGrids(store)
    draft = vg.open_draft(TOWN, "王规划")
    assert draft.scope == "town" and len(draft.grids) == 12
    merged = grids_from_labels({(c, r): 0 for c in range(COLS) for r in range(ROWS)})
    draft = vg.save_draft(draft, merged, author="王规划", reason="合并", expected_revision=0)
    result = vg.publish(draft, author="王规划", reason="合并")
    assert len(result.removed) == 10 and len(result.changed) == 2
    assert sorted(store.read("grids").grid_code) == [f"{VILLAGE_A}001", f"{VILLAGE_B}001"]


def test_grids_replaced_outside_versioning_are_noticed(store):
    vg = VersionedGrids(store)
    draft = vg.open_draft(VILLAGE_A, "王规划")
    draft = vg.save_draft(
        draft, split_village_a(), author="王规划", reason="r", expected_revision=0
    )
    imported = initial_grids()
    imported.loc[0, "geometry"] = shapely.box(X0, Y0, X0 + 50, Y0 + 50)
    store.write({"grids": imported})  # e.g. `python -m geo import --grids …`
    with pytest.raises(VersionError, match=r"no longer matches version 1 .*publish that layer"):
        vg.publish(draft, author="王规划", reason="r")
    assert vg.publish(store.read("grids"), author="王规划", reason="导入").version == 2


def test_writing_another_layer_keeps_the_versions(store):
    vg = VersionedGrids(store)
    draft = vg.open_draft(VILLAGE_A, "王规划")
    draft = vg.save_draft(
        draft, split_village_a(), author="王规划", reason="r", expected_revision=0
    )
    vg.publish(draft, author="王规划", reason="r")
    store.write({"meta": pd.DataFrame({"key": ["k"], "value": ["v"]})})  # a whole-file rewrite
    again = VersionedGrids(store)
    assert again.versions()["version"].tolist() == [1, 2]
    assert_same_grids(again.read_version(1), initial_grids())
    assert len(again.change_log()) == 4


# --- the store transaction versioning relies on -------------------------------------------


def test_transaction_rolls_back_on_error_and_keeps_the_spatial_index(make_store):
    with make_store() as store:
        seed_store(store)
        before = store.version()
        with pytest.raises(RuntimeError, match="boom"), store.transaction() as tx:
            tx.delete("grids", {"grid_code": [f"{VILLAGE_A}001"]})
            raise RuntimeError("boom")
        assert len(store.read("grids")) == 12
        assert store.version() == before
        # A bulk append (triggers set aside) still leaves a usable spatial index.
        extra = initial_grids().assign(grid_code=lambda g: g.grid_code + "x")
        extra = pd.concat([extra] * 8, ignore_index=True)  # 96 rows: the bulk path
        with store.transaction() as tx:
            tx.append("grids", extra)
            got = tx.read("grids", bbox=(X0 + 10, Y0 + 10, X0 + 20, Y0 + 20))
            assert sorted(set(got.grid_code)) == [f"{VILLAGE_A}001", f"{VILLAGE_A}001x"]
        assert len(store.read("grids")) == 12 + 96
        assert store.version() != before
        if isinstance(store, GeoPackageStore):
            import pyogrio

            assert pyogrio.read_info(store.path, layer="grids")["features"] == 108
            near = pyogrio.read_dataframe(
                store.path, layer="grids", bbox=(X0 + 10, Y0 + 10, X0 + 20, Y0 + 20)
            )
            assert len(near) == 9


def test_transaction_reads_typed_values(make_store):
    with make_store() as store:
        seed_store(store)
        with store.transaction(readonly=True) as tx:
            got = tx.read("issues", where={"ticket_id": ["RX000001", "RX000002"]})
            assert sorted(got.ticket_id) == ["RX000001", "RX000002"]
            assert pd.api.types.is_datetime64_any_dtype(got["received_at"])
            assert got.crs == METRIC
            none = tx.read("grids", where={"grid_code": []})
            assert len(none) == 0 and none.crs == METRIC
            with pytest.raises(StoreError, match=r"has no column\(s\) \['nope'\]"):
                tx.read("grids", columns=["nope"])
            with pytest.raises(StoreError, match="cannot change 'grids' in a read-only"):
                tx.delete("grids", {"grid_code": ["x"]})

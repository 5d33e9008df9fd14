"""geo.views.planner: the planner's working copy, its panels, files and proposals, on a tiny
county."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.access import OutOfScopeError, Principal, Role
from geo.core.errors import GridGovError, GridValidationError, InputFileError, Problem
from geo.core.i18n import Text
from geo.grids.assign import assign_events
from geo.planning.edit import merge_grids, rename
from geo.planning.grid_files import FORMATS, export_bytes, read_grid_bytes
from geo.planning.versions import (
    ConflictError,
    PublishBlockedError,
    VersionedGrids,
    VersionError,
)
from geo.store.gpkg import GeoPackageStore, write_geopackage
from geo.views import planner as pv

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0
TOWN = "320924101"
A, B = TOWN + "001", TOWN + "002"
ZHANG = Principal("张三", Role.PLANNER, towns=(TOWN,))
LI = Principal("李四", Role.PLANNER, towns=(TOWN,))
WANG = Principal("王审核", Role.REVIEWER)


def county_layers() -> dict[str, gpd.GeoDataFrame]:
    """Two villages side by side, each three 200 m grids in a row, 60 households a grid."""
    rows = []
    for v, village in enumerate((A, B)):
        for i in range(3):
            x = X0 + 600 * v + 200 * i
            rows.append(
                {
                    "grid_code": f"{village}{i + 1:03d}",
                    "grid_name": f"第{i + 1}网格",
                    "village_code": village,
                    "town_code": TOWN,
                    "area_type": "农村",
                    "grid_worker": f"员{v}{i}",
                    "grid_worker_phone": f"1390000{v}{i:03d}",
                    "households": 60,
                    "residents": 150,
                    "geometry": shapely.box(x, Y0, x + 200, Y0 + 200),
                }
            )
    grids = gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)
    villages = grids.dissolve("village_code", as_index=False)[["village_code", "geometry"]]
    villages["village_name"] = ["一村", "二村"]
    villages["town_code"], villages["kind"] = TOWN, "村"
    rng = np.random.default_rng(0)
    xy = np.column_stack(
        [X0 + 10 + rng.random(360) * 1180, Y0 + 10 + rng.random(360) * 180]
    )  # 360 points, about 60 a grid
    houses = gpd.GeoDataFrame(
        {"household_id": [f"H{i:04d}" for i in range(len(xy))], "residents": 2},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=METRIC,
    )
    got = assign_events(houses, grids)
    houses["grid_code"] = got["grid_code"].astype(str).to_numpy()
    houses["village_code"] = got["village_code"].astype(str).to_numpy()
    grids["households"] = grids.grid_code.map(houses.grid_code.value_counts()).astype(int)
    issues = gpd.GeoDataFrame(
        {
            "ticket_id": [f"T{i:03d}" for i in range(20)],
            "received_at": pd.date_range("2026-01-01", periods=20, freq="D"),
        },
        geometry=gpd.points_from_xy(X0 + 30 + 59 * np.arange(20), np.full(20, Y0 + 100)),
        crs=METRIC,
    )
    got = assign_events(issues, grids)
    for col in ("grid_code", "village_code", "town_code", "assign_problem"):
        issues[col] = got[col].astype(str).to_numpy()
    return {"villages": villages, "grids": grids, "households": houses, "issues": issues}


@pytest.fixture
def store(tmp_path: Path) -> GeoPackageStore:
    layers = county_layers()
    write_geopackage(tmp_path / "county.gpkg", layers)
    return GeoPackageStore(tmp_path / "county.gpkg")


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    return county_layers()


def scope_of(store: GeoPackageStore, layers: dict, code: str = A) -> pv.PlanScope:
    return pv.load_scope(store, code, villages=layers["villages"], issues=layers["issues"])


def test_load_scope_reads_the_points_around_a_village_or_town(store, layers):
    village = scope_of(store, layers)
    assert (village.kind, village.column) == ("village", "village_code")
    assert list(village.villages.village_code) == [A]
    assert village.households is not None and 160 < len(village.households) < 200
    assert list(village.of(layers["grids"]).grid_code) == [f"{A}00{i}" for i in (1, 2, 3)]
    town = scope_of(store, layers, TOWN)
    assert town.kind == "town" and len(town.of(layers["grids"])) == 6
    assert len(town.households) == 360
    with pytest.raises(ValueError, match="no village or town with code '999'"):
        scope_of(store, layers, "999")


def test_load_scope_reads_what_it_is_not_given_from_the_store(store, layers):
    given = scope_of(store, layers)
    read = pv.load_scope(store, A)  # the command line holds no county in memory
    assert list(read.county_villages.village_code) == [A, B]
    assert sorted(read.issues.ticket_id) == sorted(given.issues.ticket_id)
    assert len(read.households) == len(given.households)
    assert read.as_of.year == pd.Timestamp.now().year  # no synthetic meta: now
    county = pv.load_scope(store, "")
    assert county.kind == "county" and len(county.of(layers["grids"])) == 6
    assert len(county.households) == 360
    whole = pv.check(layers["grids"], county)
    assert whole.n_grids == 6 and whole.publishable


def test_workbench_edits_undo_save_and_publish(store, layers):
    vg = VersionedGrids(store)
    scope = scope_of(store, layers)
    bench = pv.Workbench.open(vg, A, scope.of(layers["grids"]))
    assert (bench.revision, bench.dirty, bench.can_undo) == (0, False, False)
    bench.apply(merge_grids(bench.grids, [f"{A}001", f"{A}002"]))
    bench.apply(rename(bench.grids, f"{A}003", "河东网格"))
    assert len(bench.grids) == 2 and len(bench.notes) == 2 and bench.dirty
    bench.undo()
    assert len(bench.notes) == 1 and "河东网格" not in set(bench.grids.grid_name)
    saved = bench.save(vg, who=ZHANG, reason="")
    assert saved.revision == 1 and not bench.dirty and not bench.can_undo
    reason = vg.drafts(A).iloc[-1]["reason"]  # the edit notes are the default reason
    assert "并入" in reason.zh and "merged into" in reason.en
    again = pv.Workbench.open(vg, A, scope.of(layers["grids"]))  # resumes the saved draft
    assert again.revision == 1 and len(again.grids) == 2
    version_before = store.version()
    with pytest.raises(OutOfScopeError, match="may not publish"):
        bench.publish(vg, who=ZHANG, reason="合并小网格", check=None)  # a planner saves only
    with pytest.raises(OutOfScopeError, match="nobody publishes their own draft"):
        # 张三 as a reviewer now: still the author of this draft.
        bench.publish(vg, who=Principal("张三", Role.REVIEWER), reason="合并小网格", check=None)
    assert store.version() == version_before
    done = bench.publish(vg, who=WANG, reason="合并小网格", check=None)
    assert done.version == 2 and done.removed == [f"{A}002"]
    assert store.version() != version_before  # the county cache keyed on it reloads
    versions = pv.version_choices(vg, "en")
    assert versions.reason.tolist() == ["合并小网格", "grids found when versioning began"]
    assert pv.version_choices(vg, "zh").reason.iloc[1] == "启用版本管理时的网格"
    log = pv.scope_log(vg, A, "zh")
    assert log.action.tolist() == ["publish", "save_draft", "open_draft"]
    assert log.detail.tolist()[1:] == ["2 个网格", "村(居)草案，基于第 1 版"]
    assert pv.scope_log(vg, A, "en").detail.iloc[2] == "village draft based on version 1"


def test_publish_checks_the_working_copy_before_saving_it(store, layers):
    vg = VersionedGrids(store)
    scope = scope_of(store, layers)
    bench = pv.Workbench.open(vg, A, scope.of(layers["grids"]))
    broken = bench.grids.copy()
    broken.loc[broken.index[0], "grid_worker"] = ""
    bench.apply(broken, Text("去掉网格员", "no worker"))
    with pytest.raises(VersionError, match="only a draft the planner saved"):
        bench.publish(vg, who=WANG, reason="试试", check=lambda g: pv.check(g, scope))
    assert vg.drafts(A).empty  # nothing saved by the reviewer's attempt
    bench.save(vg, who=ZHANG, reason="试试")
    before = vg.current_version()
    with pytest.raises(PublishBlockedError) as info:
        bench.publish(vg, who=WANG, reason="试试", check=lambda g: pv.check(g, scope))
    assert [p.code for p in info.value.report.errors] == ["missing_worker"]
    assert vg.current_version() == before  # nothing published


def test_workbench_save_conflict_keeps_the_edits(store, layers):
    vg = VersionedGrids(store)
    published = layers["grids"][layers["grids"].village_code == A]
    mine = pv.Workbench.open(vg, A, published)
    theirs = pv.Workbench.open(vg, A, published)
    theirs.apply(rename(theirs.grids, f"{A}001", "李四改的名"))
    theirs.save(vg, who=LI, reason="改名")
    mine.apply(rename(mine.grids, f"{A}001", "我改的名"))
    with pytest.raises(ConflictError) as info:
        mine.save(vg, who=ZHANG, reason="也改名")
    assert info.value.saved_by == "李四" and info.value.kept_draft_id
    kept = vg.read_draft(info.value.kept_draft_id)
    assert kept.status == "conflicted" and "我改的名" in set(kept.grids.grid_name)


def test_workbench_notices_a_publish_since_it_opened(store, layers):
    vg = VersionedGrids(store)
    published = layers["grids"][layers["grids"].village_code == A]
    stale = pv.Workbench.open(vg, A, published)
    other = pv.Workbench.open(vg, A, published)
    other.apply(merge_grids(other.grids, [f"{A}002", f"{A}003"]))
    other.save(vg, who=LI, reason="合并")
    other.publish(vg, who=WANG, reason="合并")
    stale.apply(rename(stale.grids, f"{A}001", "新名"))
    with pytest.raises(ConflictError, match="王审核 published version 2"):
        stale.save(vg, who=ZHANG)


def test_a_planner_saves_only_inside_the_assigned_towns(store, layers):
    vg = VersionedGrids(store)
    bench = pv.Workbench.open(vg, A, layers["grids"][layers["grids"].village_code == A])
    bench.apply(rename(bench.grids, f"{A}001", "新名"))
    elsewhere = Principal("赵规划", Role.PLANNER, towns=("320924999",))
    with pytest.raises(OutOfScopeError, match="outside your assignment"):
        bench.save(vg, who=elsewhere)
    with pytest.raises(OutOfScopeError, match="may not edit grid drafts"):
        bench.save(vg, who=Principal("v", Role.VIEWER))
    assert vg.drafts(A).empty


def test_check_metrics_and_check_tables(store, layers):
    scope = scope_of(store, layers)
    grids = scope.of(layers["grids"]).copy()
    grids.loc[grids.index[0], "grid_worker"] = ""
    report = pv.check(grids, scope)
    assert not report.publishable
    table = pv.check_table(report, "zh")
    row = table[table.grid_code == f"{A}001"].iloc[0]
    assert row.severity == "error" and row.message == "未配备网格员"
    assert row.hint == "配备责任网格员"
    english = pv.check_table(report, "en").iloc[0]
    assert (english.message, english.hint) == ("no grid worker", "assign a responsible grid worker")
    merged = merge_grids(merge_grids(grids, [f"{A}001", f"{A}002"]).grids, [f"{A}001", f"{A}003"])
    metrics = pv.metrics_table(pv.check(merged.grids, scope), merged.grids, "en")
    assert list(metrics.columns) == [
        "grid_code", "grid_name", "grid_worker", "households", "residents", "issues_12m",
        "workload", "area_km2", "polsby_popper", "standard",
    ]  # fmt: skip
    assert len(metrics) == 1 and metrics.households.iloc[0] == len(
        scope.households.cx[: X0 + 600, :]
    )
    assert metrics.area_km2.iloc[0] == pytest.approx(0.12)
    assert metrics.standard.iloc[0] == ""  # within 40–250 households


def test_metrics_table_names_grids_outside_the_standard(store, layers):
    scope = scope_of(store, layers, TOWN)
    grids = layers["grids"]
    nobody = scope.households.iloc[:0]  # no household points: every grid counts 0
    empty = pv.PlanScope(
        scope.code, scope.kind, scope.villages, nobody, scope.issues, scope.county_villages
    )
    metrics = pv.metrics_table(pv.check(grids, empty), grids, "zh")
    assert (metrics.households == 0).all()
    assert metrics.standard.str.contains("0 户，少于农村网格标准 40–250 户").all()
    english = pv.metrics_table(pv.check(grids, empty), grids, "en")
    assert english.standard.str.contains("0 households, fewer than the rural standard").all()


def test_map_layer_colours_grids_by_their_check(store, layers):
    scope = scope_of(store, layers, TOWN)
    grids = layers["grids"].copy()
    grids.loc[0, "grid_worker"] = ""  # an error
    grids.loc[1, "households"] = 999  # outside the standard (no points: the column counts)
    nobody = pv.PlanScope(
        scope.code, scope.kind, scope.villages, None, scope.issues, scope.county_villages
    )
    report = pv.check(grids, nobody)
    shown = pv.map_layer(grids, report, pv.metrics_table(report, grids, "zh"))
    assert shown.state == [2, 1, 0, 0, 0, 0]
    assert shown.labels == ["001", "002", "003", "001", "002", "003"]
    assert set(pv.MAP_FIELDS) <= set(shown.grids.columns)
    assert shown.grids.households.tolist()[1] == 999
    assert shown.grids.standard.iloc[1].startswith("999 户")


#: Where the planner's refusals and fix hints are written: call → positions of its words.
_SAID = {
    "EditError": (1, 2),
    "InputFileError": (1, 2),
    "VersionError": (0,),
    "Problem": (3, 4),
    "add": (3, 4),
}


def _text(node: ast.AST) -> str:
    """The words of a string expression, every ``{…}`` field as ``0``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(v) if isinstance(v, ast.Constant) else "0" for v in node.values)
    return ""


def _texts(node: ast.expr, where: str) -> list[ast.Call]:
    """The ``Text(zh, en)`` calls a message argument is made of; a string fails (one language).

    A name or attribute passes words on (``exc.hint``, a ``Text`` built above: found on its
    own); a conditional gives both branches; another call its first argument
    (``_did_you_mean(Text(…), close)``).
    """
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Text":
        return [node]
    if isinstance(node, ast.IfExp):
        return _texts(node.body, where) + _texts(node.orelse, where)
    if isinstance(node, ast.Call) and node.args:
        return _texts(node.args[0], where)
    if isinstance(node, ast.Name | ast.Attribute):
        return []
    raise AssertionError(f"{where}: not a Text of both languages: {ast.unparse(node)}")


@pytest.mark.parametrize(
    "module",
    [
        "geo.planning.edit",
        "geo.planning.draw",
        "geo.grids.validate",
        "geo.planning.check",
        "geo.planning._versions_drafts",
        "geo.planning._versions_diff",
        "geo.planning._versions_publish",
        "geo.planning._versions_repository",
        "geo.planning.grid_files",
    ],
)
def test_every_message_and_hint_reads_in_either_language(module):
    source = Path(importlib.import_module(module).__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    said = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in _SAID:
            for pos in _SAID[node.func.id]:
                if len(node.args) > pos:
                    said += 1
                    _texts(node.args[pos], f"{module}.py:{node.lineno}")
    assert said >= 1
    texts = [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Text"
    ]
    assert len(texts) >= 3
    for call in texts:
        where = f"{module}.py:{call.lineno}"
        assert len(call.args) == 2 and not call.keywords, f"{where}: Text(zh, en)"
        if not all(isinstance(arg, ast.Constant | ast.JoinedStr) for arg in call.args):
            continue  # composed from other Text values (``"；".join(n.zh for n in notes)``)
        zh, en = (_text(arg) for arg in call.args)
        assert re.search(r"[\u4e00-\u9fff]", zh), f"{where}: no Chinese in {zh!r}"
        words = re.sub(r"'[^']*'", "", en)  # quoted values are data
        assert en.strip() and not re.search(r"[\u4e00-\u9fff]", words), f"{where}: {en!r}"


def test_explain_gives_one_language_with_the_hint(store, layers):
    grids = layers["grids"]
    try:
        merge_grids(grids, [f"{A}001"])
    except GridGovError as exc:
        refused = exc
    assert pv.explain(refused, "zh").startswith("(codes): 合并至少需要两个网格")
    assert pv.explain(refused, "zh").endswith("— 选择两个或更多网格")
    assert pv.explain(refused, "en") == (
        "(codes): merging needs at least two grid codes — pass two or more codes, e.g. "
        "merge_grids(grids, ['…001', '…002'])"
    )
    bad = GridValidationError(
        [Problem("missing_code", "error", "row 1", Text("缺", "no code"), Text("填", "fill"))]
    )
    assert pv.explain(bad, "en") == "- row 1: no code — fill"


def test_draft_diff_counts_households_that_change_grid(store, layers):
    scope = scope_of(store, layers)
    published = scope.of(layers["grids"])
    merged = merge_grids(published, [f"{A}001", f"{A}002"]).grids
    vg = VersionedGrids(store)
    diff = pv.draft_diff(vg, published, merged)
    status = dict(zip(diff.grids.grid_code, diff.grids.status, strict=True))
    assert status == {f"{A}001": "changed", f"{A}002": "removed"}
    moved = int(layers["households"].grid_code.eq(f"{A}002").sum())
    assert diff.households_moved == moved
    assert diff.flows.iloc[0][["from_grid", "to_grid"]].tolist() == [f"{A}002", f"{A}001"]
    row = diff.grids.set_index("grid_code").loc[f"{A}001"]
    assert row.households_after == row.households_before + moved
    assert row.area_after_km2 == pytest.approx(0.08)
    same = pv.draft_diff(vg, published, published)
    assert same.grids.empty and same.households_moved == 0


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp"])
def test_export_and_upload_round_trip(store, layers, fmt):
    scope = scope_of(store, layers)
    grids = layers["grids"]
    bench = pv.Workbench.open(VersionedGrids(store), A, scope.of(grids))
    county = pv.export_layer(
        VersionedGrids(store), bench, scope, which=1, county=True, fmt=fmt, who=WANG
    )  # the whole county: the upload keeps the village's grids
    shown = read_grid_bytes(f"x{FORMATS[fmt].suffixes[0]}", county, grids)[0]
    assert shown.grid_worker_phone.str.contains(r"\*{4}").all()  # the download is masked
    got = pv.read_upload(f"up{FORMATS[fmt].suffixes[0]}", county, scope=scope, published=grids)
    assert got.left_out == [f"{B}00{i}" for i in (1, 2, 3)] and got.edited_left_out == []
    assert list(got.grids.columns) == list(grids.columns) and got.grids.crs == grids.crs
    mine = grids[grids.village_code == A].reset_index(drop=True)
    assert got.grids.grid_code.tolist() == mine.grid_code.tolist()
    assert got.grids.grid_worker_phone.tolist() == mine.grid_worker_phone.tolist()
    assert got.unchanged.all()  # put back on the published vertices: nothing looks redrawn
    assert shapely.equals_exact(got.grids.geometry.to_numpy(), mine.geometry.to_numpy()).all()
    draft = pv.export_layer(
        VersionedGrids(store), bench, scope, which="draft", county=False, fmt=fmt, who=WANG
    )
    again = pv.read_upload(f"d{FORMATS[fmt].suffixes[0]}", draft, scope=scope, published=grids)
    assert again.left_out == [] and len(again.grids) == 3
    # A viewer limited to another town downloads none of these grids.
    elsewhere = Principal("赵", Role.VIEWER, towns=("320924999",))
    other = pv.export_layer(
        VersionedGrids(store), bench, scope, which=1, county=True, fmt="geojson", who=elsewhere
    )
    assert json.loads(other)["features"] == []


def test_upload_refusals_name_the_file(store, layers):
    scope = scope_of(store, layers)
    grids = layers["grids"]
    with pytest.raises(InputFileError, match=r"grids\.csv: .*unsupported file type"):
        pv.read_upload("grids.csv", b"a,b\n", scope=scope, published=grids)
    other = export_bytes(grids[grids.village_code == B], "geojson")
    with pytest.raises(InputFileError, match=f"no grid of village {A} in the file") as info:
        pv.read_upload("b.geojson", other, scope=scope, published=grids)
    assert B in str(info.value)
    with pytest.raises(InputFileError, match=r"broken\.gpkg"):
        pv.read_upload("broken.gpkg", b"not a geopackage", scope=scope, published=grids)
    bare = export_bytes(grids.drop(columns=["village_code", "town_code"]), "geojson")
    with pytest.raises(InputFileError, match="no column village_code, town_code"):
        pv.read_upload("bare.geojson", bare, scope=scope, published=grids)


def test_propose_and_adopt_keep_a_worker_everywhere(store, layers):
    scope = scope_of(store, layers)
    current = scope.of(layers["grids"])
    proposal = pv.propose(scope, current)
    assert proposal.metrics_before is not None
    assert proposal.compare()["after"]["households_max"] <= 250
    adopted = pv.adopt_proposal(proposal.grids, current)
    assert list(adopted.columns) == list(current.columns)
    assert (
        set(adopted.grid_worker) <= set(current.grid_worker) and (adopted.grid_worker != "").all()
    )
    assert adopted.union_all().symmetric_difference(current.union_all()).area < 1e-3
    town = pv.propose(scope_of(store, layers, TOWN), layers["grids"])
    assert set(town.grids.village_code) == {A, B}

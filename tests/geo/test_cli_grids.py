"""``python -m geo grids``: versions, diff, check, publish, export and import on a tiny county.

The county: a 6 × 4 lattice of 100 m cells, village A in columns 0-2 and village B in 3-5,
twelve grids one column wide and two rows high, 50 households per cell and issues scattered
over the last months. The planner's edit splits village A into three one-column grids.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.cli.main import main
from geo.demo.build import DEMO_FILENAME
from geo.grids.assign import assign_events
from geo.planning.grid_files import read_grid_file
from geo.planning.versions import VersionedGrids
from geo.store.base import Store
from geo.store.gpkg import GeoPackageStore
from geo.store.postgis import PostGISStore

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0
CELL_M = 100.0
COLS, ROWS = 6, 4
TOWN = "320924101"
VILLAGE_A, VILLAGE_B = TOWN + "001", TOWN + "002"
AS_OF = pd.Timestamp("2026-11-20 23:59:59")
PER_CELL = 50  # households


# --------------------------------------------------------------------------- the county


def cell(col: int, row: int) -> shapely.Polygon:
    x, y = X0 + col * CELL_M, Y0 + row * CELL_M
    return shapely.box(x, y, x + CELL_M, y + CELL_M)


def layer(labels: dict[tuple[int, int], int]) -> gpd.GeoDataFrame:
    """Grids from cell → label (cells with the same village and label form one grid)."""
    groups: dict[tuple[str, int], list[shapely.Polygon]] = {}
    for (col, row), label in sorted(labels.items()):
        village = VILLAGE_A if col < COLS // 2 else VILLAGE_B
        groups.setdefault((village, label), []).append(cell(col, row))
    rows = [
        {
            "grid_code": f"{village}{label + 1:03d}",
            "grid_name": f"第{label + 1}网格",
            "village_code": village,
            "town_code": TOWN,
            "area_type": "农村",
            "grid_worker": f"网格员{i + 1}",
            "grid_worker_phone": f"1390000{i:04d}",
            "households": PER_CELL * len(cells),
            "residents": 2 * PER_CELL * len(cells),
            "geometry": shapely.union_all(cells),
        }
        for i, ((village, label), cells) in enumerate(sorted(groups.items()))
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)


def initial() -> gpd.GeoDataFrame:
    """Twelve grids, each one column wide and two rows high."""
    half = COLS // 2
    return layer({(c, r): (c % half) * 2 + r // 2 for c in range(COLS) for r in range(ROWS)})


def split_a() -> gpd.GeoDataFrame:
    """Village A as three grids of one column each (codes 001-003; 004-006 go)."""
    return layer({(c, r): c for c in range(COLS // 2) for r in range(ROWS)})


def county_layers() -> dict[str, pd.DataFrame]:
    grids = initial()
    rng = np.random.default_rng(0)
    n = COLS * ROWS * PER_CELL
    xy = rng.uniform(0.02, 0.98, (n, 2)) * CELL_M
    cells = np.repeat(np.arange(COLS * ROWS), PER_CELL)
    x = X0 + (cells // ROWS) * CELL_M + xy[:, 0]
    y = Y0 + (cells % ROWS) * CELL_M + xy[:, 1]
    homes = gpd.GeoDataFrame(
        {"household_id": [f"H{i:05d}" for i in range(n)], "residents": 2},
        geometry=gpd.points_from_xy(x, y),
        crs=METRIC,
    )
    homes["grid_code"] = assign_events(homes, grids)["grid_code"].astype(str).to_numpy()
    m = 120
    issues = gpd.GeoDataFrame(
        {
            "ticket_id": [f"RX{i:06d}" for i in range(m)],
            "received_at": AS_OF - pd.to_timedelta(rng.integers(1, 300, m), unit="D"),
            "category": "环境卫生",
        },
        geometry=gpd.points_from_xy(
            X0 + rng.uniform(1, COLS * CELL_M - 1, m), Y0 + rng.uniform(1, ROWS * CELL_M - 1, m)
        ),
        crs=METRIC,
    )
    got = assign_events(issues, grids)
    for col in ("grid_code", "village_code", "town_code", "assign_problem"):
        issues[col] = got[col].astype(str).to_numpy()
    villages = gpd.GeoDataFrame(
        {"village_code": [VILLAGE_A, VILLAGE_B], "kind": ["村", "村"], "town_code": TOWN},
        geometry=[
            shapely.box(X0, Y0, X0 + 3 * CELL_M, Y0 + ROWS * CELL_M),
            shapely.box(X0 + 3 * CELL_M, Y0, X0 + COLS * CELL_M, Y0 + ROWS * CELL_M),
        ],
        crs=METRIC,
    )
    meta = pd.DataFrame({"key": ["synthetic", "as_of"], "value": ["true", AS_OF.isoformat()]})
    return {
        "villages": villages,
        "grids": grids,
        "households": homes,
        "issues": issues,
        "meta": meta,
    }


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("county") / "county.gpkg"
    GeoPackageStore(path).write(county_layers())
    return path


@pytest.fixture
def store_path(template, tmp_path) -> Path:
    path = tmp_path / "store.gpkg"
    path.write_bytes(template.read_bytes())
    return path


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["grids", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    pyogrio.write_dataframe(frame, path, layer="grids")
    return path


def draft_id(store: Store, name: str) -> str:
    drafts = VersionedGrids(store).drafts()
    return str(drafts.loc[drafts["reason"] == name, "draft_id"].iloc[-1])


# --------------------------------------------------------------------------- export / import


@pytest.mark.parametrize(
    "fmt, name", [("gpkg", "v.gpkg"), ("geojson", "v.geojson"), ("shp", "v.zip")]
)
def test_export_then_import_changes_nothing(capsys, store_path, tmp_path, fmt, name):
    out = tmp_path / name
    code, text, _ = cli(
        capsys, "export", "latest", "--format", fmt, "--out", str(out), "--store", str(store_path)
    )
    assert code == 0, text
    assert "12 个网格 / 12 grids" in text and out.exists()
    written = read_grid_file(str(out), VersionedGrids(GeoPackageStore(store_path)).read_version(1))[
        0
    ]
    phones = written.filter(like="phone").iloc[:, 0].astype(str)  # a Shapefile cuts the name
    assert phones.str.fullmatch(r"\d{3}\*{4}\d{4}").all()  # grid workers' phones starred

    code, text, err = cli(
        capsys,
        "import",
        str(out),
        "--draft",
        f"原样-{fmt}",
        "--village",
        VILLAGE_A,
        "--by",
        "王规划",
        "--store",
        str(store_path),
    )
    assert code == 0, err
    assert "6 个形状未变）" in text and "6 unchanged in shape" in text
    assert "新增 0，删除 0，变更 0，不变 12 / added 0, removed 0, changed 0, unchanged 12" in text
    assert "only village 320924101001 is imported; 6 other grids" in err
    assert "NOT imported" not in err  # village B came back as it was

    store = GeoPackageStore(store_path)
    vg = VersionedGrids(store)
    saved = vg.read_draft(draft_id(store, f"原样-{fmt}"))
    assert (saved.scope_code, saved.revision, saved.author) == (VILLAGE_A, 1, "王规划")
    published = vg.read_version(1)
    expected = published[published["village_code"] == VILLAGE_A].reset_index(drop=True)
    assert_geodataframe_equal(saved.grids, expected, check_dtype=False)
    assert shapely.to_wkb(saved.grids.geometry.to_numpy()).tolist() == (
        shapely.to_wkb(expected.geometry.to_numpy()).tolist()
    )  # the very same vertices, in the same order


def test_shapefile_export_opens_in_qgis(capsys, store_path, tmp_path):
    out = tmp_path / "grids_v1.zip"
    code, _, _ = cli(
        capsys, "export", "1", "--format", "shp", "--out", str(out), "--store", str(store_path)
    )
    assert code == 0
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert {f"grids_v1.{ext}" for ext in ("shp", "shx", "dbf", "prj", "cpg")} <= names
        assert zf.read("grids_v1.cpg").decode().strip() == "UTF-8"
        legend = zf.read("fields.csv").decode("utf-8-sig")
    info = pyogrio.read_info(f"/vsizip/{out}/grids_v1.shp")
    fields = list(info["fields"])
    assert all(len(f) <= 10 for f in fields) and len(set(fields)) == len(fields)
    assert "village_co" in fields and "grid_wor_1" in fields  # grid_worker_phone
    assert "grid_wor_1,grid_worker_phone" in legend
    back = pyogrio.read_dataframe(f"/vsizip/{out}/grids_v1.shp")
    assert sorted(back["grid_name"]) == sorted(initial()["grid_name"])  # Chinese intact
    assert back.crs.to_epsg() == 4549


def test_export_refuses_a_mismatched_file_name(capsys, store_path, tmp_path):
    code, _, err = cli(
        capsys,
        "export",
        "1",
        "--format",
        "shp",
        "--out",
        str(tmp_path / "a.shp"),
        "--store",
        str(store_path),
    )
    assert code == 2
    assert "a.shp" in err and "name the file a.zip" in err
    code, _, err = cli(
        capsys, "export", "7", "--out", str(tmp_path / "a.gpkg"), "--store", str(store_path)
    )
    assert code == 2 and "no grid version 7; the versions are [1]" in err


# --------------------------------------------------------------------------- the planner's cycle


def test_import_check_publish_diff_versions(capsys, store_path, tmp_path):
    edited = write(split_a(), tmp_path / "village_a.gpkg")
    code, text, err = cli(
        capsys,
        "import",
        str(edited),
        "--draft",
        "按道路重划",
        "--by",
        "王规划",
        "--store",
        str(store_path),
    )
    assert code == 0, err
    assert "（village 320924101001，修订 1，3 个网格" in text
    assert "(village 320924101001, revision 1, 3 grids" in text
    assert "added 0, removed 3, changed 3, unchanged 6" in text
    # grid 001 grows from column 0's lower two cells to all four: 100 → 200 households
    line = next(x for x in text.splitlines() if f"{VILLAGE_A}001" in x)
    assert line.split()[0] == "changed"
    assert "20,000 → 40,000" in line and "100 → 200" in line
    assert line.endswith("geometry,households,residents")
    # the cells of old 002-006 change grid (002's to the new 001, and so on): 10 × 50
    assert "households changing grid: 500; area changing grid: 100,000 m²" in text
    store = GeoPackageStore(store_path)
    did = draft_id(store, "按道路重划")
    assert f"python -m geo grids check {did}" in text

    for ref in (did, "按道路重划", VILLAGE_A, f"draft:{did}"):
        code, text, _ = cli(capsys, "check", ref, "--store", str(store_path))
        assert code == 0, text
        assert f"draft {did}:" in text and "草案可发布" in text

    code, text, _ = cli(capsys, "diff", "latest", f"draft:{did}", "--store", str(store_path))
    assert code == 0
    assert f"版本/version 1 → 草案/draft {did}: 新增 0，删除 3" in text

    code, text, _ = cli(capsys, "versions", "--store", str(store_path))
    assert code == 0
    assert "*        1" in text
    assert "system — 启用版本管理时的网格 / grids found when versioning began [initial]" in text
    assert f"{did}  village 320924101001  open  修订/revision 1  基于/on v1  王规划" in text
    assert "“按道路重划”" in text

    code, text, _ = cli(
        capsys,
        "publish",
        "按道路重划",
        "--reason",
        "镇党委会议通过",
        "--by",
        "李科长",
        "--store",
        str(store_path),
    )
    assert code == 0, text
    assert "已发布第 2 版（9 个网格）" in text and "published version 2 (9 grids)" in text
    history = store.read("issue_grid_history")
    assert len(history) > 0
    assert f"诉求改派：{len(history)}" in text and f"issues reassigned: {len(history)} " in text
    versions = VersionedGrids(store).versions()
    assert versions["version"].tolist() == [1, 2]
    assert versions["published_by"].tolist()[-1] == "李科长"
    assert versions["reason"].tolist()[-1] == "镇党委会议通过"
    assert sorted(store.read("grids")["grid_code"]) == sorted(
        pd.concat([split_a(), initial().query("village_code == @VILLAGE_B")])["grid_code"]
    )

    csv = tmp_path / "diff.csv"
    code, text, _ = cli(capsys, "diff", "1", "2", "--out", str(csv), "--store", str(store_path))
    assert code == 0 and f"12 行 / 12 rows → {csv}" in text
    table = pd.read_csv(csv, dtype={"grid_code": str}).set_index("grid_code")
    assert table["status"].value_counts().to_dict() == {"unchanged": 6, "removed": 3, "changed": 3}
    row = table.loc[VILLAGE_A + "001"]
    assert (row["households_a"], row["households_b"]) == (100, 200)
    assert row["area_b_m2"] == pytest.approx(4 * CELL_M**2)
    gpkg = tmp_path / "diff.gpkg"
    assert (
        cli(capsys, "diff", "1", "latest", "--out", str(gpkg), "--store", str(store_path))[0] == 0
    )
    shapes = pyogrio.read_dataframe(gpkg)
    assert len(shapes) == 12 and shapes.geometry.notna().all()  # removed grids keep their shape

    code, _, err = cli(capsys, "publish", did, "--reason", "again", "--store", str(store_path))
    assert code == 2 and "already published" in err


def test_publish_is_refused_when_the_check_finds_errors(capsys, store_path, tmp_path):
    broken = split_a()
    broken.loc[1, "grid_worker"] = ""  # no worker
    geoms = broken.geometry.to_numpy().copy()
    geoms[2] = shapely.box(X0 + 150, Y0, X0 + 3 * CELL_M, Y0 + ROWS * CELL_M)  # overlaps 002
    broken["geometry"] = geoms
    path = write(broken, tmp_path / "broken.gpkg")
    assert cli(capsys, "import", str(path), "--draft", "有错", "--store", str(store_path))[0] == 0

    code, text, _ = cli(capsys, "check", "有错", "--store", str(store_path))
    assert code == 1
    assert "草案不可发布" in text
    assert f"ERROR   {VILLAGE_A}002      {VILLAGE_A} [missing_worker]" in text
    assert f"{VILLAGE_A}003      {VILLAGE_A} [overlap] 与网格 {VILLAGE_A}002 重叠 20,000 m²" in text

    code, text, _ = cli(capsys, "check", "有错", "--json", "--store", str(store_path))
    assert code == 1
    got = json.loads(text)
    assert (
        got["publishable"] is False and got["grids"] == 3 and got["as_of"].startswith("2026-11-20")
    )
    assert {(p["grid_code"], p["code"]) for p in got["problems"] if p["severity"] == "error"} >= {
        (VILLAGE_A + "002", "missing_worker"),
        (VILLAGE_A + "002", "overlap"),
        (VILLAGE_A + "003", "overlap"),
    }

    code, text, err = cli(capsys, "publish", "有错", "--reason", "试试", "--store", str(store_path))
    assert code == 1 and text == ""
    assert "未发布：" in err and "not published:" in err and "missing_worker" in err
    assert VersionedGrids(GeoPackageStore(store_path)).versions()["version"].tolist() == [1]


# --------------------------------------------------------------------------- bad input


def test_bad_files_get_a_clear_answer(capsys, store_path, tmp_path):
    garbage = tmp_path / "edited.geojson"
    garbage.write_text("{ this is not GeoJSON", encoding="utf-8")
    code, _, err = cli(capsys, "import", str(garbage), "--draft", "x", "--store", str(store_path))
    assert code == 2
    assert "edited.geojson: 文件无法读取" in err and " / cannot read the file" in err

    no_village = write(split_a().drop(columns="village_code"), tmp_path / "no_village.gpkg")
    code, _, err = cli(
        capsys, "import", str(no_village), "--draft", "x", "--store", str(store_path)
    )
    assert code == 2
    assert "no_village.gpkg: 缺少列 village_code / no column village_code" in err
    assert "--columns village_code=" in err

    both = write(initial(), tmp_path / "both.gpkg")
    code, _, err = cli(capsys, "import", str(both), "--draft", "x", "--store", str(store_path))
    assert code == 2
    assert "holds grids of 2 villages (320924101001, 320924101002)" in err
    assert "add --village CODE" in err

    code, _, err = cli(
        capsys,
        "import",
        str(both),
        "--draft",
        "x",
        "--village",
        "320924999001",
        "--store",
        str(store_path),
    )
    assert code == 2 and "--village 320924999001: no grid of the current version" in err

    code, _, err = cli(capsys, "versions", "--store", str(tmp_path / "missing.gpkg"))
    assert code == 2 and "missing.gpkg: 存储不存在 / no such store" in err

    code, _, err = cli(capsys, "check", "nobody", "--store", str(store_path))
    assert code == 2 and "no draft 'nobody'" in err
    assert VersionedGrids(GeoPackageStore(store_path)).drafts().empty  # nothing half-made


def test_a_draft_edit_outside_its_village_is_reported_not_imported(capsys, store_path, tmp_path):
    whole = initial()
    geoms = whole.geometry.to_numpy().copy()
    b = int(np.flatnonzero(whole["grid_code"] == VILLAGE_B + "001")[0])
    geoms[b] = shapely.box(X0 + 3 * CELL_M, Y0, X0 + 4 * CELL_M, Y0 + 1.5 * CELL_M)  # edited
    whole["geometry"] = geoms
    path = write(whole, tmp_path / "whole.gpkg")
    code, _, err = cli(
        capsys,
        "import",
        str(path),
        "--draft",
        "A",
        "--village",
        VILLAGE_A,
        "--store",
        str(store_path),
    )
    assert code == 0
    assert (
        f"1 of them differ from the published version and are NOT imported: ['{VILLAGE_B}001']"
        in err
    )


def test_default_store_is_the_apps(capsys, template, tmp_path, monkeypatch):
    (tmp_path / DEMO_FILENAME).write_bytes(template.read_bytes())
    monkeypatch.setenv("GRIDGOV_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    code, text, _ = cli(capsys, "versions")
    assert code == 0 and text.startswith(f"{tmp_path / DEMO_FILENAME}: 1 个版本 / 1 versions")


# --------------------------------------------------------------------------- PostGIS


@pytest.mark.postgis
def test_the_cycle_on_postgis(capsys, postgis_url, tmp_path, monkeypatch):
    from sqlalchemy import text as sql

    schema = f"gridgov_test_{uuid.uuid4().hex[:12]}"
    store = PostGISStore(postgis_url, schema=schema)
    monkeypatch.setenv("GRIDGOV_DB_SCHEMA", schema)
    try:
        store.write(county_layers())
        edited = write(split_a(), tmp_path / "village_a.geojson")
        code, text, err = cli(
            capsys, "import", str(edited), "--draft", "重划", "--store", postgis_url
        )
        assert code == 0, err
        assert "removed 3, changed 3" in text
        code, text, _ = cli(capsys, "check", "重划", "--store", postgis_url)
        assert code == 0, text
        code, text, _ = cli(
            capsys, "publish", "重划", "--reason", "会议通过", "--store", postgis_url
        )
        assert code == 0, text
        assert "published version 2" in text
        out = tmp_path / "v2.zip"
        assert cli(capsys, "export", "2", "--out", str(out), "--store", postgis_url)[0] == 0
        back = gpd.read_file(f"/vsizip/{out}/v2.shp")
        assert len(back) == 9
        assert VersionedGrids(store).versions()["version"].tolist() == [1, 2]
    finally:
        with store.engine.begin() as conn:
            conn.execute(sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        store.engine.dispose()

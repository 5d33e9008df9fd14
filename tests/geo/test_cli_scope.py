"""The command line as a signed-in account (``--as NAME``, password on standard input): the
account's scope cuts what a report or an export holds, its role limits what it may do, and
every export, draft save and publish is in the audit — as on the pages."""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import pytest
from openpyxl import load_workbook

from geo.access import add_user, read_audit
from geo.access.principal import Role
from geo.cli.main import main as cli_main
from geo.core.settings import reset_county
from geo.store.base import open_store
from tests.synthetic_county import TOWNS, VILLAGES, onboard_synthetic_county

EAST, WEST = "410199001", "410199002"
PASSWORD = "long-enough-1"


@pytest.fixture
def county(tmp_path):
    path = tmp_path / "county.gpkg"
    store = onboard_synthetic_county(open_store(path))
    for name, role, towns in (
        ("east", Role.TOWN, [EAST]),
        ("planner-east", Role.PLANNER, [EAST]),
        ("reviewer", Role.REVIEWER, []),
        ("viewer", Role.VIEWER, []),
        ("admin", Role.ADMIN, []),
    ):
        add_user(store, name, role=role, password=PASSWORD, towns=towns)
    yield path
    reset_county()


def run(monkeypatch, *args: str, password: str = PASSWORD) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return cli_main(list(args))


def cells(path: Path) -> str:
    """Every cell of every sheet of a workbook, as one text."""
    book = load_workbook(path, read_only=True)
    return " ".join(
        str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v
    )


def test_a_town_leaders_report_holds_their_town_only(county, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    store = ["--store", str(county)]
    assert run(monkeypatch, "report", "--month", "2026-11", "--format", "xlsx",
               "--out", str(out), "--as", "east", *store) == 0  # fmt: skip
    [book] = list(out.iterdir())
    assert book.name.startswith(TOWNS[EAST])  # their town's report, not the county's
    text = cells(book)
    assert TOWNS[EAST] in text and TOWNS[WEST] not in text and WEST not in text
    assert not any(code in text for code, (_, town, _) in VILLAGES.items() if town == WEST)
    capsys.readouterr()
    # Another town, by name or code: refused with the towns this account may name.
    for other in (TOWNS[WEST], WEST):
        assert run(monkeypatch, "report", "--month", "2026-11", "--town", other,
                   "--out", str(tmp_path / "x"), "--as", "east", *store) == 2  # fmt: skip
        err = capsys.readouterr().err
        assert TOWNS[EAST] in err and TOWNS[WEST] not in err.replace(other, "")
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())
    [row] = read_audit(open_store(county), action="export").to_dict("records")
    assert row["username"] == "east" and row["role"] == "town" and row["scope"] == f"town:{EAST}"
    assert row["object"] == f"file:{book.name}"


def test_a_wrong_password_is_refused_and_audited(county, tmp_path, monkeypatch, capsys):
    args = ["report", "--month", "2026-11", "--out", str(tmp_path), "--store", str(county)]
    assert run(monkeypatch, *args, "--as", "east", password="wrong") == 2
    assert "用户名或密码不正确" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.xlsx"))
    failed = read_audit(open_store(county), action="sign_in_failed")
    assert failed.username.tolist() == ["east"]


def test_grid_exports_are_cut_to_the_scope_and_audited(county, tmp_path, monkeypatch, capsys):
    store = ["--store", str(county)]
    mine = tmp_path / "east.gpkg"
    assert run(monkeypatch, "grids", "export", "latest", "--out", str(mine), "--as", "east",
               *store) == 0  # fmt: skip
    exported = gpd.read_file(mine)
    assert len(exported) and set(exported.town_code.astype(str)) == {EAST}
    # The operator (no --as) exports the county, and is audited as the operator.
    everything = tmp_path / "all.gpkg"
    assert run(monkeypatch, "grids", "export", "latest", "--out", str(everything), *store) == 0
    assert set(gpd.read_file(everything).town_code.astype(str)) == {EAST, WEST}
    rows = read_audit(open_store(county), action="export")
    assert rows.username.tolist()[0] == "east" and rows.role.tolist() == ["town", "operator"]
    assert rows.object.tolist() == ["file:east.gpkg", "file:all.gpkg"]
    # A role without the export permission, and the administrator, get nothing.
    capsys.readouterr()
    for who in ("viewer", "admin"):
        nothing = tmp_path / f"{who}.gpkg"
        assert run(monkeypatch, "grids", "export", "latest", "--out", str(nothing), "--as", who,
                   *store) == 2  # fmt: skip
        assert "may not export grid layers" in capsys.readouterr().err
        assert not nothing.exists()
    # Reading versions and diffs: the administrator reads no grids at all.
    assert run(monkeypatch, "grids", "versions", "--as", "admin", *store) == 2
    assert "may not read grids" in capsys.readouterr().err


def test_drafts_and_publishing_follow_the_roles(county, tmp_path, monkeypatch, capsys):
    store = ["--store", str(county)]
    layer = tmp_path / "layer.gpkg"
    assert run(monkeypatch, "grids", "export", "latest", "--out", str(layer), *store) == 0
    grids = gpd.read_file(layer)
    east_village = next(c for c, (_, town, _) in VILLAGES.items() if town == EAST)
    west_village = next(c for c, (_, town, _) in VILLAGES.items() if town == WEST)
    grids.loc[grids.village_code.astype(str) == east_village, "residents"] += 1
    grids.loc[grids.village_code.astype(str) == west_village, "residents"] += 1
    edited = tmp_path / "edited.gpkg"
    grids.to_file(edited)
    capsys.readouterr()
    # The planner of the east town may not import a village of the west town …
    assert run(monkeypatch, "grids", "import", str(edited), "--draft", "西边", "--village",
               west_village, "--as", "planner-east", *store) == 2  # fmt: skip
    assert "outside your scope" in capsys.readouterr().err
    # … nor name someone else as the author, nor publish.
    assert run(monkeypatch, "grids", "import", str(edited), "--draft", "东边", "--village",
               east_village, "--as", "planner-east", "--by", "县长", *store) == 2  # fmt: skip
    assert "--by cannot go with --as" in capsys.readouterr().err
    assert run(monkeypatch, "grids", "import", str(edited), "--draft", "东边", "--village",
               east_village, "--as", "planner-east", *store) == 0  # fmt: skip
    for who, said in (("planner-east", "may not publish"), ("east", "may not publish")):
        assert run(monkeypatch, "grids", "publish", east_village, "--reason", "会议通过",
                   "--as", who, *store) == 2  # fmt: skip
        assert said in capsys.readouterr().err
    assert run(monkeypatch, "grids", "publish", east_village, "--reason", "会议通过",
               "--as", "reviewer", *store) == 0  # fmt: skip
    rows = read_audit(open_store(county))
    saves = rows[rows.action == "draft_save"]
    assert saves.username.tolist() == ["planner-east"]
    assert saves.object.str.startswith("draft:").all()
    [published] = rows[rows.action == "publish"].to_dict("records")
    assert published["username"] == "reviewer" and published["object"] == "version:2"
    assert json.loads(published["detail"])["reason"] == "会议通过"
    log = json.loads(_versions_json(county))
    assert log[-1]["published_by"] == "reviewer"
    # Rolling back is publishing: not for the planner; the reviewer's is audited as such.
    capsys.readouterr()
    assert run(monkeypatch, "grids", "rollback", "1", "--reason", "撤回", "--as", "planner-east",
               *store) == 2  # fmt: skip
    assert "may not roll grid versions back" in capsys.readouterr().err
    assert run(monkeypatch, "grids", "rollback", "99", "--reason", "撤回", "--as", "reviewer",
               *store) == 2  # fmt: skip
    assert "99" in capsys.readouterr().err
    assert run(monkeypatch, "grids", "rollback", "1", "--reason", "撤回", "--as", "reviewer",
               *store) == 0  # fmt: skip
    assert "published as version 3" in capsys.readouterr().out
    [back] = read_audit(open_store(county), action="rollback").to_dict("records")
    assert (back["username"], back["object"]) == ("reviewer", "version:3")
    assert json.loads(back["detail"])["source"] == "rollback to 1"


def test_nobody_publishes_their_own_draft_from_the_command_line(
    county, tmp_path, monkeypatch, capsys
):
    store_ = open_store(county)
    add_user(store_, "reviewer-2", role=Role.REVIEWER, password=PASSWORD)
    store = ["--store", str(county)]
    layer = tmp_path / "layer.gpkg"
    assert run(monkeypatch, "grids", "export", "latest", "--out", str(layer), *store) == 0
    grids = gpd.read_file(layer)
    village = next(iter(VILLAGES))
    grids.loc[grids.village_code.astype(str) == village, "residents"] += 2
    edited = tmp_path / "edited.gpkg"
    grids.to_file(edited)
    # The operator imports naming reviewer-2 as the editor; reviewer-2 then may not publish.
    assert run(monkeypatch, "grids", "import", str(edited), "--draft", "重划", "--village",
               village, "--by", "reviewer-2", *store) == 0  # fmt: skip
    capsys.readouterr()
    assert run(monkeypatch, "grids", "publish", village, "--reason", "r", "--as", "reviewer-2",
               *store) == 2  # fmt: skip
    assert "nobody publishes their own draft" in capsys.readouterr().err
    assert run(monkeypatch, "grids", "publish", village, "--reason", "r", "--as", "reviewer",
               *store) == 0  # fmt: skip
    saves = read_audit(open_store(county), action="draft_save")
    # The audit names who ran the command (the operator's login) and whom it named.
    [save] = saves.to_dict("records")
    assert save["role"] == "operator" and save["username"] != "reviewer-2"
    assert json.loads(save["detail"])["author"] == "reviewer-2"


def _versions_json(path: Path) -> str:
    from geo.planning.versions import VersionedGrids

    return VersionedGrids(open_store(path)).versions().to_json(orient="records", date_format="iso")

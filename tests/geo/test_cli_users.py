"""``python -m geo users`` and ``python -m geo audit`` on the synthetic county."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from geo.access import authenticate
from geo.cli.main import main as cli_main
from geo.core.settings import reset_county
from geo.store.base import open_store
from tests.synthetic_county import onboard_synthetic_county


@pytest.fixture
def county(tmp_path):
    path = tmp_path / "county.gpkg"
    onboard_synthetic_county(open_store(path))
    yield path
    reset_county()


def _run(args: list[str], monkeypatch, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli_main(args)


def test_users_are_added_listed_disabled_and_reset(county, monkeypatch, capsys) -> None:
    store = ["--store", str(county)]
    assert _run(["users", "add", "east", "--role", "town", "--town", "东城镇",
                 "--password-stdin", *store], monkeypatch, "long-enough-1\n") == 0  # fmt: skip
    assert "added east (town, town:410199001)" in capsys.readouterr().out
    assert _run(["users", "list", "--json", *store], monkeypatch) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["username"] == "east" and row["towns"] == "410199001"
    assert "password_hash" not in row
    assert authenticate(open_store(county), "east", "long-enough-1").username == "east"
    assert _run(["users", "disable", "east", *store], monkeypatch) == 0
    assert (
        _run(["users", "reset", "east", "--password-stdin", *store], monkeypatch, "another-one\n")
        == 0
    )
    assert _run(["users", "enable", "east", *store], monkeypatch) == 0
    assert authenticate(open_store(county), "east", "another-one").username == "east"
    capsys.readouterr()
    assert _run(["audit", "--json", *store], monkeypatch) == 0
    actions = [r["action"] for r in json.loads(capsys.readouterr().out)]
    assert actions == [
        "user_add",
        "sign_in",
        "user_disable",
        "user_reset",
        "user_enable",
        "sign_in",
    ]
    assert (
        _run(["audit", "--user", "east", "--action", "sign_in", "--json", *store], monkeypatch) == 0
    )
    assert len(json.loads(capsys.readouterr().out)) == 2


@pytest.mark.parametrize(
    ("args", "stdin", "said"),
    [
        (
            ["users", "add", "east", "--role", "town", "--password-stdin"],
            "long-enough-1\n",
            "needs --town",
        ),
        (
            ["users", "add", "east", "--role", "town", "--town", "北山镇", "--password-stdin"],
            "long-enough-1\n",
            "no town",
        ),
        (
            ["users", "add", "east", "--role", "viewer", "--password-stdin"],
            "",
            "no password on standard input",
        ),
        (["users", "add", "east", "--role", "viewer", "--password-stdin"], "short\n", "at least 8"),
        (["users", "disable", "nobody"], "", "no user nobody"),
        (["audit", "--from", "last week"], "", "not a date"),
    ],
)
def test_refusals_say_what_to_change(county, monkeypatch, capsys, args, stdin, said) -> None:
    assert _run([*args, "--store", str(county)], monkeypatch, stdin) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


def test_the_audit_csv_cannot_run_a_formula(county, monkeypatch, tmp_path) -> None:
    store = ["--store", str(county)]
    with pytest.raises(Exception):  # noqa: B017 - any refusal; what matters is the row
        authenticate(open_store(county), '=HYPERLINK("http://x")', "guess")
    out = tmp_path / "audit.csv"
    assert _run(["audit", "--out", str(out), *store], monkeypatch) == 0
    table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert table["username"].tolist() == ['\'=HYPERLINK("http://x")']
    assert table["action"].tolist() == ["sign_in_failed"]


def test_a_missing_store_is_named(tmp_path, monkeypatch, capsys) -> None:
    assert _run(["users", "list", "--store", str(tmp_path / "none.gpkg")], monkeypatch) == 2
    assert "no such GeoPackage" in capsys.readouterr().err

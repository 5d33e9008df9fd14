"""``python -m geo report`` on the tiny county of test_report: files, exit codes, messages."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from geo.cli.main import main
from geo.core.settings import ROOT
from tests.geo.test_report import write_tiny_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(write_tiny_store(tmp_path_factory.mktemp("cli") / "tiny.gpkg"))


def test_county_report_writes_excel_and_pdf(store, tmp_path, capsys):
    out = tmp_path / "reports"
    code = main(["report", "--month", "2026-10", "--store", store, "--out", str(out)])
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["射阳县_2026-10_月度报告.pdf", "射阳县_2026-10_月度报告.xlsx"]
    printed = capsys.readouterr().out
    assert "射阳县 2026-10: 受理 10，" in printed and " / received 10, on-time " in printed
    assert str(out / "射阳县_2026-10_月度报告.xlsx") in printed
    book = load_workbook(io.BytesIO((out / names[1]).read_bytes()))
    assert book.sheetnames[0] == "概况" and "各镇（区）" in book.sheetnames
    assert (out / names[0]).read_bytes()[:5] == b"%PDF-"


def test_town_by_name_one_format_in_english(store, tmp_path):
    args = ["report", "--month", "2026-10", "--town", "临海镇", "--format", "xlsx"]
    code = main([*args, "--lang", "en", "--store", store, "--out", str(tmp_path)])
    assert code == 0
    (path,) = tmp_path.iterdir()
    assert path.name == "临海镇_2026-10_monthly-report.xlsx"
    book = load_workbook(path)
    assert "Towns" not in book.sheetnames and book.sheetnames[1] == "Villages"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--month", "2026/10"], "month must be written YYYY-MM"),
        (["--month", "2030-01"], "2030-01 is after the data, which end at 2026-11-20 23:59"),
        (["--month", "2026-10", "--town", "火星镇"], "320924101 合德镇, 320924102 临海镇"),
        (["--month", "2026-10", "--format", "docx"], "format must be xlsx, pdf or both"),
    ],
)
def test_bad_input_exits_2_with_the_reason(store, tmp_path, capsys, extra, message):
    code = main(["report", *extra, "--store", store, "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("错误 / error:") and message in err
    assert not (tmp_path / "x").exists()  # nothing written


def test_missing_store_and_file_as_out(store, tmp_path, capsys):
    gone = str(tmp_path / "nope.gpkg")
    assert main(["report", "--month", "2026-10", "--store", gone, "--out", str(tmp_path)]) == 2
    assert "nope.gpkg: 存储文件不存在 / no such GeoPackage" in capsys.readouterr().err
    assert not (tmp_path / "nope.gpkg").exists()  # not created by opening it
    afile = tmp_path / "a.txt"
    afile.write_text("x")
    assert main(["report", "--month", "2026-10", "--store", store, "--out", str(afile)]) == 2
    assert "--out is a file" in capsys.readouterr().err


def test_runs_as_a_module(store, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    options = ["--month", "2026-09", "--format", "pdf", "--town", "320924102"]
    done = subprocess.run(
        [sys.executable, "-m", "geo", "report", *options, "--store", store, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "临海镇_2026-09_月度报告.pdf").exists()
    assert "临海镇 2026-09: 受理 1，" in done.stdout  # T09

"""geo.views.safety: data text as HTML text, literal Markdown, formula-safe cells, file names."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

from geo.views.safety import html_text, markdown_text, safe_csv, safe_filename, sheet_cell

PAYLOAD = '<img src="http://e.example/p.png">[点我](http://e.example/l) ![i](www.e.example) a@b.cn'


def test_html_text_escapes_markup() -> None:
    assert html_text(PAYLOAD).startswith("&lt;img src=&quot;http://e.example/p.png&quot;&gt;")
    assert html_text(None) == "" and html_text(float("nan")) == ""


def test_markdown_text_leaves_no_link_image_or_tag() -> None:
    said = markdown_text(PAYLOAD)
    for raw in (r"(?<!\\)<img", r"(?<!\\)\]\(", r"(?<!\\)!\[", "http://", r"www\.", "a@b"):
        assert not re.search(raw, said), raw
    # Every character is still there, in order, once the escapes and joiners are read.
    assert said.replace("\\", "").replace("\u2060", "") == PAYLOAD
    assert markdown_text("合德镇第3网格") == "合德镇第3网格"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", '=HYPERLINK("x")'])
def test_a_cell_that_would_be_a_formula_is_text(cell: str) -> None:
    assert sheet_cell(cell) == "'" + cell
    back = pd.read_csv(io.BytesIO(safe_csv(pd.DataFrame({"v": [cell], "n": [-3]}))),
                       encoding="utf-8-sig", keep_default_na=False)  # fmt: skip
    assert back["v"].tolist() == ["'" + cell] and back["n"].tolist() == [-3]  # numbers stay


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../x", "x"),
        ("a/b\\c", "a_b_c"),
        ("..", "file"),
        ("四明镇 2026", "四明镇_2026"),
        ("", "file"),
    ],
)
def test_a_file_name_from_data_stays_in_its_folder(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_a_table_with_a_repeated_column_name_is_made_safe() -> None:
    table = pd.DataFrame([["=1", "ok"]], columns=["v", "v"])
    back = pd.read_csv(io.BytesIO(safe_csv(table)), encoding="utf-8-sig")
    assert back.iloc[0].tolist() == ["'=1", "ok"]

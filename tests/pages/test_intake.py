"""AppTest of the 数据接入 page, on a copy of the demo county (the page writes to its store)."""

from __future__ import annotations

import re
import shutil

import pytest
from openpyxl import Workbook

from geo.core.settings import DEMO_FILENAME
from geo.intake import intake_file
from geo.store import open_store
from tests.pages.signin import signed_in

CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture
def own_app(demo_dir, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import REPO

    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(demo_dir / DEMO_FILENAME, folder / DEMO_FILENAME)
    monkeypatch.setenv("GRIDGOV_DATA_DIR", str(folder))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=300), folder


def _export(path) -> str:
    book = Workbook()
    sheet = book.active
    sheet.title = "工单"
    for row in (
        ["射阳县12345工单明细"],
        [],
        ["工单编号", "受理时间", "诉求类别", "经度", "纬度"],
        ["NEW0001", "2026-11-20 09:00", "环境卫生", 120.26, 33.78],
        ["NEW0002", "上周三", "环境卫生", 120.26, 33.78],
        ["合计", None, None, None, None],
    ):
        sheet.append(row)
    book.save(path)
    return str(path)


def _open(at):
    signed_in(at)
    at.switch_page("pages/views/intake.py").run()
    assert not at.exception, at.exception
    return at


def test_the_page_lists_the_quarantine_and_the_ledger(own_app, tmp_path):
    app, folder = own_app
    at = _open(app)
    assert at.title[0].value == "数据接入"
    assert [i.value for i in at.info] == ["没有待处理的行。", "尚无接入记录。"]
    store = open_store(folder / DEMO_FILENAME)
    intake_file(_export(tmp_path / "t.xlsx"), store=store, source="12345", user="clerk")
    at.run()
    assert not at.exception, at.exception
    entries, ledger = at.dataframe[0].value, at.dataframe[-1].value
    assert entries[["行号", "问题列", "原因"]].values.tolist() == [
        [5, "受理时间", "不是有效的时间"]
    ]
    assert ledger[["经办人", "新增", "待处理", "合计行"]].values.tolist() == [["clerk", 1, 1, 1]]
    cells = at.dataframe[1].value  # the data editor: the row's original cells, to correct
    assert cells[["工单编号", "受理时间", "丢弃"]].values.tolist() == [["NEW0002", "上周三", False]]
    assert at.button[2].disabled  # "drop the ticked rows": none is ticked
    at.button[1].click().run()  # taken in again uncorrected: still set aside, a new entry
    assert not at.exception, at.exception
    assert "0 new" not in at.success[0].value and "新增 0" in at.success[0].value
    assert at.dataframe[0].value["文件"].tolist() == ["t.xlsx（更正）"]


def test_the_page_speaks_english_on_the_switch(own_app, tmp_path):
    app, folder = own_app
    store = open_store(folder / DEMO_FILENAME)
    intake_file(_export(tmp_path / "t.xlsx"), store=store, source="12345", user="clerk")
    at = signed_in(app)
    at.sidebar.radio(key="_lang_widget").set_value("en").run()
    at.switch_page("pages/views/intake.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Data intake"
    said = [at.title[0].value] + [b.label for b in at.button]
    tables = [at.dataframe[0], at.dataframe[-1]]  # the editor between shows the file's headers
    said += [str(c) for d in tables for c in d.value.columns]
    said += [str(c) for c in at.dataframe[1].value.columns if not CJK.search(str(c))]
    said += [e.label for e in at.selectbox] + [e.label for e in at.text_input]
    assert len(said) > 10 and not [s for s in said if CJK.search(s)]
    reasons = at.dataframe[0].value["Reason"].tolist()
    assert reasons == ["not a time"]

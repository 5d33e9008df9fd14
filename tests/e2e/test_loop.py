"""The 闭环管理 page in a real, offline browser: KPI tiles, callers masked in 月过堂, and the
monthly report downloaded as a PDF with pages and a workbook with its KPI sheets."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.e2e

KPI_TILES = (
    "受理数", "在办", "超期在办", "通报督办", "办结数", "按期办结率", "一次性办结率",
    "网格办结占比（小事不出格）", "村网办结占比（大事不出网）", "回访率", "满意率",
    "办结用时中位数（天）",
)  # fmt: skip
MASKED_PHONE = re.compile(r"(?<!\d)1\d{2}\*{4}\d{4}(?!\d)")  # 138****5678
FULL_PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")  # 13812345678 (ticket ids run to 12 digits)
#: Every text node of the page (every tab, shown or hidden, and every data-grid cell drawn), one
#: a line: cells next to each other must not run together into one long number.
TEXT_JS = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const out = [];
  while (walker.nextNode()) out.push(walker.currentNode.nodeValue);
  return out.join('\\n');
}"""
REPORT_TIMEOUT_MS = 300_000  # the county report is built on click: seconds, more on a busy box


def test_loop_page_masks_callers_and_downloads_the_monthly_report(
    app_url, browser_page, require, tmp_path
):
    page = browser_page.page
    page.set_viewport_size({"width": 1600, "height": 1400})  # tiles, table and tabs on one shot
    browser_page.goto(f"{app_url}/loop")
    page.get_by_role("heading", name="闭环管理 · 全县").wait_for(timeout=420_000)
    browser_page.wait_for_app(timeout_ms=300_000)
    labels = page.locator("[data-testid='stMetricLabel']")
    labels.nth(len(KPI_TILES) - 1).wait_for(timeout=60_000)
    shown = dict(
        zip(
            labels.all_inner_texts(),
            page.locator("[data-testid='stMetricValue']").all_inner_texts(),
            strict=True,
        )
    )
    assert set(KPI_TILES) <= set(shown), f"KPI tiles missing: {set(KPI_TILES) - set(shown)}"
    assert re.fullmatch(r"[\d,]+", shown["受理数"]) and shown["受理数"] != "0", shown
    assert re.fullmatch(r"\d+(\.\d)?%", shown["按期办结率"]), shown
    tabs = page.get_by_role("tab")
    assert tabs.all_inner_texts() == ["日清", "周结", "月过堂"]
    page.get_by_role("tab", name="日清").scroll_into_view_if_needed()
    page.wait_for_timeout(1000)  # let the data grids paint their canvases
    browser_page.screenshot("loop")

    # 月过堂: the hard-case list shows callers masked, and no full number is anywhere on the page.
    page.get_by_role("tab", name="月过堂").click()
    panel = page.locator("[role='tabpanel']:visible")
    panel.get_by_text("疑难案件", exact=True).wait_for(timeout=60_000)
    cases = panel.locator("[data-testid='stDataFrame']").nth(1)  # backlog first, then cases
    cases.scroll_into_view_if_needed()
    box = cases.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(20_000, 0)  # the phone column is the last: scroll the grid to it
    phones = cases.locator("[role='columnheader']").filter(has_text="电话（脱敏）")
    phones.wait_for(state="attached", timeout=30_000)
    page.wait_for_function(
        "(e) => /1\\d\\d\\*{4}\\d{4}/.test(e.textContent)", arg=cases.element_handle()
    )
    cells = [c.strip() for c in cases.locator("[role='gridcell']").all_text_contents()]
    masked = [c for c in cells if MASKED_PHONE.fullmatch(c)]
    assert len(masked) >= 3, f"no masked phones (138****5678) in the case list: {masked}"
    page.wait_for_timeout(500)
    browser_page.screenshot("loop-monthly")
    text = page.evaluate(TEXT_JS)  # every tab, shown or hidden
    assert MASKED_PHONE.search(text)
    assert FULL_PHONE.findall(text) == [], "a caller's full phone number is on the page"

    # 月度报告: both buttons build the report on click and download it.
    page.get_by_role("heading", name="月度报告").scroll_into_view_if_needed()
    files = {}
    for fmt, name in (("pdf", "下载 PDF 报告"), ("xlsx", "下载 Excel 报告")):
        with page.expect_download(timeout=REPORT_TIMEOUT_MS) as info:
            page.get_by_role("button", name=name).click()
        download = info.value
        assert download.failure() is None, f"{name}: {download.failure()}"
        assert download.suggested_filename == f"射阳县_2026-10_月度报告.{fmt}"
        files[fmt] = tmp_path / download.suggested_filename
        download.save_as(files[fmt])

    pdf = files["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF"), pdf[:16]
    require(shutil.which("pdftoppm") is not None, "install poppler-utils (pdftoppm)")
    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", str(files["pdf"]), str(tmp_path / "page")], check=True
    )
    assert len(list(tmp_path.glob("page*.png"))) >= 1

    book = load_workbook(io.BytesIO(files["xlsx"].read_bytes()), read_only=True)
    assert book.sheetnames[:2] == ["概况", "各镇（区）"], book.sheetnames
    summary = [c for row in book["概况"].iter_rows(values_only=True) for c in row if c]
    assert {"受理数", "按期办结率"} <= set(summary), summary[:40]
    towns = list(book["各镇（区）"].iter_rows(values_only=True))
    assert "受理数" in towns[0] and "合德镇" in {row[towns[0].index("镇（区）")] for row in towns}
    assert len(towns) - 1 == 19  # one row a town
    assert browser_page.blocked == [], f"requests left localhost: {browser_page.blocked}"

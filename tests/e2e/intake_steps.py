"""Browser steps on the 数据接入 page shared by the intake and onboarding tests."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook


def export_with_title_rows(path: Path, *, lon: float, lat: float) -> Path:
    """A 12345 export as platforms hand it over: a merged title, a blank row, the header, three
    good tickets and one whose time is not a time, then a 合计 row."""
    book = Workbook()
    sheet = book.active
    sheet.title = "工单明细"
    sheet.append(["12345政务服务便民热线工单明细表（2026年11月）"])
    sheet.merge_cells("A1:F1")
    sheet.append([])
    sheet.append(["工单编号", "受理时间", "诉求类别", "经度", "纬度", "办理状态"])
    for i in range(3):
        sheet.append([f"E2E{i:04d}", f"2026-11-2{i} 09:30", "环境卫生", lon, lat, "办理中"])
    sheet.append(["E2E0099", "上周三", "环境卫生", lon, lat, "办理中"])
    sheet.append(["合计", "4 件"])
    book.save(path)
    return path


def upload_and_fix(page, wait_for_app, export: Path, *, screenshot) -> None:
    """On the 数据接入 page: upload ``export``, then correct and re-import its bad row."""
    page.get_by_label("平台导出的工单表").get_by_test_id(
        "stFileUploaderDropzoneInput"
    ).set_input_files(str(export))
    page.get_by_text(export.name).first.wait_for(timeout=60_000)
    page.get_by_role("button", name="导入", exact=True).click()
    done = page.get_by_text("共 5 行 = 新增 3 + 更新 0 + 未变 0 + 待处理 1 + 合计行 1")
    done.wait_for(timeout=120_000)
    wait_for_app(page)
    screenshot("intake-done")
    page.get_by_role("tab", name="待处理行").click()
    page.get_by_text("直接在表中更正单元格").wait_for(timeout=60_000)  # the tab has drawn
    wait_for_app(page)
    editor = page.locator("[data-testid='stDataFrame']:visible").nth(1)
    editor.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)  # let the layout settle before aiming at a cell
    for _ in range(5):  # the grid takes the keyboard only once a cell is selected
        box = editor.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 20, box["y"] + 35 + 17)  # row 1, first column (qid)
        if editor.evaluate("(el) => el.contains(document.activeElement)"):
            break
        page.wait_for_timeout(500)
    assert editor.evaluate("(el) => el.contains(document.activeElement)")
    for _ in range(2):  # → 工单编号 → 受理时间
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")  # open the cell's editor
    page.wait_for_timeout(500)
    page.keyboard.press("Control+A")
    page.keyboard.type("2026-11-24 10:15", delay=20)
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    screenshot("intake-quarantine-edited")
    page.get_by_role("button", name="重新导入更正的行").click()
    page.get_by_text("没有待处理的行。").wait_for(timeout=120_000)
    wait_for_app(page)
    assert page.get_by_text("新增 1 + 更新 0 + 未变 0 + 待处理 0").count() >= 1
    screenshot("intake-quarantine-fixed")
    assert page.get_by_test_id("stException").count() == 0  # never a traceback

"""The 数据接入 page in a real, offline browser: an Excel export with title rows uploaded, the
counts read, a quarantined row corrected in the data editor and taken in again.

The test writes tickets, so it runs its own `streamlit run` on its own copy of the demo county.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from geo.demo.build import DEMO_FILENAME
from geo.store import open_store
from tests.e2e.intake_steps import export_with_title_rows, upload_and_fix

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
FIRST_LOAD_MS = 420_000  # without GRIDGOV_E2E_DATA_DIR the server builds the demo first


@pytest.fixture(scope="module")
def intake_server(serve_streamlit, tmp_path_factory: pytest.TempPathFactory):
    """A server of its own on a copy of the demo county, and that copy's folder."""
    folder = tmp_path_factory.mktemp("intake-e2e-data")
    cached = Path(os.environ.get("GRIDGOV_E2E_DATA_DIR", "/nonexistent")) / DEMO_FILENAME
    if cached.is_file():
        shutil.copy(cached, folder / DEMO_FILENAME)
    log = tmp_path_factory.mktemp("intake-streamlit") / "server.log"
    with serve_streamlit(
        REPO / "dashboard.py", log_path=log, env={"GRIDGOV_DATA_DIR": str(folder)}
    ) as url:
        yield url, folder


def test_an_export_with_title_rows_is_taken_in_and_its_bad_row_fixed(
    intake_server, browser_page, tmp_path
):
    url, folder = intake_server
    page = browser_page.page
    browser_page.goto(f"{url}/intake")
    page.get_by_role("heading", name="数据接入").wait_for(timeout=FIRST_LOAD_MS)
    browser_page.wait_for_app(timeout_ms=300_000)
    store = open_store(folder / DEMO_FILENAME)
    town = store.read("grids").to_crs("EPSG:4326").geometry.iloc[0].representative_point()
    export = export_with_title_rows(tmp_path / "12345_11月.xlsx", lon=town.x, lat=town.y)
    upload_and_fix(page, browser_page.wait_for_app, export, screenshot=browser_page.screenshot)
    stored = store.read("issues").set_index("ticket_id")
    fixed = stored.loc["E2E0099"]
    assert str(fixed["received_at"]).startswith("2026-11-24 10:15")
    assert fixed["grid_code"] == store.read("grids")["grid_code"].iloc[0]
    assert page.get_by_test_id("stException").count() == 0  # never a traceback
    assert not browser_page.blocked, browser_page.blocked


def test_a_county_is_onboarded_from_the_page(intake_server, browser_page, tmp_path):
    from tests.synthetic_county import COUNTY_NAME, ZONE_CRS, write_synthetic_grids

    url, folder = intake_server
    grids = write_synthetic_grids(tmp_path / "grids.gpkg", with_names=True)
    page = browser_page.page
    browser_page.goto(f"{url}/intake")
    page.get_by_role("heading", name="数据接入").wait_for(timeout=FIRST_LOAD_MS)
    browser_page.wait_for_app(timeout_ms=300_000)
    page.get_by_role("tab", name="县域接入").click()
    page.get_by_label("网格图层（必需）").get_by_test_id(
        "stFileUploaderDropzoneInput"
    ).set_input_files(str(grids))
    page.get_by_label("县名（可空，缺省取编码）").fill(COUNTY_NAME)
    page.get_by_label("存储文件名").fill("zhongyuan.gpkg")
    page.get_by_role("button", name="检查并接入").click()
    page.get_by_text(f"{COUNTY_NAME}（410199）已接入").wait_for(timeout=120_000)
    browser_page.wait_for_app()
    browser_page.screenshot("intake-onboarded")
    store = open_store(folder / "zhongyuan.gpkg")
    assert store.read("grids").crs == ZONE_CRS and len(store.read("grids")) == 48
    assert page.get_by_test_id("stException").count() == 0  # never a traceback
    assert not browser_page.blocked, browser_page.blocked

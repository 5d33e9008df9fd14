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
    page.goto(f"{url}/intake")
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
    assert not browser_page.blocked, browser_page.blocked

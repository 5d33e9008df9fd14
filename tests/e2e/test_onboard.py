"""A county onboarded with the CLI, served with ``GRIDGOV_STORE``: the Overview names it and
shows no trace of the demo county, offline."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.store import open_store
from tests.e2e.intake_steps import export_with_title_rows, upload_and_fix
from tests.synthetic_county import COUNTY_NAME, ZONE_CRS, write_synthetic_grids

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
N_GRIDS = 48
IT_PASSWORD = "county-it-staff"


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory, serve_streamlit) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("onboarded")
    grids = write_synthetic_grids(folder / "grids.shp", with_names=True)
    store = folder / "county.gpkg"
    done = subprocess.run(
        [sys.executable, "-m", "geo", "onboard", "--grids", str(grids),
         "--store", str(store), "--county-name", COUNTY_NAME,
         # a Shapefile's field names stop at 10 characters
         "--columns", "grid_worker=grid_worke,village_name=village_na"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # A real store has no account until its IT staff add one.
    added = subprocess.run(
        [sys.executable, "-m", "geo", "users", "add", "it", "--role", "county",
         "--password-stdin", "--store", str(store)],
        cwd=REPO_ROOT, input=IT_PASSWORD + "\n", capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    env = {
        "GRIDGOV_STORE": str(store),
        "GRIDGOV_DATA_DIR": str(folder / "no-demo"),  # the demo must not be built or shown
        "DATABASE_URL": "",
    }
    with serve_streamlit(
        REPO_ROOT / "dashboard.py", log_path=folder / "server.log", env=env
    ) as url:
        yield url, store
    assert not (folder / "no-demo").exists()


def test_overview_shows_the_onboarded_county(onboarded, browser_page):
    page = browser_page.page
    browser_page.goto(onboarded[0], "it", IT_PASSWORD)
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator("path.leaflet-interactive").nth(N_GRIDS - 1).wait_for(
        state="attached", timeout=120_000
    )
    browser_page.wait_for_app(timeout_ms=120_000)
    page.wait_for_timeout(1000)
    browser_page.screenshot("onboarded-overview")

    title = page.locator("h1").first.inner_text()
    assert COUNTY_NAME in title
    body = page.locator("body").inner_text()
    assert "射阳" not in body and "示例数据" not in body
    assert "人口为近似值" in body  # no household points were given
    assert browser_page.blocked == []


def test_the_onboarded_county_takes_in_an_export_and_a_fixed_row(onboarded, browser_page, tmp_path):
    url, store_path = onboarded
    page = browser_page.page
    browser_page.goto(f"{url}/intake", "it", IT_PASSWORD)
    page.get_by_role("heading", name="数据接入").wait_for(timeout=120_000)
    browser_page.wait_for_app(timeout_ms=120_000)
    store = open_store(store_path)
    grids = store.read("grids")
    assert grids.crs == ZONE_CRS  # another Gauss-Krüger zone than the demo's
    inside = grids.to_crs("EPSG:4326").geometry.iloc[5].representative_point()
    export = export_with_title_rows(tmp_path / "12345_11月.xlsx", lon=inside.x, lat=inside.y)
    upload_and_fix(page, browser_page.wait_for_app, export, screenshot=browser_page.screenshot)
    issues = store.read("issues").set_index("ticket_id")
    assert sorted(issues.index) == ["E2E0000", "E2E0001", "E2E0002", "E2E0099"]
    assert (issues["grid_code"] == grids["grid_code"].iloc[5]).all()
    assert issues.crs == ZONE_CRS
    assert "射阳" not in page.locator("body").inner_text()
    assert browser_page.blocked == []

"""A county onboarded with the CLI, served with ``GRIDGOV_STORE``: the Overview names it and
shows no trace of the demo county, offline."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.synthetic_county import COUNTY_NAME, write_synthetic_grids

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
N_GRIDS = 48


@pytest.fixture(scope="module")
def onboarded_url(tmp_path_factory, serve_streamlit) -> Iterator[str]:
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
    env = {
        "GRIDGOV_STORE": str(store),
        "GRIDGOV_DATA_DIR": str(folder / "no-demo"),  # the demo must not be built or shown
        "DATABASE_URL": "",
    }
    with serve_streamlit(
        REPO_ROOT / "dashboard.py", log_path=folder / "server.log", env=env
    ) as url:
        yield url
    assert not (folder / "no-demo").exists()


def test_overview_shows_the_onboarded_county(onboarded_url, browser_page):
    page = browser_page.page
    page.goto(onboarded_url)
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

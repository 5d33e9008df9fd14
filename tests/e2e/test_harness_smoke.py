"""The test harness itself: `require`, the PostGIS fixture, the offline browser, the launcher."""

from __future__ import annotations

import base64
import http.server
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

# A 1x1 transparent PNG.
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


# --------------------------------------------------------------------------- require


def test_require_lets_the_test_go_on_when_the_condition_holds(require, monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert require(True, "never shown") is None


@pytest.mark.parametrize("ci", ["true", "TRUE", " true "])
def test_require_fails_under_ci(require, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="chromium is missing"):
        require(False, "chromium is missing")


@pytest.mark.parametrize("ci", [None, "", "false", "1"])
def test_require_skips_outside_ci(require, monkeypatch, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="chromium is missing"):
        require(False, "chromium is missing")


# --------------------------------------------------------------------------- PostGIS


@pytest.mark.postgis
def test_postgis_url_reaches_a_database_with_postgis_and_the_project_crs(postgis_url):
    import sqlalchemy as sa

    engine = sa.create_engine(postgis_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT postgis_lib_version()")).scalar_one()
            # EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E) is the project's metric CRS.
            srid = conn.execute(
                sa.text(
                    "SELECT srid FROM spatial_ref_sys WHERE auth_name = 'EPSG' AND auth_srid = 4549"
                )
            ).scalar_one_or_none()
            area_m2 = conn.execute(
                sa.text(
                    "SELECT ST_Area(ST_Transform(ST_GeomFromText("
                    "'POLYGON((120.25 33.77, 120.26 33.77, 120.26 33.78, "
                    "120.25 33.78, 120.25 33.77))',"
                    " 4326), 4549))"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    assert int(version.split(".")[0]) >= 3
    assert srid == 4549
    # 0.01° x 0.01° at 33.8°N: about 1,110 m x 925 m.
    assert area_m2 == pytest.approx(1.027e6, rel=0.01)


# --------------------------------------------------------------------------- offline browser


class _LocalFiles(http.server.BaseHTTPRequestHandler):
    """Serves a PNG at any path and records the paths asked for."""

    requested: list[str]

    def do_GET(self) -> None:
        self.requested.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG_1X1)))
        self.end_headers()
        self.wfile.write(PNG_1X1)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[tuple[str, list[str]]]:
    requested: list[str] = []
    handler = type("Handler", (_LocalFiles,), {"requested": requested})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.e2e
def test_browser_page_reaches_loopback_and_blocks_everything_else(browser_page, local_server):
    base_url, requested = local_server
    page = browser_page.page
    failed: list[tuple[str, str | None]] = []
    page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))

    page.set_content(
        f"""<!doctype html><html><body>
        <img id="outside" src="http://example.com/x.png">
        <img id="local" src="{base_url}/local.png">
        </body></html>""",
        wait_until="load",
    )
    fetch_outcome = page.evaluate(
        """() => fetch('https://cdn.example.org/leaflet.js')
                  .then(() => 'fetched', (err) => 'rejected: ' + err.name)"""
    )
    widths = page.evaluate(
        "() => [...document.images].map(img => [img.id, img.complete, img.naturalWidth])"
    )

    assert browser_page.blocked == [
        "http://example.com/x.png",
        "https://cdn.example.org/leaflet.js",
    ]
    assert fetch_outcome == "rejected: TypeError"
    assert widths == [["outside", True, 0], ["local", True, 1]]
    assert requested == ["/local.png"]
    assert sorted(url for url, _ in failed) == sorted(browser_page.blocked)
    # Chromium reports "net::ERR_BLOCKED_BY_CLIENT.Inspector" for requests aborted via DevTools.
    assert all((reason or "").startswith("net::ERR_BLOCKED_BY_CLIENT") for _, reason in failed), (
        failed
    )


# --------------------------------------------------------------------------- Streamlit launcher

SLOW_SCRIPT = """
import time
import streamlit as st

st.title("harness")
time.sleep(2)
st.write("script-finished-marker")
"""


@pytest.mark.e2e
def test_served_streamlit_is_waited_for_needs_no_internet_and_is_stopped(
    serve_streamlit, browser_page, tmp_path
):
    script = tmp_path / "slow_app.py"
    script.write_text(SLOW_SCRIPT, encoding="utf-8")

    with serve_streamlit(script, log_path=tmp_path / "server.log", start_timeout_s=120) as url:
        page = browser_page.page
        page.goto(url)
        browser_page.wait_for_app()
        # wait_for_app returned only after the 2 s sleep and the last element.
        assert page.get_by_text("script-finished-marker").is_visible()
        assert page.get_by_role("heading", name="harness").is_visible()
        shot = browser_page.screenshot("harness-smoke")
        health = urllib.request.urlopen(f"{url}/_stcore/health", timeout=5).read()

    assert health == b"ok"
    assert Path(shot).stat().st_size > 0
    assert browser_page.blocked == [], "Streamlit's own frontend asked for outside URLs"
    # The server's whole process group is gone: the port no longer answers.
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)

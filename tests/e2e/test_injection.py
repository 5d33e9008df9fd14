"""Text from data cannot take the web app over: script and markup payloads put into every text
field (town, village, grid, grid worker, service point, category, address) of a copy of the
demo county, then every page opened in a real browser — no script runs, no dialog opens, no
request leaves the machine, no traceback shows."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from geo.demo.build import DEMO_FILENAME, build_demo
from geo.store import open_store

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
#: Markup that would run, fetch or link if any page inserted it as HTML or Markdown.
PAYLOAD = (
    '<img src="http://evil.example/p.png" onerror="window.__pwned=1;alert(1)">'
    "<script>window.__pwned=1</script>[点我](http://evil.example/l) "
    '![图](http://evil.example/i.png) =HYPERLINK("http://evil.example")'
)
PAGES = [("", "county"), ("hotspots", "county"), ("services", "county"),
         ("loop", "county"),
         ("planner", "planner"), ("intake", "county"), ("admin", "admin"),
         ("wall", "county")]  # fmt: skip


def _poisoned(folder: Path) -> None:
    """Payloads in the text fields of the store in ``folder``."""
    store = open_store(folder / DEMO_FILENAME)
    towns = store.read("towns")
    towns.loc[towns.index[:3], "town_name"] = towns["town_name"].iloc[:3] + PAYLOAD
    villages = store.read("villages")
    villages.loc[villages.index[:40], "village_name"] = villages["village_name"].iloc[:40] + PAYLOAD
    grids = store.read("grids")
    hede = grids.index[grids.town_code == "320924101"][:60]
    grids.loc[hede, "grid_name"] = grids.loc[hede, "grid_name"] + PAYLOAD
    grids.loc[hede, "grid_worker"] = PAYLOAD
    services = store.read("service_points")
    services.loc[services.index[:80], "name"] = PAYLOAD
    issues = store.read("issues")
    recent = issues.sort_values("received_at").index[-3000:]
    issues["category"] = issues["category"].astype(object)
    issues.loc[recent[::3], "category"] = PAYLOAD
    if "address" in issues.columns:
        issues.loc[recent, "address"] = PAYLOAD
    issues.loc[recent[::5], "caller_name"] = PAYLOAD
    store.write({"towns": towns, "villages": villages, "grids": grids,
                 "service_points": services, "issues": issues})  # fmt: skip


@pytest.fixture(scope="module")
def poisoned_url(serve_streamlit, tmp_path_factory):
    folder = tmp_path_factory.mktemp("injection-data")
    cached = Path(os.environ.get("GRIDGOV_E2E_DATA_DIR", "/nonexistent")) / DEMO_FILENAME
    if cached.is_file():
        shutil.copy(cached, folder / DEMO_FILENAME)
        from geo.demo import add_demo_accounts

        if "users" not in open_store(folder / DEMO_FILENAME).layers():
            add_demo_accounts(open_store(folder / DEMO_FILENAME))
    else:
        build_demo(folder, seed=0)
    _poisoned(folder)
    log = tmp_path_factory.mktemp("injection-streamlit") / "server.log"
    with serve_streamlit(
        REPO / "dashboard.py", log_path=log, env={"GRIDGOV_DATA_DIR": str(folder)}
    ) as url:
        yield url


@pytest.mark.parametrize(("path", "user"), PAGES, ids=[p or "overview" for p, _ in PAGES])
def test_payloads_in_every_text_field_stay_text(poisoned_url, browser_page, path, user) -> None:
    page = browser_page.page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    browser_page.goto(f"{poisoned_url}/{path}", user)
    page.wait_for_timeout(2500)  # maps and charts draw after the run
    browser_page.screenshot(f"injection-{path or 'overview'}")
    ran = [
        f.url
        for f in page.frames
        if not f.is_detached() and f.evaluate("() => window.__pwned === 1")
    ]
    assert ran == [], f"a payload ran in {ran}"
    assert dialogs == []
    assert browser_page.blocked == [], f"requests left the machine: {browser_page.blocked}"
    assert page.get_by_test_id("stException").count() == 0
    # What the page shows of the payload is its text, escaped (where it shows it at all).
    anchors = page.evaluate(
        "() => [...document.querySelectorAll('a[href*=\"evil.example\"]')]"
        ".map(a => a.closest('[data-testid]').getAttribute('data-testid') + ': ' +"
        " a.parentElement.textContent.slice(0, 80))"
    )
    assert anchors == []

"""Every page opens on a county just onboarded: no tickets, no service points, no households."""

from __future__ import annotations

import pytest

from geo.access import add_user
from geo.intake import onboard_county
from geo.store import open_store
from tests.pages.signin import signed_in
from tests.synthetic_county import COUNTY_NAME, synthetic_grids

PAGES = (
    "pages/views/overview.py",
    "pages/views/hotspots.py",
    "pages/views/services.py",
    "pages/views/loop.py",
    "pages/views/planner.py",
    "pages/views/intake.py",
    "pages/views/wall.py",
)


@pytest.fixture(scope="module")
def county_store(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("new-county") / "county.gpkg"
    report = onboard_county(
        synthetic_grids(with_names=True), store=open_store(path), county_name=COUNTY_NAME
    )
    assert report.written
    # A real store has no account until `users add`: the county's IT staff add theirs.
    add_user(open_store(path), "it", role="county", password="county-it-1")
    add_user(open_store(path), "plan", role="planner", password="planner-1", towns=["东城镇"])
    return str(path)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_on_a_new_county(county_store, page, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import REPO

    monkeypatch.setenv("GRIDGOV_STORE", county_store)
    monkeypatch.setenv("GRIDGOV_DATA_DIR", str(tmp_path / "no-demo"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    at.run()
    assert not [d for d in at.dataframe], "no demo accounts are listed on a real store"
    user, password = ("plan", "planner-1") if "planner" in page else ("it", "county-it-1")
    signed_in(at, user, password)
    if page != PAGES[0]:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    kinds = ("title", "info", "warning", "caption")
    said = " ".join(e.value for kind in kinds for e in at.get(kind))
    assert "射阳" not in said
    assert not (tmp_path / "no-demo").exists()  # the demo was neither built nor shown


def test_hot_spots_wait_for_enough_history(county_store, monkeypatch, tmp_path):
    from openpyxl import Workbook
    from streamlit.testing.v1 import AppTest

    from geo.intake import intake_file
    from tests.pages.conftest import REPO

    store = open_store(county_store)
    inside = store.read("grids").to_crs("EPSG:4326").geometry.iloc[0].representative_point()
    book = Workbook()
    book.active.append(["工单编号", "受理时间", "经度", "纬度"])
    book.active.append(["N1", "2026-12-01 09:00", inside.x, inside.y])
    book.save(tmp_path / "t.xlsx")
    assert intake_file(tmp_path / "t.xlsx", store=store, source="12345").new == 1
    monkeypatch.setenv("GRIDGOV_STORE", county_store)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    at = signed_in(AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120), "it",
                   "county-it-1")  # fmt: skip
    at.switch_page("pages/views/hotspots.py").run()
    assert not at.exception, at.exception
    assert any("诉求记录还太短" in i.value for i in at.info)

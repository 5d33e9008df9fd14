"""One number for one thing: the same figure on every page that shows it.

The states of now (open, overdue, reprimanded) count every ticket of the scope whenever it
was received, so the sidebar's dates do not change them; the Overview, 闭环管理 and the wall
must agree, at the county's scope and at a town's.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.core.scope import Scope
from geo.core.tickets import CLOSED
from geo.demo.build import DEMO_FILENAME
from geo.grids.aggregate import IssueFilter, filter_mask
from geo.loop.lifecycle import kpi_tables
from geo.store.base import open_store
from geo.store.county import load_county
from geo.views.overview import overview
from tests.pages.signin import signed_in


def _figures(at) -> dict[str, int]:
    whole = (m for m in at.metric if m.value.replace(",", "").isdigit())
    return {m.label: int(m.value.replace(",", "")) for m in whole}


def _page(at, path: str, town: str | None = None):
    at.switch_page(path).run()
    if town:
        at.sidebar.selectbox(key="town").set_value(town).run()
    assert not at.exception, at.exception
    return _figures(at)


def test_open_and_overdue_agree_across_pages(app, demo_dir: Path):
    data = load_county(open_store(demo_dir / DEMO_FILENAME), scope=Scope.county())
    every = kpi_tables(data.issues, data.as_of, levels=("county", "town"))
    county, towns = every["county"].iloc[0], every["town"].set_index("town_code")
    at = signed_in(app)
    overview = _figures(at)
    loop = _page(at, "pages/views/loop.py")
    wall = _page(at, "pages/views/wall.py")
    assert overview["在办"] == loop["在办"] == wall["在办"] == county["open"]
    assert overview["超期在办"] == loop["超期在办"] == wall["超期在办"] == county["overdue"]
    assert loop["通报督办"] == county["reprimand"]  # the wall names it in its overdue panel
    # The default 30-day window holds fewer tickets than are open: the figure is not the
    # window's, or it would be smaller.
    assert overview["受理数"] < county["issues"]

    town = "320924101"
    overview_town = _page(at, "pages/views/overview.py", town)
    loop_town = _page(at, "pages/views/loop.py", town)
    assert overview_town["在办"] == loop_town["在办"] == towns.loc[town, "open"]
    assert overview_town["超期在办"] == loop_town["超期在办"] == towns.loc[town, "overdue"]
    assert 0 < towns.loc[town, "overdue"] < county["overdue"]


def test_each_grids_open_cases_on_the_overview_are_the_tiles_kind(demo_dir: Path):
    # A grid's 在办 on the Overview's map is a state of now too: every ticket still open,
    # not only those received in the sidebar's 30 days.
    data = load_county(open_store(demo_dir / DEMO_FILENAME), scope=Scope.county())
    end = data.as_of.normalize()
    flt = IssueFilter(end - pd.Timedelta(days=29), end, town_code="320924101")
    view = overview(data, flt)
    every = kpi_tables(data.issues, data.as_of, levels=("grid",))["grid"]
    expected = view.grids.grid_code.map(every.set_index("grid_code")["open"]).fillna(0)
    assert view.grids["open"].tolist() == expected.astype(int).tolist()
    in_window = data.issues[filter_mask(data.issues, flt)]
    windowed = int((in_window["status"] != CLOSED).sum())
    assert view.grids["open"].sum() > windowed > 0  # long-open cases are counted
    assert view.grids["open"].sum() <= view.kpis["open"]  # the rest are in no grid

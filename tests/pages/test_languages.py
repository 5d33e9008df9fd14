"""One language on screen: in English no Chinese, in Chinese no stray English words.

Checked on what names the page's parts: titles, headers, captions, metric labels, expander
and button labels and table headings (the table cells are data). Names from the data (the
county, towns, villages, grids, grid workers, the store's file name) and the proper nouns of
:data:`PROPER_LATIN` are allowed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyogrio
import pytest

from geo.access.users import DEMO_ACCOUNTS
from geo.core.settings import DEMO_FILENAME, Settings
from tests.pages.signin import signed_in

CJK = re.compile(r"[\u3400-\u9fff]")
#: Latin words a Chinese screen may show: methods, units, formats.
PROPER_LATIN = {"Gi", "FDR", "CBC", "GeoPackage", "CSV", "Excel", "PDF", "km"}
PAGES = (
    "pages/views/overview.py",
    "pages/views/hotspots.py",
    "pages/views/services.py",
    "pages/views/loop.py",
    "pages/views/planner.py",
    "pages/views/admin.py",
)
ACCOUNTS = sorted((name for name, _, _ in DEMO_ACCOUNTS), key=len, reverse=True)
#: Who opens each page (a planner the planner, the administrator the administration).
USER = {"pages/views/planner.py": "planner", "pages/views/admin.py": "admin"}


@pytest.fixture(scope="module")
def proper_names(demo_dir: Path) -> list[str]:
    """The county's name and every town, village, grid and grid worker name of the demo,
    longest first."""
    path = demo_dir / DEMO_FILENAME
    names = {Settings().county_name}
    for layer, columns in (
        ("towns", ["town_name"]),
        ("villages", ["village_name"]),
        ("grids", ["grid_name", "grid_worker"]),
    ):
        frame = pyogrio.read_dataframe(path, layer=layer, columns=columns, read_geometry=False)
        names |= {str(v) for c in columns for v in frame[c].dropna()}
    return sorted(names, key=len, reverse=True)


def _said(at) -> list[str]:
    """The words naming the parts of the page (main area and sidebar)."""
    said = [e.value for kind in ("title", "header", "subheader", "caption") for e in at.get(kind)]
    said += [m.label for m in at.metric] + [e.label for e in at.expander]
    said += [b.label for b in at.button]
    said += [str(c) for d in at.dataframe for c in d.value.columns]
    return [s for s in said if s]


def _open(app, page: str, lang: str):
    at = signed_in(app, USER.get(page, "county"))
    at.sidebar.radio(key="_lang_widget").set_value(lang).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _without(names: list[str], said: str) -> str:
    for name in [*names, *ACCOUNTS]:  # an account's name is data, as a place name is
        said = said.replace(name, " ")
    return re.sub(r"\S+\.gpkg", " ", said)  # the store's file name


@pytest.mark.parametrize("page", PAGES)
def test_english_pages_show_no_chinese(app, page, proper_names):
    at = _open(app, page, "en")
    said = _said(at)
    assert len(said) > 10
    stray = [s for s in said if CJK.search(_without(proper_names, s))]
    assert not stray


@pytest.mark.parametrize("page", PAGES)
def test_chinese_pages_show_no_stray_english(app, page, proper_names):
    at = _open(app, page, "zh")
    said = _said(at)
    assert len(said) > 10
    stray = [
        (s, words)
        for s in said
        if (words := set(re.findall(r"[A-Za-z]{2,}", _without(proper_names, s))) - PROPER_LATIN)
    ]
    assert not stray

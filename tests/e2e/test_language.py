"""Chinese first, in a real browser: every page in Chinese shows no English word of its own.

What a page shows is read the way a person sees it: every visible text node (Streamlit's
icon ligatures such as ``map`` left out, they draw a picture) plus the text CSS draws
(``::before`` / ``::after``), where GridGov puts Chinese over the words Streamlit itself writes
in English (the file uploader's button and limit, the keyboard's skip link). What may stay
is what reads the same in both languages: the language switch, format and system names.
"""

from __future__ import annotations

import re

import pytest

from geo.access.users import DEMO_ACCOUNTS, DEMO_PASSWORD

pytestmark = pytest.mark.e2e

PAGES = ["", "hotspots", "services", "loop", "planner", "intake", "admin", "wall"]
#: Who opens each page (the county's account unless named here).
USER = {"planner": "planner", "admin": "admin"}

#: Words the same in both languages: the switch names both languages; formats and systems.
SAME_IN_BOTH = {
    "Language", "English",
    "Excel", "CSV", "XLSX", "XLSM", "XLS", "TXT", "PDF", "GeoPackage", "GPKG",
    "WGS", "GCJ", "EPSG", "GridGov", "ArcGIS",
}  # fmt: skip

ACCOUNTS = {name for name, _, _ in DEMO_ACCOUNTS} | {DEMO_PASSWORD}

#: File names (a store's path, an export's name) are data, not words of the page.
FILE_NAME = re.compile(r"[\w./-]+\.(?:gpkg|xlsx|xlsm|xls|csv|txt|pdf|zip|geojson)\b", re.I)
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")

SEEN_TEXT_JS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || !node.textContent.trim()) continue;
    if (el.closest('[data-testid="stIconMaterial"], [translate="no"], style, script')) continue;
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    if (parseFloat(getComputedStyle(el).fontSize) === 0) continue;
    out.push(node.textContent);
  }
  // An empty field's placeholder is seen (a select box's hides behind its value: left out).
  for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (el.value === '' && !el.closest('[data-testid="stSelectbox"]') && el.checkVisibility())
      out.push(el.getAttribute('placeholder'));
  }
  for (const el of document.querySelectorAll('*')) {
    for (const part of ['::before', '::after']) {
      const drawn = getComputedStyle(el, part).content;
      if (drawn && drawn.startsWith('"') && el.checkVisibility()) out.push(drawn.slice(1, -1));
    }
  }
  return out;
}"""


def english_words(texts: list[str]) -> set[str]:
    """Words of three or more Latin letters that are not the same in both languages (nor
    an account's name: data, as a place name is)."""
    words = {w for text in texts for w in WORD.findall(FILE_NAME.sub(" ", text))}
    return {w for w in words if w not in SAME_IN_BOTH | ACCOUNTS}


def test_the_word_check_sees_what_it_should() -> None:
    # The check itself: Streamlit's own English is found, file names and formats are not.
    assert english_words(["Drag and drop file here", "200MB per file"]) == {
        "Drag", "and", "drop", "file", "here", "per"
    }  # fmt: skip
    assert english_words(["存储 /tmp/d/sheyang_demo.gpkg", "Excel 或 CSV", "12 件"]) == set()


@pytest.mark.parametrize("path", PAGES, ids=[p or "overview" for p in PAGES])
def test_every_page_in_chinese_shows_no_english(path: str, app_url, browser_page) -> None:
    page = browser_page.page
    browser_page.goto(f"{app_url}/{path}", USER.get(path, "county"))
    page.wait_for_timeout(1500)  # charts and the uploader draw after the run ends
    texts = page.evaluate(SEEN_TEXT_JS)
    browser_page.screenshot(f"language-{path or 'overview'}")
    assert any(re.search(r"[\u4e00-\u9fff]", t) for t in texts), "no Chinese on the page"
    left = english_words(texts)
    assert not left, f"English left on the Chinese page /{path}: {sorted(left)}"
    assert not browser_page.blocked


def test_the_sign_in_page_in_chinese_shows_no_english(app_url, browser_page) -> None:
    page = browser_page.page
    page.goto(app_url)
    page.get_by_role("button", name="登录").wait_for(timeout=420_000)
    browser_page.wait_for_app()
    page.wait_for_timeout(1000)
    texts = page.evaluate(SEEN_TEXT_JS)
    browser_page.screenshot("language-sign-in")
    left = english_words(texts)
    assert not left, f"English left on the sign-in page: {sorted(left)}"
    assert page.get_by_label("用户名").is_visible() and page.get_by_label("密码").is_visible()

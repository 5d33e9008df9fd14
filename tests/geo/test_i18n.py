"""One i18n mechanism: Text values, the catalog, strict keys, and every key the code uses."""

from __future__ import annotations

import ast
import logging
import re
import string
from pathlib import Path

import pytest

from geo.core import i18n
from geo.core.i18n import LANGUAGES, TEXT, Text, pick, text, translator

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3400-\u9fff]")
#: Calls that look a key up: ``tr("…")``, ``t("…")``, ``text("…")`` (and a translator's
#: other local names), ``translator(lang)("…")`` and ``tr()("…")``.
LOOKUPS = {"t", "tr", "text", "tooltip"}
#: Modules whose ``t``/``tr``/``text`` are catalog lookups (imported under those names elsewhere).
CATALOG_MODULES = {"geo.core.i18n", "pages.views._common", "pages.views._planner_state"}
#: Latin words a Chinese text may hold: names of methods, formats, tools and units.
PROPER_LATIN = {
    "Gi", "CBC", "GeoPackage", "GeoJSON", "Shapefile", "QGIS", "CSV", "Excel", "PDF", "GB",
    "Getis", "Ord", "FDR", "Benjamini", "Hochberg", "Local", "Moran", "max", "km", "refresh", "WGS",
    "MB", "ArcGIS",
}  # fmt: skip


# --------------------------------------------------------------------------- Text


def test_text_picks_a_language_and_reads_both_in_logs():
    t = Text("网格", "grid")
    assert (t.pick("zh"), t.pick("en")) == ("网格", "grid")
    assert str(t) == "网格 / grid"
    assert f"{t}" == "网格 / grid"
    with pytest.raises(ValueError, match=r"lang must be one of \['zh', 'en'\], got 'fr'"):
        t.pick("fr")


@pytest.mark.parametrize(("zh", "en", "missing"), [("", "grid", "zh"), ("网格", " ", "en")])
def test_text_needs_both_languages(zh, en, missing):
    with pytest.raises(ValueError, match=f"write the {missing} text"):
        Text(zh, en)


def test_text_is_a_frozen_value():
    t = Text("网格", "grid")
    assert t == Text("网格", "grid") and hash(t) == hash(Text("网格", "grid"))
    with pytest.raises(AttributeError):
        t.zh = "村"  # type: ignore[misc]


def test_format_fills_both_languages_and_composes():
    where = Text("射阳县", "Sheyang County")
    got = Text("{place}共 {n:,} 件（{0}）", "{n:,} in {place} ({0})").format(
        "v2", place=where, n=1234
    )
    assert got == Text("射阳县共 1,234 件（v2）", "1,234 in Sheyang County (v2)")


# --------------------------------------------------------------------------- the catalog


def test_every_catalog_entry_has_both_languages_with_the_same_fields():
    assert TEXT, "the catalog is empty"
    for key, entry in TEXT.items():
        assert isinstance(entry, Text), key
        assert entry.zh.strip() and entry.en.strip(), key
        fields = [
            {name for _, name, _, _ in string.Formatter().parse(side) if name is not None}
            for side in (entry.zh, entry.en)
        ]
        assert fields[0] == fields[1], f"{key}: {{…}} fields differ between zh and en: {fields}"


def test_english_has_no_chinese_and_chinese_only_proper_latin():
    for key, entry in TEXT.items():
        assert not CJK.search(entry.en), f"{key}: Chinese in the English text {entry.en!r}"
        words = re.sub(r"\{[^}]*\}|\?refresh=\d+", "", entry.zh)
        stray = set(re.findall(r"[A-Za-z]{2,}", words)) - PROPER_LATIN
        assert not stray, f"{key}: English words {stray} in the Chinese text {entry.zh!r}"


def _lookups(path: Path) -> list[tuple[int, ast.expr]]:
    """The key argument of every catalog lookup in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set(LOOKUPS)
    for node in ast.walk(tree):  # ``text`` is the catalog's only where it comes from there
        if isinstance(node, ast.ImportFrom) and node.module not in CATALOG_MODULES:
            names -= {alias.asname or alias.name for alias in node.names}
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        f = node.func
        named = isinstance(f, ast.Name) and f.id in names
        made = isinstance(f, ast.Call) and getattr(f.func, "id", "") in ("translator", "tr")
        if named or made:
            out.append((node.lineno, node.args[0]))
    return out


def _sources() -> list[Path]:
    folders = [ROOT.glob(f"{name}/**/*.py") for name in ("geo", "layers", "pages")]
    return sorted([*(path for found in folders for path in found), ROOT / "dashboard.py"])


def test_every_key_the_code_names_is_in_the_catalog():
    literal, prefixed, missing = 0, 0, []
    for path in _sources():
        where = path.relative_to(ROOT)
        for line, arg in _lookups(path):
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                literal += 1
                if arg.value not in TEXT:
                    missing.append(f"{where}:{line}: {arg.value!r}")
            elif isinstance(arg, ast.JoinedStr | ast.BinOp):
                # f"plan_op_{o}" / "wall_head_" + panel: some key starts with the literal head.
                head = arg.values[0] if isinstance(arg, ast.JoinedStr) else arg.left
                if isinstance(head, ast.Constant) and isinstance(head.value, str):
                    prefixed += 1
                    if not any(k.startswith(head.value) for k in TEXT):
                        missing.append(f"{where}:{line}: {head.value!r}…")
    assert literal > 200 and prefixed > 30, (literal, prefixed)  # the scan sees the code
    assert not missing, "keys not in geo.core.i18n.TEXT:\n" + "\n".join(missing)


def test_every_code_shown_through_a_key_family_has_its_entry():
    from geo.core.settings import get_settings
    from geo.grids.assign import (
        PROBLEM_NO_ADDRESS_MATCH,
        PROBLEM_NO_COORDS,
        PROBLEM_OUTSIDE,
        PROBLEM_VILLAGE_LEVEL,
    )
    from geo.hotspots.alerts import KINDS
    from geo.hotspots.emerging import CATEGORIES
    from geo.hotspots.local import CLUSTER_CODES, HOTSPOT_CLASSES
    from geo.loop.lifecycle import KPIS, PLATFORMS, STAGES, STATES
    from geo.services.coverage import ALL_ESSENTIAL
    from geo.store.readers import NO_COORDS, SWAPPED
    from geo.views.wall import PANEL_COLUMNS, PANELS, TILES
    from layers.planner_map import DRAW_TEXT_PATHS
    from pages.views._planner_state import OPS, TABS

    cfg = get_settings()
    families = {
        "hot_class_": HOTSPOT_CLASSES,
        "emerging_": CATEGORIES,
        "cluster_": (*CLUSTER_CODES, "not_significant"),
        "alert_kind_": KINDS,
        "wall_panel_": PANELS,
        "wall_head_": PANELS,
        "plan_draw.": DRAW_TEXT_PATHS,
        "plan_tab_": TABS,
        "plan_op_": OPS,
        "plan_apply_": OPS,
        "plan_state_": ("0", "1", "2"),
        "plan_status_": ("added", "removed", "changed"),
        "mode_": tuple(cfg.travel_speeds_kmh),
        "loop_pf_": PLATFORMS,
        "loop_reason_": ("new", "due"),
        "loop_stage_": STAGES,
        "loop_state_": STATES,
        "loop_kpi_": KPIS,
        "assign_problem_": (
            PROBLEM_NO_COORDS,
            PROBLEM_OUTSIDE,
            PROBLEM_VILLAGE_LEVEL,
            PROBLEM_NO_ADDRESS_MATCH,
            NO_COORDS,
            SWAPPED,
        ),
        "": (ALL_ESSENTIAL, *(s.name for s in cfg.service_types), *TILES.values()),
    }
    families[""] += tuple(key for columns in PANEL_COLUMNS.values() for key in columns.values())
    missing = [f + c for f, codes in families.items() for c in codes if f + c not in TEXT]
    assert not missing


# --------------------------------------------------------------------------- unknown keys


def test_an_unknown_key_raises_under_the_tests():
    with pytest.raises(KeyError, match="no i18n key 'no_such_key'"):
        translator("zh")("no_such_key")
    with pytest.raises(KeyError, match="no i18n key 'no_such_key'"):
        text("no_such_key")


def test_outside_strict_mode_an_unknown_key_shows_itself_and_is_logged_once(monkeypatch, caplog):
    monkeypatch.delenv("GRIDGOV_STRICT_I18N")
    monkeypatch.setattr(i18n, "_missing_logged", set())
    tr = translator("en")
    with caplog.at_level(logging.WARNING, logger="geo.core.i18n"):
        assert tr("no_such_key") == "no_such_key"
        assert tr("no_such_key", n=1) == "no_such_key"
        assert text("no_such_key") == Text("no_such_key", "no_such_key")
    assert [r.getMessage() for r in caplog.records] == [
        "no i18n key 'no_such_key' in geo.core.i18n.TEXT; showing the key"
    ]


def test_translator_formats_only_when_given_arguments():
    tr = translator("en")
    assert tr("hex_tooltip") == "Events in this hexagon: {elevationValue}"  # for deck.gl
    assert tr("wall_every", s="10", n=3) == "every 10 s · refresh 3"
    assert translator("zh")("plan_saved", 4) == "草案已保存为第 4 版。"
    with pytest.raises(ValueError, match="lang must be one of"):
        translator("de")


# --------------------------------------------------------------------------- pick


@pytest.mark.parametrize(
    ("said", "zh", "en"),
    [
        (Text("未配备网格员", "no grid worker"), "未配备网格员", "no grid worker"),
        (
            Text("面积为中位数的 5.00 倍（规则 4× / 0.25×）", "area is 5.00× (rule 4× / 0.25×)"),
            "面积为中位数的 5.00 倍（规则 4× / 0.25×）",
            "area is 5.00× (rule 4× / 0.25×)",
        ),
        ("only English here", "only English here", "only English here"),
        ("合德镇", "合德镇", "合德镇"),
        ("", "", ""),
        # A string is one piece of words: pick no longer splits "中文 / English" (a note a
        # store wrote that way before reads as it was written).
        ("21 个网格 / 21 grids", "21 个网格 / 21 grids", "21 个网格 / 21 grids"),
    ],
)
def test_pick_takes_a_text_or_a_plain_string(said, zh, en):
    assert pick(said, "zh") == zh
    assert pick(said, "en") == en


def test_pick_refuses_anything_else_and_unknown_languages():
    with pytest.raises(TypeError, match="pick takes a Text or a str, got float"):
        pick(float("nan"), "zh")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lang must be one of"):
        pick("合德镇", "fr")


def test_languages_are_named_in_their_own_language():
    assert LANGUAGES == {"zh": "中文", "en": "English"}


# --------------------------------------------------------------------------- the code


def _string_constants(path: Path) -> list[tuple[int, str]]:
    """String constants of ``path`` that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


def test_layers_and_pages_write_no_chinese_of_their_own():
    """Words on screen come from the catalog; layers and pages hold none (data values aside)."""
    paths = [*ROOT.glob("layers/*.py"), *ROOT.glob("pages/**/*.py"), ROOT / "dashboard.py"]
    found = [
        f"{path.relative_to(ROOT)}:{line}: {value!r}"
        for path in paths
        for line, value in _string_constants(path)
        if CJK.search(value)
    ]
    assert not found


#: Both languages hand-joined in one string, the way messages were written before Text:
#: ``中文 / English`` (a number may come first: ``0 个网格 / 0 grids``), or ``English / 中文``.
#: In an f-string every ``{…}`` field counts as ``0``.
_TWO_IN_ONE = re.compile(r" / (?:[\d.,%:]+ )*[A-Za-z]|[A-Za-z)] / [\u3400-\u9fff]")


def _words(node: ast.Constant | ast.JoinedStr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    return "".join(v.value if isinstance(v, ast.Constant) else "0" for v in node.values)


def _two_in_one(path: Path) -> list[tuple[int, str]]:
    """Strings of ``path`` (docstrings aside) holding Chinese and English joined by `` / ``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip or not (
            isinstance(node, ast.JoinedStr)
            or (isinstance(node, ast.Constant) and isinstance(node.value, str))
        ):
            continue
        words = _words(node)
        if CJK.search(words) and _TWO_IN_ONE.search(words):
            found.append((node.lineno, words))
    return found


def test_the_scan_for_two_languages_in_one_string_finds_them(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '''"""Docstrings may say 中文 / English."""
a = "未配备网格员 / no grid worker"
b = f"{n} 个网格 / {n} grids"
c = "file not found / 文件不存在"
d = f"{zh}（{covered} / {residents} 人）"  # one language: fine
e = "规则 4× / 0.25×"  # one language: fine
f = "版本/version"  # a compact table header: fine
''',
        encoding="utf-8",
    )
    assert [line for line, _ in _two_in_one(sample)] == [2, 3, 4]


def test_no_string_in_geo_joins_chinese_and_english_by_hand():
    """Words in both languages are a Text (or a catalog key), never one "中文 / English" string.

    The catalog itself and the demo's data (a note stored in the demo GeoPackage) are left out.
    """
    paths = [
        path
        for path in sorted(ROOT.glob("geo/**/*.py"))
        if path != ROOT / "geo/core/i18n.py" and "demo" not in path.relative_to(ROOT).parts
    ]
    assert len(paths) > 50
    found = [
        f"{path.relative_to(ROOT)}:{line}: {words!r}"
        for path in paths
        for line, words in _two_in_one(path)
    ]
    assert not found, "write these as Text(zh, en):\n" + "\n".join(found)

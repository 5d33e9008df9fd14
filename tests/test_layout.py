"""The house: data flows one way (core ← capabilities ← views ← cli), geo/ has no UI, nothing
in production imports the demo generator, and private modules stay inside their folder."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: geo/'s folders in the order data flows; a module may import its own folder, any folder of
#: a lower rank, and a folder of the same rank as long as the folders form no cycle.
RANK = {
    "core": 0,
    "grids": 1,
    "store": 2,
    "hotspots": 3,
    "services": 3,
    "planning": 3,
    "loop": 3,
    "intake": 3,
    "access": 3,
    "views": 4,
    "cli": 5,
    "demo": 4,
}
UI = {"streamlit", "folium", "pydeck", "branca", "streamlit_folium", "mapclassify"}
#: Outside the CLI, the one place allowed to build the demo: the dashboard's first start
#: when no store is configured.
DEMO_USERS = {"pages/views/_common.py"}


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            out += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return out


def _production() -> list[Path]:
    files = [*ROOT.glob("geo/**/*.py"), *ROOT.glob("layers/**/*.py"), *ROOT.glob("pages/**/*.py")]
    door = ROOT / "dashboard.py"
    return sorted([*files, door] if door.exists() else files)


def _folder(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "geo" and parts[1] in RANK else None


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_geo_has_only_capability_folders_at_its_top() -> None:
    loose = sorted(p.name for p in (ROOT / "geo").glob("*.py"))
    assert loose == ["__init__.py", "__main__.py"]
    folders = {p.name for p in (ROOT / "geo").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders <= set(RANK), f"geo/ folders without a rank in this test: {folders - set(RANK)}"
    for folder in folders:
        init = ROOT / "geo" / folder / "__init__.py"
        assert init.exists(), f"geo/{folder}/ has no __init__.py (its public face)"
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), init


def test_imports_follow_the_flow() -> None:
    wrong: list[str] = []
    edges: dict[str, set[str]] = defaultdict(set)
    for path in _production():
        rel = _rel(path)
        parts = path.relative_to(ROOT).parts
        own = parts[1] if parts[0] == "geo" and len(parts) > 2 else None
        for line, module in _imports(path):
            top = module.split(".")[0]
            where = f"{rel}:{line} imports {module}"
            if parts[0] == "geo" and top in UI:
                wrong.append(f"{where}: geo/ never imports a UI library")
            if parts[0] == "layers" and top == "streamlit":
                wrong.append(f"{where}: layers/ turns data into map layers, without Streamlit")
            if parts[0] == "geo" and top in {"layers", "pages", "dashboard"}:
                wrong.append(f"{where}: geo/ never imports the rooms downstream")
            if parts[0] == "layers" and top == "pages":
                wrong.append(f"{where}: layers/ never imports pages/")
            target = _folder(module)
            if target is None:
                continue
            if target == "demo" and own not in {"cli", "demo"} and rel not in DEMO_USERS:
                wrong.append(f"{where}: only the CLI (and the first start) may build the demo")
            name = module.split(".")
            if any(p.startswith("_") and p != "__init__" for p in name[2:]) and own != target:
                wrong.append(f"{where}: a private module of geo/{target}/")
            if own is None or own == target:
                continue
            if RANK[target] > RANK[own]:
                wrong.append(
                    f"{where}: geo/{own}/ must not import geo/{target}/ (against the flow)"
                )
            edges[own].add(target)
    assert not wrong, "\n".join(sorted(set(wrong)))

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    return [*path, nxt]
                if nxt not in path:
                    stack.append((nxt, [*path, nxt]))
        return None

    cycles = [c for c in map(cycle_from, sorted(edges)) if c]
    assert not cycles, f"folders import each other in a circle: {cycles[0]}"


def test_the_layout_test_catches_a_wrong_arrow(tmp_path: Path, monkeypatch) -> None:
    """The check above is not vacuous: a module of geo/core importing geo/views is caught."""
    fake = tmp_path / "geo" / "core" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from geo.views.overview import overview\nimport streamlit\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    with pytest.raises(AssertionError) as caught:
        test_imports_follow_the_flow()
    text = str(caught.value)
    assert "geo/core/ must not import geo/views/" in text
    assert "geo/ never imports a UI library" in text

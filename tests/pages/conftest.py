"""AppTest fixtures: the dashboard on a small cached demo county."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the demo GeoPackage, built once per test session."""
    from geo.demo.build import build_demo

    folder = tmp_path_factory.mktemp("gridgov-data")
    build_demo(folder, seed=0)
    return folder


@pytest.fixture
def app(demo_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """``AppTest`` of dashboard.py on the demo county (not yet run)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GRIDGOV_DATA_DIR", str(demo_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=300)

"""Fixtures shared by the domain tests."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.demo import build as demo


@pytest.fixture(scope="session")
def demo_layers() -> dict[str, pd.DataFrame]:
    """The demo county for seed 0, generated once per test session (about 10 s; do not mutate)."""
    return demo.generate(seed=0)

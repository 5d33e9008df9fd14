"""Shared by the benchmarks: the demo GeoPackage (built once into data/cache if absent)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def demo_gpkg() -> Path:
    """Path of the seed-0 demo GeoPackage, generated on first use."""
    from geo.core.settings import get_settings
    from geo.demo.build import DEMO_FILENAME, build_demo

    folder = Path(get_settings().data_dir)
    path = folder / DEMO_FILENAME
    if not path.exists():
        print(f"building the demo county into {folder} …", file=sys.stderr)
        build_demo(folder, seed=0)
    return path


def median_time(fn: Callable[[], T], repeat: int = 3) -> tuple[float, T]:
    """Median wall time of ``repeat`` calls of ``fn`` (seconds) and its last result."""
    times: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def rerun_times(at: Any, changes: list[Callable[[], object]]) -> list[float]:
    """Seconds of each AppTest rerun after applying one widget change at a time."""
    times: list[float] = []
    for change in changes:
        change()
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    return times

"""Shared by the benchmarks: the demo GeoPackage, the small county of ``--quick``, timing, checks.

Every benchmark takes ``--quick``: the same code on a small county (three towns of the demo,
written to a temporary folder, never to ``data/cache``) with few repeats. Quick runs still
run the peer and assert that both sides agree; they assert nothing about time.
``bench/run_quick.py`` runs them all.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Towns of the quick county: 四明镇 (181 grids, the planner's example town), 射阳经济开发区
#: (133 grids, planted pattern P2) and 射阳港经济开发区 (53 grids, planted burst P5).
QUICK_TOWNS = ("320924104", "320924401", "320924402")
#: Folder holding the quick county's GeoPackage; ``run_quick.py`` sets it so the county is
#: cut once for every benchmark. Unset, each quick run cuts its own into a temporary folder.
QUICK_DIR_ENV = "GRIDGOV_BENCH_QUICK_DIR"


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


@functools.cache
def quick_gpkg() -> Path:
    """Path of the quick county: the layers of :data:`QUICK_TOWNS` cut from the demo.

    Written as ``sheyang_demo.gpkg`` into ``$GRIDGOV_BENCH_QUICK_DIR`` if set (reused when
    already there), else into a temporary folder removed when the process ends. The full
    demo is built into its usual cache first if absent.
    """
    from geo.core.settings import DEMO_FILENAME

    named = os.environ.get(QUICK_DIR_ENV)
    if named:
        folder = Path(named)
    else:
        folder = Path(tempfile.mkdtemp(prefix="gridgov-bench-quick-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / DEMO_FILENAME
    if not path.exists():
        cut_county(demo_gpkg(), path, QUICK_TOWNS)
    return path


def county_gpkg(quick: bool) -> Path:
    """The quick county or the full demo."""
    return quick_gpkg() if quick else demo_gpkg()


def cut_county(source: Path, target: Path, towns: tuple[str, ...]) -> Path:
    """Write the layers of ``towns`` (every layer of the demo, consistent) to ``target``.

    Towns, villages, grids, households, service points, the gazetteer (if the source has one)
    and issues are those of the towns (plus the issues no town holds: no or bad coordinates,
    an address that matched nothing); roads and rivers those touching
    the towns; ``planted`` keeps the patterns whose grids are all inside; ``meta`` as is.
    """
    import pyogrio
    import shapely

    from geo.store.gpkg import write_geopackage

    codes = ", ".join(f"'{c}'" for c in towns)
    by_town = f"town_code IN ({codes})"
    by_village = f"substr(village_code, 1, 9) IN ({codes})"

    def read(layer: str, where: str | None = None, **kwargs: Any) -> Any:
        return pyogrio.read_dataframe(source, layer=layer, where=where, use_arrow=True, **kwargs)

    layers = {
        "towns": read("towns", by_town),
        "villages": read("villages", by_town),
        "grids": read("grids", by_town),
        "households": read("households", by_village),
        "service_points": read("service_points", by_village),
        "issues": read("issues", f"{by_town} OR town_code IS NULL OR town_code = ''"),
    }
    if "gazetteer" in set(pyogrio.list_layers(source)[:, 0]):
        layers["gazetteer"] = read("gazetteer", by_village)
    area = shapely.union_all(layers["towns"].geometry.to_numpy())
    for name in ("rivers", "roads"):
        lines = read(name, bbox=tuple(area.bounds))
        layers[name] = lines[shapely.intersects(lines.geometry.to_numpy(), area)]
    planted = read("planted")
    inside = set(layers["grids"]["grid_code"])
    keep = planted["top_grids"].map(lambda s: set(str(s).split(",")) <= inside)
    layers["planted"] = planted[keep.to_numpy()]
    layers["meta"] = read("meta")
    print(
        f"quick county: towns {', '.join(towns)} — {len(layers['grids']):,} grids, "
        f"{len(layers['households']):,} households, {len(layers['issues']):,} issues "
        f"→ {target}",
        file=sys.stderr,
    )
    write_geopackage(target, layers)
    return target


def arguments(doc: str | None, *, add: Callable[[argparse.ArgumentParser], None] | None = None):
    """Parse the common options (``--quick``) plus those ``add`` declares."""
    parser = argparse.ArgumentParser(
        description=(doc or "").strip().splitlines()[0] if doc else None
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small county, few repeats: checks that both sides agree, asserts no timing",
    )
    if add is not None:
        add(parser)
    return parser.parse_args()


def check(ok: object, what: str) -> None:
    """Stop with a non-zero exit when a result the benchmark prints as equal is not."""
    if not bool(ok):
        raise SystemExit(f"MISMATCH: {what}")


def esda_label() -> str:
    """How esda runs here: its permutation inference uses numba only if numba is importable."""
    return "esda with numba" if importlib.util.find_spec("numba") else "esda without numba"


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
        if at.exception:
            raise SystemExit(f"the page raised: {at.exception}")
    return times


def ensure_county_account(store_path: Path) -> None:
    """Give a store without accounts (the quick county, cut from the demo) the demo's
    county-wide ``county`` account (password ``demo``)."""
    from geo.access import add_user
    from geo.access.users import DEMO_PASSWORD
    from geo.store.base import open_store

    store = open_store(store_path)
    if "users" not in store.layers():
        add_user(store, "county", role="county", password=DEMO_PASSWORD, weak_ok=True)


def browser_sign_in(
    page: Any, url: str, user: str = "county", *, timeout_ms: float = 600_000
) -> None:
    """Open ``url`` in a Playwright page and sign in there (用户名, 密码 ``demo``, 登录)."""
    page.goto(url)
    page.get_by_label("用户名").fill(user, timeout=timeout_ms)
    page.get_by_label("密码").fill("demo")
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("button", name="登录", exact=True).wait_for(state="detached", timeout=120_000)


def signed_in_app(store_path: Path, user: str = "county", *, timeout_s: float = 600) -> Any:
    """``dashboard.py`` in AppTest on ``store_path``'s folder, signed in as ``user`` (a demo
    account, password ``demo``; the county-wide ``county`` account is added to a cut county
    that lacks accounts)."""
    from streamlit.testing.v1 import AppTest

    ensure_county_account(store_path)
    os.environ["GRIDGOV_DATA_DIR"] = str(store_path.parent)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=timeout_s)
    at.run()
    at.text_input(key="signin_user").input(user)
    at.text_input(key="signin_password").input("demo")
    at.button(key="signin_go").click().run()
    if at.exception or at.error:
        raise SystemExit(f"signing in as {user} failed: {at.exception or at.error}")
    return at

"""Run every benchmark with ``--quick`` and fail if any fails: the check CI runs after the tests.

Each ``bench/bench_*.py`` (``bench_onboard.py`` among them), ``bench/planted_recall.py`` and
``bench/hotspot_power.py`` runs in its own process, one after another, on the small county of
``bench/_demo.py`` (three
towns of the demo, cut once into a temporary folder that is removed at the end; the full demo
is built into its usual cache first if absent). Quick runs run the peers and assert that both
sides agree; they assert no timing. ``DATABASE_URL`` is dropped for the children so the pages
read the small county.

Run: ``python bench/run_quick.py [NAME ...]`` from the repository root (names such as
``bench_assign`` pick a few). Exit status 1 if any benchmark fails or times out.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _demo import QUICK_DIR_ENV, ROOT, quick_gpkg

BENCH = ROOT / "bench"
TIMEOUT_S = 300


def scripts(names: list[str]) -> list[Path]:
    """The benchmark scripts, all or those named."""
    found = [*sorted(BENCH.glob("bench_*.py")), BENCH / "planted_recall.py",
             BENCH / "hotspot_power.py"]  # fmt: skip
    if not names:
        return found
    wanted = {n.removesuffix(".py") for n in names}
    unknown = wanted - {p.stem for p in found}
    if unknown:
        raise SystemExit(f"no benchmark named {', '.join(sorted(unknown))}")
    return [p for p in found if p.stem in wanted]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    chosen = scripts(parser.parse_args().names)
    began = time.perf_counter()
    results: list[tuple[str, str, float]] = []
    with tempfile.TemporaryDirectory(prefix="gridgov-bench-quick-") as folder:
        os.environ[QUICK_DIR_ENV] = folder
        start = time.perf_counter()
        quick_gpkg()
        print(f"=== small county ready in {time.perf_counter() - start:.1f} s", flush=True)
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        for script in chosen:
            print(f"\n=== {script.name} --quick", flush=True)
            start = time.perf_counter()
            try:
                done = subprocess.run(
                    [sys.executable, str(script), "--quick"],
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    timeout=TIMEOUT_S,
                    check=False,
                )
                status = "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
            except subprocess.TimeoutExpired:
                status = f"FAILED (over {TIMEOUT_S} s)"
            results.append((script.stem, status, time.perf_counter() - start))
    print("\n=== quick benchmarks")
    for name, status, seconds in results:
        print(f"  {name:<22} {seconds:6.1f} s  {status}")
    failed = [name for name, status, _ in results if status != "ok"]
    took = time.perf_counter() - began
    print(f"=== {len(results) - len(failed)} of {len(results)} passed in {took:.1f} s")
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()

"""指挥大屏 wall screen: server memory over a simulated hour of refreshes, against page reloads.

Starts ``streamlit run dashboard.py`` on the demo county, opens the wall in headless Chromium
(Debian's /usr/bin/chromium, every non-loopback request aborted) with a short refresh interval
(``?refresh=1``), and lets ``st.fragment(run_every=…)`` refresh it 360 times — an hour of a
wall refreshing every 10 s, compressed. The server's resident memory (VmRSS of the Streamlit
process, from /proc) is read before the first visit, after a warm-up (data loaded, caches
filled) and every 30 refreshes; the growth is end minus warm-up. Goal: ≤ 50 MB.

The peer, in the same server right after: the same wall refreshed the plain way, by reloading
the whole page (a kiosk browser's auto-refresh, or ``<meta http-equiv="refresh">``): a full
script run in a new session each time (signed in again). Fewer rounds by default (each costs
a page load); the growth per refresh of both is printed for the same count.

Run: ``python bench/bench_wall_memory.py [--refreshes 360] [--peer-reloads 60] [--quick]`` from
the repository root. Timings on a shared machine are inflated; the memory figures are not.
``--quick``: the small county, 2 warm-up and 6 refreshes, 2 reloads; with no Chromium at
/usr/bin/chromium (a system package, not a Python one) it says so and stops without failing.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

from _demo import ROOT, arguments, browser_sign_in, county_gpkg, ensure_county_account

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--enable-precise-memory-info",
]
GOAL_MB = 50.0
TICK = re.compile(r"第 (\d+) 次")


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS from /proc)."""
    text = Path(f"/proc/{pid}/status").read_text()
    kib = int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1))  # type: ignore[union-attr]
    return kib / 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 600) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited with code {proc.returncode}")
        with suppress(OSError), opener.open(f"{url}/_stcore/health", timeout=2) as response:
            if response.read().strip() == b"ok":
                return
        time.sleep(0.25)
    raise SystemExit(f"streamlit did not answer {url}/_stcore/health in {timeout_s:.0f} s")


def _tick(page) -> int:
    match = TICK.search(page.locator(".wall-status").inner_text())
    return int(match.group(1)) if match else -1


def _js_heap_mb(page) -> float:
    return float(page.evaluate("() => performance.memory.usedJSHeapSize")) / 2**20


def fragment_loop(page, pid: int, refreshes: int, every: int) -> dict[int, float]:
    """RSS (MB) of the server by refresh count while the open wall refreshes in place."""
    samples: dict[int, float] = {}
    start = _tick(page)
    marker = page.evaluate("() => (window.__benchMarker = Math.random())")
    began = time.perf_counter()
    heap0 = _js_heap_mb(page)
    while (done := _tick(page) - start) < refreshes:
        if done // every * every not in samples:
            samples[done // every * every] = rss_mb(pid)
        page.wait_for_timeout(200)
    samples[refreshes] = rss_mb(pid)
    elapsed = time.perf_counter() - began
    if page.evaluate("() => window.__benchMarker") != marker:
        raise SystemExit("the page reloaded during the fragment loop: not an in-place refresh")
    print(
        f"  {refreshes} refreshes in {elapsed:.0f} s ({elapsed / refreshes:.2f} s each); "
        f"browser JS heap {heap0:.1f} → {_js_heap_mb(page):.1f} MB"
    )
    return samples


def reload_loop(page, url: str, pid: int, reloads: int, every: int) -> dict[int, float]:
    """RSS (MB) of the server by reload count while the whole page is reloaded."""
    samples = {0: rss_mb(pid)}
    began = time.perf_counter()
    for n in range(1, reloads + 1):
        browser_sign_in(page, url)  # a reload is a new session: signed in again
        page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(timeout=120_000)
        page.locator("#wall-clock").wait_for(timeout=120_000)
        if n % every == 0 or n == reloads:
            samples[n] = rss_mb(pid)
    elapsed = time.perf_counter() - began
    print(f"  {reloads} page reloads in {elapsed:.0f} s ({elapsed / reloads:.2f} s each)")
    return samples


def _report(name: str, samples: dict[int, float]) -> None:
    counts = sorted(samples)
    line = " ".join(f"{n}:{samples[n]:.0f}" for n in counts)
    print(f"  RSS (MB) by refresh: {line}")
    growth = samples[counts[-1]] - samples[counts[0]]
    low = min(samples.values())
    print(f"  lowest {low:.1f} MB; end minus lowest {samples[counts[-1]] - low:+.1f} MB")
    print(
        f"  {name}: start {samples[counts[0]]:.1f} MB, end {samples[counts[-1]]:.1f} MB, "
        f"growth {growth:+.1f} MB over {counts[-1]} refreshes "
        f"({growth / max(counts[-1], 1) * 1000:+.0f} kB per refresh)"
    )


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--refreshes", type=int, default=None, help="fragment refreshes (360)")
    parser.add_argument("--interval", type=int, default=1, help="seconds between refreshes")
    parser.add_argument("--warmup", type=int, default=None, help="refreshes before the baseline")
    parser.add_argument("--peer-reloads", type=int, default=None, help="page reloads (0: none)")


def main() -> None:
    args = arguments(__doc__, add=_options)
    for name, full, quick in (("refreshes", 360, 6), ("warmup", 30, 2), ("peer_reloads", 60, 2)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium): wall not measured"
        if args.quick:
            print(f"skipped: {message}")
            return
        raise SystemExit(message)

    from playwright.sync_api import sync_playwright

    ensure_county_account(county_gpkg(args.quick))
    data_dir = county_gpkg(args.quick).parent
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.gettempdir()) / f"bench-wall-{port}.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "dashboard.py",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, "GRIDGOV_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait_healthy(url, proc)
        idle = rss_mb(proc.pid)
        wall = f"{url}/wall?refresh={args.interval}"
        print(f"server {url} (pid {proc.pid}, log {log}); RSS idle before any visit: {idle:.1f} MB")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            blocked: list[str] = []

            def only_local(route) -> None:
                if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                    route.continue_()
                else:
                    blocked.append(route.request.url)
                    route.abort()

            context.route("**/*", only_local)
            page = context.new_page()
            print(f"warm-up: first visit and {args.warmup} refreshes")
            browser_sign_in(page, wall)
            page.locator("#wall-clock").wait_for(timeout=600_000)
            fragment_loop(page, proc.pid, args.warmup, args.warmup)
            print(f"fragment: {args.refreshes} in-place refreshes every {args.interval} s")
            ours = fragment_loop(page, proc.pid, args.refreshes, 30)
            _report("fragment refresh (st.fragment run_every)", ours)
            if args.peer_reloads:
                print(f"peer: {args.peer_reloads} full page reloads (a new session each)")
                page.goto("about:blank")
                peer = reload_loop(page, wall, proc.pid, args.peer_reloads, 30)
                _report("page reload", peer)
                n = max((k for k in ours if 0 < k <= args.peer_reloads), default=args.refreshes)
                per_ours = (ours[n] - ours[0]) / max(n, 1) * 1000
                per_peer = (peer[args.peer_reloads] - peer[0]) / args.peer_reloads * 1000
                print(
                    f"per refresh: fragment {per_ours:+.0f} kB (first {n}), page reload "
                    f"{per_peer:+.0f} kB"
                )
            browser.close()
        growth = ours[args.refreshes] - ours[0]
        verdict = "within" if growth <= GOAL_MB else "OVER"
        print(
            f"RESULT: fragment growth {growth:+.1f} MB over {args.refreshes} refreshes "
            f"({verdict} the {GOAL_MB:.0f} MB goal); requests blocked: {len(blocked)}"
        )
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()

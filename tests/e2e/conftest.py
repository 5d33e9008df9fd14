"""Real-browser fixtures: a headless `streamlit run` of the app and an offline Chromium page.

Fixtures
--------
app_url
    Base URL (``http://127.0.0.1:<port>``) of ``streamlit run dashboard.py``,
    started once per session with ``GRIDGOV_DATA_DIR`` pointing at a cache
    folder: ``GRIDGOV_E2E_DATA_DIR`` if set (the demo data is then built once
    and reused across runs), else a fresh session tmp folder.
browser_page
    A `BrowserPage`: ``.page`` (Playwright page, 1600x1000, /usr/bin/chromium),
    ``.blocked`` (URLs of every request not to 127.0.0.1/localhost; each was
    aborted), ``.wait_for_app()`` and ``.screenshot(name)``. A failed test
    leaves ``tests/e2e/screenshots/<test>-failed.png``.
wait_for_app, serve_streamlit
    The module functions of the same names, as fixtures: test modules cannot
    import conftest modules reliably (every conftest here is named "conftest").

Where Chromium is missing the tests skip, or fail under CI; a missing Python package of
requirements-dev.txt (streamlit, playwright) fails them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, Route

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
START_TIMEOUT_S = float(os.environ.get("GRIDGOV_E2E_START_TIMEOUT_S", "600"))
"""How long `streamlit run` may take to answer its health check (first start builds the demo)."""
APP_TIMEOUT_MS = 60_000

Require = Callable[[bool, str], None]

# --------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(log_path: Path, *, lines: int = 40) -> str:
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(no server log at {log_path}: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"


def _health_ok(url: str) -> bool:
    # No proxy: a proxy from the environment must not see (or break) loopback calls.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return bool(response.status == 200 and response.read().strip() == b"ok")
    except OSError:  # refused, reset, timed out, HTTP error while starting
        return False


def _stop_group(proc: subprocess.Popen[bytes], *, grace_s: float = 10) -> None:
    """SIGTERM the process group led by `proc`, then SIGKILL whatever is left of it."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace_s)
    with suppress(ProcessLookupError):  # the leader, or children it left behind
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextmanager
def serve_streamlit(
    script: Path,
    *,
    log_path: Path,
    env: dict[str, str] | None = None,
    start_timeout_s: float = START_TIMEOUT_S,
    port: int | None = None,
    options: Sequence[str] = (),
) -> Iterator[str]:
    """Run ``python -m streamlit run <script>`` on a free loopback port; yield its base URL.

    The server starts in its own process group from the repository root (so
    `.streamlit/config.toml` applies), logs to `log_path`, and is ready when
    ``/_stcore/health`` answers "ok". Fails the test with the log tail if the
    server exits or is not ready within `start_timeout_s`. On exit the whole
    process group gets SIGTERM, then SIGKILL. ``port`` (default a free one) and more
    ``streamlit run`` ``options`` (e.g. ``--secrets.files``) may be given.
    """
    port = port or _free_port()
    base_url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        *options,
    ]  # fmt: skip
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + start_timeout_s
        while not _health_ok(f"{base_url}/_stcore/health"):
            if proc.poll() is not None:
                pytest.fail(
                    f"`streamlit run {script.name}` exited with code {proc.returncode} before it "
                    f"was ready. Server log ({log_path}):\n{_log_tail(log_path)}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"`streamlit run {script.name}` did not answer {base_url}/_stcore/health "
                    "within "
                    f"{start_timeout_s:.0f} s (raise GRIDGOV_E2E_START_TIMEOUT_S if the demo data "
                    f"build needs longer). Server log ({log_path}):\n{_log_tail(log_path)}",
                    pytrace=False,
                )
            time.sleep(0.25)
        yield base_url
    finally:
        _stop_group(proc)


@pytest.fixture(name="serve_streamlit", scope="session")
def _serve_streamlit_fixture() -> Callable[..., Any]:
    return serve_streamlit


@pytest.fixture(scope="session")
def app_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's data folder (``GRIDGOV_E2E_DATA_DIR``, else a fresh one the first start fills
    with the demo county), shared by every app server of the run."""
    configured = os.environ.get("GRIDGOV_E2E_DATA_DIR")
    if configured:
        data_dir = Path(configured).expanduser().resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        return data_dir
    return tmp_path_factory.mktemp("gridgov-data")


@pytest.fixture(scope="session")
def app_url(
    require: Require, tmp_path_factory: pytest.TempPathFactory, app_data_dir: Path
) -> Iterator[str]:
    """Base URL of the GridGov app served by a headless ``streamlit run dashboard.py``."""
    dashboard = REPO_ROOT / "dashboard.py"
    require(dashboard.is_file(), f"{dashboard} does not exist: there is no app to test yet.")
    import streamlit  # noqa: F401  (a requirement: missing, it fails the tests, never skips)

    data_dir = app_data_dir
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    with serve_streamlit(
        dashboard, log_path=log_path, env={"GRIDGOV_DATA_DIR": str(data_dir)}
    ) as base_url:
        yield base_url


# --------------------------------------------------------------------------- browser

_APP_IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || !document.querySelector('[data-testid="stAppViewContainer"]')) return false;
  if (document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')) return false;
  const script = app.getAttribute('data-test-script-state');
  const connection = app.getAttribute('data-test-connection-state');
  if (script === null) return true;  // an older/newer frontend without these attributes
  return connection === 'CONNECTED' && (script === 'notRunning' || script === 'compilationError');
}"""

_APP_STATE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app ? `script=${app.getAttribute('data-test-script-state')} ` +
               `connection=${app.getAttribute('data-test-connection-state')}` : 'no stApp element';
}"""


def wait_for_app(page: Page, timeout_ms: float = APP_TIMEOUT_MS) -> None:
    """Wait until Streamlit has connected and finished running the script.

    Done means: the app view is present, no "Running…" status widget shows,
    and the app root reports script state ``notRunning`` (or
    ``compilationError``) while connected. After a click or input, the rerun
    may not have started yet when this is called: wait for what the
    interaction should change instead, then call this.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        page.wait_for_function(_APP_IDLE_JS, timeout=timeout_ms, polling=100)
    except PlaywrightTimeoutError:
        state = page.evaluate(_APP_STATE_JS)
        pytest.fail(
            f"Streamlit at {page.url} did not finish running within {timeout_ms / 1000:.0f} s "
            f"({state}).",
            pytrace=False,
        )


@pytest.fixture(name="wait_for_app", scope="session")
def _wait_for_app_fixture() -> Callable[..., None]:
    return wait_for_app


@dataclass
class BrowserPage:
    """A Chromium page that can reach only 127.0.0.1/localhost."""

    page: Page
    blocked: list[str] = field(default_factory=list)
    """URLs of requests to anywhere else, in order; each was aborted."""

    def wait_for_app(self, timeout_ms: float = APP_TIMEOUT_MS) -> None:
        wait_for_app(self.page, timeout_ms)

    def goto(
        self, url: str, user: str = "county", password: str = "demo", *, timeout_ms: float = 420_000
    ) -> None:
        """Open ``url`` and sign in on its sign-in form, as a person does (用户名, 密码, 登录);
        the page asked for opens after the sign-in. The first visit may build the demo."""
        sign_in(self.page, url, user, password, timeout_ms=timeout_ms)

    def screenshot(self, name: str, **options: Any) -> Path:
        """Save a PNG of the page as ``tests/e2e/screenshots/<name>.png`` and return its path."""
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        self.page.screenshot(path=str(path), **options)
        return path


def sign_in(page: Page, url: str, user: str, password: str, *, timeout_ms: float = 420_000) -> None:
    """Open ``url``, fill 用户名 and 密码, press 登录, and wait for the page to run."""
    page.goto(url)
    page.get_by_label("用户名").fill(user, timeout=timeout_ms)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="登录", exact=True).wait_for(state="detached", timeout=120_000)
    wait_for_app(page, 120_000)


def is_local(url: str) -> bool:
    """Whether a browser request for `url` stays on this machine."""
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Playwright]:
    # In requirements-dev.txt: missing, it fails the tests, never skips (and never run
    # `playwright install`: the tests use Debian's /usr/bin/chromium).
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def _chromium(require: Require, _playwright: Playwright) -> Iterator[Browser]:
    require(
        CHROMIUM.exists(),
        f"{CHROMIUM} is missing: `apt-get install chromium fonts-wqy-microhei` "
        "(`bash .ci/run` does it).",
    )
    browser = _playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def browser_page(request: pytest.FixtureRequest, _chromium: Browser) -> Iterator[BrowserPage]:
    """A fresh 1600x1000 page whose requests beyond loopback are aborted and recorded."""
    context = _chromium.new_context(viewport={"width": 1600, "height": 1000})
    bp = BrowserPage(page=context.new_page())

    def only_local(route: Route) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            bp.blocked.append(url)
            route.abort("blockedbyclient")

    # On the context rather than the page: popups and new tabs are covered too.
    context.route("**/*", only_local)
    try:
        yield bp
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            bp.screenshot(f"{_safe_name(request.node.name)}-failed", full_page=True)
    finally:
        context.close()


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:120]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test item so `browser_page` can screenshot failures."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report

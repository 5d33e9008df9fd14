"""Shared test policy: strict i18n, markers, `require` (skip here, fail under CI) and PostGIS.

Every test runs with ``GRIDGOV_STRICT_I18N=1``: a UI text key missing from
``geo.core.i18n.TEXT`` raises instead of showing the key; and with ``GRIDGOV_SHOW_ERRORS=1``: a
page error raises instead of becoming the visitors' friendly message.

A test that needs a part of the machine (a browser, a PostGIS database) calls
``require(condition, reason)``. On a developer's machine a missing part skips
the test with the reason; under CI (``CI=true``) it fails it, so a green CI run
never hides a browser or database test that did not run.

Use it through the ``require`` fixture (works however pytest is started)::

    def test_map_draws(require):
        require(shutil.which("ogr2ogr") is not None, "install gdal-bin")
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

DATABASE_URL_ENV = "GRIDGOV_TEST_DATABASE_URL"
_CONNECT_TIMEOUT_S = 5

# Set on import, before any test (or the dashboard an AppTest runs) reads the settings.
os.environ["GRIDGOV_STRICT_I18N"] = "1"
# A page error raises (AppTest's ``at.exception``, the browser's stException) instead of the
# friendly message visitors get; tests of that message unset it.
os.environ["GRIDGOV_SHOW_ERRORS"] = "1"

_HOW_TO_GET_POSTGIS = (
    f"Set {DATABASE_URL_ENV} to a PostgreSQL database with the PostGIS extension, e.g. "
    "postgresql+psycopg://postgres:<password>@127.0.0.1:5432/gridgov_test "
    "(`bash .ci/run` installs PostgreSQL 15 + PostGIS 3 on Debian 12, creates that "
    "database and sets the variable), or run `pytest -m 'not postgis'` to leave these tests out."
)


def in_ci() -> bool:
    """Whether the tests run under CI (environment variable ``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Go on if `condition` holds; otherwise skip the test, or fail it under CI.

    Parameters
    ----------
    condition
        What the test needs, e.g. ``Path("/usr/bin/chromium").exists()``.
    reason
        What is missing and how to provide it; shown in the skip or failure.
    """
    if condition:
        return
    if in_ci():
        pytest.fail(
            f"{reason} [CI=true: a missing test prerequisite fails the run]",
            pytrace=False,
        )
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fresh_county() -> Iterator[None]:
    """Every test starts and ends with no county set from a store's meta
    (:func:`geo.core.settings.use_county` is process-wide)."""
    from geo.core.settings import reset_county

    reset_county()
    yield
    reset_county()


@pytest.fixture(name="require", scope="session")
def _require_fixture() -> Callable[[bool, str], None]:
    """`require` as a fixture, for test modules (conftest modules cannot be imported reliably)."""
    return require


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "e2e: real-browser test (headless Chromium at /usr/bin/chromium driven by Playwright "
        "against `streamlit run`); deselect with -m 'not e2e'",
    )
    config.addinivalue_line(
        "markers",
        f"postgis: needs a PostGIS database in {DATABASE_URL_ENV}; deselect with -m 'not postgis'",
    )


def postgis_problem(url: str | None) -> str | None:
    """Why `url` cannot serve the PostGIS tests, or None if it can.

    Connects with a 5 s timeout and runs ``SELECT postgis_version()``.
    """
    if not url:
        return f"{DATABASE_URL_ENV} is not set. {_HOW_TO_GET_POSTGIS}"
    try:
        import sqlalchemy as sa
    except ImportError as exc:
        return (
            f"sqlalchemy is not installed ({exc}); "
            "run `python -m pip install -r requirements-dev.txt`."
        )
    try:
        shown = sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError as exc:
        return f"{DATABASE_URL_ENV} is not a database URL ({exc}). {_HOW_TO_GET_POSTGIS}"
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": _CONNECT_TIMEOUT_S})
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT postgis_version()")).scalar_one()
        finally:
            engine.dispose()
    # Driver missing, server down, wrong password, no PostGIS, not a PostgreSQL URL.
    except (sa.exc.SQLAlchemyError, ImportError, OSError, TypeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return (
            f"cannot use {DATABASE_URL_ENV}={shown}: {type(exc).__name__}: {first_line}. "
            f"{_HOW_TO_GET_POSTGIS}"
        )
    return None


@pytest.fixture(scope="session")
def postgis_url() -> str:
    """SQLAlchemy URL of a reachable PostGIS database, from ``GRIDGOV_TEST_DATABASE_URL``.

    Skips the test (fails it under CI) when the variable is unset or the
    database cannot be reached or has no PostGIS.
    """
    url = os.environ.get(DATABASE_URL_ENV)
    problem = postgis_problem(url)
    require(problem is None, problem or "")
    assert url is not None
    return url

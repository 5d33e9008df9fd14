"""Row-level security in PostGIS: under the dashboard's own database role, a town's scope sees
that town's rows only — in plain SQL, whatever Python does — and no scope sees none."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from geo.core.scope import Scope
from geo.core.settings import reset_county
from geo.planning.versions import VersionedGrids
from geo.store.county import load_county
from geo.store.postgis import PostGISStore, secure_schema
from tests.synthetic_county import onboard_synthetic_county

pytestmark = pytest.mark.postgis

EAST, WEST = "410199001", "410199002"


@pytest.fixture
def secured(postgis_url) -> Iterator[tuple[PostGISStore, str, str]]:
    """The synthetic county in a schema of its own, secured for a fresh application role;
    yields the owner's store, the application role's URL and the schema."""
    schema = f"gridgov_rls_{uuid.uuid4().hex[:10]}"
    role = f"gridgov_app_{uuid.uuid4().hex[:8]}"
    password = secrets.token_urlsafe(12)
    owner = PostGISStore(postgis_url, schema=schema)
    onboard_synthetic_county(owner)
    VersionedGrids(owner).versions()  # the version tables exist before securing
    tables = secure_schema(owner, app_role=role, app_password=password)
    assert {"grids", "villages", "towns", "issues", "households", "grid_version_features"} <= set(
        tables
    )
    # The command line does the same, and running it again changes nothing.
    import io
    import sys

    from geo.cli.main import main as cli_main

    stdin, sys.stdin = sys.stdin, io.StringIO(password + "\n")
    try:
        args = ["secure-postgis", "--store", postgis_url, "--schema", schema, "--app-role", role]
        assert cli_main([*args, "--password-stdin"]) == 0
    finally:
        sys.stdin = stdin
    app_url = make_url(owner.url).set(username=role, password=password)
    try:
        yield owner, app_url.render_as_string(hide_password=False), schema
    finally:
        reset_county()
        with owner.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        owner.engine.dispose()


def _count(conn, schema: str, table: str, where: str = "TRUE") -> int:
    return int(
        conn.execute(text(f'SELECT count(*) FROM "{schema}"."{table}" WHERE {where}')).scalar()
    )


def test_plain_sql_under_a_town_scope_sees_that_town_only(secured) -> None:
    owner, app_url, schema = secured
    every = load_county(owner, scope=Scope.county())
    villages = sorted(every.villages.loc[every.villages.town_code == WEST, "village_code"])
    engine = create_engine(app_url)
    try:
        with engine.begin() as conn:  # no scope set: nothing of the county
            assert _count(conn, schema, "grids") == _count(conn, schema, "issues") == 0
            assert _count(conn, schema, "households") == 0
        with engine.begin() as conn:
            conn.execute(text(f"SET LOCAL gridgov.towns = '{WEST}'"))
            conn.execute(text(f"SET LOCAL gridgov.villages = '{','.join(villages)}'"))
            conn.execute(text("SET LOCAL gridgov.grids = '*'"))
            assert _count(conn, schema, "grids") == (every.grids.town_code == WEST).sum() > 0
            assert _count(conn, schema, "grids", f"town_code <> '{WEST}'") == 0
            assert _count(conn, schema, "issues", f"town_code <> '{WEST}'") == 0
            assert _count(conn, schema, "issues") == (every.issues.town_code == WEST).sum()
            homes = _count(conn, schema, "households")
            assert 0 < homes < len(pd.DataFrame(owner.read("households")))
        with engine.begin() as conn:  # the owner's policy also binds the role's own session
            conn.execute(text("SET LOCAL gridgov.towns = '*'"))
            conn.execute(text("SET LOCAL gridgov.villages = '*'"))
            conn.execute(text("SET LOCAL gridgov.grids = '*'"))
            assert _count(conn, schema, "grids") == len(every.grids)
        # Writing a row of another town is refused by the same policy.
        with pytest.raises(Exception, match="row-level security"), engine.begin() as conn:
            conn.execute(text(f"SET LOCAL gridgov.towns = '{WEST}'"))
            conn.execute(
                text(
                    f'INSERT INTO "{schema}".towns (town_code, town_name) '
                    f"VALUES ('{EAST}', '冒名')"
                )
            )
    finally:
        engine.dispose()


def test_the_store_under_the_app_role_reads_by_scope(secured) -> None:
    _, app_url, schema = secured
    app = PostGISStore(app_url, schema=schema)
    try:
        # The database itself cuts the rows: a read with no Python filter at all.
        west_grids = pd.DataFrame(app.scoped(Scope.of_towns([WEST])).read("grids"))
        assert set(west_grids["town_code"]) == {WEST}
        east = load_county(app, scope=Scope.of_towns([EAST]))
        assert set(east.grids.town_code) == {EAST} and set(east.issues.town_code.astype(str)) == {
            EAST
        }
        homes = east.layer("households")
        assert homes is not None and len(homes) > 0
        whole = load_county(app, scope=Scope.county())
        assert set(whole.grids.town_code) == {EAST, WEST}
    finally:
        app.engine.dispose()

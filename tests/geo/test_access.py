"""geo.access on a county the demo did not shape (中原测试县, two towns): accounts, Argon2id
sign-in with lockout, sessions that end, single sign-on claims, unmasking with a reason, the
append-only audit, and scopes that cut every layer — in a GeoPackage and in PostGIS."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator

import pandas as pd
import pytest

from geo.access import (
    AccountError,
    OutOfScopeError,
    Principal,
    Role,
    Scope,
    SignInError,
    add_user,
    authenticate,
    current_principal,
    disable_user,
    enable_user,
    list_users,
    principal_from_claims,
    read_audit,
    record,
    reset_password,
    session_end_reason,
    start_session,
    touched,
    unmask_ticket,
)
from geo.access.passwords import HASHER, needs_rehash
from geo.core.settings import reset_county
from geo.store.base import Store, StoreError, open_store
from geo.store.county import load_county
from tests.synthetic_county import TOWNS, onboard_synthetic_county

EAST, WEST = "410199001", "410199002"  # 东城镇, 西河乡


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def county(request, tmp_path) -> Iterator[Store]:
    """The synthetic county, onboarded, with 3 tickets per grid."""
    if request.param == "gpkg":
        yield onboard_synthetic_county(open_store(tmp_path / "county.gpkg"))
        reset_county()
        return
    from sqlalchemy import text

    from geo.store.postgis import PostGISStore

    schema = f"gridgov_test_{uuid.uuid4().hex[:12]}"
    pg = PostGISStore(request.getfixturevalue("postgis_url"), schema=schema)
    try:
        yield onboard_synthetic_county(pg)
    finally:
        reset_county()
        with pg.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        pg.engine.dispose()


def _actions(store: Store) -> list[str]:
    return read_audit(store)["action"].tolist()


# --------------------------------------------------------------------------- accounts


def test_accounts_are_added_by_town_name_or_code_and_listed_without_hashes(county) -> None:
    leader = add_user(county, "east", role="town", password="long-enough-1", towns=["东城镇"])
    assert leader.towns == (EAST,) and leader.scope.towns == frozenset({EAST})
    add_user(county, "west", role=Role.TOWN, password="long-enough-2", towns=[WEST])
    table = list_users(county)
    assert table["username"].tolist() == ["east", "west"]
    assert "password_hash" not in table.columns
    with county.transaction(readonly=True) as tx:
        hashes = pd.DataFrame(tx.read("users"))["password_hash"].tolist()
    assert all(h.startswith("$argon2id$v=19$m=65536,t=3,p=4$") for h in hashes)
    assert "long-enough" not in "".join(hashes)
    assert _actions(county) == ["user_add", "user_add"]


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"role": "town", "password": "long-enough"}, "needs --town"),
        ({"role": "town", "password": "long-enough", "towns": ["北山镇"]}, "no town"),
        ({"role": "county", "password": "long-enough", "towns": [EAST]}, "no --town"),
        ({"role": "grid", "password": "long-enough"}, "needs --grids"),
        ({"role": "grid", "password": "long-enough", "grids": ["999"]}, "no grid"),
        ({"role": "viewer", "password": "short"}, "at least 8"),
        ({"role": "chief", "password": "long-enough"}, "chief"),
    ],
)
def test_a_wrong_account_is_refused_with_what_to_change(county, kwargs, said) -> None:
    with pytest.raises((AccountError, ValueError), match=said):
        add_user(county, "someone", **kwargs)
    assert list_users(county).empty


def test_names_are_unique_and_plain(county) -> None:
    add_user(county, "viewer", role="viewer", password="long-enough")
    with pytest.raises(AccountError, match="exists already"):
        add_user(county, "viewer", role="viewer", password="long-enough")
    with pytest.raises(AccountError, match="cannot be used"):
        add_user(county, "a b", role="viewer", password="long-enough")


# --------------------------------------------------------------------------- sign-in


def test_sign_in_gives_the_principal_and_is_audited(county) -> None:
    add_user(county, "east", role="town", password="long-enough-1", towns=[EAST])
    who = authenticate(county, "east", "long-enough-1")
    assert (who.username, who.role, who.towns) == ("east", Role.TOWN, (EAST,))
    last = read_audit(county).iloc[-1]
    assert (last["action"], last["username"], last["role"], last["scope"]) == (
        "sign_in", "east", "town", f"town:{EAST}"
    )  # fmt: skip
    assert len(last["at"]) == 19  # Beijing time, to the second


def test_an_unknown_name_and_a_wrong_password_are_said_alike(county) -> None:
    add_user(county, "east", role="town", password="long-enough-1", towns=[EAST])
    with pytest.raises(SignInError, match="wrong username or password") as unknown:
        authenticate(county, "nobody", "long-enough-1")
    with pytest.raises(SignInError, match="wrong username or password") as wrong:
        authenticate(county, "east", "not-it")
    assert unknown.value.reason == wrong.value.reason == "wrong"
    failed = read_audit(county, action="sign_in_failed")
    assert failed["username"].tolist() == ["nobody", "east"]


def test_five_failures_lock_the_account_until_a_reset(county, monkeypatch) -> None:
    monkeypatch.setenv("GRIDGOV_LOCKOUT_FAILURES", "5")
    monkeypatch.setenv("GRIDGOV_LOCKOUT_MINUTES", "15")
    add_user(county, "east", role="town", password="long-enough-1", towns=[EAST])
    for _ in range(4):
        with pytest.raises(SignInError, match=r"wrong username or password$"):
            authenticate(county, "east", "guess")
    with pytest.raises(SignInError, match="locked; try again in 15 minute") as fifth:
        authenticate(county, "east", "guess")
    assert fifth.value.reason == "locked"
    # Locked: even the right password is refused.
    with pytest.raises(SignInError, match="locked"):
        authenticate(county, "east", "long-enough-1")
    assert list_users(county)["locked_until"].iloc[0] != ""
    reset_password(county, "east", "a-new-password")
    assert authenticate(county, "east", "a-new-password").username == "east"
    for _ in range(4):  # the count started again: four more failures do not lock
        with pytest.raises(SignInError, match="wrong username or password"):
            authenticate(county, "east", "guess")
    assert authenticate(county, "east", "a-new-password").username == "east"


def test_the_lock_ends_by_itself(county, monkeypatch) -> None:
    monkeypatch.setenv("GRIDGOV_LOCKOUT_FAILURES", "2")
    add_user(county, "east", role="town", password="long-enough-1", towns=[EAST])
    for _ in range(2):
        with pytest.raises(SignInError):
            authenticate(county, "east", "guess")
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat(timespec="seconds")
    with county.transaction() as tx:
        tx.update(
            "users", pd.DataFrame({"username": ["east"], "locked_until": [past]}), key="username"
        )
    assert authenticate(county, "east", "long-enough-1").username == "east"


def test_a_disabled_account_cannot_sign_in_and_its_session_ends(county) -> None:
    add_user(county, "east", role="town", password="long-enough-1", towns=[EAST])
    assert current_principal(county, "east") is not None
    disable_user(county, "east")
    assert current_principal(county, "east") is None  # the page signs the session out
    with pytest.raises(SignInError, match="disabled") as refused:
        authenticate(county, "east", "long-enough-1")
    assert refused.value.reason == "disabled"
    enable_user(county, "east")
    assert authenticate(county, "east", "long-enough-1").username == "east"
    assert _actions(county) == [
        "user_add", "user_disable", "sign_in_failed", "user_enable", "sign_in"
    ]  # fmt: skip


def test_a_hash_with_weaker_parameters_is_renewed_at_sign_in(county) -> None:
    from argon2 import PasswordHasher

    add_user(county, "east", role="town", password="long-enough-1", towns=[EAST])
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("long-enough-1")
    with county.transaction() as tx:
        tx.update(
            "users", pd.DataFrame({"username": ["east"], "password_hash": [weak]}), key="username"
        )
    authenticate(county, "east", "long-enough-1")
    with county.transaction(readonly=True) as tx:
        renewed = pd.DataFrame(tx.read("users"))["password_hash"].iloc[0]
    assert renewed != weak and not needs_rehash(renewed) and HASHER.verify(renewed, "long-enough-1")


# --------------------------------------------------------------------------- sessions


def test_a_session_ends_when_idle_and_at_its_absolute_expiry(monkeypatch) -> None:
    monkeypatch.setenv("GRIDGOV_SESSION_IDLE_MINUTES", "30")
    monkeypatch.setenv("GRIDGOV_SESSION_MAX_HOURS", "8")
    t0 = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)
    session = start_session(Principal("east", Role.TOWN, towns=(EAST,)), now=t0)
    assert session.principal.session_id == session.session_id != ""
    assert session_end_reason(session, now=t0 + dt.timedelta(minutes=29)) is None
    assert session_end_reason(session, now=t0 + dt.timedelta(minutes=31)) == "idle"
    # Used every 20 minutes it stays open, until 8 hours after sign-in.
    for k in range(1, 25):
        now = t0 + dt.timedelta(minutes=20 * k)
        assert session_end_reason(session, now=now) is None
        session = touched(session, now=now)
    assert session_end_reason(session, now=t0 + dt.timedelta(hours=8, minutes=1)) == "expired"


# --------------------------------------------------------------------------- single sign-on


def test_claims_give_the_role_and_town_and_the_expiry_is_checked() -> None:
    now = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)
    exp = int((now + dt.timedelta(minutes=5)).timestamp())
    claims = {"sub": "u-17", "preferred_username": "wang", "name": "王镇长",
              "gridgov_role": "town", "gridgov_town": EAST, "exp": exp}  # fmt: skip
    who, expires = principal_from_claims(claims, now=now)
    assert (who.username, who.role, who.towns, who.via, who.name) == (
        "wang", Role.TOWN, (EAST,), "oidc", "王镇长"
    )  # fmt: skip
    assert expires == now + dt.timedelta(minutes=5)
    session = start_session(who, now=now, token_expires_at=expires)
    assert session_end_reason(session, now=now + dt.timedelta(minutes=4)) is None
    assert session_end_reason(session, now=now + dt.timedelta(minutes=5)) == "token"
    with pytest.raises(SignInError, match="expired"):
        principal_from_claims(claims, now=now + dt.timedelta(minutes=6))
    with pytest.raises(SignInError, match="no expiry"):
        principal_from_claims({k: v for k, v in claims.items() if k != "exp"}, now=now)
    with pytest.raises(SignInError, match="no valid role"):
        principal_from_claims({**claims, "gridgov_role": "mayor"}, now=now)
    with pytest.raises(SignInError, match="no gridgov_town"):
        principal_from_claims({**claims, "gridgov_town": ""}, now=now)
    county_wide, _ = principal_from_claims({**claims, "gridgov_role": "county"}, now=now)
    assert county_wide.towns == () and county_wide.scope.whole_county


def test_a_session_that_ended_is_not_opened_again_from_the_same_token(county) -> None:
    from geo.access.oidc import token_ended, token_key

    claims = {"iss": "https://idp.example", "sub": "u-17", "iat": 1, "nonce": "n1", "exp": 9}
    again = dict(claims, nonce="n2", iat=2)  # the next sign-in at the provider
    assert token_key(claims) == token_key(dict(claims)) != token_key(again)
    assert not token_ended(county, claims)
    record(county, "sign_in", username="u-17", detail={"token": token_key(claims)})
    assert not token_ended(county, claims)  # signed in is not ended
    record(county, "session_ended", username="u-17",
           detail={"reason": "idle", "token": token_key(claims)})  # fmt: skip
    assert token_ended(county, claims) and not token_ended(county, again)


# --------------------------------------------------------------------------- scope


def test_a_town_scope_cuts_every_layer_to_that_town(county) -> None:
    whole = load_county(county, scope=Scope.county())
    east = load_county(county, scope=Scope.of_towns([EAST]))
    assert set(east.towns.town_code) == {EAST} and set(east.grids.town_code) == {EAST}
    assert set(east.villages.town_code) == {EAST}
    assert set(east.issues.town_code.astype(str)) == {EAST}
    assert len(east.issues) == (whole.issues.town_code == EAST).sum() > 0
    homes = east.layer("households")
    assert homes is not None and len(homes) > 0
    assert set(homes.village_code) <= set(east.villages.village_code)
    west = load_county(county, scope=Scope.of_towns([WEST]))
    assert set(west.grids.grid_code).isdisjoint(east.grids.grid_code)
    assert TOWNS[WEST] not in set(east.towns.town_name)


def test_a_grid_scope_holds_only_those_grids(county) -> None:
    whole = load_county(county, scope=Scope.county())
    mine = whole.grids.grid_code.iloc[[0, 1]].tolist()
    worker = Principal("w1", Role.GRID, grids=tuple(mine))
    data = load_county(county, scope=worker.scope)
    assert sorted(data.grids.grid_code) == sorted(mine)
    assert set(data.issues.grid_code.astype(str)) == set(mine)
    assert set(data.villages.village_code) == set(
        whole.grids.set_index("grid_code").loc[mine, "village_code"]
    )


def test_an_administrator_sees_no_citizens_data(county) -> None:
    data = load_county(county, scope=Principal("root", Role.ADMIN).scope)
    assert data.grids.empty and data.issues.empty


# --------------------------------------------------------------------------- unmasking


def test_unmasking_is_one_ticket_with_a_reason_in_scope_and_audited(county) -> None:
    whole = load_county(county, scope=Scope.county())
    east_ticket = whole.issues[whole.issues.town_code == EAST].ticket_id.iloc[0]
    west_ticket = whole.issues[whole.issues.town_code == WEST].ticket_id.iloc[0]
    leader = Principal("east", Role.TOWN, towns=(EAST,))
    shown = unmask_ticket(county, leader, east_ticket, reason="回访核实")
    stored = whole.issues.set_index("ticket_id").loc[east_ticket]
    assert shown == {"caller_name": stored.caller_name, "caller_phone": stored.caller_phone}
    with pytest.raises(OutOfScopeError, match="not in your scope"):
        unmask_ticket(county, leader, west_ticket, reason="回访核实")
    with pytest.raises(ValueError, match="reason"):
        unmask_ticket(county, leader, east_ticket, reason=" ")
    with pytest.raises(OutOfScopeError, match="may not see personal data"):
        unmask_ticket(county, Principal("v", Role.VIEWER), east_ticket, reason="看看")
    rows = read_audit(county, action="unmask")
    assert rows["object"].tolist() == [f"ticket:{east_ticket}"]
    assert "回访核实" in rows["detail"].iloc[0] and rows["scope"].iloc[0] == f"town:{EAST}"


# --------------------------------------------------------------------------- the audit


def test_the_audit_refuses_updates_deletes_and_replacing(county) -> None:
    add_user(county, "east", role="town", password="long-enough-1", towns=[EAST])
    with pytest.raises(StoreError, match="append-only"), county.transaction() as tx:
        tx.delete("audit", {"action": "user_add"})
    with pytest.raises(StoreError, match="append-only"), county.transaction() as tx:
        tx.update("audit", pd.DataFrame({"action": ["user_add"], "detail": ["x"]}), key="action")
    with pytest.raises(StoreError, match="cannot be replaced"):
        county.write({"audit": read_audit(county).iloc[:0]})
    assert _actions(county) == ["user_add"]


def test_the_audit_refuses_a_delete_from_outside_gridgov(tmp_path) -> None:
    store = onboard_synthetic_county(open_store(tmp_path / "county.gpkg"))
    add_user(store, "east", role="town", password="long-enough-1", towns=[EAST])
    with (
        sqlite3.connect(tmp_path / "county.gpkg") as conn,
        pytest.raises(sqlite3.IntegrityError, match="append-only"),
    ):
        conn.execute("DELETE FROM audit")
    reset_county()
    assert _actions(store) == ["user_add"]


def test_audit_filters_by_time_user_and_action(county) -> None:
    add_user(county, "east", role="town", password="long-enough-1", towns=[EAST])
    with pytest.raises(SignInError):
        authenticate(county, "east", "guess")
    today = read_audit(county)["at"].iloc[0][:10]
    assert len(read_audit(county, since=today, until=today)) == 2
    assert read_audit(county, until="2000-01-01").empty
    assert read_audit(county, username="east")["action"].tolist() == ["sign_in_failed"]
    with pytest.raises(ValueError, match="not a date"):
        read_audit(county, since="yesterday-ish")

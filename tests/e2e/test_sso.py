"""Single sign-on in a real browser: the app signs people in through an OpenID Connect
provider the test starts (:mod:`tests.e2e.oidc_provider`), Streamlit's ``st.login`` doing the
authorisation-code flow. The role and the town come from one claim each; an expired token or
a missing role is refused by GridGov (Streamlit itself does not look at the expiry); every
outcome is in the audit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.access import read_audit
from geo.core.settings import DEMO_FILENAME
from geo.store.base import open_store
from tests.e2e.conftest import REPO_ROOT, _free_port, serve_streamlit, wait_for_app
from tests.e2e.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, serve_provider

pytestmark = pytest.mark.e2e

HEDE = "320924101"  # 合德镇


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with serve_provider() as running:
        yield running


@pytest.fixture(scope="module")
def sso_app(
    provider: Provider, app_url: str, app_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A second app server, on the same data as ``app_url`` (already built), whose secrets
    configure the test's identity provider."""
    folder = tmp_path_factory.mktemp("sso")
    port = _free_port()
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "gridgov-test-cookie-secret-0123456789"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n',
        encoding="utf-8",
    )
    with serve_streamlit(
        REPO_ROOT / "dashboard.py",
        log_path=folder / "server.log",
        env={"GRIDGOV_DATA_DIR": str(app_data_dir)},
        port=port,
        options=["--secrets.files", str(secrets)],
    ) as url:
        yield url


def _sign_in_with_sso(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.get_by_role("button", name="统一身份认证登录").click(timeout=120_000)
    page.wait_for_url(f"{url}/**", timeout=60_000)
    page.get_by_test_id("stApp").wait_for(timeout=60_000)
    wait_for_app(page, 120_000)


def _audit(app_data_dir: Path, action: str):  # type: ignore[no-untyped-def]
    return read_audit(open_store(app_data_dir / DEMO_FILENAME), action=action)


def test_a_town_leader_signs_in_through_the_identity_provider(
    sso_app, provider, browser_page, app_data_dir
):
    provider.requests.clear()
    provider.claims = {
        "sub": "u-1001",
        "preferred_username": "zhang.hede",
        "name": "张镇长",
        "gridgov_role": "town",
        "gridgov_town": HEDE,
        "exp": int(time.time()) + 3600,
    }
    page = browser_page.page
    _sign_in_with_sso(page, sso_app)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("已登录：张镇长（镇（区）领导）").wait_for(timeout=60_000)
    assert provider.requests.count("/authorize") == 1 and provider.requests.count("/token") == 1
    # The scope is the claim's town: no other town's name anywhere on the page.
    page.get_by_test_id("stMain").get_by_text("合德镇").first.wait_for(timeout=120_000)
    wait_for_app(page, 120_000)
    towns = open_store(app_data_dir / DEMO_FILENAME).read("towns")
    others = towns.loc[towns.town_code.astype(str) != HEDE, "town_name"].astype(str)
    text = page.locator("body").inner_text()
    assert [name for name in others if name in text] == []
    # The navigation is a town leader's: no planner, intake or administration.
    nav = sidebar.inner_text()
    assert "网格规划" not in nav and "数据接入" not in nav and "系统管理" not in nav
    browser_page.screenshot("sso-town-leader")
    rows = _audit(app_data_dir, "sign_in")
    last = rows.iloc[-1]
    assert (last.username, last.role, last.scope, last.via) == (
        "zhang.hede",
        "town",
        f"town:{HEDE}",
        "oidc",
    )
    # Signing out ends the provider's session in the app too: the sign-in page is back.
    sidebar.get_by_role("button", name="退出登录").click()
    page.get_by_role("button", name="统一身份认证登录").wait_for(timeout=60_000)
    assert _audit(app_data_dir, "sign_out").iloc[-1].username == "zhang.hede"
    assert browser_page.blocked == []


@pytest.mark.parametrize(
    ("claims", "said", "reason"),
    [
        # Expired a minute ago: inside the client library's leeway, so Streamlit accepts it.
        ({"gridgov_role": "county", "exp_in": -60}, "单点登录凭证已过期", "token"),
        ({"gridgov_role": "mayor", "exp_in": 3600}, "单点登录未给出有效角色", "role"),
        (
            {"gridgov_role": "town", "exp_in": 3600},
            "单点登录未给出该角色所需的 gridgov_town",
            "role",
        ),
    ],
    ids=["expired", "unknown-role", "town-without-town"],
)
def test_a_token_gridgov_cannot_use_is_refused(
    sso_app, provider, browser_page, app_data_dir, claims, said, reason
):
    claims = dict(claims)
    provider.claims = {"sub": f"u-{reason}", "preferred_username": f"refused.{reason}",
                       "exp": int(time.time()) + claims.pop("exp_in"), **claims}  # fmt: skip
    page = browser_page.page
    _sign_in_with_sso(page, sso_app)
    page.get_by_text(said).first.wait_for(timeout=60_000)
    page.get_by_role("button", name="统一身份认证登录").wait_for(timeout=60_000)
    assert page.get_by_text("已登录：").count() == 0
    failed = _audit(app_data_dir, "sign_in_failed")
    last = failed.iloc[-1]
    assert last.username == f"u-{reason}" and f'"reason": "{reason}"' in last.detail
    assert browser_page.blocked == []

"""Signing in an ``AppTest`` of dashboard.py the way a person does: 用户名, 密码, 登录."""

from __future__ import annotations

from typing import Any


def signed_in(at: Any, user: str = "county", password: str = "demo") -> Any:
    """Run the app (the sign-in page), sign in as ``user`` and return the app on its first page."""
    at.run()
    at.text_input(key="signin_user").input(user)
    at.text_input(key="signin_password").input(password)
    at.button(key="signin_go").click().run()
    assert not at.exception, at.exception
    assert not [e for e in at.error], [e.value for e in at.error]
    return at

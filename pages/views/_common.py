"""Shared UI plumbing for every page: language, data loading, the sidebar filters."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from geo.access import Principal, Session
from geo.core.i18n import LANGUAGES, Text, Translator, text, translator
from geo.core.scope import Scope
from geo.core.settings import LAYERS, get_settings
from geo.grids.aggregate import IssueFilter
from geo.loop.lifecycle import STOCKS
from geo.store.base import Store
from geo.store.county import (
    County,
    configured_store,
    default_store,
    demo_store_path,
    load_county,
)
from geo.views.safety import markdown_text


def lang() -> str:
    """The current UI language (``zh`` by default)."""
    return str(st.session_state.get("lang", "zh"))


def tr() -> Translator:
    """Translator for the current language (``tr()(key, **params)``)."""
    return translator(lang())


def language_switch() -> None:
    """A sidebar switch between Chinese and English.

    The choice lives in a plain session key (``lang``) set by the widget's callback: a
    widget drawn in the entrypoint does not keep its value reliably across page runs.
    """
    st.session_state.setdefault("lang", "zh")

    def choose() -> None:
        st.session_state["lang"] = st.session_state["_lang_widget"]

    codes = list(LANGUAGES)
    st.sidebar.radio(
        str(text("language")),  # in both languages: whoever reads either finds the switch
        codes,
        index=codes.index(lang()),
        key="_lang_widget",
        format_func=LANGUAGES.__getitem__,
        horizontal=True,
        on_change=choose,
    )


def _where() -> str:
    """The store the configuration names now (``GRIDGOV_STORE``, ``DATABASE_URL`` and
    schema, else the demo GeoPackage): the key of the opened store."""
    cfg = get_settings()
    configured = configured_store(cfg)
    return f"{configured}|{cfg.db_schema}" if configured else str(demo_store_path(cfg))


@st.cache_resource(show_spinner=False, max_entries=4)
def _store(where: str) -> Store:
    bars: list[Any] = []  # the progress element, created on the first call

    def progress(fraction: float, message: Text) -> None:
        if not bars:  # only when the demo county is being built
            bars.append(st.progress(0.0, text=translator(lang())("building_demo")))
        bars[0].progress(min(fraction, 1.0), text=message.pick(lang()))

    cfg = get_settings()
    if not configured_store(cfg) and not demo_store_path(cfg).exists():
        # Nothing configured and no demo yet: the first start builds the demo county. This
        # is the one place outside the CLI that makes demo data; a configured store never
        # gets it (an empty database is an error that names `python -m geo demo --store`).
        from geo.demo import build_demo

        build_demo(cfg.data_dir, progress=progress)
    store = default_store(cfg)
    if not configured_store(cfg) and "users" not in store.layers():
        # A demo built before sign-in existed: give it its demo accounts.
        from geo.demo import add_demo_accounts

        add_demo_accounts(store)
    for bar in bars:
        bar.empty()
    return store


#: Where this browser's :class:`~geo.access.Session` is kept in the Streamlit session.
SESSION_KEY = "_gridgov_session"


def session() -> Session | None:
    """This browser's session, if signed in."""
    value = st.session_state.get(SESSION_KEY)
    return value if isinstance(value, Session) else None


def principal() -> Principal:
    """The signed-in user; a page never runs without one (the door shows the sign-in form),
    so without one the page stops."""
    current = session()
    if current is None:
        st.stop()
    assert current is not None
    return current.principal


@st.cache_resource(show_spinner=False, max_entries=12)
def _county(location: str, version: str, scope_key: str, _store: Store, _scope: Scope) -> County:
    return load_county(_store, scope=_scope)


def county() -> County:
    """The county in the store cut to the signed-in user's scope, loaded once per store
    version and scope (shared, do not mutate)."""
    store = _store(_where())
    scope = principal().scope
    return _county(store.location, store.version(LAYERS), scope.label, store, scope)


def synthetic_banner(data: County) -> None:
    """Say so on screen when the data is the synthetic demo."""
    if data.synthetic:
        st.warning(tr()("synthetic_banner"), icon="⚠️")


def store() -> Store:
    """The dashboard's store (opened once per server)."""
    return _store(_where())


def plain(value: str) -> str:
    """``value`` shown as it is in a Markdown element (st.error, st.success…): every
    Markdown and HTML character escaped, so text from data cannot format or link."""
    return markdown_text(value)


def kpi_help(name: str, flt: IssueFilter, as_of: pd.Timestamp) -> str:
    """The tooltip of a figure's tile: a state of now (:data:`geo.loop.lifecycle.STOCKS`),
    or a flow of the dates the sidebar chose."""
    t = tr()
    if name in STOCKS:
        return t("kpi_now_help").format(as_of=f"{as_of:%Y-%m-%d %H:%M}")
    start = "…" if flt.start is None else f"{flt.start:%Y-%m-%d}"
    end = f"{as_of:%Y-%m-%d}" if flt.end is None else f"{flt.end:%Y-%m-%d}"
    return t("kpi_window_help").format(start=start, end=end)


def category_mix(mix: pd.DataFrame, *, height: int) -> None:
    """A grid's issues by category as bars (``category``, ``count``), or "no records" in
    words when it has none (an empty chart would show a bare 0.000000 axis)."""
    t = tr()
    if mix.empty or not mix["count"].sum():
        st.caption(t("table_empty"))
        return
    st.bar_chart(mix.rename(columns=t), x=t("category"), y=t("count"), height=height)

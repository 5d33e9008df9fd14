"""Shared UI plumbing for every page: language, data loading, the sidebar filters."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import streamlit as st

from geo.access import Principal, Session
from geo.core.i18n import LANGUAGES, Text, Translator, text, translator
from geo.core.scope import Scope
from geo.core.settings import LAYERS, get_settings
from geo.grids.aggregate import IssueFilter
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


def widget_words() -> None:
    """Say in Chinese what Streamlit itself says in English (the file uploader's button and
    size limit, the keyboard's "Skip to main content" link): CSS hides its words and draws
    ours in their place."""
    if lang() == "en":
        return
    t = tr()
    skip = json.dumps(t("skip_to_content"), ensure_ascii=False)
    button = json.dumps(t("uploader_button"), ensure_ascii=False)
    limit = json.dumps(
        t("uploader_limit", mb=st.get_option("server.maxUploadSize")), ensure_ascii=False
    )
    zone = '[data-testid="stFileUploaderDropzone"]'
    words = '[data-testid="stFileUploaderDropzoneInstructions"]'
    st.html(
        "<style>"
        f'{zone} button [data-testid="stMarkdownContainer"] p {{display: none}}'
        f'{zone} button [data-testid="stMarkdownContainer"]::after {{content: {button}}}'
        f"{words} span {{display: none}}"
        f"{words} > div::after {{content: {limit}; font-size: 0.875rem; opacity: 0.6}}"
        '[data-testid="stSkipToContent"] {font-size: 0 !important}'
        f'[data-testid="stSkipToContent"]::after {{content: {skip}; font-size: 1rem}}'
        "</style>"
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


def request_scope(town: str | None, village: str | None = None) -> None:
    """Move the sidebar's town/village to a new scope (drill-down) and rerun the page.

    Widget values cannot change once the widget is drawn in a run, so the request waits in
    the session and :func:`sidebar_filters` applies it before drawing the selectors.
    """
    st.session_state["_scope_request"] = (town, village)
    st.rerun()


def sidebar_filters(data: County) -> IssueFilter:
    """Town/village, date range, category and source filters shared by every page."""
    t = tr()
    sb = st.sidebar
    if "_scope_request" in st.session_state:
        town_req, village_req = st.session_state.pop("_scope_request")
        st.session_state["town"], st.session_state["village"] = town_req or "", village_req or ""
    sb.subheader(t("filters"))
    towns = data.towns.sort_values("town_code")
    town_names = {"": t("all"), **dict(zip(towns.town_code, towns.town_name, strict=True))}
    if st.session_state.get("town") not in town_names:  # e.g. a town outside the scope
        st.session_state["town"] = ""
    town = sb.selectbox(t("town"), list(town_names), key="town", format_func=town_names.__getitem__)
    village = ""
    if town:
        vs = data.villages[data.villages.town_code == town].sort_values("village_code")
        names = {"": t("all"), **dict(zip(vs.village_code, vs.village_name, strict=True))}
        if st.session_state.get("village") not in names:
            st.session_state["village"] = ""
        village = sb.selectbox(
            t("village"), list(names), key="village", format_func=names.__getitem__
        )
    end = data.as_of.date()
    earliest = data.issues["received_at"].min()
    first = earliest.date() if pd.notna(earliest) else end - dt.timedelta(days=29)
    first = min(first, end)
    default = (max(end - dt.timedelta(days=29), first), end)  # a county's history may be short
    picked = sb.date_input(
        t("date_range"),
        value=default,
        min_value=first,
        max_value=end,
        key="dates",
    )
    # A range picker gives 0, 1 or 2 dates while the user is still picking: one date is
    # that day, none is the default range.
    start, stop = (picked[0], picked[-1]) if picked else default
    categories = sb.multiselect(
        t("category"),
        list(data.issues["category"].cat.categories),
        key="categories",
        placeholder=t("all"),
    )
    sources = sb.multiselect(
        t("source"),
        list(data.issues["source"].cat.categories),
        key="sources",
        placeholder=t("all"),
    )
    sb.caption(
        f"{t('as_of')} {data.as_of:%Y-%m-%d %H:%M} · {t('data_source')}: "
        f"{data.store_location.split('/')[-1]}"
    )
    return IssueFilter(
        start=pd.Timestamp(start),
        end=pd.Timestamp(stop),
        categories=tuple(categories),
        sources=tuple(sources),
        town_code=town or None,
        village_code=village or None,
    )


def store() -> Store:
    """The dashboard's store (opened once per server)."""
    return _store(_where())


def plain(value: str) -> str:
    """``value`` shown as it is in a Markdown element (st.error, st.success…): every
    Markdown and HTML character escaped, so text from data cannot format or link."""
    return markdown_text(value)

"""The sidebar every county page shares: town and village, dates, categories and sources, and
the drill-down request a page makes to move them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from geo.grids.aggregate import IssueFilter
from geo.store.county import County
from pages.views._common import tr

#: The sidebar's choices last the whole session, across pages (also those that do not draw
#: them: the planner, or 15分钟服务圈 without the issue filters); the town and village are in
#: the address too, so a reload or a shared link keeps them.
KEPT: dict[str, Any] = {"persist_state": "session"}
#: No "select all" on a filter: every category selected reads the same as none (all).
PICK: dict[str, Any] = {**KEPT, "select_all": False}
PLACE: dict[str, Any] = {**KEPT, "bind": "query-params"}


def request_scope(town: str | None, village: str | None = None) -> None:
    """Move the sidebar's town/village to a new scope (drill-down) and rerun the page.

    Widget values cannot change once the widget is drawn in a run, so the request waits in
    the session and :func:`sidebar_filters` applies it before drawing the selectors.
    """
    st.session_state["_scope_request"] = (town, village)
    st.rerun()


def sidebar_filters(data: County, *, issues: bool = True) -> IssueFilter:
    """Town/village, date range, category and source filters shared by every page (without
    the last three, which only select issues, when ``issues`` is false)."""
    t = tr()
    sb = st.sidebar
    if "_scope_request" in st.session_state:
        town_req, village_req = st.session_state.pop("_scope_request")
        st.session_state["town"], st.session_state["village"] = town_req or "", village_req or ""
    sb.subheader(t("filters"))
    towns = data.towns.sort_values("town_code")
    town_names = dict(zip(towns.town_code, towns.town_name, strict=True))
    if data.scope.whole_county or len(town_names) != 1:
        town_names = {"": t("all"), **town_names}  # one town's leader sees that town, named
    if st.session_state.get("town") not in town_names:  # e.g. a town outside the scope
        st.session_state["town"] = next(iter(town_names))
    town = sb.selectbox(
        t("town"), list(town_names), key="town", format_func=town_names.__getitem__, **PLACE
    )
    village = ""
    if town:
        vs = data.villages[data.villages.town_code == town].sort_values("village_code")
        names = {"": t("all"), **dict(zip(vs.village_code, vs.village_name, strict=True))}
        if st.session_state.get("village") not in names:
            st.session_state["village"] = ""
        village = sb.selectbox(
            t("village"), list(names), key="village", format_func=names.__getitem__, **PLACE
        )
    if not issues:  # the date, category and source filters would do nothing here
        return IssueFilter(town_code=town or None, village_code=village or None)
    end = data.as_of.date()
    earliest = data.issues["received_at"].min()
    first = earliest.date() if pd.notna(earliest) else end - dt.timedelta(days=29)
    first = min(first, end)
    default = (max(end - dt.timedelta(days=29), first), end)  # a county's history may be short
    kept = st.session_state.get("dates")
    if kept is not None and not all(first <= d <= end for d in kept):
        del st.session_state["dates"]  # kept from another store's history
    start_value: dict[str, Any] = {} if "dates" in st.session_state else {"value": default}
    picked = sb.date_input(
        t("date_range"), min_value=first, max_value=end, key="dates", **start_value, **KEPT
    )
    # A range picker gives 0, 1 or 2 dates while the user is still picking: one date is
    # that day, none is the default range.
    start, stop = (picked[0], picked[-1]) if picked else default
    choices = {
        "categories": list(data.issues["category"].cat.categories),
        "sources": list(data.issues["source"].cat.categories),
    }
    for key, options in choices.items():  # a value kept from another store's data is dropped
        if key in st.session_state:
            st.session_state[key] = [v for v in st.session_state[key] if v in options]
    categories = sb.multiselect(
        t("category"), choices["categories"], key="categories", placeholder=t("all"), **PICK
    )
    sources = sb.multiselect(
        t("source"), choices["sources"], key="sources", placeholder=t("all"), **PICK
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

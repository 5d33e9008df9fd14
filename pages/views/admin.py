"""系统管理 Administration: accounts (add, disable, enable, new password) and the audit trail
(filter, download). Only the 管理员 role opens it."""

import datetime as dt

import streamlit as st

from geo.access import (
    ACTION_NAMES,
    ACTIONS,
    Permission,
    Role,
    add_user,
    disable_user,
    enable_user,
    reset_password,
)
from geo.core.errors import GridGovError
from geo.core.i18n import pick, text
from geo.views.admin import audit_table, town_choices, users_table
from geo.views.errors import explain
from geo.views.safety import safe_csv
from pages.views._common import lang, plain, principal, store, tr
from pages.views._personal import audited_download
from pages.views._tables import show_table

t = tr()
who = principal()
who.require(Permission.ADMIN, text("admin_may"))
the_store = store()
st.title(t("page_admin"))
accounts, audit = st.tabs([t("admin_accounts"), t("admin_audit")])

with accounts:
    table = users_table(the_store, lang())
    show_table(table)
    towns = town_choices(the_store)
    with st.form("admin_add", clear_on_submit=True):
        st.subheader(t("admin_add"))
        left, right = st.columns(2)
        name = left.text_input(t("username"), key="admin_name", max_chars=64)
        role = right.selectbox(t("role"), [r.value for r in Role], key="admin_role",
                               format_func=lambda r: t(f"role_{r}"))  # fmt: skip
        picked = left.multiselect(t("town"), list(towns), key="admin_towns",
                                  format_func=towns.__getitem__,
                                  placeholder=t("admin_pick_towns"), select_all=False)  # fmt: skip
        grids = right.text_input(t("admin_grids"), key="admin_grid_codes")
        password = left.text_input(t("password"), type="password", key="admin_password")
        if st.form_submit_button(t("admin_add"), key="admin_add_go", type="primary"):
            try:
                codes = [g.strip() for g in grids.split(",") if g.strip()]
                made = add_user(the_store, name.strip(), role=role, password=password,
                                towns=picked, grids=codes, by=who)  # fmt: skip
            except (GridGovError, ValueError) as exc:
                st.error(plain(explain(exc, lang())))
            else:
                st.success(t("admin_added", name=plain(made.username)))
    st.subheader(t("admin_change"))
    names = table["username"].tolist()
    if names:
        left, right = st.columns(2)
        user = left.selectbox(t("username"), names, key="admin_user")
        new = right.text_input(t("admin_new_password"), type="password", key="admin_new_pw")
        a, b, c = st.columns(3)
        try:
            if a.button(t("admin_disable"), key="admin_disable"):
                disable_user(the_store, user, by=who)
                st.rerun()
            if b.button(t("admin_enable"), key="admin_enable"):
                enable_user(the_store, user, by=who)
                st.rerun()
            if c.button(t("admin_reset"), key="admin_reset"):
                reset_password(the_store, user, new, by=who)
                st.success(t("admin_was_reset", name=plain(user)))
        except (GridGovError, ValueError) as exc:
            st.error(plain(explain(exc, lang())))

with audit:
    left, mid, right = st.columns(3)
    today = dt.date.today()
    days = left.date_input(t("date_range"), value=(today - dt.timedelta(days=6), today),
                           key="audit_days")  # fmt: skip
    user = mid.text_input(t("username"), key="audit_user").strip()
    action = right.selectbox(
        t("admin_action"), ["", *ACTIONS], key="audit_action",
        format_func=lambda a: pick(ACTION_NAMES[a], lang()) if a else t("all"))  # fmt: skip
    since, until = (days[0], days[-1]) if days else (None, None)
    rows = audit_table(the_store, who, lang(), since=str(since) if since else None,
                       until=str(until) if until else None, username=user or None,
                       action=action or None)  # fmt: skip
    st.caption(t("admin_audit_rows", n=len(rows)))
    show_table(rows, lambda c: t(f"audit_{c}"))
    shown = rows.rename(columns=lambda c: t(f"audit_{c}"))

    audited_download(st, t("admin_audit_download"), safe_csv(shown), "audit.csv",
                     mime="text/csv", key="audit_download")  # fmt: skip

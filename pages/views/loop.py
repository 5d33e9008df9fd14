"""闭环管理 Closed loop: KPIs of the scope, 日清—周结—月过堂, and the monthly report."""

import functools

import pandas as pd
import streamlit as st

from geo.grids.aggregate import IssueFilter, filter_mask, stocks_and_window
from geo.loop.lifecycle import KPIS
from geo.loop.report import (
    build_report,
    column_label,
    display_table,
    format_kpi,
    named_kpis,
    report_months,
    rhythm_tables,
    scope_name,
)
from geo.store.county import County
from geo.views.report_files import report_file, report_filename
from pages.views._common import county, kpi_help, lang, plain, synthetic_banner, tr
from pages.views._personal import audited_download
from pages.views._sidebar import sidebar_filters
from pages.views._tables import show_table

t = tr()
data = county()
flt = sidebar_filters(data)
synthetic_banner(data)
key = data.key


@st.cache_data(show_spinner=False, max_entries=32)
def _kpis(key: tuple, flt: IssueFilter, level: str, _data: County) -> dict[str, pd.DataFrame]:
    tickets, in_window = stocks_and_window(_data.issues, flt)
    return named_kpis(_data, tickets, _data.as_of, levels=("county", level), window=in_window)


@st.cache_data(show_spinner=False, max_entries=8)
def _rhythm(key: tuple, flt: IssueFilter, _data: County) -> dict[str, pd.DataFrame]:
    issues = _data.issues[filter_mask(_data.issues, flt)]  # every date: the backlog counts
    return rhythm_tables(_data, issues, _data.as_of, town_code=flt.town_code)


def show(frame: pd.DataFrame) -> None:
    frame = frame.drop(columns=[c for c in ("town_code", "village_code") if c in frame])
    show_table(display_table(frame, lang(), labelled=False), lambda c: column_label(c, lang()))


def report(fmt: str, month: str, town: str | None, language: str) -> bytes:
    """Built when a download button is clicked (Streamlit calls it on another thread)."""
    return report_file(build_report(data, month=month, town=town), fmt, lang=language)


where_said = plain(scope_name(data, flt.town_code)) if flt.town_code else t("scope_county")
st.title(f"{t('page_loop')} · {where_said}")
level = st.radio(
    t("loop_level"),
    ["town", "village", "grid", "category", "platform"],
    index=1 if flt.town_code else 0,
    horizontal=True,
    key="loop_level",
    format_func=lambda v: t(f"loop_level_{v}"),
)
kpis = _kpis(key, flt, level, data)
tiles = [c for c in KPIS if c not in ("closed_on_time", "calendar_fallback")]
for row in range(0, len(tiles), 4):  # four a row: the longest labels fit on a laptop
    for col, name in zip(st.columns(4), tiles[row : row + 4], strict=False):
        value = format_kpi(name, kpis["county"].iloc[0][name])
        col.metric(column_label(name, lang()), value, help=kpi_help(name, flt, data.as_of))
st.caption(t("loop_scope_note").format(as_of=f"{data.as_of:%Y-%m-%d %H:%M}"))
show(kpis[level])

st.subheader(" · ".join(t(f"loop_tab_{k}") for k in ("daily", "weekly", "monthly")))
st.caption(t("loop_rhythm_note"))
scope_only = IssueFilter(
    categories=flt.categories,
    sources=flt.sources,
    town_code=flt.town_code,
    village_code=flt.village_code,
)
rhythm = _rhythm(key, scope_only, data)
daily_tab, weekly_tab, monthly_tab = st.tabs(
    [t(f"loop_tab_{k}") for k in ("daily", "weekly", "monthly")]
)
with daily_tab:
    daily = rhythm["daily"]
    st.caption(t("loop_daily_note").format(day=f"{data.as_of:%Y-%m-%d}"))
    cols = st.columns(3)
    cols[0].metric(t("loop_daily_new"), f"{(daily['reason'] == 'new').sum():,}")
    cols[1].metric(t("loop_daily_due"), f"{(daily['reason'] == 'due').sum():,}")
    cols[2].metric(t("loop_daily_left"), f"{(~daily['cleared']).sum():,}")
    show(daily)
with weekly_tab:
    week_start = data.as_of.normalize() - pd.Timedelta(days=data.as_of.day_of_week)
    st.caption(t("loop_weekly_note").format(start=f"{week_start:%Y-%m-%d}"))
    show(rhythm["weekly"])
with monthly_tab:
    st.caption(t("loop_monthly_note").format(month=f"{data.as_of:%Y-%m}"))
    st.markdown(f"**{t('loop_backlog')}**")
    show(rhythm["backlog"])
    st.markdown(f"**{t('loop_cases')}** · {len(rhythm['cases']):,}")
    show(rhythm["cases"])

st.subheader(t("loop_report"))
months = [str(m) for m in report_months(data)]
if not months:
    st.info(t("no_issues"))
    st.stop()
month = st.selectbox(
    t("loop_report_month"), months, index=min(1, len(months) - 1), key="loop_report_month"
)
where = scope_name(data, flt.town_code)
st.caption(t("loop_report_scope").format(scope=where) + " " + t("loop_report_note"))
for col, fmt, mime in zip(
    st.columns(2),
    ("xlsx", "pdf"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/pdf"),
    strict=True,
):
    audited_download(
        col,
        t(f"loop_download_{fmt}"),
        functools.partial(report, fmt, month, flt.town_code, lang()),
        report_filename(where, month, fmt, lang()),
        mime=mime,
        key=f"loop_download_{fmt}",
    )

"""The 网格规划 page's six tabs (metrics, check, diff, rebalance, files, history), one function
each; each draws the widgets of its part of the page for a :class:`Planner`."""

from __future__ import annotations

import streamlit as st

from geo.core.errors import GridGovError
from geo.core.settings import get_settings
from geo.planning import grid_files as gf
from geo.views import planner as pv
from pages.views._common import lang, principal
from pages.views._personal import audited_download
from pages.views._planner_state import TABS, Planner, act, head, ss, t
from pages.views._tables import show_table


def metrics_tab(p: Planner) -> None:
    breaking = [bool(s) for s in p.metrics.standard]
    show_table(p.metrics, head, flagged=breaking)
    cfg = get_settings()
    r, u, n = cfg.rural_rule, cfg.urban_rule, cfg.national_rule
    st.caption(
        t("plan_rules").format(
            r.min_households,
            r.max_households,
            u.max_households,
            r.max_residents,
            n.min_households,
            n.max_households,
        )
    )


def check_tab(p: Planner) -> None:
    report = p.report
    verdict = t("plan_check_ok" if report.publishable else "plan_check_bad")
    (st.success if report.publishable else st.error)(
        verdict.format(len(report.errors), len(report.warnings))
    )
    problems = pv.check_table(report, lang())
    problems["severity"] = problems.severity.map(lambda s: t(f"plan_{s}"))
    show_table(problems, head)


def diff_tab(p: Planner) -> None:
    try:
        diff = pv.draft_diff(p.versions, p.published, p.bench.grids)
    except GridGovError as exc:  # e.g. an uploaded layer using a grid code twice
        st.error(pv.explain(exc, lang()))
        return
    if diff.grids.empty:
        st.info(t("plan_no_diff"))
        return
    st.write(t("plan_diff_summary").format(len(diff.grids), diff.households_moved))
    changes = diff.grids.assign(
        status=diff.grids.status.map(lambda s: t(f"plan_status_{s}")),
        changed_columns=diff.grids.changed_columns.map(
            lambda cols: t("sep_list").join(head(c) for c in str(cols).split(",") if c)
        ),
    )
    show_table(changes.drop(columns="geometry_changed"), head)
    show_table(diff.flows, head)


def rebalance_tab(p: Planner) -> None:
    st.radio(
        t("plan_method"),
        ["balanced", "maxp"],
        key="plan_method",
        horizontal=True,
        format_func=lambda x: t(f"plan_method_{x}"),
    )

    def propose() -> None:
        p.proposals[p.code] = pv.propose(p.scope, p.bench.grids, method=ss["plan_method"])

    def adopt() -> None:
        grids = pv.adopt_proposal(p.proposals.pop(p.code).grids, p.bench.grids)
        p.bench.apply(grids, pv.ADOPTED_NOTE)

    st.button(t("plan_propose"), key="plan_do_propose", on_click=act(propose))
    proposal = p.proposals.get(p.code)
    if proposal is not None:
        show_table(pv.compare_table(proposal.compare(), lang()), head)
        st.button(t("plan_adopt"), key="plan_do_adopt", type="primary", on_click=act(adopt))


def files_tab(p: Planner) -> None:
    st.file_uploader(t("plan_upload"), type=[s[1:] for s in gf.UPLOAD_SUFFIXES], key="plan_upload")

    def load_upload() -> None:
        file = ss["plan_upload"]
        got = pv.read_upload(file.name, file.getvalue(), scope=p.scope, published=p.data.grids)
        p.bench.apply(got.grids, pv.upload_note(file.name))
        if got.left_out:
            ss["plan_flash"] = ("warning", t("plan_upload_ignored").format(len(got.left_out)))

    st.button(
        t("plan_load_upload"),
        key="plan_do_upload",
        disabled=ss.get("plan_upload") is None,
        on_click=act(load_upload),
    )
    e1, e2, e3 = st.columns(3)
    choices: list[str | int] = ["draft", *p.version_list.version.astype(int).tolist()]
    which = e1.selectbox(
        t("plan_export_which"),
        choices,
        key="plan_export_version",
        format_func=lambda v: t("plan_draft") if v == "draft" else f"v{v}",
    )
    fmt = e2.selectbox(t("plan_export_format"), list(gf.FORMATS), key="plan_export_fmt")
    extent = e3.radio(
        t("plan_export_extent"),
        ["scope", "county"],
        key="plan_export_extent",
        format_func=lambda x: t(f"plan_extent_{x}"),
        disabled=which == "draft",
    )

    def export() -> bytes:
        county = extent == "county"
        version = which if which is not None else "draft"
        return pv.export_layer(p.versions, p.bench, p.scope, which=version, county=county,
                               fmt=fmt, who=principal())  # fmt: skip

    audited_download(
        st,
        t("plan_download"),
        export,
        f"{p.code}-{which}-{gf.FORMATS[fmt].file_name}",
        mime=gf.FORMATS[fmt].mime,
        key="plan_download",
    )


def history_tab(p: Planner) -> None:
    show_table(p.version_list, head)
    show_table(pv.scope_log(p.versions, p.code, lang()), head)


def tabs(p: Planner) -> None:
    """The six tabs below the map."""
    render = (metrics_tab, check_tab, diff_tab, rebalance_tab, files_tab, history_tab)
    for tab, draw in zip(st.tabs([t(f"plan_tab_{k}") for k in TABS]), render, strict=True):
        with tab:
            draw(p)

"""The 网格规划 page's panels: the edit tools, save/publish and the six tabs, one function each.

Each function draws the widgets of one part of the page for a :class:`Planner` (what the page
loaded for the village or town being planned); the work is done by geo.views.planner,
geo.planning.draw and
geo.planning.edit. Button callbacks read widget values from the session (a text typed just before a
click is only there), run the job, and leave a message (``plan_flash``) for the rerun.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.core.clock import beijing_stamp
from geo.core.errors import GridGovError, GridValidationError
from geo.core.i18n import TEXT, pick
from geo.core.settings import get_settings
from geo.planning import grid_files as gf
from geo.planning.check import DraftReport
from geo.planning.draw import (
    AREAS,
    LINES,
    crossed_grids,
    drawn_geometry,
    latest_drawing,
    redraw_with,
    split_along,
)
from geo.planning.edit import EditResult, merge_grids, move_to_village, rename, renumber
from geo.planning.rebalance import Proposal
from geo.planning.versions import ConflictError, PublishBlockedError, VersionedGrids
from geo.store.county import County
from geo.views import planner as pv
from pages.views._common import lang, tr

ss = st.session_state
TABS = ("metrics", "check", "diff", "rebalance", "files", "history")
OPS = ("split", "merge", "redraw", "move", "renumber", "rename")


def t(key: str) -> str:
    """The UI text of ``key`` in the current language."""
    return tr()(key)


def head(column: str) -> str:
    """A column heading: the planner's own wording where it has one."""
    return t(f"plan_col_{column}") if f"plan_col_{column}" in TEXT else t(column)


@dataclass
class Planner:
    """What the page works on in this run: the scope, its published grids and the draft."""

    data: County
    versions: VersionedGrids
    scope: pv.PlanScope
    bench: pv.Workbench
    names: dict[str, str]  # village code → name, the villages of the town
    whole_town: bool
    proposals: dict[str, Proposal] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.scope.code

    @cached_property
    def published(self) -> gpd.GeoDataFrame:
        return self.scope.of(self.data.grids)

    @cached_property
    def report(self) -> DraftReport:
        return pv.check(self.bench.grids, self.scope)

    @cached_property
    def metrics(self) -> pd.DataFrame:
        return pv.metrics_table(self.report, self.bench.grids, lang())

    @cached_property
    def version_list(self) -> pd.DataFrame:
        return pv.version_choices(self.versions, lang())

    def village_label(self, code: str) -> str:
        return str(self.names.get(code, code))

    @cached_property
    def grid_names(self) -> dict[str, str]:
        grids = self.bench.grids
        return dict(zip(grids.grid_code, grids.get("grid_name", grids.grid_code), strict=True))

    def grid_label(self, code: str) -> str:
        return f"{str(code)[-3:]} {self.grid_names.get(code, '')}"


def act(job: Callable[[], object]) -> Callable[[], None]:
    """A button callback running ``job``; a refusal becomes the message shown after the rerun."""

    def run() -> None:
        try:
            job()
        except ConflictError as exc:
            when = beijing_stamp(exc.saved_at, "%m-%d %H:%M")
            text = t("plan_conflict").format(exc.saved_by, when, exc.kept_draft_id or "—")
            ss["plan_flash"] = ("error", text)
        except GridValidationError as exc:
            ss["plan_flash"] = ("error", t("plan_invalid") + "\n\n" + pv.explain(exc, lang()))
        except (GridGovError, ValueError) as exc:
            ss["plan_flash"] = ("error", pv.explain(exc, lang()))

    return run


def flash() -> None:
    """The message a callback left for this run, if any."""
    if "plan_flash" in ss:
        kind, text = ss.pop("plan_flash")
        getattr(st, kind)(text)


def kpis(p: Planner) -> None:
    m1, m2, m3, m4 = st.columns(4)
    grown = len(p.bench.grids) - len(p.published)
    m1.metric(t("kpi_grids"), len(p.bench.grids), grown or None)
    m2.metric(t("households"), f"{p.metrics.households.sum():,.0f}")
    m3.metric(t("plan_errors_warnings"), f"{len(p.report.errors)} / {len(p.report.warnings)}")
    state = (
        t("plan_unsaved").format(len(p.bench.notes))
        if p.bench.dirty
        else t("plan_revision").format(p.bench.revision)
    )
    m4.metric(t("plan_draft"), state)


# --------------------------------------------------------------------------- editing


def _drawing(kinds: tuple[str, ...]) -> Mapping[str, Any]:
    """The newest drawing of ``kinds`` on the map (what the apply button acts on)."""
    feature = latest_drawing(ss.get("plan_drawings"), kinds)
    if feature is None:
        raise ValueError(t("plan_draw_split" if kinds == LINES else "plan_draw_redraw"))
    return feature


def _job(p: Planner, op: str) -> Callable[[pv.Workbench], EditResult]:
    """What edit ``op`` does with the working copy; inputs are the widgets' session values."""
    homes, villages = p.scope.households, p.data.villages
    jobs: dict[str, Callable[[pv.Workbench], EditResult]] = {
        "split": lambda b: split_along(b.grids, _drawing(LINES), households=homes),
        "redraw": lambda b: redraw_with(
            b.grids, _drawing(AREAS), grid_code=ss["plan_redraw_grid"], households=homes
        ),
        "merge": lambda b: merge_grids(b.grids, ss["plan_merge"]),
        "move": lambda b: move_to_village(
            b.grids, ss["plan_move_grid"], ss["plan_move_to"], villages
        ),
        "renumber": lambda b: renumber(b.grids, ss["plan_renumber"]),
        "rename": lambda b: rename(b.grids, ss["plan_rename_grid"], ss.get("plan_new_name", "")),
    }
    return jobs[op]


def _inputs(p: Planner, op: str) -> bool:
    """The widgets of edit ``op``; True when the edit can be applied."""
    codes = list(p.bench.grids.grid_code)
    if op in ("split", "redraw"):
        feature = latest_drawing(ss["plan_drawings"], LINES if op == "split" else AREAS)
        if feature is None:
            st.info(t(f"plan_draw_{op}"))
            return False
        if op == "redraw":
            st.selectbox(
                t("plan_grid_grows"), codes, key="plan_redraw_grid", format_func=p.grid_label
            )
            return True
        try:
            cut = crossed_grids(p.bench.grids, drawn_geometry(feature, kinds=LINES))
        except GridGovError as exc:
            st.error(pv.explain(exc, lang()))
            cut = []
        st.write(t("plan_line_cuts").format(t("sep_list").join(c[-3:] for c in cut) or "—"))
        return bool(cut)
    if op == "merge":
        chosen = st.multiselect(
            t("plan_merge_grids"), codes, key="plan_merge", format_func=p.grid_label
        )
        return len(chosen) >= 2
    if op == "move":
        grid = st.selectbox(t("plan_grid"), codes, key="plan_move_grid", format_func=p.grid_label)
        others = [v for v in p.names if not str(grid).startswith(v)]
        st.selectbox(t("plan_move_to"), others, key="plan_move_to", format_func=p.village_label)
        if not p.whole_town:
            st.info(t("plan_move_needs_town"))
        return p.whole_town
    if op == "renumber":
        mine = sorted(set(p.bench.grids.village_code))
        st.selectbox(t("village"), mine, key="plan_renumber", format_func=p.village_label)
        return True
    st.selectbox(t("plan_grid"), codes, key="plan_rename_grid", format_func=p.grid_label)
    st.text_input(t("plan_new_name"), key="plan_new_name")
    return True


def edit_panel(p: Planner) -> None:
    """The edit picker, its inputs, the apply button and the edits not saved yet."""
    op = st.radio(
        t("plan_op"),
        list(OPS),
        key="plan_op",
        horizontal=True,
        format_func=lambda o: t(f"plan_op_{o}"),
    )
    ready = _inputs(p, op)
    make = _job(p, op)
    st.button(
        t(f"plan_apply_{op}"),
        key=f"plan_do_{op}",
        type="primary",
        disabled=not ready,
        on_click=act(lambda: p.bench.apply(make(p.bench))),
    )
    if p.bench.notes:
        notes = "\n\n".join(f"· {pick(n, lang())}" for n in p.bench.notes)
        st.caption(t("plan_pending") + "\n\n" + notes)


def _author() -> str:
    name = ss.get("plan_author", "").strip()
    if not name:
        raise ValueError(t("plan_need_author"))
    return name


def save_panel(p: Planner) -> None:
    """Who and why, undo, save and publish."""

    def save() -> None:
        saved = p.bench.save(p.versions, author=_author(), reason=ss.get("plan_reason", ""))
        ss["plan_flash"] = ("success", t("plan_saved").format(saved.revision))

    def publish() -> None:
        name, reason = _author(), ss.get("plan_reason", "").strip()
        if not reason:
            raise ValueError(t("plan_need_reason"))
        try:
            done = p.bench.publish(
                p.versions, author=name, reason=reason, check=lambda g: pv.check(g, p.scope)
            )
        except PublishBlockedError as exc:
            errors = len(exc.report.errors)  # type: ignore[attr-defined]
            raise ValueError(t("plan_refused").format(errors)) from exc
        ss["plan_benches"].pop(p.code, None)  # reopened on the new version
        ss["plan_reason"] = ""
        ss["plan_flash"] = (
            "success",
            t("plan_published").format(done.version, done.households_moved),
        )

    st.divider()
    st.text_input(t("plan_author"), key="plan_author", placeholder=t("plan_author_hint"))
    st.text_input(t("plan_reason"), key="plan_reason", placeholder=t("plan_reason_hint"))
    b1, b2, b3 = st.columns(3)
    b1.button(
        t("plan_undo"), key="plan_undo", disabled=not p.bench.can_undo, on_click=act(p.bench.undo)
    )
    b2.button(t("plan_save"), key="plan_save", disabled=not p.bench.dirty, on_click=act(save))
    b3.button(t("plan_publish"), key="plan_publish", type="primary", on_click=act(publish))
    if not p.report.publishable:
        st.error(t("plan_not_publishable").format(len(p.report.errors)))


# --------------------------------------------------------------------------- the tabs


def metrics_tab(p: Planner) -> None:
    red = ["background-color: #fde0dd" if s else "" for s in p.metrics.standard]
    table = p.metrics.rename(columns=head).style.apply(lambda _: red, axis=0)  # rows breaking it
    st.dataframe(
        table.format({head("area_km2"): "{:.3f}", head("polsby_popper"): "{:.2f}"}), hide_index=True
    )
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
    st.dataframe(problems.rename(columns=head), hide_index=True)


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
    changes = diff.grids.assign(status=diff.grids.status.map(lambda s: t(f"plan_status_{s}")))
    st.dataframe(changes.drop(columns="geometry_changed").rename(columns=head), hide_index=True)
    st.dataframe(diff.flows.rename(columns=head), hide_index=True)


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
        compare = proposal.compare().rename(index=lambda k: t(f"plan_m_{k}"), columns=head)
        st.dataframe(compare)
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
        return pv.export_layer(p.versions, p.bench, p.scope, which=version, county=county, fmt=fmt)

    st.download_button(
        t("plan_download"),
        export,
        f"{p.code}-{which}-{gf.FORMATS[fmt].file_name}",
        mime=gf.FORMATS[fmt].mime,
        key="plan_download",
    )


def history_tab(p: Planner) -> None:
    st.dataframe(p.version_list.rename(columns=head), hide_index=True)
    log = pv.scope_log(p.versions, p.code, lang())
    st.dataframe(log.rename(columns=head), hide_index=True)


def tabs(p: Planner) -> None:
    """The six tabs below the map."""
    render = (metrics_tab, check_tab, diff_tab, rebalance_tab, files_tab, history_tab)
    for tab, draw in zip(st.tabs([t(f"plan_tab_{k}") for k in TABS]), render, strict=True):
        with tab:
            draw(p)

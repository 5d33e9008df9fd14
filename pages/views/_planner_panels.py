"""The 网格规划 page's panels: the KPI row, the edit tools and save/publish, one function each."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from geo.access import Permission
from geo.core.errors import GridGovError
from geo.core.i18n import pick
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
from geo.planning.versions import PublishBlockedError
from geo.views import planner as pv
from pages.views._common import lang, plain, principal
from pages.views._planner_state import OPS, Planner, act, ss, t


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
            t("plan_merge_grids"),
            codes,
            key="plan_merge",
            format_func=p.grid_label,
            placeholder=t("plan_pick_grids"),
            select_all=False,  # merging every grid of a village into one is never meant
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


def save_panel(p: Planner) -> None:
    """Why, undo, save (a planner) and publish (a reviewer, never of their own draft)."""
    who = principal()

    def save() -> None:
        saved = p.bench.save(p.versions, who=who, reason=ss.get("plan_reason", ""))
        ss["plan_flash"] = ("success", t("plan_saved").format(saved.revision))

    def publish() -> None:
        reason = ss.get("plan_reason", "").strip()
        if not reason:
            raise ValueError(t("plan_need_reason"))
        try:
            done = p.bench.publish(
                p.versions, who=who, reason=reason, check=lambda g: pv.check(g, p.scope)
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
    st.caption(t("plan_signed_in").format(name=plain(who.name)))
    st.text_input(t("plan_reason"), key="plan_reason", placeholder=t("plan_reason_hint"))
    b1, b2, b3 = st.columns(3)
    b1.button(
        t("plan_undo"), key="plan_undo", disabled=not p.bench.can_undo, on_click=act(p.bench.undo)
    )
    editor = who.can(Permission.EDIT_DRAFT)
    b2.button(t("plan_save"), key="plan_save", disabled=not (editor and p.bench.dirty),
              on_click=act(save))  # fmt: skip
    ready = p.bench.ready_to_publish  # a saved draft with no edit after it
    b3.button(t("plan_publish"), key="plan_publish", type="primary",
              disabled=not (ready and who.can(Permission.PUBLISH)), on_click=act(publish),
              help=None if ready else t("plan_publish_needs_draft"))  # fmt: skip
    if not editor:
        st.caption(t("plan_reviewer_note"))
    if not p.report.publishable:
        st.error(t("plan_not_publishable").format(len(p.report.errors)))


# --------------------------------------------------------------------------- the tabs

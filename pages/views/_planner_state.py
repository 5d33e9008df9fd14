"""The 网格规划 page's shared state: the :class:`Planner` of one run, its texts and callbacks.

Button callbacks read widget values from the session (a text typed just before a click is only
there), run the job, and leave a message (``plan_flash``) for the rerun. The panels are in
``_planner_panels.py``, the tabs in ``_planner_tabs.py``; the work is done by geo.views.planner,
geo.planning.draw and geo.planning.edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.core.clock import beijing_stamp
from geo.core.errors import GridGovError, GridValidationError
from geo.core.i18n import TEXT
from geo.planning.check import DraftReport
from geo.planning.rebalance import Proposal
from geo.planning.versions import ConflictError, VersionedGrids
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

"""The grid planner's objects, shared by the 网格规划 page and ``python -m geo grids``.

A :class:`PlanScope` is the village or town being planned with the points that weigh on its
grids, read from the store; :func:`check` is the planner's check of its grids in that context
(:func:`geo.planning.check.check_draft`). The page edits one village (or a whole town, to move
grids between its villages): a :class:`Workbench` holds the working copy; edits from
:mod:`geo.planning.edit` / :mod:`geo.planning.draw` change it in memory (with undo); saving writes
a draft
revision through :class:`geo.planning.versions.VersionedGrids` (optimistic locking:
:class:`~geo.planning.versions.ConflictError` when someone saved first); publishing checks, saves
and
writes a new version. The rest turns reports, diffs and logs into the page's tables, in one
language. Everything here is in EPSG:4549 metres.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.access import OutOfScopeError, Permission, Principal
from geo.core.clock import beijing_text
from geo.core.i18n import Text, pick, text, translator
from geo.core.privacy import mask_phone
from geo.core.settings import AREA_TYPE_OF_KIND, RURAL, Settings, get_settings
from geo.planning.check import DraftReport, check_draft
from geo.planning.edit import EditResult
from geo.planning.grid_files import ScopeImport, export_bytes, read_grid_bytes, take_scope
from geo.planning.versions import (
    OPEN,
    ConflictError,
    Draft,
    PublishBlockedError,
    PublishResult,
    VersionedGrids,
    VersionError,
)
from geo.store.base import Store
from geo.store.county import as_of, read_meta
from geo.views.errors import explain
from geo.views.tables import DECIMALS, Kind, is_share, number_text

if TYPE_CHECKING:
    from geo.planning.rebalance import Proposal

__all__ = [
    "ADOPTED_NOTE",
    "MAP_FIELDS",
    "SIZE_CODES",
    "DraftDiff",
    "MapLayer",
    "PlanScope",
    "Workbench",
    "adopt_proposal",
    "check",
    "check_table",
    "draft_diff",
    "explain",
    "export_layer",
    "load_scope",
    "map_layer",
    "metrics_table",
    "propose",
    "read_upload",
    "scope_log",
    "store_as_of",
    "upload_note",
    "version_choices",
]

#: Problem codes of the household/resident standard (highlighted in the metrics panel).
SIZE_CODES = ("size_households", "size_residents")
#: Change-log note of an adopted rebalancing proposal.
ADOPTED_NOTE = Text(
    "采用自动重划方案（网格员暂沿用重叠最多的原网格）",
    "adopted the rebalanced partition (grid workers provisionally kept from the most "
    "overlapping old grid)",
)
#: Columns of the map's tooltips, in order.
MAP_FIELDS = (
    "grid_code", "grid_name", "grid_worker", "households", "residents", "workload", "area_km2",
    "standard",
)  # fmt: skip


# --------------------------------------------------------------------------- the scope


@dataclass(frozen=True)
class PlanScope:
    """The village, town or county being planned and the points that weigh on its grids.

    Attributes
    ----------
    code, kind
        Twelve-digit village code (``kind`` ``"village"``), nine-digit town code
        (``"town"``), or ``""`` for the whole county (``"county"``).
    villages
        The villages in scope (EPSG:4549).
    households
        Household points around the scope (``residents``, ``grid_code``; None when the store
        has none).
    issues
        Issue points around the scope with ``received_at`` (the workload; None without).
    county_villages
        Every village: a check looks across the scope's edge (grids spanning into a
        neighbour, area outside every village). Empty when the store has no villages layer.
    as_of
        End of the 12-month workload window (:func:`store_as_of`).
    """

    code: str
    kind: str
    villages: gpd.GeoDataFrame
    households: gpd.GeoDataFrame | None
    issues: gpd.GeoDataFrame | None
    county_villages: gpd.GeoDataFrame
    as_of: pd.Timestamp | None = None

    @property
    def column(self) -> str:
        """``village_code`` or ``town_code``: the grid column that says what is in scope
        (``""`` for the county)."""
        return "" if self.kind == "county" else f"{self.kind}_code"

    def of(self, grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The grids of ``grids`` in scope."""
        if not self.column or self.column not in grids.columns:
            return grids
        return grids[grids[self.column].astype(str) == self.code]


def load_scope(
    store: Store,
    code: str,
    *,
    villages: gpd.GeoDataFrame | None = None,
    issues: gpd.GeoDataFrame | None = None,
    as_of: pd.Timestamp | None = None,
) -> PlanScope:
    """The scope of a village (12-digit code), a town (9 digits) or the county (``""``).

    Parameters
    ----------
    store
        Where households (and, unless given, villages and issues) are read, inside the
        scope's bounding box.
    code
        The village or town; ``""`` for every grid of the county.
    villages, issues
        The county's villages and issues (EPSG:4549) when the caller holds them already
        (the page's cached county); issues are then cut to the scope's box.
    as_of
        End of the workload window; default :func:`store_as_of`.

    Raises
    ------
    ValueError
        No village or town has ``code``.
    """
    cfg = get_settings()
    everyone = villages if villages is not None else _store_villages(store, cfg.metric_crs)
    code = str(code or "").strip()
    kind = "county" if not code else "village" if len(code) == 12 else "town"
    mine = everyone
    if kind != "county":
        mine = everyone[everyone[f"{kind}_code"].astype(str) == code]
        if mine.empty and len(everyone):
            raise ValueError(
                text("plan_no_scope", code=code, example=everyone.village_code.iloc[0])
            )
    box = tuple(float(v) for v in mine.total_bounds) if len(mine) else None
    crs = everyone.crs or cfg.metric_crs
    households = _points_near(store, "households", ["residents", "grid_code"], box, crs)
    if issues is None:
        near = _points_near(store, "issues", ["ticket_id", "received_at", "grid_code"], box, crs)
    elif len(issues):
        keep = [c for c in ("ticket_id", "received_at", "grid_code") if c in issues.columns]
        near = (issues.cx[box[0] : box[2], box[1] : box[3]] if box else issues)[[*keep, "geometry"]]
    else:
        near = None
    when = as_of if as_of is not None else store_as_of(store)
    return PlanScope(code, kind, mine, households, near, everyone, when)


def store_as_of(store: Store) -> pd.Timestamp:
    """The store's "now" (:func:`geo.store.county.as_of`), without loading the county."""
    return as_of(read_meta(store))


def _store_villages(store: Store, crs: str) -> gpd.GeoDataFrame:
    """The store's villages in ``crs`` (empty when it has none: no village checks then)."""
    if "villages" not in store.layers():
        return gpd.GeoDataFrame({"village_code": [], "town_code": []}, geometry=[], crs=crs)
    frame = store.read("villages")
    assert isinstance(frame, gpd.GeoDataFrame)
    return frame.to_crs(crs) if frame.crs != crs else frame


def _points_near(
    store: Store,
    table: str,
    wanted: list[str],
    box: tuple[float, ...] | None,
    crs: object,
) -> gpd.GeoDataFrame | None:
    """The ``wanted`` columns (those it has) of a point layer inside ``box`` (None: all).

    None when the store has no such layer, or issues without ``received_at``.
    """
    if table not in store.layers():
        return None
    with store.transaction(readonly=True) as tx:
        have = tx.columns(table)
        if "geometry" not in have or (table == "issues" and "received_at" not in have):
            return None
        cols = [c for c in wanted if c in have] + ["geometry"]
        bbox = {"bbox": box, "bbox_crs": crs} if box is not None else {}
        frame = tx.read(table, columns=cols, **bbox)  # type: ignore[arg-type]
    assert isinstance(frame, gpd.GeoDataFrame)
    return frame.to_crs(crs) if frame.crs != crs else frame


def check(grids: gpd.GeoDataFrame, scope: PlanScope) -> DraftReport:
    """:func:`geo.planning.check.check_draft` of the scope's grids of ``grids`` with the scope's
    points, every village and the scope's ``as_of``."""
    return check_draft(
        scope.of(grids),
        villages=scope.county_villages,
        households=scope.households,
        issues=scope.issues,
        as_of=scope.as_of,
    )


# --------------------------------------------------------------------------- the working copy


@dataclass
class Workbench:
    """A planner's working copy of the draft of one village or town.

    Attributes
    ----------
    scope_code
        The village or town.
    base_grids
        The scope's grids the work started from (published or saved).
    base_version
        The published version they came from.
    grids
        The working copy (edited, perhaps not saved yet).
    draft
        The stored draft (None until the first save when no draft was open).
    notes
        What was done since the last save, one :class:`~geo.core.i18n.Text` each.
    """

    scope_code: str
    base_grids: gpd.GeoDataFrame
    base_version: int
    grids: gpd.GeoDataFrame
    draft: Draft | None = None
    notes: list[Text] = field(default_factory=list)
    _undo: list[tuple[gpd.GeoDataFrame, list[Text]]] = field(default_factory=list, repr=False)

    @classmethod
    def open(
        cls, versions: VersionedGrids, scope_code: str, published: gpd.GeoDataFrame
    ) -> Workbench:
        """Resume the scope's open draft, or start from ``published`` (its grids now).

        Nothing is written until :meth:`save`.
        """
        open_drafts = versions.drafts(scope_code)
        open_drafts = open_drafts[open_drafts["status"] == OPEN]
        if len(open_drafts):
            draft = versions.read_draft(str(open_drafts.iloc[-1]["draft_id"]))
            if draft.revision > 0:
                return cls(scope_code, draft.grids, draft.base_version, draft.grids, draft)
        base = published.sort_values("grid_code", kind="stable").reset_index(drop=True)
        return cls(scope_code, base, versions.current_version(), base.copy())

    @property
    def revision(self) -> int:
        """The saved revision the working copy builds on (0: nothing saved yet)."""
        return self.draft.revision if self.draft is not None else 0

    @property
    def dirty(self) -> bool:
        """True when there are edits not saved yet."""
        return bool(self.notes)

    @property
    def ready_to_publish(self) -> bool:
        """True when there is a saved draft and no edit after it (what :meth:`publish`
        publishes; otherwise it refuses)."""
        return not self.dirty and self.draft is not None and self.draft.revision > 0

    @property
    def can_undo(self) -> bool:
        """True when there is an edit to take back."""
        return bool(self._undo)

    def apply(self, edit: EditResult | gpd.GeoDataFrame, note: Text | None = None) -> None:
        """Make an edit's grids the working copy (``note`` defaults to the edit's own)."""
        grids = edit.grids if isinstance(edit, EditResult) else edit
        said = note or (edit.change.note if isinstance(edit, EditResult) else None)
        self._undo.append((self.grids, list(self.notes)))
        self.grids = grids.reset_index(drop=True)
        self.notes.append(said or text("plan_note_edit"))

    def undo(self) -> None:
        """Take back the last edit."""
        if self._undo:
            self.grids, self.notes = self._undo.pop()

    def save(self, versions: VersionedGrids, *, who: Principal, reason: str = "") -> Draft:
        """Save the working copy as the draft's next revision, as ``who`` (a planner whose
        towns hold every grid of it).

        Without a ``reason`` the edits' notes are recorded (in both languages, as a
        :class:`~geo.core.i18n.Text`), or "保存草案 / saved the draft" when there are none.

        Raises
        ------
        ConflictError
            Someone saved or published the draft (or published the scope) since this copy
            was read; the edits are kept as a ``conflicted`` draft where possible.
        """
        who.require(Permission.EDIT_DRAFT, Text("编辑网格草案", "edit grid drafts"))
        outside = ~who.scope.mask(pd.DataFrame(self.grids))
        if outside.any():
            codes = sorted(set(self.grids.loc[outside, "town_code"].astype(str)))
            raise OutOfScopeError(
                Text(f"草案含本人负责范围以外的镇（区）{codes}", f"the draft reaches towns "
                     f"outside your assignment: {codes}")
            )  # fmt: skip
        author = who.name
        why: Text | str = reason.strip()[:500] or _notes_reason(self.notes)
        draft = self.draft
        if draft is None:
            draft = versions.open_draft(self.scope_code, author)
            if draft.revision == 0 and not _same_grids(draft.grids, self.base_grids):
                meta = versions.versions().iloc[-1]
                raise ConflictError(
                    f"{self.scope_code} changed since you opened it: {meta['published_by']} "
                    f"published version {int(meta['version'])} ({meta['reason']}); reload and "
                    "redo the edits",
                    draft_id=draft.draft_id,
                    scope_code=self.scope_code,
                    expected_revision=0,
                    current_revision=0,
                    saved_by=str(meta["published_by"]),
                    saved_at=pd.Timestamp(meta["published_at"]),
                )
        expected = self.revision
        saved = versions.save_draft(
            draft, self.grids, author=author, reason=why, expected_revision=expected, who=who
        )  # its audit row lands with the save
        self.draft = saved
        self.base_grids = saved.grids
        self.grids = saved.grids.copy()
        self.notes, self._undo = [], []
        return saved

    def publish(
        self,
        versions: VersionedGrids,
        *,
        who: Principal,
        reason: str,
        check: Callable[[gpd.GeoDataFrame], object] | None = None,
    ) -> PublishResult:
        """Publish the saved draft as a new version, as ``who``: a reviewer who neither
        opened nor saved it (nobody publishes their own draft).

        ``check`` (e.g. ``lambda g: check(g, scope)``) runs on the draft before anything is
        written, then on the candidate layer (see :meth:`VersionedGrids.publish`).

        Raises
        ------
        OutOfScopeError
            ``who`` may not publish, or saved this draft.
        VersionError
            There are unsaved edits (a reviewer publishes what the planner saved), or no
            saved draft.
        PublishBlockedError
            The check found errors; ``report`` says which. Nothing was written.
        """
        who.require(Permission.PUBLISH, Text("发布网格新版本", "publish grid versions"))
        if not self.ready_to_publish or self.draft is None:
            raise VersionError(
                Text("只能发布规划员已保存的草案：先保存，再请审核人发布",
                     "only a draft the planner saved can be published: save it, then a "
                     "reviewer publishes it")
            )  # fmt: skip
        refuse_own_draft(versions, self.draft.draft_id, who)
        author = who.name
        if check is not None:
            report = check(self.grids)
            if not getattr(report, "publishable", report):
                raise PublishBlockedError(
                    f"the draft of {self.scope_code} is not publishable; fix the errors first",
                    report,
                )
        return versions.publish(self.draft, author=author, reason=reason, check=check, who=who)


def refuse_own_draft(versions: VersionedGrids, draft_id: str, who: Principal) -> None:
    """Raise :class:`OutOfScopeError` when ``who`` opened or saved the draft ``draft_id``:
    nobody publishes their own draft."""
    if who.name in versions.draft_authors(draft_id):
        raise OutOfScopeError(
            Text("不能发布本人编辑的草案，请由另一位审核人发布",
                 "nobody publishes their own draft: another reviewer must publish it")
        )  # fmt: skip


def _notes_reason(notes: list[Text]) -> Text:
    """The reason a save records when the planner gives none: the edits' notes (each language
    cut at 500 characters), or "saved the draft"."""
    if not notes:
        return Text("保存草案", "saved the draft")
    zh = "；".join(n.zh for n in notes)
    en = "; ".join(n.en for n in notes)
    return Text(zh[:500], en[:500])


def _same_grids(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> bool:
    """Same codes with the same shapes (up to vertex order and Polygon/MultiPolygon)."""
    if len(a) != len(b):
        return False
    left = a.sort_values("grid_code", kind="stable")
    right = b.sort_values("grid_code", kind="stable")
    if list(left.grid_code.astype(str)) != list(right.grid_code.astype(str)):
        return False
    return bool(shapely.equals(left.geometry.to_numpy(), right.geometry.to_numpy()).all())


# --------------------------------------------------------------------------- panels


def metrics_table(report: DraftReport, grids: gpd.GeoDataFrame, lang: str) -> pd.DataFrame:
    """The metrics panel: one row per grid with what breaks the size standard (``standard``).

    Columns ``grid_code``, ``grid_name``, ``grid_worker``, ``households``, ``residents``,
    ``issues_12m``, ``workload``, ``area_km2``, ``polsby_popper`` (the last four as
    :func:`geo.planning.check.grid_metrics` defines them), ``standard`` (empty when within the
    county's standard, else the problem in ``lang``).
    """
    table = report.metrics.copy()
    names = grids.drop(columns="geometry").drop_duplicates("grid_code").set_index("grid_code")
    for col in ("grid_name", "grid_worker"):
        table[col] = table["grid_code"].map(names[col]) if col in names.columns else ""
    flags: dict[str, list[str]] = {}
    for p in report.problems:
        if p.code in SIZE_CODES:
            flags.setdefault(p.feature, []).append(pick(p.message, lang))
    sep = translator(lang)("sep_clause")
    table["standard"] = table["grid_code"].map(lambda c: sep.join(flags.get(c, [])))
    cols = ["grid_code", "grid_name", "grid_worker", "households", "residents", "issues_12m"]
    cols += ["workload", "area_km2", "polsby_popper", "standard"]
    return table[cols].reset_index(drop=True)


def check_table(report: DraftReport, lang: str) -> pd.DataFrame:
    """The check report: ``severity``, ``grid_code``, ``message``, ``hint`` (errors first)."""
    frame = report.to_frame()
    for col in ("message", "hint"):
        frame[col] = frame[col].map(lambda s: pick(s, lang))
    return frame[["severity", "grid_code", "message", "hint"]]


@dataclass(frozen=True)
class MapLayer:
    """The working copy as the map draws it.

    Attributes
    ----------
    grids
        The grids with the metrics of :data:`MAP_FIELDS` (the tooltip).
    state
        Per grid: 0 within the size standard, 1 outside it, 2 with a blocking error.
    labels
        Per grid: its sequence number (the last three digits of the code).
    """

    grids: gpd.GeoDataFrame
    state: list[int]
    labels: list[str]


def map_layer(grids: gpd.GeoDataFrame, report: DraftReport, metrics: pd.DataFrame) -> MapLayer:
    """The working copy ``grids`` coloured by its check ``report`` and :func:`metrics_table`."""
    flagged = set(metrics.grid_code[metrics.standard != ""])
    errors = {p.feature for p in report.errors}
    shown = grids.assign(**{c: metrics[c].to_numpy() for c in MAP_FIELDS[3:]})
    state = [2 if c in errors else 1 if c in flagged else 0 for c in shown.grid_code]
    return MapLayer(shown, state, [str(c)[-3:] for c in shown.grid_code])


@dataclass(frozen=True)
class DraftDiff:
    """The working copy against the published grids of the scope.

    Attributes
    ----------
    grids
        Grids that differ: ``grid_code``, ``status`` (added/removed/changed),
        ``geometry_changed``, ``changed_columns``, ``households_before``,
        ``households_after``, ``area_before_km2``, ``area_after_km2``.
    flows
        Households that change grid: ``from_grid`` (empty: in no grid), ``to_grid``,
        ``households``, most first.
    """

    grids: pd.DataFrame
    flows: pd.DataFrame

    @property
    def households_moved(self) -> int:
        """Households whose grid changes."""
        return int(self.flows["households"].sum()) if len(self.flows) else 0


def compare_table(compare: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A proposal's metrics before and after as people read them: column ``metric`` (in
    words), then ``before`` (when known) and ``after`` as text — a share as ``62.5 %``, a
    spread with two decimals, a count of grids or households whole."""
    tr = translator(lang)
    out = pd.DataFrame({"metric": [tr(f"plan_m_{k}") for k in compare.index]})
    names = [str(k) for k in compare.index]
    for side in compare.columns:
        values = compare[side].tolist()
        kinds: list[Kind] = [
            "share" if is_share(k) else "count" if float(v) % 1 == 0 and k not in DECIMALS
            else "decimal"
            for k, v in zip(names, values, strict=True)
        ]  # fmt: skip
        out[side] = [number_text(v, k, kind) for k, v, kind in zip(names, values, kinds,
                     strict=True)]  # fmt: skip
    return out


def draft_diff(
    versions: VersionedGrids, published: gpd.GeoDataFrame, working: gpd.GeoDataFrame
) -> DraftDiff:
    """What publishing ``working`` in place of ``published`` would change: the scope's part
    of :meth:`geo.planning.versions.VersionedGrids.diff`, in the page's units (km²)."""
    got = versions.diff(published, working)
    table = got.grids[got.grids["status"] != "unchanged"].reset_index(drop=True)
    names = {"households_a": "households_before", "households_b": "households_after"}
    table = table.rename(columns=names)
    for side, col in (("before", "area_a_m2"), ("after", "area_b_m2")):
        table[f"area_{side}_km2"] = table.pop(col) / 1e6
    cols = ["grid_code", "status", "geometry_changed", "changed_columns"]
    cols += ["households_before", "households_after", "area_before_km2", "area_after_km2"]
    flows = got.flows[(got.flows.from_grid != got.flows.to_grid) & (got.flows.households > 0)]
    flows = flows[["from_grid", "to_grid", "households"]]
    flows = flows.sort_values(["households", "from_grid"], ascending=[False, True])
    return DraftDiff(table[cols], flows.reset_index(drop=True))


# --------------------------------------------------------------------------- files


def upload_note(name: str) -> Text:
    """The change-log note of a layer loaded from an uploaded file."""
    return text("plan_uploaded_note", name=name)


def read_upload(
    name: str, content: bytes, *, scope: PlanScope, published: gpd.GeoDataFrame
) -> ScopeImport:
    """An uploaded grid layer (GeoPackage, GeoJSON or zipped Shapefile) as the scope's draft.

    Parameters
    ----------
    name, content
        The file's name (its suffix picks the reader) and bytes.
    scope
        The village or town being planned: only its grids are taken.
    published
        The county's current grids: the result gets their columns and CRS, and vertices a
        round trip moved are put back on theirs (:func:`geo.planning.grid_files.take_scope`).

    Raises
    ------
    InputFileError
        Naming the file: unknown type, unreadable, no ``grid_code``/``village_code``/
        ``town_code``, or no grid of the scope in it.
    """
    grids, _ = read_grid_bytes(name, content, published)
    return take_scope(
        phones_back(grids, published), published, column=scope.column, code=scope.code, name=name
    )


def phones_back(grids: gpd.GeoDataFrame, published: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A grid worker's phone still as a download starred it (138****1234) is the published
    one again; a number typed anew stays."""
    if "grid_worker_phone" not in grids.columns or "grid_worker_phone" not in published.columns:
        return grids
    known = dict(zip(published["grid_code"].astype(str), published["grid_worker_phone"],
                     strict=False))  # fmt: skip
    phones = []
    for code, phone in zip(grids["grid_code"].astype(str), grids["grid_worker_phone"], strict=True):
        before = known.get(code)
        starred = before is not None and str(phone) == mask_phone(before)
        phones.append(before if starred else phone)
    return grids.assign(grid_worker_phone=phones)


def export_layer(
    versions: VersionedGrids,
    bench: Workbench,
    scope: PlanScope,
    *,
    which: str | int,
    county: bool,
    fmt: str,
    who: Principal,
) -> bytes:
    """A download (:func:`geo.planning.grid_files.export_bytes`): the working copy
    (``which="draft"``) or a published version, of the scope or (``county``) of all that
    ``who`` may see; grid workers' phones masked (138****1234), as everywhere."""
    if which == "draft":
        layer = bench.grids
    else:
        published = versions.read_version(int(which))
        layer = who.scope.filter(published) if county else scope.of(published)
    return export_bytes(masked_phones(who.scope.filter(layer)), fmt)


def masked_phones(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``grids`` with the grid workers' phones starred (138****1234), for a file that leaves
    the store; :func:`phones_back` puts them back when the file returns."""
    if "grid_worker_phone" not in grids.columns:
        return grids
    return grids.assign(grid_worker_phone=grids["grid_worker_phone"].map(mask_phone))


# --------------------------------------------------------------------------- rebalancing


def propose(
    scope: PlanScope,
    current: gpd.GeoDataFrame,
    *,
    method: str = "balanced",
    seed: int = 0,
    settings: Settings | None = None,
) -> Proposal:
    """A new partition of the scope (:mod:`geo.planning.rebalance`) with metrics before and
    after."""
    from geo.planning.rebalance import propose_partition, rebalance_town  # scipy: only when asked

    cfg = settings or get_settings()
    if scope.households is None:
        raise ValueError(text("plan_rebalance_no_households"))
    if scope.kind == "county":
        raise ValueError(text("plan_rebalance_one_scope"))
    issues = scope.issues[["received_at", "geometry"]] if scope.issues is not None else None
    mine = scope.of(current)
    if scope.kind == "town":
        return rebalance_town(
            scope.county_villages, scope.households, issues, town_code=scope.code,
            method=method, seed=seed, current=mine, settings=cfg,  # type: ignore[arg-type]
        )  # fmt: skip
    village = scope.villages.iloc[0]
    area_type = AREA_TYPE_OF_KIND.get(str(village.get("kind", "村")), RURAL)
    return propose_partition(
        village.geometry,
        scope.households,
        issues,
        rule=cfg.size_rule(area_type),
        method=method,  # type: ignore[arg-type]
        seed=seed,
        current=mine,
        village_code=scope.code,
        village_name=str(village.get("village_name", "") or ""),
        area_type=area_type,
        settings=cfg,
    )


def adopt_proposal(proposed: gpd.GeoDataFrame, current: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Proposed grids in the layer's columns, each (provisionally) keeping the grid worker of
    the current grid it overlaps most, so the draft has a responsible worker everywhere."""
    out = proposed.copy()
    cur_geoms = current.geometry.to_numpy()
    tree = shapely.STRtree(cur_geoms)
    for col in ("grid_worker", "grid_worker_phone"):
        if col not in current.columns:
            continue
        values = []
        for geom in out.geometry.to_numpy():
            near = tree.query(geom, predicate="intersects")
            if not len(near):
                values.append("")
                continue
            share = shapely.area(shapely.intersection(cur_geoms[near], geom))
            values.append(current[col].iloc[int(near[int(np.argmax(share))])])
        out[col] = values
    columns = [c for c in current.columns if c in out.columns and c != current.geometry.name]
    frame = gpd.GeoDataFrame(out[columns], geometry=out.geometry, crs=out.crs)
    return frame.rename_geometry("geometry") if frame.geometry.name != "geometry" else frame


def version_choices(versions: VersionedGrids, lang: str) -> pd.DataFrame:
    """Published versions, newest first: ``version``, ``published_at`` (Beijing time),
    ``published_by``, ``reason``, ``n_grids``, ``households_moved``, ``issues_moved``.

    The reasons GridGov wrote itself (a :class:`~geo.core.i18n.Text`) are shown in ``lang``;
    a planner's reason is shown as typed.
    """
    table = versions.versions().sort_values("version", ascending=False)
    cols = ["version", "published_at", "published_by", "reason", "n_grids"]
    cols += ["households_moved", "issues_moved"]
    out = table[cols].reset_index(drop=True)
    out["published_at"] = beijing_text(out["published_at"])
    out["reason"] = out["reason"].map(lambda s: pick(s, lang))
    return out


def scope_log(
    versions: VersionedGrids, scope_code: str, lang: str, *, rows: int = 20
) -> pd.DataFrame:
    """The latest changes to a scope's drafts, newest first: ``at`` (Beijing time),
    ``author``, ``action``, ``revision``, ``reason``, ``detail`` (GridGov's words in ``lang``,
    a planner's as typed)."""
    log = versions.change_log(scope_code=scope_code).tail(rows).iloc[::-1]
    out = log[["at", "author", "action", "revision", "reason", "detail"]].reset_index(drop=True)
    out["at"] = beijing_text(out["at"])
    for col in ("reason", "detail"):
        out[col] = out[col].map(lambda s: pick(s, lang))
    return out

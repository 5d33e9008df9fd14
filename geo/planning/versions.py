"""Versioned grid layers: drafts per village or town, published versions, diffs and rollback.

A published version never changes. Planners edit a draft of one village (or town); saving
a draft checks its revision (optimistic locking); publishing writes a new version, rewrites
the ``grids`` layer and moves every issue (and household) whose grid changed, all in one
store transaction, so a failure half-way leaves the last good version in place. Every
change goes into a change log with who, when and why.

Tables (created on first use, version 1 being the ``grids`` layer found then):

``grid_versions``
    ``version, published_at, published_by, reason, source, n_grids, issues_moved,
    households_moved, content_hash`` — one row per version.
``grid_version_features``
    ``version`` + the grid columns + geometry — every grid of every version.
``grid_version_map``
    ``version, old_version, old_grid_code, new_grid_code, area_m2, share_of_old,
    share_of_new`` — how the area of each grid of ``old_version`` went to grids of
    ``version`` (an empty code stands for area in no grid).
``issue_grid_history``
    ``ticket_id, version, old_grid_code, grid_code`` — every issue a publish moved.
``drafts``
    ``draft_id, scope, scope_code, base_version, revision, status, author, updated_at,
    created_by, created_at, reason, conflict_of, published_version`` — one row per draft.
``draft_features``
    ``draft_id, revision`` + the grid columns + geometry — every saved revision.
``change_log``
    ``at, author, action, version, draft_id, scope_code, revision, reason, detail``.

A reason or note GridGov writes itself (``detail``, the reason of version 1, a draft saved
without one) is a :class:`~geo.core.i18n.Text`, stored as JSON ``{"zh": …, "en": …}``; a
planner's reason is stored as typed. :meth:`VersionedGrids.versions`, :meth:`~VersionedGrids.drafts`
and :meth:`~VersionedGrids.change_log` give the :class:`~geo.core.i18n.Text` back.

All geometry is in the grids layer's CRS (EPSG:4549 for Sheyang); areas are in m².

The parts live in private modules beside this one: ``_versions_model`` (keys, errors,
result types), ``_versions_repository`` (the tables and reads), ``_versions_drafts``
(opening and saving drafts), ``_versions_publish`` (publish and rollback) and
``_versions_diff`` (diffs and a grid's history).
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import pandas as pd

from geo.access.audit import Audited, ensure_audit
from geo.core.i18n import Text
from geo.planning import _versions_diff as diffs
from geo.planning import _versions_drafts as drafting
from geo.planning import _versions_publish as publishing
from geo.planning import _versions_repository as repository
from geo.planning._versions_model import (
    CONFLICTED,
    GRID_KEYS,
    HOUSEHOLD_ID,
    ISSUE_ID,
    OPEN,
    PUBLISHED,
    ConflictError,
    Draft,
    PublishBlockedError,
    PublishResult,
    VersionDiff,
    VersionError,
    from_cells,
)
from geo.store.base import Store

__all__ = [
    "CONFLICTED",
    "GRID_KEYS",
    "HOUSEHOLD_ID",
    "ISSUE_ID",
    "OPEN",
    "PUBLISHED",
    "ConflictError",
    "Draft",
    "PublishBlockedError",
    "PublishResult",
    "VersionDiff",
    "VersionError",
    "VersionedGrids",
    "first_version",
]

#: Every version table with a grid layer as version 1, to write together with that layer.
first_version = repository.first_version


class VersionedGrids:
    """Versions, drafts and the change log of a store's grid layer.

    Parameters
    ----------
    store
        A GeoPackage or PostGIS store holding ``grids`` (and usually ``issues`` and
        ``households``). On first use the version tables are created and the current
        ``grids`` layer becomes version 1.

    Notes
    -----
    The ``grids`` layer always holds the latest version, so the rest of GridGov reads it
    as before. Writers are serialised (SQLite's write lock; a PostgreSQL advisory lock).

    This class is the one door: each method checks who and why, makes sure the version
    tables exist, and hands over to the part that does the work (the repository, drafts,
    publishing or diffs). A facade rather than mixins, so that each part is a set of plain
    functions over a store or a transaction, with what it needs in its arguments, and every
    public method with its documentation is found here.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ready_done = False

    def _ready(self, *, audited: bool = False) -> None:
        """Create the version tables and version 1 if this store has none yet (and the
        audit table when an audited change comes)."""
        if audited:
            ensure_audit(self.store)
        if self._ready_done:
            return
        repository.create_tables(self.store)
        self._ready_done = True

    # -- reading ------------------------------------------------------------------------

    def versions(self) -> pd.DataFrame:
        """Every published version, oldest first, with ``current`` marking the latest."""
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            table = from_cells(tx.read("grid_versions"), "reason")
        table = table.sort_values("version").reset_index(drop=True)
        table["current"] = table["version"] == table["version"].max()
        return table

    def current_version(self) -> int:
        """The number of the latest version (the one the ``grids`` layer holds)."""
        return int(self.versions()["version"].max())

    def read_version(self, version: int) -> gpd.GeoDataFrame:
        """The grids of a published version, sorted by grid code."""
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            return repository.read_version(tx, version)

    def change_log(self, *, scope_code: str | None = None) -> pd.DataFrame:
        """Every recorded change (who, when, what, why), oldest first."""
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            log = tx.read("change_log", where={"scope_code": scope_code} if scope_code else None)
        log = from_cells(log, "reason", "detail")
        return log.sort_values("at", kind="stable").reset_index(drop=True)

    def drafts(self, scope_code: str | None = None) -> pd.DataFrame:
        """The drafts (one row each: ``draft_id``, ``status``, ``revision``, ``author``…)."""
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            rows = tx.read("drafts", where={"scope_code": scope_code} if scope_code else None)
        rows = from_cells(rows, "reason")
        return rows.sort_values("updated_at", kind="stable").reset_index(drop=True)

    def draft_authors(self, draft_id: str) -> set[str]:
        """Everyone who opened or saved a revision of the draft (from the change log)."""
        log = self.change_log()
        mine = log[(log["draft_id"] == draft_id) & log["action"].isin(["open_draft", "save_draft"])]
        return set(mine["author"].astype(str))

    def read_draft(self, draft_id: str) -> Draft:
        """The latest saved revision of a draft (e.g. a conflicted copy)."""
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            return repository.draft_from_row(tx, repository.stored_draft_row(tx, draft_id))

    def issue_grids(self, version: int) -> pd.Series:
        """The grid code each issue had under ``version`` (index: ``ticket_id``).

        Walks back from the issues' current grid codes through the moves recorded by
        later publishes; issues imported later get the grid they were first given.
        """
        self._ready()
        return repository.issue_grids(self.store, version)

    def history(self, grid_code: str) -> pd.DataFrame:
        """The life of one grid across versions.

        One row per version in which the grid was added, changed, kept or removed:
        ``version``, ``published_at``, ``published_by``, ``reason``, ``status``,
        ``changed_columns``, ``area_m2``, ``households`` (the grid's attribute),
        ``issues_in`` and ``issues_out`` (issues that publish moved into / out of it).
        """
        self._ready()
        return diffs.grid_history(self.store, grid_code)

    def diff(self, a: int | gpd.GeoDataFrame, b: int | gpd.GeoDataFrame) -> VersionDiff:
        """Compare two grid layers: grids added, removed, changed, and where area and
        households went.

        Parameters
        ----------
        a, b
            The older and the newer side: each a version number or a grid layer not (yet)
            published, e.g. a draft's grids or :meth:`draft_layer`. A layer needs
            ``grid_code`` and a CRS; it is reprojected to the versions' CRS.

        Households are the points of the ``households`` layer as it is now, placed in the
        grids of each side. To compare one village, give both sides as that village's grids.
        """
        self._ready()
        return diffs.version_diff(self.store, a, b)

    # -- drafts -------------------------------------------------------------------------

    def open_draft(self, village_code: str, author: str) -> Draft:
        """The open draft of a village (or town: pass its code), created if there is none.

        Two planners opening the same village get the same draft; the first to save wins
        and the other's save raises :class:`ConflictError` (their edits are kept).
        """
        _need(author=author)
        self._ready()
        return drafting.open_draft(self.store, village_code, author)

    def save_draft(
        self,
        draft: Draft,
        grids: gpd.GeoDataFrame,
        *,
        author: str,
        reason: Text | str,
        expected_revision: int,
        who: Audited = None,
    ) -> Draft:
        """Save ``grids`` as the next revision of ``draft``.

        Parameters
        ----------
        draft
            The draft being edited.
        grids
            Its grids after editing, in the grids layer's CRS (or any CRS: reprojected);
            every grid must belong to the draft's village (or town).
        author, reason
            Who saves and why (recorded in the change log): the planner's words, or a
            :class:`~geo.core.i18n.Text` GridGov composed (the edits' notes).
        expected_revision
            The revision the edits started from (``draft.revision`` when it was read).
        who
            Whom the audit trail records (a signed-in
            :class:`~geo.access.principal.Principal`, or the name of an operator who ran a
            command without signing in): its ``draft_save`` row is written in the save's
            own transaction. ``None``: no audit row.

        Raises
        ------
        ConflictError
            When someone saved (or published) the draft after ``expected_revision``. The
            edits are then saved as a new draft with status ``conflicted`` whose id is the
            error's ``kept_draft_id``, so nothing is lost.
        """
        _need(author=author, reason=reason)
        self._ready(audited=who is not None)
        return drafting.save_draft(
            self.store,
            draft,
            grids,
            author=author,
            reason=reason,
            expected_revision=expected_revision,
            who=who,
        )

    # -- publishing ---------------------------------------------------------------------

    def draft_layer(self, draft: Draft) -> gpd.GeoDataFrame:
        """The whole grid layer publishing ``draft`` would give now: the current version with
        the draft's village (or town) replaced by the draft's grids, in grid-code order."""
        self._ready()
        return publishing.draft_layer(self.store, draft)

    def publish(
        self,
        draft_or_layer: Draft | gpd.GeoDataFrame,
        *,
        author: str,
        reason: str,
        check: Callable[[gpd.GeoDataFrame], object] | None = None,
        who: Audited = None,
    ) -> PublishResult:
        """Publish a draft (its latest saved revision) or a whole grid layer as a new version.

        Parameters
        ----------
        draft_or_layer
            A :class:`Draft` (its grids replace those of its village or town in the current
            layer) or a complete grid layer.
        author, reason
            Who publishes and why.
        check
            Called with the candidate layer (all grids) before anything is written; a
            result that is falsy, or whose ``publishable`` attribute is falsy (e.g.
            ``geo.planning.check``'s report), blocks the publish with
            :class:`PublishBlockedError` carrying the result. To check one village only:
            ``check=lambda g: check_draft(g[g.village_code == code], villages=villages)``.
        who
            Whom the audit trail records (as in :meth:`save_draft`); its ``publish`` row
            lands in the publish's own transaction.

        Raises
        ------
        ConflictError
            The draft was saved again since it was read, or its village was changed by a
            version published after the draft's base version.
        VersionError
            Nothing would change, or the grids layer was replaced outside versioning.
        """
        _need(author=author, reason=reason)
        self._ready(audited=who is not None)
        if isinstance(draft_or_layer, Draft):
            return publishing.publish(
                self.store,
                draft_or_layer,
                author=author,
                reason=reason,
                check=check,
                source=f"draft {draft_or_layer.draft_id}",
                who=who,
            )
        if isinstance(draft_or_layer, gpd.GeoDataFrame):
            return publishing.publish(
                self.store,
                draft_or_layer,
                author=author,
                reason=reason,
                check=check,
                source="layer",
                who=who,
            )
        raise TypeError(
            f"draft_or_layer must be a Draft or a GeoDataFrame, got {type(draft_or_layer).__name__}"
        )

    def rollback(
        self, version: int, *, author: str, reason: str, who: Audited = None
    ) -> PublishResult:
        """Publish the content of an earlier version again, as a new version (``who``: as
        in :meth:`publish`; the audit row's action is ``rollback``)."""
        _need(author=author, reason=reason)
        self._ready(audited=who is not None)
        return publishing.publish(
            self.store,
            int(version),
            author=author,
            reason=reason,
            check=None,
            source=f"rollback to {int(version)}",
            who=who,
        )


def _need(**values: Text | str) -> None:
    """Refuse blank authors and reasons: every change records who and why."""
    blank = [name for name, value in values.items() if not str(value or "").strip()]
    if blank:
        raise ValueError(
            f"{' and '.join(blank)} must not be empty: every change records who made it and why"
        )

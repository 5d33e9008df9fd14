"""What every part of versioning shares: keys, statuses, errors, result types, and the
helpers that put grid layers in one comparable form (MultiPolygons, text codes, a hash)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.core.clock import beijing_stamp
from geo.core.errors import GridGovError
from geo.core.i18n import Text

#: The column that identifies an issue, and a household.
ISSUE_ID = "ticket_id"
HOUSEHOLD_ID = "household_id"
#: Grid columns every version must have (assignment writes them onto issues).
GRID_KEYS = ("grid_code", "village_code", "town_code")
#: Draft statuses.
OPEN, CONFLICTED, PUBLISHED = "open", "conflicted", "published"
#: The lock every writer of the version tables takes.
LOCK = "grid_versions"
SCOPE_ZH = {"village": "村(居)", "town": "镇"}


class VersionError(GridGovError):
    """A version, draft or grid layer cannot be used as asked.

    The message is a :class:`~geo.core.i18n.Text` where GridGov words it in both languages,
    else a plain string; ``str(error)`` reads it either way.
    """

    def __init__(self, message: Text | str) -> None:
        super().__init__(message)


class PublishBlockedError(GridGovError):
    """The planner's check found the candidate layer not publishable; ``report`` says why."""

    def __init__(self, message: str, report: object) -> None:
        super().__init__(message)
        self.report = report


class ConflictError(GridGovError):
    """Someone changed the draft (or its village) since it was read.

    Attributes
    ----------
    draft_id, scope_code
        The draft and the village or town it covers.
    expected_revision, current_revision
        The revision the caller had, and the one stored now.
    saved_by, saved_at
        Who made the change in between, and when (UTC).
    kept_draft_id
        Where the losing edits were saved (status ``conflicted``; read them with
        :meth:`VersionedGrids.read_draft`), or None when nothing needed keeping.
    """

    def __init__(
        self,
        message: Text | str,
        *,
        draft_id: str,
        scope_code: str,
        expected_revision: int,
        current_revision: int,
        saved_by: str,
        saved_at: pd.Timestamp,
        kept_draft_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.draft_id = draft_id
        self.scope_code = scope_code
        self.expected_revision = expected_revision
        self.current_revision = current_revision
        self.saved_by = saved_by
        self.saved_at = saved_at
        self.kept_draft_id = kept_draft_id


@dataclass(frozen=True)
class Draft:
    """One saved revision of a draft (revision 0: the base version's grids, unedited).

    Attributes
    ----------
    draft_id
        Identifier, e.g. ``320924101001-3f2a9c1b``.
    scope, scope_code
        ``"village"`` or ``"town"``, and its code: the grids the draft replaces.
    base_version
        The published version the draft started from.
    revision
        Saved revision; pass it as ``expected_revision`` when saving again.
    status
        ``open``, ``conflicted`` (edits kept after a lost save) or ``published``.
    author, updated_at
        Who saved this revision, and when (UTC).
    grids
        The draft's grids (a copy; editing it changes nothing stored).
    conflict_of
        For a conflicted draft, the draft it lost against.
    """

    draft_id: str
    scope: str
    scope_code: str
    base_version: int
    revision: int
    status: str
    author: str
    updated_at: pd.Timestamp
    grids: gpd.GeoDataFrame = field(repr=False)
    conflict_of: str = ""


@dataclass(frozen=True)
class VersionDiff:
    """What changed from ``a`` to ``b`` (each a version number, or None for a layer that
    is not a version).

    Attributes
    ----------
    grids
        One row per grid code in either version: ``grid_code``, ``status`` (``added``,
        ``removed``, ``changed`` or ``unchanged``), ``geometry_changed``,
        ``changed_columns`` (comma-separated), ``area_a_m2``, ``area_b_m2``,
        ``households_a``, ``households_b`` (household points inside; NaN when the store
        has no households layer).
    flows
        Where the area and households of changed grids went: ``from_grid`` (in ``a``,
        empty = in no grid), ``to_grid`` (in ``b``), ``area_m2``, ``households``.
    """

    a: int | None
    b: int | None
    grids: pd.DataFrame
    flows: pd.DataFrame

    def _codes(self, status: str) -> list[str]:
        return sorted(self.grids.loc[self.grids["status"] == status, "grid_code"])

    @property
    def added(self) -> list[str]:
        """Codes in ``b`` only."""
        return self._codes("added")

    @property
    def removed(self) -> list[str]:
        """Codes in ``a`` only."""
        return self._codes("removed")

    @property
    def changed(self) -> list[str]:
        """Codes in both whose geometry or attributes differ."""
        return self._codes("changed")


@dataclass(frozen=True)
class PublishResult:
    """What a publish did.

    Attributes
    ----------
    version
        The new version number.
    n_grids
        Grids in it.
    added, removed, changed
        Grid codes, against the layer it replaced.
    issues_checked, issues_moved
        Issues whose grid could have changed (those inside the changed area; every other
        issue provably keeps its grid) and those whose grid, village or town did change.
    households_moved
        Likewise for household points (0 when the store has no households layer).
    """

    version: int
    n_grids: int
    added: list[str]
    removed: list[str]
    changed: list[str]
    issues_checked: int
    issues_moved: int
    households_moved: int


def utc_now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").floor("ms")


def local_stamp(ts: object) -> str:
    """A stored UTC time as Beijing time, for messages."""
    return f"{beijing_stamp(ts)} (UTC+8)"


def as_multi(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy with every Polygon as a one-part MultiPolygon (what a GeoPackage stores)."""
    out = grids.copy()
    geoms = out.geometry.to_numpy()
    single = shapely.get_type_id(geoms) == 3
    if single.any():
        geoms = geoms.copy()
        geoms[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
        out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=out.crs)
    return out


def content_hash(grids: gpd.GeoDataFrame) -> str:
    """A hash of what assignment depends on: codes and geometry, in code order."""
    ordered = as_multi(grids).sort_values("grid_code", kind="stable")
    keys = ["\x1f".join(row) for row in zip(*(as_text(ordered[c]) for c in GRID_KEYS), strict=True)]
    wkb = shapely.to_wkb(ordered.geometry.to_numpy(), byte_order=1)
    digest = hashlib.sha256("\x1e".join(keys).encode())
    digest.update(b"".join(w or b"" for w in wkb))
    return digest.hexdigest()


def as_text(series: pd.Series) -> np.ndarray:
    """Values as comparable text (missing → empty), an object array."""
    if series.dtype == object:
        return np.array(["" if pd.isna(v) else str(v) for v in series], dtype=object)
    if pd.api.types.is_string_dtype(series.dtype):
        return series.to_numpy(dtype=object, na_value="")
    return (
        series.astype(str).to_numpy(dtype=object)
        if series.notna().all()
        else as_text(series.astype(object))
    )


def isin(series: pd.Series, values: object) -> np.ndarray:
    """Which values of a code column are among ``values`` (fast on text columns)."""
    return pd.Series(as_text(series)).isin(list(values)).to_numpy()  # type: ignore[call-overload]


def in_order(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every grid a MultiPolygon, in grid-code order (how versions are stored)."""
    return as_multi(grids).sort_values("grid_code", kind="stable").reset_index(drop=True)


def grids_note(n: int) -> Text:
    """The change-log note of a layer or revision of ``n`` grids."""
    return Text(f"{n} 个网格", f"{n} grids")


def to_cell(value: Text | str) -> str:
    """A reason or note as the version tables hold it: words GridGov wrote (a
    :class:`~geo.core.i18n.Text`) as JSON ``{"zh": …, "en": …}``, a planner's own as typed."""
    if isinstance(value, Text):
        return json.dumps(value.as_dict(), ensure_ascii=False)
    return str(value)


def from_cell(value: object) -> Text | str:
    """What :func:`to_cell` stored: the :class:`~geo.core.i18n.Text` back, or the planner's
    words (and a note written before notes were stored as JSON) as they are."""
    said = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    if said.startswith("{"):
        try:
            found = json.loads(said)
        except ValueError:
            return said
        if isinstance(found, dict) and set(found) == {"zh", "en"}:
            try:
                return Text(str(found["zh"]), str(found["en"]))
            except ValueError:
                return said
    return said


def from_cells(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``frame`` with the reasons and notes of ``columns`` read back (:func:`from_cell`)."""
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            out[col] = out[col].map(from_cell).astype(object)
    return out


def conform(grids: pd.DataFrame, layer_columns: Sequence[str]) -> gpd.GeoDataFrame:
    """The grids with the layer's columns first (missing ones empty), extra columns after."""
    assert isinstance(grids, gpd.GeoDataFrame)
    geometry = grids.geometry.name
    frame = grids.rename_geometry("geometry") if geometry != "geometry" else grids
    columns = [c for c in layer_columns if c != "geometry"]
    extra = [c for c in frame.columns if c not in columns and c != "geometry"]
    out = frame.reindex(columns=[*columns, *extra, "geometry"])
    for col in GRID_KEYS:
        out[col] = as_text(out[col])
    return gpd.GeoDataFrame(out, geometry="geometry", crs=grids.crs)

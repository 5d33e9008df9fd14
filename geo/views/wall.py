"""What the wall screen 指挥大屏 shows: headline tiles, the most urgent overdue tickets, the
latest warnings, the towns ranked, today's 日清 progress, a column per grid and the county
and town outlines.

What "now" is
    The wall shows everything as of :attr:`geo.store.county.County.as_of`, GridGov's one rule for
    "now": for the synthetic demo, the end of the demo's history (its ``meta`` ``as_of``,
    2026-11-20 23:59:59 for the seed-0 demo, whose last ticket came in at 22:11); for live
    data, the current Beijing time. :func:`wall_as_of` cuts live time to the minute (or a
    longer step) so that a wall refreshing every few seconds recomputes once a minute; the
    page says on screen which of the two the figures are.

Everything here is computed by :mod:`geo.loop.lifecycle` (deadline states, KPIs, 日清) and
:mod:`geo.hotspots.alerts` (warnings); this module only picks, joins names and ranks. Geometries are
in the county's metric CRS (EPSG:4549); times are naive Beijing time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.core.errors import InputProblems
from geo.core.i18n import translator
from geo.core.validate import require_metric_crs
from geo.loop.lifecycle import (
    OVERDUE,
    REPRIMAND,
    daily_clearance,
    kpi_tables,
    lifecycle,
)
from geo.store.county import County

#: Refresh interval of the wall (seconds) when the URL does not say (``?refresh=``).
REFRESH_S = 10.0
#: Shortest and longest refresh interval accepted (seconds).
MIN_REFRESH_S = 1.0
MAX_REFRESH_S = 3600.0

#: The side panels, in the order they rotate (one step per refresh).
PANELS = ("overdue", "warnings", "towns", "clearance")

#: Headline tiles in screen order: key of :attr:`WallView.tiles` → i18n key of the label.
TILES: dict[str, str] = {
    "received_today": "wall_received_today",
    "open": "wall_open",
    "overdue": "wall_overdue",
    "alerts": "wall_alerts",
    "on_time_rate": "wall_on_time_month",
    "cleared_rate": "wall_cleared_today",
}

#: Columns of the tables of :class:`WallView`.
OVERDUE_COLUMNS = (
    "ticket_id",
    "town_name",
    "grid_name",
    "category",
    "due_at",
    "days_over",
    "state",
)
WARNING_COLUMNS = (
    "alert_id",
    "kind",
    "town_name",
    "grid_name",
    "category",
    "n_events",
    "last_at",
    "evidence",
)
TOWN_COLUMNS = (
    "town_code",
    "town_name",
    "received_today",
    "open",
    "overdue",
    "reprimand",
    "on_time_rate",
    "satisfaction_rate",
)
CLEARANCE_COLUMNS = ("town_code", "town_name", "new", "due", "items", "cleared", "cleared_rate")
GRID_COLUMNS = ("grid_code", "grid_name", "town_name", "open", "overdue", "overdue_share")

#: What each side panel shows: its columns, each with the i18n key of its heading.
PANEL_COLUMNS: dict[str, dict[str, str]] = {
    "overdue": {
        "town_name": "town_name",
        "grid_name": "grid_name",
        "category": "category",
        "days_over": "wall_days_over",
        "state": "wall_state",
    },
    "warnings": {
        "kind": "kind",
        "grid_name": "grid_name",
        "category": "category",
        "n_events": "n_events",
        "last_at": "last_at",
    },
    "towns": {
        "town_name": "town_name",
        "open": "open",
        "overdue": "wall_overdue",
        "reprimand": "wall_reprimand",
        "on_time_rate": "wall_on_time",
        "satisfaction_rate": "wall_satisfied",
    },
    "clearance": {
        "town_name": "town_name",
        "new": "wall_new",
        "due": "wall_due",
        "cleared": "wall_cleared",
        "items": "wall_items",
        "cleared_rate": "wall_cleared_rate",
    },
}


@dataclass(frozen=True)
class WallView:
    """The wall's figures at one time.

    Attributes
    ----------
    as_of
        The time they hold at (naive Beijing time).
    tiles
        ``received_today`` (tickets received on the day of ``as_of``), ``open``,
        ``overdue`` (open past their deadline) and ``reprimand`` (of those, from the
        reprimand day on), ``alerts`` (warnings of :func:`geo.hotspots.alerts.detect_alerts`),
        ``on_time_rate`` and ``satisfaction_rate`` of the tickets received this month
        (the definitions of :func:`geo.loop.lifecycle.loop_kpis`; NaN when there are none),
        ``cleared``, ``clearance_items`` and ``cleared_rate`` of today's 日清 list
        (:func:`geo.loop.lifecycle.daily_clearance`; NaN when the list is empty).
    overdue
        Every open overdue ticket (:data:`OVERDUE_COLUMNS`), most urgent first:
        reprimands before reminders, then the longest overdue. ``days_over`` is whole
        calendar days since the deadline, ``state`` is ``overdue`` (reminder sent) or
        ``reprimand``. No caller data.
    warnings
        Every warning (:data:`WARNING_COLUMNS`), newest first; ``kind`` is one of
        :data:`geo.hotspots.alerts.KINDS`, ``evidence`` a :class:`~geo.core.i18n.Text`.
    towns
        Every town (:data:`TOWN_COLUMNS`), most overdue first (then most open, then code).
    clearance
        Per town with tickets on today's 日清 list (:data:`CLEARANCE_COLUMNS`): ``new``
        (received today), ``due`` (deadline today), ``items`` (both), ``cleared`` and
        ``cleared_rate``; least cleared first.
    grids
        Every grid (:data:`GRID_COLUMNS`), with ``overdue_share`` = overdue / open (0
        where nothing is open); the geometry is a point inside the grid (EPSG:4549).
    """

    as_of: pd.Timestamp
    tiles: dict[str, float]
    overdue: pd.DataFrame
    warnings: pd.DataFrame
    towns: pd.DataFrame
    clearance: pd.DataFrame
    grids: gpd.GeoDataFrame


def refresh_seconds(value: object, *, default: float = REFRESH_S) -> float:
    """The refresh interval asked for in the URL (``?refresh=3``), in seconds.

    ``None`` or an empty text gives ``default``.

    Raises
    ------
    InputProblems
        When ``value`` is not a number of seconds between :data:`MIN_REFRESH_S` and
        :data:`MAX_REFRESH_S`, naming the value received and the range allowed.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return float(default)
    try:
        seconds = float(str(value).strip().removesuffix("s"))
    except ValueError:
        seconds = math.nan
    if not MIN_REFRESH_S <= seconds <= MAX_REFRESH_S:  # NaN fails too
        raise InputProblems(
            "show the wall",
            f"refresh must be a number of seconds from {MIN_REFRESH_S:g} to "
            f"{MAX_REFRESH_S:g}, got {value!r}; e.g. ?refresh=10",
        )
    return seconds


def panel_for(tick: int) -> str:
    """The side panel shown at refresh number ``tick`` (0 first): they take turns."""
    return PANELS[tick % len(PANELS)]


def panel_rows(view: WallView, panel: str, *, lang: str = "zh", rows: int = 9) -> pd.DataFrame:
    """The first ``rows`` rows of a side panel as text to show on the wall.

    Columns are those of :data:`PANEL_COLUMNS` ``[panel]``; deadline states, warning kinds
    and the place of tickets in no town are in ``lang`` (``zh`` or ``en``), rates are percent
    with one decimal ("—" when there is no denominator), times are month-day hour:minute
    and whole numbers have thousands separators.
    """
    if panel not in PANEL_COLUMNS:
        raise InputProblems(
            "show the wall", f"panel must be one of {list(PANEL_COLUMNS)}, got {panel!r}"
        )
    if not isinstance(rows, int) or rows < 1:
        raise InputProblems("show the wall", f"rows must be a whole number ≥ 1, got {rows!r}")
    tr = translator(lang)
    frame = getattr(view, panel).head(rows).copy()
    if panel == "overdue":
        frame["state"] = frame["state"].map(lambda s: tr(f"loop_state_{s}"))
    if panel == "warnings":
        frame["kind"] = frame["kind"].map(lambda s: tr(f"alert_kind_{s}"))
        frame["last_at"] = pd.to_datetime(frame["last_at"]).dt.strftime("%m-%d %H:%M")
    if "town_name" in frame.columns:
        frame["town_name"] = frame["town_name"].replace("", tr("wall_no_town"))
    out = frame[list(PANEL_COLUMNS[panel])].copy()
    for col in out.columns:
        if col.endswith("_rate"):
            out[col] = out[col].map(lambda v: "—" if pd.isna(v) else f"{v:.1%}")
        elif pd.api.types.is_integer_dtype(out[col]):
            out[col] = out[col].map("{:,}".format)
    return out.reset_index(drop=True)


def wall_as_of(data: County, *, minutes: int = 1) -> pd.Timestamp:
    """The wall's "now": ``data.as_of``, cut to whole ``minutes`` for live data.

    The demo's ``as_of`` is fixed and kept as it is (so the wall agrees with every other
    page); the live clock is cut so that cached figures serve every refresh of the same
    minute (warnings, slower to find, can use a longer step).
    """
    if minutes < 1:
        raise InputProblems("show the wall", f"minutes must be a whole number ≥ 1, got {minutes!r}")
    stamp = data.as_of
    return stamp if data.synthetic else stamp.floor(f"{int(minutes)}min")


def wall_view(data: County, *, alerts: pd.DataFrame, as_of: pd.Timestamp | None = None) -> WallView:
    """The wall's figures of ``data`` at ``as_of`` (default :func:`wall_as_of`).

    Parameters
    ----------
    data
        The county (its ``issues`` with ``due_at``, as :func:`geo.store.county.load_county`
        gives them; not modified).
    alerts
        The warnings at ``as_of`` (:func:`geo.hotspots.alerts.detect_alerts`; several seconds on a
        county, so the caller caches them).
    as_of
        "Now"; tickets received after it are left out.
    """
    stamp = wall_as_of(data) if as_of is None else pd.Timestamp(as_of)
    issues = data.issues
    town_names = data.towns.set_index("town_code")["town_name"].astype(str)
    grid_names = data.grids.set_index("grid_code")["grid_name"].astype(str)
    now = kpi_tables(issues, stamp, levels=("county", "town", "grid"))
    month_start = stamp.normalize().replace(day=1)
    received = issues["received_at"]
    in_month = ((received >= month_start) & (received <= stamp)).to_numpy()
    month = kpi_tables(issues[in_month], stamp, levels=("county", "town"))
    day = daily_clearance(issues, stamp)
    county, month_county = now["county"].iloc[0], month["county"].iloc[0]
    items, cleared = len(day), int(day["cleared"].sum())
    tiles = {
        "received_today": float((day["reason"] == "new").sum()),
        "open": float(county["open"]),
        "overdue": float(county["overdue"]),
        "reprimand": float(county["reprimand"]),
        "alerts": float(len(alerts)),
        "on_time_rate": float(month_county["on_time_rate"]),
        "satisfaction_rate": float(month_county["satisfaction_rate"]),
        "cleared": float(cleared),
        "clearance_items": float(items),
        "cleared_rate": cleared / items if items else math.nan,
    }
    return WallView(
        as_of=stamp,
        tiles=tiles,
        overdue=_overdue(issues, stamp, town_names, grid_names),
        warnings=_warnings(alerts, town_names, grid_names),
        towns=_towns(data.towns, now["town"], month["town"], day),
        clearance=_clearance(day, town_names),
        grids=_grids(data.grids, now["grid"], town_names),
    )


def wall_outlines(towns: gpd.GeoDataFrame, *, simplify_m: float = 30.0) -> gpd.GeoDataFrame:
    """Outlines and name points for the wall's map, in the towns' CRS (metres).

    Returns
    -------
    geopandas.GeoDataFrame
        ``kind`` and ``name``: one ``county`` row (the boundary of all towns together), one
        ``town`` row per town (its boundary) and one ``label`` row per town (a point inside
        it, for its name). Boundaries are simplified to ``simplify_m`` metres (shared edges
        stay shared).
    """
    require_metric_crs(towns, "towns", task="show the wall")
    areas = shapely.coverage_simplify(towns.geometry.to_numpy(), simplify_m)
    county = shapely.union_all(areas)
    names = towns["town_name"].astype(str).tolist()
    return gpd.GeoDataFrame(
        {
            "kind": ["county"] + ["town"] * len(names) + ["label"] * len(names),
            "name": ["", *names, *names],
        },
        geometry=[
            shapely.boundary(county),
            *shapely.boundary(areas),
            *shapely.point_on_surface(towns.geometry.to_numpy()),
        ],
        crs=towns.crs,
    )


# --------------------------------------------------------------------------- tables


def _overdue(
    issues: pd.DataFrame, stamp: pd.Timestamp, town_names: pd.Series, grid_names: pd.Series
) -> pd.DataFrame:
    states = lifecycle(issues, stamp)
    late = states["state"].isin([OVERDUE, REPRIMAND]).to_numpy()
    rows = issues.loc[late]
    due = states.loc[late, "due_at"]
    out = pd.DataFrame(
        {
            "ticket_id": rows["ticket_id"].astype(str).to_numpy(),
            "town_name": _names(rows["town_code"], town_names),
            "grid_name": _names(rows["grid_code"], grid_names),
            "category": rows["category"].astype(str).to_numpy(),
            "due_at": due.to_numpy(),
            "days_over": np.floor((stamp - due).dt.total_seconds() / 86_400).to_numpy(np.int64),
            "state": states.loc[late, "state"].to_numpy(),
        }
    )
    # What a commander acts on first: escalated to a reprimand, then the longest overdue.
    first = out.assign(_escalated=out["state"] == REPRIMAND)
    first = first.sort_values(["_escalated", "due_at", "ticket_id"], ascending=[False, True, True])
    return first.drop(columns="_escalated").reset_index(drop=True)


def _warnings(alerts: pd.DataFrame, town_names: pd.Series, grid_names: pd.Series) -> pd.DataFrame:
    out = pd.DataFrame({c: alerts[c] for c in WARNING_COLUMNS if c in alerts.columns})
    out["town_name"] = _names(alerts["town_code"], town_names)
    out["grid_name"] = _names(alerts["grid_code"], grid_names)
    out = out[list(WARNING_COLUMNS)]
    return out.sort_values("last_at", ascending=False, kind="stable").reset_index(drop=True)


def _towns(
    towns: pd.DataFrame, now: pd.DataFrame, month: pd.DataFrame, day: pd.DataFrame
) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "town_code": towns["town_code"].astype(str).to_numpy(),
            "town_name": towns["town_name"].astype(str).to_numpy(),
        }
    )
    new_today = day.loc[day["reason"] == "new", "town_code"].astype(str).value_counts()
    out["received_today"] = out["town_code"].map(new_today).fillna(0).astype(np.int64)
    counts = now.set_index("town_code")[["open", "overdue", "reprimand"]]
    out = out.join(counts, on="town_code")
    out[["open", "overdue", "reprimand"]] = out[["open", "overdue", "reprimand"]].fillna(0)
    out = out.astype({"open": np.int64, "overdue": np.int64, "reprimand": np.int64})
    rates = month.set_index("town_code")[["on_time_rate", "satisfaction_rate"]]
    out = out.join(rates, on="town_code")
    out = out.sort_values(["overdue", "open", "town_code"], ascending=[False, False, True])
    return out[list(TOWN_COLUMNS)].reset_index(drop=True)


def _clearance(day: pd.DataFrame, town_names: pd.Series) -> pd.DataFrame:
    flags = pd.DataFrame(
        {
            "town_code": day["town_code"].astype(str).to_numpy(),
            "new": (day["reason"] == "new").to_numpy(),
            "due": (day["reason"] == "due").to_numpy(),
            "items": 1,
            "cleared": day["cleared"].astype(bool).to_numpy(),
        }
    )
    out = flags.groupby("town_code", sort=True)[["new", "due", "items", "cleared"]].sum()
    out = out.astype(np.int64).reset_index()
    out.insert(1, "town_name", _names(out["town_code"], town_names))
    out["cleared_rate"] = out["cleared"] / out["items"]
    out = out.sort_values(["cleared_rate", "items"], ascending=[True, False], kind="stable")
    return out[list(CLEARANCE_COLUMNS)].reset_index(drop=True)


def _grids(grids: gpd.GeoDataFrame, now: pd.DataFrame, town_names: pd.Series) -> gpd.GeoDataFrame:
    counts = now.set_index("grid_code")[["open", "overdue"]]
    codes = grids["grid_code"].astype(str)
    open_ = codes.map(counts["open"]).fillna(0).astype(np.int64).to_numpy()
    overdue = codes.map(counts["overdue"]).fillna(0).astype(np.int64).to_numpy()
    share = np.divide(overdue, open_, out=np.zeros(len(open_)), where=open_ > 0)
    return gpd.GeoDataFrame(
        {
            "grid_code": codes.to_numpy(),
            "grid_name": grids["grid_name"].astype(str).to_numpy(),
            "town_name": _names(grids["town_code"], town_names),
            "open": open_,
            "overdue": overdue,
            "overdue_share": share,
        },
        geometry=shapely.point_on_surface(grids.geometry.to_numpy()),
        crs=grids.crs,
    )


def _names(codes: pd.Series, names: pd.Series) -> np.ndarray:
    """Names of codes (text or categorical); the code itself where it has none ("" stays "")."""
    text = codes.astype(object).where(codes.notna(), "").astype(str)
    return text.map(names).fillna(text).to_numpy(dtype=object)

"""Checks shared by every domain function: frame types, columns and a metric CRS.

Each ``*_problem`` function returns ``None`` when the input is fine, else one sentence that
names the argument, what it got and what to do; callers collect them and raise one
:class:`~geo.core.errors.InputProblems`. ``require_*`` raise at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from geo.core.errors import InputProblems
from geo.core.settings import get_settings

_METRES = ("metre", "meter", "metres", "meters")


def is_metric(crs: object) -> bool:
    """True when ``crs`` is projected and every axis is in metres (a CRS to measure in)."""
    if crs is None:
        return False
    parsed = CRS.from_user_input(crs)
    return bool(parsed.is_projected) and all(a.unit_name in _METRES for a in parsed.axis_info)


def crs_problem(frame: object, name: str, *, allow_missing: bool = False) -> str | None:
    """Why ``frame``'s CRS cannot measure metres, or ``None`` when it can.

    ``allow_missing`` accepts a frame without a CRS (its coordinates are taken as metres).
    The example in the message is the county's metric CRS (:attr:`Settings.metric_crs`).
    """
    example = get_settings().metric_crs
    crs = getattr(frame, "crs", None)
    if crs is None:
        if allow_missing:
            return None
        return (
            f"{name} has no CRS, so distances cannot be checked to be in metres; "
            f"set it, e.g. {name}.set_crs('{example}')"
        )
    if is_metric(crs):
        return None
    label = CRS.from_user_input(crs).to_string()
    return (
        f"{name} is in {label}, not a metric CRS (metres); "
        f"project it first, e.g. {name}.to_crs('{example}')"
    )


def same_crs_problem(frames: Sequence[tuple[str, object]]) -> str | None:
    """Why the named frames are not all in one CRS, or ``None`` when they are."""
    crss = [(n, c) for n, f in frames if (c := getattr(f, "crs", None)) is not None]
    if len({CRS.from_user_input(c).to_string() for _, c in crss}) <= 1:
        return None
    listed = ", ".join(f"{n} in {CRS.from_user_input(c).to_string()}" for n, c in crss)
    example = get_settings().metric_crs
    return (
        f"the layers are in different CRS ({listed}); project all to one, e.g. .to_crs('{example}')"
    )


def type_problem(frame: object, name: str, *, geo: bool = True) -> str | None:
    """Why ``frame`` is not a (Geo)DataFrame, or ``None``."""
    wanted = gpd.GeoDataFrame if geo else pd.DataFrame
    if isinstance(frame, wanted):
        return None
    kind = "GeoDataFrame" if geo else "DataFrame"
    return f"{name} must be a {kind}, got {type(frame).__name__}"


def columns_problem(frame: pd.DataFrame, name: str, columns: Iterable[str]) -> str | None:
    """Which of ``columns`` ``frame`` lacks (and which it has), or ``None``."""
    missing = [c for c in columns if c not in frame.columns]
    if not missing:
        return None
    return f"{name} lacks the column(s) {missing}; it has {list(frame.columns)}"


def frame_problems(
    frame: object,
    name: str,
    columns: Iterable[str] = (),
    *,
    geo: bool = True,
    metric: bool = True,
    allow_missing_crs: bool = False,
) -> list[str]:
    """Every problem of one input frame: its type, missing columns and (for ``geo``) its CRS."""
    problem = type_problem(frame, name, geo=geo)
    if problem:
        return [problem]
    assert isinstance(frame, pd.DataFrame)
    found = [columns_problem(frame, name, columns)]
    if geo and metric:
        found.append(crs_problem(frame, name, allow_missing=allow_missing_crs))
    return [p for p in found if p]


def require_metric_crs(frame: object, name: str, *, task: str, allow_missing: bool = False) -> None:
    """Raise :class:`InputProblems` unless ``frame`` is in a metric CRS."""
    problem = crs_problem(frame, name, allow_missing=allow_missing)
    if problem:
        raise InputProblems(task, [problem])


def require_columns(frame: pd.DataFrame, name: str, columns: Iterable[str], *, task: str) -> None:
    """Raise :class:`InputProblems` unless ``frame`` has every one of ``columns``."""
    problem = columns_problem(frame, name, columns)
    if problem:
        raise InputProblems(task, [problem])

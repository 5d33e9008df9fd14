"""How a table's columns read on every page: one rule for one kind of figure.

- **Shares** (on-time rate, coverage, …: values in [0, 1]) read as percent with one decimal,
  ``97.8 %`` — never ``0.978``, ``97.85 %`` or ``98 %`` in the same table.
- **Counts** (integral numbers, even when stored as floats: ``62`` households, not
  ``62.000000``) read as whole numbers; other numbers with one decimal, p-values with four,
  and a few measures with their own (:data:`DECIMALS`).
- **Codes** (``…_code``, ticket ids: 12–15 digits) take a narrow column, after the names;
  **long text** (reasons, evidence, notes) a wide one.
- **Empty cells** are blank, not ``None``.

:func:`column_kinds` says which kind each column is; :func:`for_people` returns the copy a
page shows (shares scaled to percent, codes moved after the other columns, empty cells
blank). The page (``pages/views/_tables.py``) turns the kinds into Streamlit column formats.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from geo.loop.report import RATE_COLUMNS

__all__ = [
    "DECIMALS",
    "KIND_DECIMALS",
    "Kind",
    "column_kinds",
    "decimals",
    "for_people",
    "is_share",
    "number_text",
]

Kind = Literal["share", "count", "decimal", "p", "code", "long", "text"]

#: Shares named otherwise than ``…_rate`` / ``…_share``.
SHARE_NAMES = frozenset({"coverage", "share", "share_within_rule", *RATE_COLUMNS})
#: p-values and other probabilities shown with four decimals.
P_NAMES = frozenset({"p_value", "p_sim", "p_fdr", "p_norm", "scan_p", "trend_p"})
#: Columns of long text: given the room.
LONG_NAMES = frozenset(
    {"reason", "evidence", "basis", "note", "message", "problem", "fix", "detail", "summary"}
)
#: Measures with their own number of decimals.
DECIMALS = {"area_km2": 3, "polsby_popper": 2, "mean_polsby_popper": 2, "workload_cv": 2,
            "gi_z": 2, "trend_tau": 2}  # fmt: skip


def is_share(column: str) -> bool:
    """Whether ``column`` holds shares in [0, 1] (shown as percent)."""
    return column.endswith(("_rate", "_share")) or column in SHARE_NAMES


def _is_code(column: str) -> bool:
    return column.endswith("_code") or column in ("ticket_id", "code")


def column_kinds(frame: pd.DataFrame) -> dict[str, Kind]:
    """The kind of each column of ``frame`` (by its raw name and values)."""
    kinds: dict[str, Kind] = {}
    for col in frame.columns:
        name, values = str(col), frame[col]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric and is_share(name):
            kinds[name] = "share"
        elif numeric and name in P_NAMES:
            kinds[name] = "p"
        elif numeric:
            finite = values.to_numpy(dtype=float)
            finite = finite[np.isfinite(finite)]
            integral = name not in DECIMALS and bool(np.all(finite == np.round(finite)))
            kinds[name] = "count" if integral else "decimal"
        elif _is_code(name):
            kinds[name] = "code"
        elif name in LONG_NAMES:
            kinds[name] = "long"
        else:
            kinds[name] = "text"
    return kinds


#: Decimals of each numeric kind (a column of :data:`DECIMALS` has its own).
KIND_DECIMALS: dict[Kind, int] = {"share": 1, "count": 0, "decimal": 1, "p": 4}


def decimals(column: str, kind: Kind) -> int:
    """How many decimals ``column`` of ``kind`` shows."""
    return DECIMALS.get(column, KIND_DECIMALS.get(kind, 0))


def number_text(value: object, column: str, kind: Kind) -> str:
    """One number as its column shows it (``97.8 %``, ``1,234``, ``3.142``; blank if none)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    number = float(value) * (100 if kind == "share" else 1)  # type: ignore[arg-type]
    written = f"{number:,.{decimals(column, kind)}f}"
    return f"{written} %" if kind == "share" else written


def for_people(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Kind]]:
    """The copy of ``frame`` a page shows and each column's kind: shares × 100 (read with a
    ``%`` format), code columns after the others, empty text cells blank. Numbers stay
    numbers, so a column still sorts — except a numeric column with empty cells, which is
    written out as text (:func:`number_text`, kind ``text``): a blank reads better than
    ``None``."""
    kinds = column_kinds(frame)
    out = frame.copy()
    for col, kind in list(kinds.items()):
        if kind in KIND_DECIMALS and out[col].isna().any():
            out[col] = [number_text(v, col, kind) for v in out[col]]
            kinds[col] = "text"
        elif kind == "share":
            out[col] = out[col].astype(float) * 100
        elif kind in ("code", "long", "text") and out[col].isna().any():
            out[col] = out[col].astype(object).where(out[col].notna(), "")
    codes = [c for c in out.columns if kinds.get(str(c)) == "code"]
    return out[[c for c in out.columns if c not in codes] + codes], kinds

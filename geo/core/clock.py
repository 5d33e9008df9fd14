"""Times in Beijing (UTC+8): the county's clock, and the store's UTC stamps shown to people.

Issue times in the data are naive Beijing times; the store writes its own stamps (versions,
drafts, the change log) in UTC. These functions are the one place that converts between them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BEIJING = "Asia/Shanghai"


def naive_beijing(value: object) -> pd.Timestamp | None:
    """``value`` as a naive Beijing time (a zoned one is converted); None if not a time."""
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return None
    if pd.isna(stamp):
        return None
    return stamp.tz_convert(BEIJING).tz_localize(None) if stamp.tzinfo else stamp


def naive_beijing_times(values: pd.Series | np.ndarray) -> np.ndarray:
    """Times as naive Beijing ``datetime64[ns]`` (a zoned column is converted)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert(BEIJING).dt.tz_localize(None)
    return np.asarray(values, dtype="datetime64[ns]")


def now_beijing() -> pd.Timestamp:
    """The current time in Beijing, naive like the issue times."""
    return pd.Timestamp.now(tz=BEIJING).tz_localize(None)


def beijing_text(stamps: pd.Series, fmt: str = "%Y-%m-%d %H:%M") -> pd.Series:
    """Stored stamps (UTC when they carry no zone) as Beijing time text; blank where missing."""
    when = pd.to_datetime(stamps, utc=True)
    return when.dt.tz_convert(BEIJING).dt.strftime(fmt).fillna("")


def beijing_stamp(stamp: object, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """One stored stamp (UTC when it carries no zone) as Beijing time text."""
    return str(beijing_text(pd.Series([stamp]), fmt).iloc[0])

"""What every capability reads the same way in a ticket: its status words and its 12345 deadline.

A ticket is closed when its ``status`` is :data:`CLOSED`; every other status (:data:`PENDING`,
:data:`IN_PROGRESS` or a platform's own word) counts as open. Its deadline is :func:`due_at`.
Here are the words and the deadline, and nothing that depends on a time "as of": being
overdue, closed on time or reprimanded at some moment is the closed loop's business
(:mod:`geo.loop.lifecycle`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from geo.core.settings import get_settings
from geo.core.workcal import add_workdays

__all__ = ["CLOSED", "IN_PROGRESS", "PENDING", "due_at", "one_row_per_ticket", "with_deadlines"]

#: Status of a closed ticket (办结), the demo's and the 12345 system's word.
CLOSED = "已办结"
#: Status of a ticket not yet dispatched (待派单).
PENDING = "待派单"
#: Status of a ticket dispatched and being handled (处理中).
IN_PROGRESS = "处理中"

_LAST_SECOND = pd.Timedelta(hours=23, minutes=59, seconds=59)


def one_row_per_ticket(issues: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """``issues`` with one row per ``ticket_id`` — the last one, as exports list a ticket's
    steps in order — and how many rows repeated a ticket already listed. Rows without a
    ticket id are all kept (nothing says they repeat). A ticket counts once, whatever reads
    it."""
    if "ticket_id" not in issues.columns or not len(issues):
        return issues, 0
    ids = issues["ticket_id"]
    named = ids.notna() & (ids.astype(str).str.strip() != "")
    repeated = named & ids.astype(str).str.strip().duplicated(keep="last")
    n = int(repeated.sum())
    return (issues[~repeated.to_numpy()] if n else issues), n


def due_at(
    received_at: pd.Series, request_type: pd.Series, sla_days: Mapping[str, int] | None = None
) -> pd.Series:
    """Deadline of each ticket: ``sla_days[request_type]`` working days after receipt.

    Working days follow the Chinese working calendar (:mod:`geo.core.workcal`: public holidays
    off, adjusted working weekends on, from ``chinesecalendar``); the day of receipt does
    not count, a ticket received on a day off counts from the next working day, and the
    deadline is the end (23:59:59) of the last working day. Outside the years the calendar
    package covers, working days are Monday to Friday (see :func:`geo.core.workcal.covered`).
    Unknown request types get the longest limit; a missing ``received_at`` gives ``NaT``.
    This is the one deadline function of GridGov: :func:`with_deadlines` (on loading a
    county) and :mod:`geo.loop.lifecycle` use it.

    Parameters
    ----------
    received_at
        Times of receipt (naive Beijing time).
    request_type
        咨询, 求助, 投诉, 举报, 建议, 巡查上报… (keys of ``sla_days``).
    sla_days
        Working days per request type; ``Settings.sla_working_days`` when omitted.
    """
    sla = dict(sla_days or get_settings().sla_working_days)
    days = request_type.map(sla).fillna(max(sla.values())).to_numpy(dtype=np.int64)
    start = received_at.to_numpy().astype("datetime64[D]")
    due = add_workdays(start, days, roll="forward")
    out = pd.to_datetime(due) + _LAST_SECOND
    return pd.Series(out, index=received_at.index)


def with_deadlines(issues: pd.DataFrame, sla_days: Mapping[str, int] | None = None) -> pd.DataFrame:
    """A copy of ``issues`` with a ``due_at`` column (:func:`due_at`), computed once on loading
    and reused by the closed loop."""
    out = issues.copy()
    out["due_at"] = due_at(issues["received_at"], issues["request_type"], sla_days)
    return out

"""Beijing time: the data's naive times and the store's UTC stamps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.core.clock import beijing_stamp, beijing_text, naive_beijing, naive_beijing_times


def test_naive_beijing_converts_zoned_times_and_refuses_non_times():
    assert naive_beijing("2026-11-20T16:30Z") == pd.Timestamp("2026-11-21 00:30")
    assert naive_beijing("2026-11-21 00:30") == pd.Timestamp("2026-11-21 00:30")
    assert naive_beijing("not a time") is None
    assert naive_beijing(None) is None


def test_naive_beijing_times_of_a_zoned_column():
    zoned = pd.Series(pd.to_datetime(["2026-01-01T00:00Z", None], utc=True))
    out = naive_beijing_times(zoned)
    assert out[0] == np.datetime64("2026-01-01T08:00")
    assert np.isnat(out[1])


def test_stored_utc_stamps_read_as_beijing_text():
    assert beijing_stamp(pd.Timestamp("2026-11-20 16:30", tz="UTC"), "%m-%d %H:%M") == "11-21 00:30"
    assert beijing_stamp(pd.Timestamp("2026-11-20 16:30")) == "2026-11-21 00:30:00"  # naive = UTC
    assert beijing_text(pd.Series([pd.Timestamp("2026-11-20 16:30"), pd.NaT])).tolist() == [
        "2026-11-21 00:30",
        "",
    ]

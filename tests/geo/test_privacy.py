"""Known-answer tests for geo.core.privacy: callers' names and phone numbers masked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.core.privacy import mask_callers, mask_name, mask_phone


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王", "王*"),  # a surname alone still shows that it was masked
        ("李明", "李*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧***"),
        ("  周建华 ", "周**"),  # surrounding spaces do not count
        ("", ""),
        ("   ", ""),
        (None, ""),
        (np.nan, ""),
        (float("nan"), ""),
        (pd.NA, ""),  # regression: was "<**" (the text "<NA>")
        (pd.NaT, ""),  # regression: was "N**"
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        ("138 1234 1234", "138****1234"),
        ("+86 138-1234-1234", "861******1234"),  # 13 digits: still first 3 and last 4
        (13812341234, "138****1234"),
        (13812341234.0, "138****1234"),  # regression: was 138*****2340 (the ".0" counted)
        ("0515-82345678", "051*****5678"),  # landline with the area code, 12 digits
        ("(0515) 8234 5678", "051*****5678"),
        ("8234-5678", "****5678"),  # regression: a local number showed 7 of its 8 digits
        ("051582345", "0****2345"),  # 9 digits: 4 hidden
        ("0515823456", "05****3456"),  # 10 digits: 4 hidden
        ("1234567", "*******"),  # short: everything hidden
        ("110", "***"),
        ("无", ""),
        ("", ""),
        (None, ""),
        (np.nan, ""),
        (pd.NA, ""),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    "phone",
    ["13812341234", "0515-82345678", "8234-5678", "051582345", "0515823456", "12345678901234"],
)
def test_at_least_four_digits_are_hidden(phone):
    digits = sum(ch.isdigit() for ch in phone)
    assert mask_phone(phone).count("*") >= 4
    assert len(mask_phone(phone)) == digits


def test_mask_callers():
    frame = pd.DataFrame(
        {
            "ticket_id": ["RX1", "RX2", "WG3"],
            "caller_name": pd.array(["周建华", None, "李明"], dtype="string"),
            "caller_phone": ["13861234567", "0515-82345678", np.nan],
        }
    )
    before = frame.copy()
    out = mask_callers(frame)
    assert list(out.caller_name) == ["周**", "", "李*"]
    assert list(out.caller_phone) == ["138****4567", "051*****5678", ""]
    assert list(out.ticket_id) == ["RX1", "RX2", "WG3"]
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is untouched


def test_mask_callers_without_caller_columns():
    frame = pd.DataFrame({"ticket_id": ["RX1"]})
    pd.testing.assert_frame_equal(mask_callers(frame), frame)

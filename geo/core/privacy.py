"""Masking of callers' personal data before anything reaches a screen or an export."""

from __future__ import annotations

import math
import re

import pandas as pd


def _text(value: object) -> str:
    """The value as stripped text: None, NaN, ``pd.NA`` and NaT give ``""``; 1.0 gives ``1``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number that went through Excel or a float column
    return str(value).strip()


def mask_name(name: object) -> str:
    """Keep the surname, star the rest: 张三丰 → 张**, 李明 → 李*; empty stays empty."""
    text = _text(name)
    if not text:
        return ""
    return text[0] + "*" * max(len(text) - 1, 1)


def mask_phone(phone: object) -> str:
    """Keep the first 3 and last 4 digits: 13812341234 → 138****1234.

    At least 4 digits are always hidden (an 8-digit local number shows its last 4 only);
    numbers shorter than 8 digits are starred completely.
    """
    digits = re.sub(r"\D", "", _text(phone))
    if not digits:
        return ""
    if len(digits) < 8:
        return "*" * len(digits)
    head = min(3, len(digits) - 8)
    return digits[:head] + "*" * (len(digits) - head - 4) + digits[-4:]


def mask_callers(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with ``caller_name`` and ``caller_phone`` masked (if present)."""
    out = frame.copy()
    if "caller_name" in out.columns:
        out["caller_name"] = out["caller_name"].map(mask_name)
    if "caller_phone" in out.columns:
        out["caller_phone"] = out["caller_phone"].map(mask_phone)
    return out

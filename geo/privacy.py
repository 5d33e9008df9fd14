"""Masking of callers' personal data before anything reaches a screen or an export."""

from __future__ import annotations

import re

import pandas as pd


def mask_name(name: object) -> str:
    """Keep the surname, star the rest: 张三丰 → 张**, 李明 → 李*; empty stays empty."""
    text = "" if name is None or (isinstance(name, float) and pd.isna(name)) else str(name).strip()
    if not text:
        return ""
    return text[0] + "*" * max(len(text) - 1, 1)


def mask_phone(phone: object) -> str:
    """Keep the first 3 and last 4 digits: 13812341234 → 138****1234; short numbers → ****."""
    text = "" if phone is None or (isinstance(phone, float) and pd.isna(phone)) else str(phone)
    digits = re.sub(r"\D", "", text)
    if not digits:
        return ""
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_callers(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with ``caller_name`` and ``caller_phone`` masked (if present)."""
    out = frame.copy()
    if "caller_name" in out.columns:
        out["caller_name"] = out["caller_name"].map(mask_name)
    if "caller_phone" in out.columns:
        out["caller_phone"] = out["caller_phone"].map(mask_phone)
    return out

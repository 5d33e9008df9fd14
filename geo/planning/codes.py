"""The grid code: the village's 12-digit code and a sequence of :data:`SEQ_DIGITS` digits from
001, 15 digits in all — county (6) + town (3) + village (3) + sequence (3), as the hierarchical
codes of the Beijing DB11 grid standard."""

from __future__ import annotations

import re

from geo.core.i18n import Text

__all__ = ["SEQ_DIGITS", "code_problem", "grid_code"]

#: Digits of the sequence part of a grid code (village_code of 12 digits + 3 = 15).
SEQ_DIGITS = 3

_CODE = re.compile(r"^\d{15}$")


def grid_code(village_code: str, seq: int) -> str:
    """The code of grid number ``seq`` (1, 2, …) of a village: ``320924101001`` + ``007``."""
    return f"{village_code}{seq:0{SEQ_DIGITS}d}"


def code_problem(code: str, village_code: str | None = None) -> Text | None:
    """What is wrong with ``code`` as a grid code (of ``village_code`` when given), or None.

    Not 15 digits, not starting with the village code, or sequence 000; the words follow the
    code (``网格编码 {code} …`` / ``grid_code {code} …``).
    """
    if not _CODE.match(code):
        return Text("不是15位数字", "is not 15 digits")
    if village_code and not code.startswith(village_code):
        v = village_code
        return Text(f"不以村(居)编码 {v} 开头", f"does not start with village_code {v}")
    if code.endswith("0" * SEQ_DIGITS):
        return Text("序号为 000", "has sequence 000")
    return None

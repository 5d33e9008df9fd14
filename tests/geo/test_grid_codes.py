"""geo.planning.codes: the one rule for a grid code, used by the check and the edits."""

from __future__ import annotations

import re

import pytest

from geo.planning.codes import code_problem, grid_code

VILLAGE = "320924101001"


def test_grid_code_pads_the_sequence():
    assert grid_code(VILLAGE, 7) == "320924101001007"
    assert grid_code(VILLAGE, 123) == "320924101001123"


@pytest.mark.parametrize(
    ("code", "village", "why"),
    [
        ("320924101001007", VILLAGE, ""),
        ("320924101001007", None, ""),
        ("32092410100100", VILLAGE, "is not 15 digits"),
        ("32092410100100x", VILLAGE, "is not 15 digits"),
        ("320924101002007", VILLAGE, f"does not start with village_code {VILLAGE}"),
        ("320924101001000", VILLAGE, "has sequence 000"),
    ],
)
def test_code_problem(code, village, why):
    got = code_problem(code, village)
    if not why:
        assert got is None
    else:
        assert got is not None and got.en == why
        assert re.search(r"[\u4e00-\u9fff]", got.zh)  # and in Chinese

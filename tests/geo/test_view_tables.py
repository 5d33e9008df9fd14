"""How tables read: one rule per kind of figure (geo.views.tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.views.planner import compare_table
from geo.views.tables import column_kinds, for_people, number_text


def test_each_column_gets_its_kind_by_name_and_values() -> None:
    frame = pd.DataFrame(
        {
            "town_name": ["合德镇", "临海镇"],
            "on_time_rate": [0.97846, 0.482],
            "coverage": [0.5, 1.0],
            "households": [62.0, 140.0],
            "mean_minutes": [12.25, 3.0],
            "p_value": [0.0002, 0.5],
            "grid_code": ["320924100001001", "320924100001002"],
            "reason": ["本网格 8 件", "…"],
            "area_km2": [1.0, 2.0],
        }
    )
    assert column_kinds(frame) == {
        "town_name": "text",
        "on_time_rate": "share",
        "coverage": "share",
        "households": "count",
        "mean_minutes": "decimal",
        "p_value": "p",
        "grid_code": "code",
        "reason": "long",
        "area_km2": "decimal",  # its own decimals, even when whole
    }


def test_people_read_percent_whole_counts_codes_last_and_blank_cells() -> None:
    frame = pd.DataFrame(
        {
            "grid_code": ["A1", "A2"],
            "on_time_rate": [0.97846, 0.482],
            "households_before": [62.0, np.nan],  # an added grid had none before
            "note": ["moved", None],
        }
    )
    shown, kinds = for_people(frame)
    assert list(shown.columns) == ["on_time_rate", "households_before", "note", "grid_code"]
    assert shown.on_time_rate.tolist() == pytest.approx([97.846, 48.2])  # × 100, read as "%.1f %"
    assert kinds["on_time_rate"] == "share"
    # A numeric column with a gap is written out: blank, not "None"; whole, not 62.000000.
    assert shown.households_before.tolist() == ["62", ""]
    assert kinds["households_before"] == "text"
    assert shown.note.tolist() == ["moved", ""]
    assert frame.on_time_rate.tolist() == [0.97846, 0.482]  # the caller's frame is untouched


def test_one_number_reads_the_same_everywhere() -> None:
    assert number_text(0.97846, "on_time_rate", "share") == "97.8 %"
    assert number_text(0.5, "coverage", "share") == "50.0 %"
    assert number_text(12633.0, "received", "count") == "12,633"
    assert number_text(1.23456, "area_km2", "decimal") == "1.235"
    assert number_text(None, "received", "count") == ""
    assert number_text(float("nan"), "coverage", "share") == ""


def test_a_proposal_compares_in_words_and_one_format_per_metric() -> None:
    compare = pd.DataFrame(
        {"before": [7.0, 62.0, 0.5, 0.31234], "after": [8.0, 62.5, 0.625, 0.2]},
        index=["n_grids", "households_median", "share_within_rule", "workload_cv"],
    )
    table = compare_table(compare, "zh")
    assert table.metric.tolist() == ["网格数", "户数中位数", "符合标准的比例", "工作量离散系数"]
    assert table.before.tolist() == ["7", "62", "50.0 %", "0.31"]
    assert table.after.tolist() == ["8", "62.5", "62.5 %", "0.20"]
    assert compare_table(compare, "en").metric.tolist()[0] == "Grids"

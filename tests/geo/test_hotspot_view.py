"""What the 热点研判 page shows, in either language: reasons, ranked grids, warnings, legends."""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import shapely

from geo.core.i18n import Text
from geo.grids.aggregate import IssueFilter
from geo.hotspots.emerging import CATEGORIES
from geo.hotspots.local import HOTSPOT_CLASSES
from geo.views.hotspots import (
    ALERT_COLUMNS,
    RANKED_COLUMNS,
    HotspotView,
    _reasons,
    _top_categories,
    alert_table,
    class_labels,
    grid_reason,
    ranked_table,
)

CJK = re.compile(r"[\u3400-\u9fff]")


def _row(**changes) -> dict:
    row = {
        "grid_code": "G1",
        "hotspot_class": "hot_95",
        "count": 12,
        "previous": 4,
        "change": 2.0,
        "neighbour_mean": 6.25,
        "expected": 4.0,
        "area_count": 37,
        "area_expected": 14.8,
        "emerging_category": "intensifying_hot",
        "lisa_type": "HH",
        "top_categories": Text("环境卫生 8、噪音扰民 4", "环境卫生 8, 噪音扰民 4"),
    }
    return row | changes


def test_reason_of_a_hot_grid_in_both_languages():
    (reason,) = _reasons(pd.DataFrame([_row()]), IssueFilter(), 30)
    assert reason.zh == (
        "该网格及周边近30天诉求显著多于按居民数应有的件数（置信度95%，已校正多重比较）："
        "本网格及周边 37 件，应有 14.8 件（2.5 倍）；本网格 12 件，应有 4.0 件，较前30天上升200%；"
        "时空模式：加强热点；局部聚集：高-高；主要类别：环境卫生 8、噪音扰民 4。"
    )
    assert reason.en == (
        "This grid and its neighbours had significantly more issues in the last 30 days than "
        "their residents would lead one to expect (95 % confidence, corrected for multiple "
        "comparisons): 37 there against 14.8 expected (2.5 times); 12 in this grid against 4.0, "
        "up 200% on the previous 30 days; pattern over time: Intensifying hot spot; local "
        "cluster: high-high; main categories: 环境卫生 8, 噪音扰民 4."
    )
    # Raw counts tested: the words say so and compare with the neighbours instead.
    (counts,) = _reasons(pd.DataFrame([_row()]), IssueFilter(), 30, by_count=True)
    assert counts.zh.startswith("按诉求件数（未考虑居民多少）该网格及周边近30天诉求显著偏高")
    assert "本网格 12 件，周边网格平均 6.2 件" in counts.zh


def test_reason_of_a_cold_grid_with_categories_and_nothing_before():
    row = _row(
        hotspot_class="cold_90",
        count=0,
        previous=0,
        change=float("nan"),
        emerging_category="no_pattern",
        lisa_type="not_significant",
        top_categories="",
    )
    flt = IssueFilter(categories=("环境卫生", "噪音扰民"))
    row |= {"area_count": 3, "area_expected": 14.8}
    (reason,) = _reasons(pd.DataFrame([row]), flt, 7)
    assert reason.zh == (
        "该网格及周边近7天环境卫生、噪音扰民类诉求显著少于按居民数应有的件数（置信度90%，"
        "已校正多重比较）：本网格及周边 3 件，应有 14.8 件（0.2 倍）；本网格 0 件，应有 4.0 件，"
        "前7天无诉求。"
    )
    assert reason.en.startswith(
        "This grid and its neighbours had significantly fewer 环境卫生, 噪音扰民 issues in the "
        "last 7 days than their residents would lead one to expect (90 % confidence"
    )
    assert reason.en.endswith(", none in the previous 7 days.")


def test_top_categories_list_each_grid_in_each_language():
    selected = pd.DataFrame(
        {"grid_code": ["G1", "G1", "G1", "G2"], "category": ["甲", "乙", "甲", "甲"]}
    )
    table = pd.DataFrame({"grid_code": ["G1", "G2", "G3"]})
    assert _top_categories(selected, table) == [
        Text("甲 2、乙 1", "甲 2, 乙 1"),
        Text("甲 1", "甲 1"),
        "",
    ]


def _view() -> HotspotView:
    reason = Text("原因甲", "reason A")
    grids = gpd.GeoDataFrame(
        {
            "grid_code": ["G1", "G2"],
            "grid_name": ["一网格", "二网格"],
            "count": [9, 1],
            "expected": [3.04, 1.5],
            "ratio": [9 / 3.04, 1 / 1.5],
            "gi_z": [3.1, -0.2],
            "p_norm": [0.0019, 0.84],
            "p_sim": [float("nan"), float("nan")],
            "p_fdr": [0.01, 0.9],
            "hotspot_class": ["hot_99", "not_significant"],
            "reason": [reason, ""],
        },
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
        crs="EPSG:4549",
    )
    return HotspotView(grids, pd.DataFrame(grids.drop(columns="geometry").iloc[:1]), 30)


def test_ranked_table_and_grid_reason_in_the_language():
    view = _view()
    table = ranked_table(view, "en")
    assert list(table.columns) == list(RANKED_COLUMNS)
    assert table["reason"].tolist() == ["reason A"]
    # Each grid's own figures: its count, expectation, ratio, class and uncorrected p.
    assert table.iloc[0][["count", "expected", "ratio", "hotspot_class", "p_value"]].tolist() == [
        9, 3.0, 3.0, "Hot spot, 99 %", 0.0019]  # fmt: skip
    assert ranked_table(view, "zh")["reason"].tolist() == ["原因甲"]
    assert grid_reason(view, "G1", "en") == "reason A"
    assert grid_reason(view, "G2", "en") == "Hot-spot class: Not significant"
    assert grid_reason(view, "G2", "zh") == "热点等级: 不显著"


def test_alert_table_names_the_kind_and_gives_the_evidence_in_the_language():
    alerts = pd.DataFrame(
        {
            "alert_id": ["BU-1"],
            "kind": ["burst"],
            "grid_code": ["G1"],
            "category": ["劳动保障"],
            "first_at": [pd.Timestamp("2026-11-03 09:00")],
            "last_at": [pd.Timestamp("2026-11-03 10:00")],
            "n_events": [6],
            "evidence": [Text("六件", "six issues")],
        }
    )
    en = alert_table(alerts, "en", grid_names={"G1": "一网格"})
    assert en.iloc[0]["grid_name"] == "一网格 (G1)"
    assert alert_table(alerts, "en").iloc[0]["grid_name"] == "G1"
    assert list(en.columns) == list(ALERT_COLUMNS)
    assert en.iloc[0][["kind", "evidence"]].tolist() == [
        "Burst (possible group incident)",
        "six issues",
    ]
    assert alert_table(alerts, "zh").iloc[0]["evidence"] == "六件"


def test_legend_labels_cover_every_code_in_one_language():
    for column, codes in (("hotspot_class", HOTSPOT_CLASSES), ("emerging_category", CATEGORIES)):
        en, zh = class_labels(column, "en"), class_labels(column, "zh")
        assert list(en) == list(codes) == list(zh)
        assert not any(CJK.search(label) for label in en.values())
        assert all(CJK.search(label) for label in zh.values())

"""Every user-facing string of the dashboard, Chinese first and English second."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = {"zh": "中文", "en": "English"}

TEXT: dict[str, tuple[str, str]] = {
    "app_title": ("网格治理一张图", "GridGov — grid governance map"),
    "county": ("射阳县", "Sheyang County"),
    "language": ("语言", "Language"),
    "synthetic_banner": (
        "示例数据（合成）：县界、镇名和总量为真实数据，网格、住户、设施和诉求均为合成数据，不代表真实情况。",
        "Synthetic demo data: the county outline, town names and totals are real; grids, "
        "households, service points and issues are synthetic and describe nobody.",
    ),
    "building_demo": (
        "首次启动：正在生成射阳示例县…",
        "First start: building the Sheyang demo county…",
    ),
    "page_overview": ("一图观全域", "Overview"),
    "filters": ("筛选", "Filters"),
    "town": ("镇（区）", "Town / zone"),
    "village": ("村（居）", "Village / community"),
    "all": ("全部", "All"),
    "date_range": ("受理日期", "Received between"),
    "category": ("诉求类别", "Category"),
    "source": ("来源", "Source"),
    "kpi_issues": ("诉求总数", "Issues"),
    "kpi_open": ("在办", "Open"),
    "kpi_overdue": ("超期未办结", "Overdue"),
    "kpi_resolution": ("办结率", "Resolution rate"),
    "kpi_grids": ("网格数", "Grids"),
    "kpi_residents": ("居民数", "Residents"),
    "metric": ("着色指标", "Colour by"),
    "metric_count": ("诉求数", "Issue count"),
    "metric_rate": ("每千人诉求数", "Issues per 1,000 residents"),
    "grid_code": ("网格编码", "Grid code"),
    "grid_name": ("网格名称", "Grid"),
    "grid_worker": ("网格员", "Grid worker"),
    "households": ("户数", "Households"),
    "residents": ("人口", "Residents"),
    "count": ("诉求数", "Issues"),
    "open": ("在办", "Open"),
    "rate_per_1000": ("每千人", "Per 1,000"),
    "town_name": ("镇（区）", "Town"),
    "village_name": ("村（居）", "Village"),
    "scope_county": ("全县", "Whole county"),
    "back_to_county": ("返回全县", "Back to the county"),
    "click_hint": (
        "点击镇（区）可下钻；点击网格查看详情。",
        "Click a town to drill down; click a grid for its details.",
    ),
    "top_grids": ("诉求最多的网格", "Grids with the most issues"),
    "grid_details": ("网格详情", "Grid details"),
    "recent_issues": ("最近诉求（来电人信息已脱敏）", "Recent issues (caller data masked)"),
    "category_mix": ("类别构成", "Category mix"),
    "unassigned": ("未落格诉求", "Issues not in any grid"),
    "unassigned_note": (
        "这些诉求没有丢弃：坐标缺失、填反或落在县界外，请核实地址后补录坐标。",
        "Nothing is dropped: these have missing, swapped or out-of-county coordinates; check "
        "the address and correct the coordinates.",
    ),
    "assign_problem": ("原因", "Reason"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "coord_sys": ("坐标系", "Coordinates"),
    "ticket_id": ("工单号", "Ticket"),
    "received_at": ("受理时间", "Received"),
    "status": ("状态", "Status"),
    "caller_name": ("来电人", "Caller"),
    "caller_phone": ("电话", "Phone"),
    "subcategory": ("小类", "Subcategory"),
    "resolution_level": ("解决层级", "Resolved at"),
    "data_source": ("数据来源", "Data source"),
    "no_issues": ("当前筛选条件下没有诉求。", "No issues match the filters."),
    "as_of": ("数据截至", "Data as of"),
    "no_data": ("无数据", "No data"),
    "drill_to": ("进入", "Open"),
}


def translator(lang: str) -> Callable[[str], str]:
    """Return ``tr(key)`` for ``lang`` (``zh`` or ``en``); unknown keys come back as the key."""
    pos = 1 if lang == "en" else 0

    def tr(key: str) -> str:
        pair = TEXT.get(key)
        return pair[pos] if pair else key

    return tr

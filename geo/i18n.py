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
    "page_hotspots": ("热点研判", "Hotspots"),
    "analysis_settings": ("分析设置", "Analysis settings"),
    "bins": ("时空模式按", "Patterns over time by"),
    "bins_week": ("周（近两年每周）", "week (every week of two years)"),
    "bins_month": ("月（适合缓慢变化）", "month (for slow changes)"),
    "neighbours": ("邻域", "Neighbourhood"),
    "near_queen": ("相邻网格（共边或共点）", "adjacent grids (shared edge or corner)"),
    "near_knn10": ("最近的10个网格", "the 10 nearest grids"),
    "map_kind": ("地图", "Map"),
    "map_classes": ("热点/冷点（Gi*）", "Hot and cold spots (Gi*)"),
    "map_emerging": ("时空模式（新增、持续、加强…）", "Patterns over time"),
    "map_density": ("事件密度（原始事件）", "Event density (raw events)"),
    "hotspot_class": ("热点等级", "Hot-spot class"),
    "emerging_category": ("时空模式", "Pattern over time"),
    "hot_grids": ("热点网格（按显著性排序）", "Hot grids, most significant first"),
    "no_hot_grids": (
        "当前范围和时间窗口内没有显著热点网格。可放宽类别、延长时间窗口后再看。",
        "No significant hot grids in this scope and window; widen the categories or the window.",
    ),
    "reason": ("原因", "Why"),
    "reason_zh": ("原因", "Why"),
    "reason_en": ("原因", "Why"),
    "gi_z": ("Gi* z 值", "Gi* z"),
    "p_fdr": ("校正后 p 值", "FDR-adjusted p"),
    "pick_grid": ("查看网格", "Look at grid"),
    "trend_26w": ("近26周每周诉求数", "Issues per week, last 26 weeks"),
    "warnings": ("预警（最新在前）", "Warnings, newest first"),
    "no_warnings": ("当前范围内没有预警。", "No warnings in this scope."),
    "kind": ("类型", "Kind"),
    "first_at": ("开始", "From"),
    "last_at": ("最近", "Latest"),
    "n_events": ("件数", "Events"),
    "evidence_zh": ("依据", "Evidence"),
    "evidence_en": ("依据", "Evidence"),
    "hex_tooltip": (
        "该六边形内事件数：{elevationValue}",
        "Events in this hexagon: {elevationValue}",
    ),
    "page_services": ("15分钟服务圈", "15-minute circles"),
    "service_type": ("服务类型", "Service type"),
    "全部基本服务": ("全部基本服务", "All essential services"),
    "党群服务中心": ("党群服务中心", "Party-mass service centre"),
    "非诉讼服务中心": ("非诉讼服务中心", "Non-litigation service centre"),
    "新时代文明实践站": ("新时代文明实践站", "Civilization practice station"),
    "卫生室": ("卫生室", "Clinic"),
    "学校": ("学校", "School"),
    "养老服务站": ("养老服务站", "Elderly care"),
    "警务室": ("警务室", "Police post"),
    "travel_mode": ("出行方式", "Travel mode"),
    "mode_walk": ("步行", "Walk"),
    "mode_bike": ("自行车", "Bicycle"),
    "mode_ebike": ("电动车", "E-bike"),
    "mode_car": ("小汽车", "Car"),
    "minutes": ("时间（分钟）", "Minutes"),
    "minutes_standard": ("按标准", "Standard"),
    "engine": ("测算方法", "Method"),
    "engine_line": ("直线距离×绕行系数", "Straight line × detour"),
    "engine_network": ("道路网络", "Road network"),
    "no_roads": ("本县数据无道路图层，只能按直线距离测算。", "No road layer: straight line only."),
    "coverage_county": ("全县覆盖率", "County coverage"),
    "coverage_scope": ("本区域覆盖率", "Coverage here"),
    "uncovered": ("未覆盖居民", "Residents outside"),
    "service_count": ("设施数", "Service points"),
    "target_85": ("目标 85%", "target 85 %"),
    "coverage": ("覆盖率", "Coverage"),
    "coverage_pct": ("覆盖率（%）", "Coverage (%)"),
    "covered_residents": ("覆盖居民", "Covered"),
    "uncovered_residents": ("未覆盖居民", "Outside"),
    "nearest_minutes_median": ("到最近设施（中位数，分钟）", "Median minutes to nearest"),
    "no_residents": ("无居民", "No residents"),
    "gap_list": ("缺口网格（未覆盖居民最多）", "Gaps: grids with most residents outside"),
    "no_gaps": ("本区域居民全部覆盖。", "Everybody here is inside the circle."),
    "town_coverage": ("各镇（区）覆盖率", "Coverage per town"),
    "siting": ("新增设施选址", "Where to add service points"),
    "siting_type": ("选址设施类型", "Type to site"),
    "candidates": ("候选点", "Candidates"),
    "cand_grids": ("网格中心", "Grid centres"),
    "cand_villages": ("村（居）中心", "Village centres"),
    "new_sites": ("新增设施数 K", "New sites K"),
    "before": ("新增前", "Before"),
    "after": ("新增后", "After"),
    "solve_exact": ("精确求解（CBC）", "Solve exactly (CBC)"),
    "exact_note": (
        "滑块为贪心算法的即时结果；精确求解给出最优方案并注明是否已证明最优。",
        "The slider shows the fast greedy answer; the exact solve gives the optimum.",
    ),
    "proven_optimal": ("已证明最优", "proven optimal"),
    "greedy": ("贪心", "greedy"),
    "proposal": ("建议新增", "Proposed"),
    "rank": ("序号", "Rank"),
    "name": ("名称", "Name"),
    "added_residents": ("新增覆盖居民", "Residents added"),
    "download_gpkg": ("下载 GeoPackage", "Download GeoPackage"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "services_explain_title": ("测算口径", "How this is measured"),
    "services_explain_text": (
        "按住户点计算：每户到最近一处该类设施的出行时间，不超过目标分钟数即为覆盖，"
        "覆盖率 = 覆盖居民 ÷ 居民（按人口加权）。目标按《城市居住区规划设计标准》(GB 50180-2018) "
        "的5/10/15分钟生活圈，全国目标为85%的居民在15分钟内。直线法：直线距离×绕行系数1.3÷速度"
        "（步行4.5、自行车12、电动车18、小汽车30 公里/小时）；道路网络法：沿道路的最短路径，"
        "只在桥梁处过河。全部基本服务：每一类基本服务都在各自目标时间内才算覆盖。",
        "Per household: the travel time to the nearest service point of the type; within the "
        "target minutes counts as covered, and coverage = covered residents ÷ residents. "
        "Targets follow the 5/10/15-minute life circles of GB 50180-2018; the national goal is "
        "85 % of residents within 15 minutes. Straight line: distance × detour 1.3 ÷ speed "
        "(walk 4.5, bicycle 12, e-bike 18, car 30 km/h); road network: shortest path along "
        "roads, crossing rivers only at bridges. All essential services: covered only when "
        "every essential type is within its own target.",
    ),
    "explain_title": ("名词解释", "What the words mean"),
    "explain_text": (
        "**热点**：一个网格连同相邻网格的诉求数明显高于全县平均（Getis-Ord Gi* 统计），"
        "不是偶然波动。**置信度 99%/95%/90%**：偶然出现这样聚集的可能性不超过 1%/5%/10%。"
        "**已校正多重比较（FDR）**：全县同时检验 3,689 个网格，总会有少数网格碰巧偏高；"
        "Benjamini–Hochberg 校正把这类误报的比例控制在上述水平以内。"
        "**时空模式**按月（可选按周）统计近两年，每期一个统计时段：新增（只有最近一期是热点）、"
        "连续（最近连续几期是热点）、加强（九成以上时段是热点且越来越热）、持续（九成以上时段是热点）、"
        "减弱（九成以上时段是热点但在降温）、零星（时有时无）、振荡（曾是冷点，现为热点）、"
        "历史（过去九成以上时段是热点，最近一期不是）；冷点同理。**局部聚集**（Local Moran）："
        "高-高为高值网格被高值网格包围，"
        "高-低为孤立的高值网格。",
        "**Hot spot**: a grid whose neighbourhood (the grid and its neighbours) has clearly more "
        "issues than the county average (Getis-Ord Gi*), beyond chance. **99/95/90 % "
        "confidence**: at most a 1/5/10 % chance of such a cluster by chance. **Corrected for "
        "multiple comparisons (FDR)**: testing 3,689 grids at once, a few look high by chance; "
        "the Benjamini–Hochberg correction keeps the share of such false alarms within that "
        "level. **Patterns over time** use monthly (or weekly) bins over two years: new (hot only "
        "in the last bin), consecutive (hot in the last few bins in a row), intensifying (hot in "
        "90 % of bins and getting hotter), persistent (hot in 90 % of bins), diminishing (hot in "
        "90 % of bins but cooling), sporadic (on and off), oscillating (was cold, now hot), "
        "historical (hot in 90 % of bins but not the last); the same for cold spots. **Local "
        "clusters** (local Moran): high-high is a high grid among high grids, high-low an "
        "isolated high grid.",
    ),
}


def translator(lang: str) -> Callable[[str], str]:
    """Return ``tr(key)`` for ``lang`` (``zh`` or ``en``); unknown keys come back as the key."""
    pos = 1 if lang == "en" else 0

    def tr(key: str) -> str:
        pair = TEXT.get(key)
        return pair[pos] if pair else key

    return tr

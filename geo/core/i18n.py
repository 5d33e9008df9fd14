"""Every user-facing string of the dashboard, Chinese first and English second.

One mechanism: a :class:`Text` holds one message in both languages. The catalog
:data:`TEXT` maps a key to its :class:`Text`; :func:`translator` gives a page its
``tr(key, **params)`` in one language, :func:`text` gives the :class:`Text` itself (for
domain code that composes a message and lets the page pick the language), and :func:`pick`
renders either a :class:`Text` or a plain string in a language.

Where words live: what a page, a layer or :mod:`geo.views` shows under a name (titles,
labels, headings, legends, the words of codes such as ``hot_class_hot_99`` or
``alert_kind_burst``) is a catalog key; a message domain code composes from its findings
(an alert's evidence) is a :class:`Text` built where it is found. Data travel as codes and
:class:`Text` values and are put in one language only when shown or written out.

An unknown key is a bug. Under ``GRIDGOV_STRICT_I18N=1`` (the test suite sets it) it raises
:class:`KeyError`; otherwise it is logged once and the key itself is shown, so a missing
entry never takes a page down.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from geo.core.settings import get_settings

#: The UI languages, each named in its own language (the switch shows both).
LANGUAGES = {"zh": "中文", "en": "English"}

_log = logging.getLogger(__name__)

# The catalog's entries as (Chinese, English) pairs; :data:`TEXT` holds them as Text values.
_ENTRIES: dict[str, tuple[str, str]] = {
    "app_title": ("网格治理一张图", "Grid governance map"),
    "population_approximate": (
        "人口为近似值：未导入住户点，各网格的常住人口均匀分布在格内。",
        "Population is approximate: no household points were imported, so each grid's "
        "residents are spread evenly inside it.",
    ),
    "language": ("语言", "Language"),
    "table_empty": ("无记录", "No records"),
    "uploader_button": ("上传", "Upload"),
    "sign_in_title": ("网格治理一张图 · 登录", "GridGov · sign in"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "sign_in": ("登录", "Sign in"),
    "sign_in_sso": ("统一身份认证登录", "Sign in with the county's single sign-on"),
    "demo_accounts_note": (
        "示例数据库的演示账号（密码均为 {password}）；正式数据库没有这些账号。",
        "Demo accounts of the synthetic store (password {password} for each); a real store "
        "has none of them.",
    ),
    "role": ("角色", "Role"),
    "signed_in_as": ("已登录：{name}（{role}）", "Signed in: {name} ({role})"),
    "sign_out": ("退出登录", "Sign out"),
    "page_error": (
        "页面出错了，已记录（编号 {ref}）。请刷新重试；如再次出现，请把编号告诉管理员。",
        "Something went wrong and was logged (reference {ref}). Reload to try again; if it "
        "happens again, give the reference to an administrator.",
    ),
    "page_admin": ("系统管理", "Administration"),
    "admin_accounts": ("账号", "Accounts"),
    "admin_may": ("管理账号和审计", "manage accounts and the audit"),
    "unmask_title": ("查看来电人完整信息", "See a caller in full"),
    "unmask_note": (
        "来电人姓名、电话默认脱敏。确因工作需要，可逐单查看完整信息；查看人、工单和理由记入审计。",
        "Callers' names and phones are masked. Where the work needs it, one ticket at a time "
        "can be shown in full; who, which ticket and why go into the audit.",
    ),
    "unmask_reason": ("查看理由", "Reason"),
    "unmask_go": ("查看完整信息", "Show in full"),
    "admin_pick_towns": ("选择镇（区）", "Choose towns"),
    "plan_pick_grids": ("选择要合并的网格", "Choose the grids to merge"),
    "audit_at": ("时间（北京时间）", "When (Beijing time)"),
    "audit_username": ("用户名", "Username"),
    "audit_role": ("角色", "Role"),
    "audit_action": ("操作", "Action"),
    "audit_scope": ("范围", "Scope"),
    "audit_object": ("对象", "Object"),
    "audit_detail": ("详情", "Detail"),
    "audit_via": ("登录方式", "Signed in with"),
    "admin_audit": ("审计记录", "Audit trail"),
    "admin_add": ("新增账号", "Add an account"),
    "admin_grids": ("网格代码（网格员，逗号分隔）", "Grid codes (grid workers, comma-separated)"),
    "admin_added": ("已新增账号 {name}", "Account {name} added"),
    "admin_change": ("停用、启用或重置密码", "Disable, enable or set a new password"),
    "admin_new_password": ("新密码（重置时填写）", "New password (for a reset)"),
    "admin_disable": ("停用", "Disable"),
    "admin_enable": ("启用", "Enable"),
    "admin_reset": ("重置密码", "Set the new password"),
    "admin_was_reset": ("已重置 {name} 的密码并解除锁定", "New password set for {name}, unlocked"),
    "admin_action": ("操作类型", "Action"),
    "admin_audit_rows": ("共 {n} 条记录", "{n} row(s)"),
    "admin_audit_download": ("下载审计记录（CSV）", "Download the audit (CSV)"),
    "role_county": ("县指挥中心", "County command centre"),
    "role_town": ("镇（区）领导", "Town leader"),
    "role_grid": ("网格员", "Grid worker"),
    "role_planner": ("规划员", "Planner"),
    "role_reviewer": ("审核人", "Reviewer"),
    "role_viewer": ("只读", "Viewer"),
    "role_admin": ("管理员", "Administrator"),
    "display_name": ("姓名", "Name"),
    "towns": ("镇（区）", "Towns"),
    "grids": ("网格", "Grids"),
    "disabled": ("已停用", "Disabled"),
    "locked_until": ("锁定至", "Locked until"),
    "skip_to_content": ("跳到正文", "Skip to main content"),
    "uploader_limit": ("单个文件不超过 {mb} MB", "{mb}MB per file"),
    "sep_list": ("、", ", "),
    "sep_clause": ("；", "; "),
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
    "kpi_issues": ("受理数", "Received"),
    "kpi_open": ("在办", "Open"),
    "kpi_overdue": ("超期在办", "Open overdue"),
    "kpi_now_help": (
        "当前状态：截至 {as_of} 仍处于此状态的全部诉求，不论何时受理（与指挥大屏一致）。",
        "State now: every issue in this state at {as_of}, whenever it was received (as on "
        "the wall).",
    ),
    "kpi_window_help": (
        "期间：{start} 至 {end} 受理的诉求。",
        "Period: issues received from {start} to {end}.",
    ),
    "kpi_resolution": ("办结率", "Resolution rate"),
    "kpi_on_time": ("按期办结率", "On-time rate"),
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
    "week_of": ("周起始日", "Week of"),
    "open": ("在办", "Open"),
    "rate_per_1000": ("每千人", "Per 1,000"),
    "town_name": ("镇（区）", "Town"),
    "village_name": ("村（居）", "Village"),
    "scope_county": ("全县", "Whole county"),
    "back_to_county": ("返回全县", "Back to the county"),
    "click_hint": (
        "点击任一网格，进入其所在镇（区）并查看该网格详情。",
        "Click any grid to open its town and the grid's details.",
    ),
    "click_hint_town": ("点击网格查看详情。", "Click a grid for its details."),
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
    # the codes of assign_problem (and of the reader's coord_problem)
    "assign_problem_no_coords": ("无坐标或坐标无法解析", "missing or unparseable coordinates"),
    "assign_problem_swapped": ("经纬度疑似填反", "lon and lat look swapped"),
    "assign_problem_outside": ("坐标不在任何网格内", "outside every grid"),
    "assign_problem_village_level": (
        "按地址定位到村（居），未定位到门牌",
        "placed at village level from the address, not at a house",
    ),
    "assign_problem_no_address_match": (
        "仅有地址，且地址未能匹配标准地址或村（居）",
        "address only, and it matched no standard address or village",
    ),
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
    "near_rook": ("共边的网格（不含只共角的）", "grids sharing an edge (not a corner only)"),
    "global_window": ("时空模式的比较范围", "Patterns over time compared with"),
    "global_window_neighborhood": ("邻近时段", "the neighbouring time steps"),
    "global_window_individual": ("当期", "the same time step only"),
    "global_window_cube": ("全部时段", "the whole history"),
    "time_step": ("邻域包含的前几期", "Earlier time steps in the neighbourhood"),
    "time_step_help": (
        "每一期与本网格及相邻网格前几期的诉求一起看（ArcGIS 的“邻域时间步长”，缺省 1）",
        "each time step is read together with the grid's and its neighbours' earlier steps "
        "(ArcGIS's neighbourhood time step; default 1)",
    ),
    "near_queen": ("相邻网格（共边或共点）", "adjacent grids (shared edge or corner)"),
    "near_knn10": ("最近的10个网格", "the 10 nearest grids"),
    "map_kind": ("地图", "Map"),
    "map_classes": ("热点/冷点（Gi*）", "Hot and cold spots (Gi*)"),
    "map_emerging": ("时空模式（新增、持续、加强…）", "Patterns over time"),
    "map_density": ("事件密度（原始事件）", "Event density (raw events)"),
    "map_scan": ("可能的聚集区（扫描统计）", "Likely clusters (scan statistic)"),
    "scan_cluster_label": (
        "聚集区 {k}（{ratio:.1f} 倍，p={p:.3f}）",
        "Cluster {k} ({ratio:.1f} times, p={p:.3f})",
    ),
    "scan_none": ("不在聚集区", "Not in a cluster"),
    "scan_clusters": ("扫描统计找到的聚集区", "Clusters the scan statistic found"),
    "scan_note": (
        "第二种方法（库尔多夫扫描统计，疾病监测的标准方法）：在全域寻找诉求明显多于按居民数"
        "应有件数的一片相邻网格，p 值由 999 次随机模拟得出。与左侧热点互相印证。",
        "A second method (Kulldorff's scan statistic, the standard in disease surveillance): "
        "the groups of neighbouring grids with clearly more issues than their residents would "
        "lead one to expect, with p-values from 999 random simulations. Compare it with the "
        "hot spots.",
    ),
    "no_scan_clusters": (
        "当前时间窗口内没有显著的聚集区。",
        "No significant cluster in this window.",
    ),
    "cluster": ("聚集区", "Cluster"),
    "n_grids": ("网格数", "Number of grids"),
    "scan_p": ("p 值（随机模拟）", "p (simulated)"),
    "hotspot_class": ("热点等级", "Hot-spot class"),
    "emerging_category": ("时空模式", "Pattern over time"),
    "hot_grids": ("热点网格（按显著性排序）", "Hot grids, most significant first"),
    "no_hot_grids": (
        "当前范围和时间窗口内没有显著热点网格。可放宽类别、延长时间窗口后再看。",
        "No significant hot grids in this scope and window; widen the categories or the window.",
    ),
    "reason": ("原因", "Why"),
    "gi_z": ("Gi* z 值", "Gi* z"),
    "expected": ("按居民数应有", "Expected for residents"),
    "ratio": ("倍数", "Times expected"),
    "p_value": ("本网格 p 值（校正前）", "Own p (before correction)"),
    "hot_value": ("检验的量", "What is tested"),
    "hot_value_excess": ("超出按居民数应有的件数", "Excess over the count expected for residents"),
    "hot_value_eb": (
        "平滑后的千人诉求率（经验贝叶斯）",
        "Smoothed rate per 1,000 (Empirical Bayes)",
    ),
    "hot_value_eb_spatial": (
        "按周边平滑的千人诉求率（空间经验贝叶斯）",
        "Rate per 1,000 smoothed by the neighbours (spatial Empirical Bayes)",
    ),
    "hot_value_rate": ("千人诉求率（未平滑）", "Rate per 1,000 (unsmoothed)"),
    "hot_value_count": ("诉求件数（随居民多少而变）", "Raw counts (they follow population)"),
    "hot_inference": ("显著性判断", "Significance"),
    "hot_inference_analytic": (
        "正态近似并校正多重比较（ArcGIS 热点分析方法）",
        "Normal approximation, corrected for multiple comparisons (the ArcGIS method)",
    ),
    "hot_inference_permutation": (
        "条件置换检验并校正多重比较",
        "Conditional permutations, corrected for multiple comparisons",
    ),
    "p_fdr": ("校正后 p 值", "FDR-adjusted p"),
    "pick_grid": ("查看网格", "Look at grid"),
    "trend_26w": ("近26周每周诉求数", "Issues per week, last 26 weeks"),
    "warnings": ("预警（最新在前）", "Warnings, newest first"),
    "no_warnings": ("当前范围内没有预警。", "No warnings in this scope."),
    "kind": ("类型", "Kind"),
    "first_at": ("开始", "From"),
    "last_at": ("最近", "Latest"),
    "n_events": ("件数", "Events"),
    "evidence": ("依据", "Evidence"),
    # hot-spot classes (Gi*), patterns over time, local clusters, kinds of warning
    "hot_class_hot_99": ("热点（99%）", "Hot spot, 99 %"),
    "hot_class_hot_95": ("热点（95%）", "Hot spot, 95 %"),
    "hot_class_hot_90": ("热点（90%）", "Hot spot, 90 %"),
    "hot_class_not_significant": ("不显著", "Not significant"),
    "hot_class_cold_90": ("冷点（90%）", "Cold spot, 90 %"),
    "hot_class_cold_95": ("冷点（95%）", "Cold spot, 95 %"),
    "hot_class_cold_99": ("冷点（99%）", "Cold spot, 99 %"),
    "emerging_new_hot": ("新增热点", "New hot spot"),
    "emerging_consecutive_hot": ("连续热点", "Consecutive hot spot"),
    "emerging_intensifying_hot": ("加强热点", "Intensifying hot spot"),
    "emerging_persistent_hot": ("持续热点", "Persistent hot spot"),
    "emerging_diminishing_hot": ("减弱热点", "Diminishing hot spot"),
    "emerging_sporadic_hot": ("零星热点", "Sporadic hot spot"),
    "emerging_oscillating_hot": ("振荡热点", "Oscillating hot spot"),
    "emerging_historical_hot": ("历史热点", "Historical hot spot"),
    "emerging_new_cold": ("新增冷点", "New cold spot"),
    "emerging_consecutive_cold": ("连续冷点", "Consecutive cold spot"),
    "emerging_intensifying_cold": ("加强冷点", "Intensifying cold spot"),
    "emerging_persistent_cold": ("持续冷点", "Persistent cold spot"),
    "emerging_diminishing_cold": ("减弱冷点", "Diminishing cold spot"),
    "emerging_sporadic_cold": ("零星冷点", "Sporadic cold spot"),
    "emerging_oscillating_cold": ("振荡冷点", "Oscillating cold spot"),
    "emerging_historical_cold": ("历史冷点", "Historical cold spot"),
    "emerging_no_pattern": ("无明显模式", "No pattern detected"),
    "cluster_HH": ("高-高", "high-high"),
    "cluster_LL": ("低-低", "low-low"),
    "cluster_HL": ("高-低", "high-low"),
    "cluster_LH": ("低-高", "low-high"),
    "cluster_not_significant": ("不显著", "not significant"),
    "alert_kind_burst": ("群体性事件苗头", "Burst (possible group incident)"),
    "alert_kind_repeat_caller": ("重复投诉（同一来电人）", "Repeat complaints (same caller)"),
    "alert_kind_repeat_place": ("重复投诉（同一地点）", "Repeat complaints (same place)"),
    "alert_kind_surge": ("诉求激增", "Surge"),
    # why a grid is hot or cold (the 原因 column), in parts
    "hot_reason_hot": (
        "该网格及周边近{days}天{what}诉求显著多于按居民数应有的件数（置信度{level}%，已校正多重"
        "比较）：本网格及周边 {area} 件，应有 {area_expected:.1f} 件（{area_ratio:.1f} 倍）；"
        "本网格 {count} 件，应有 {expected:.1f} 件{change}",
        "This grid and its neighbours had significantly more {what}issues in the last {days} "
        "days than their residents would lead one to expect ({level} % confidence, corrected "
        "for multiple comparisons): {area} there against {area_expected:.1f} expected "
        "({area_ratio:.1f} times); {count} in this grid against {expected:.1f}{change}",
    ),
    "hot_reason_cold": (
        "该网格及周边近{days}天{what}诉求显著少于按居民数应有的件数（置信度{level}%，已校正多重"
        "比较）：本网格及周边 {area} 件，应有 {area_expected:.1f} 件（{area_ratio:.1f} 倍）；"
        "本网格 {count} 件，应有 {expected:.1f} 件{change}",
        "This grid and its neighbours had significantly fewer {what}issues in the last {days} "
        "days than their residents would lead one to expect ({level} % confidence, corrected "
        "for multiple comparisons): {area} there against {area_expected:.1f} expected "
        "({area_ratio:.1f} times); {count} in this grid against {expected:.1f}{change}",
    ),
    "hot_reason_hot_counts": (
        "按诉求件数（未考虑居民多少）该网格及周边近{days}天{what}诉求显著偏高（置信度{level}%，"
        "已校正多重比较）：本网格 {count} 件，周边网格平均 {around:.1f} 件{change}",
        "By raw counts (residents not considered), this grid and its neighbours had "
        "significantly more {what}issues in the last {days} days ({level} % confidence, "
        "corrected for multiple comparisons): {count} here, {around:.1f} on average in the "
        "neighbouring grids{change}",
    ),
    "hot_reason_cold_counts": (
        "按诉求件数（未考虑居民多少）该网格及周边近{days}天{what}诉求显著偏低（置信度{level}%，"
        "已校正多重比较）：本网格 {count} 件，周边网格平均 {around:.1f} 件{change}",
        "By raw counts (residents not considered), this grid and its neighbours had "
        "significantly fewer {what}issues in the last {days} days ({level} % confidence, "
        "corrected for multiple comparisons): {count} here, {around:.1f} on average in the "
        "neighbouring grids{change}",
    ),
    "hot_reason_what": ("{categories}类", "{categories} "),
    "hot_reason_up": (
        "，较前{days}天上升{change:.0%}",
        ", up {change:.0%} on the previous {days} days",
    ),
    "hot_reason_down": (
        "，较前{days}天下降{change:.0%}",
        ", down {change:.0%} on the previous {days} days",
    ),
    "hot_reason_none_before": ("，前{days}天无诉求", ", none in the previous {days} days"),
    "hot_reason_pattern": ("时空模式：{pattern}", "pattern over time: {pattern}"),
    "hot_reason_cluster": ("局部聚集：{cluster}", "local cluster: {cluster}"),
    "hot_reason_top": ("主要类别：{top}", "main categories: {top}"),
    "hot_reason_end": ("。", "."),
    "hex_tooltip": (
        "该六边形内事件数：{elevationValue}",
        "Events in this hexagon: {elevationValue}",
    ),
    "page_services": ("15分钟服务圈", "15-minute circles"),
    "page_loop": ("闭环管理", "Closed loop"),
    "page_planner": ("网格规划", "Grid planner"),
    "page_wall": ("指挥大屏", "Wall screen"),
    "page_intake": ("数据接入", "Data intake"),
    "intake_tab_tickets": ("工单导入", "Tickets"),
    "intake_tab_quarantine": ("待处理行", "Quarantine"),
    "intake_tab_ledger": ("接入台账", "Ledger"),
    "intake_upload": (
        "平台导出的工单表（Excel 或 CSV；标题行、合并单元格、多个工作表均可）",
        "A platform's ticket export (.xlsx, .xls, .csv; title rows, merged cells and several "
        "sheets are fine)",
    ),
    "intake_source": ("来源", "Source"),
    "intake_source_12345": ("12345 热线", "12345 hotline"),
    "intake_source_patrol": ("网格巡查", "Grid patrol"),
    "intake_source_petition": ("阳光信访", "Petitions"),
    "intake_source_transfer": ("部门移交", "Department transfer"),
    "intake_coords": ("坐标系", "Coordinate system"),
    "intake_coords_auto": ("按来源上次所用（缺省 WGS84）", "As last time for the source (WGS84)"),
    "intake_sheet": ("只读工作表（可空）", "Read this sheet only (optional)"),
    "intake_header_row": ("表头所在行（0 = 自动识别）", "Header row (0 = find it)"),
    "intake_go": ("导入", "Import"),
    "intake_done": (
        "{file}：共 {rows_in} 行 = 新增 {new} + 更新 {updated} + 未变 {unchanged} + 待处理 "
        "{quarantined} + 合计行 {skipped}",
        "{file}: {rows_in} rows = {new} new + {updated} updated + {unchanged} unchanged + "
        "{quarantined} quarantined + {skipped} total rows",
    ),
    "intake_rows_in": ("读入行数", "Rows in"),
    "intake_new": ("新增", "New"),
    "intake_updated": ("更新", "Updated"),
    "intake_unchanged": ("未变", "Unchanged"),
    "intake_quarantined": ("待处理", "Quarantined"),
    "intake_total_rows": ("合计行", "Total rows"),
    "intake_sheet_col": ("工作表", "Sheet"),
    "intake_header_col": ("表头行", "Header row"),
    "intake_landed_col": ("入库", "Landed"),
    "intake_file_col": ("文件", "File"),
    "intake_row_col": ("行号", "Row"),
    "intake_ticket_col": ("工单编号", "Ticket id"),
    "intake_column_col": ("问题列", "Column"),
    "intake_reason_col": ("原因", "Reason"),
    "intake_hint_col": ("怎么改", "How to fix"),
    "intake_drop_col": ("丢弃", "Drop"),
    "intake_q_none": ("没有待处理的行。", "Nothing in the quarantine."),
    "intake_q_pick": ("文件", "File"),
    "intake_q_edit": (
        "直接在表中更正单元格，然后重新导入；不是工单的行勾选“丢弃”。",
        "Correct the cells in the table, then import them again; tick Drop for rows that are "
        "not tickets.",
    ),
    "intake_q_refile": ("重新导入更正的行", "Import the corrected rows"),
    "intake_q_drop": ("丢弃勾选的行", "Drop the ticked rows"),
    "intake_q_dropped": ("已丢弃 {n} 行。", "{n} row(s) dropped."),
    "intake_q_download": ("下载待处理行（CSV）", "Download the quarantine (CSV)"),
    "intake_ledger_none": ("尚无接入记录。", "Nothing taken in yet."),
    "intake_failed": ("未能导入：{why}", "Not imported: {why}"),
    "intake_tab_onboard": ("县域接入", "Onboard a county"),
    "onboard_intro": (
        "上传本县的网格图层（GeoPackage、GeoJSON 或压缩的 Shapefile），可另附住户与服务点；"
        "先做网格检查，无误后写入新的存储，作为网格第 1 版。",
        "Upload the county's grid layer (GeoPackage, GeoJSON or a zipped Shapefile), with "
        "households and service points if you have them; the grids are checked first and, "
        "without errors, written into a new store as grid version 1.",
    ),
    "onboard_grids": ("网格图层（必需）", "Grid layer (required)"),
    "onboard_households": ("住户点（可选）", "Household points (optional)"),
    "onboard_services": ("服务点（可选）", "Service points (optional)"),
    "onboard_name": ("县名（可空，缺省取编码）", "County name (optional)"),
    "onboard_code": (
        "县级编码（可空，由网格编码推得）",
        "County code (optional, from the grid codes)",
    ),
    "onboard_file": ("存储文件名", "Store file name"),
    "onboard_go": ("检查并接入", "Check and onboard"),
    "onboard_blocked": (
        "网格检查发现 {n} 个错误，未写入：请更正后重新上传。",
        "The grid check found {n} error(s); nothing was written: fix them and upload again.",
    ),
    "onboard_done": (
        "{name}（{code}）已接入 {path}：{grids} 个网格，坐标系 {crs}。用 {env}={path} "
        "启动看板即打开该县。",
        "{name} ({code}) is onboarded into {path}: {grids} grids, CRS {crs}. Start the "
        "dashboard with {env}={path} to open it.",
    ),
    "onboard_exists": (
        "{path} 已存在：换一个文件名。",
        "{path} exists already: choose another file name.",
    ),
    "onboard_grids_col": ("网格", "Grid"),
    "onboard_severity_col": ("级别", "Severity"),
    "onboard_severity_error": ("错误", "error"),
    "onboard_severity_warning": ("提醒", "warning"),
    "no_tickets_yet": (
        "本县尚无诉求工单：在“数据接入”页导入 12345、巡查、信访或移交工单后即可研判热点。",
        "The county has no tickets yet: take in 12345, patrol, petition or transfer exports on "
        "the Data intake page, then hot spots can be analysed.",
    ),
    "history_too_short": (
        "诉求记录还太短，尚不能研判热点与时空趋势：积累满两个时段（周或月，可在侧栏切换）后再看。",
        "The ticket history is still too short for hot spots and trends over time: come back "
        "once it spans two periods (weeks or months, switch in the sidebar).",
    ),
    "no_service_points_yet": (
        "本县尚无服务点：在“数据接入”页接入县域时附上服务点图层，即可测算15分钟服务圈。",
        "The county has no service points yet: onboard it with its service point layer on the "
        "Data intake page to measure the 15-minute circles.",
    ),
    "who": ("经办人", "By"),
    "when": ("时间", "When"),
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
    "target_gap": (
        "{points:+.1f} 个百分点 / 目标 {target:.0%}",
        "{points:+.1f} pts / target {target:.0%}",
    ),
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
    "plan_whole_town": ("按全镇编辑", "Edit the whole town"),
    "plan_whole_town_help": (
        "打开后草案覆盖全镇，可在村（居）之间移交网格；多人同时编辑同一镇时更易冲突。",
        "The draft then covers the whole town, so grids can move between its villages; "
        "planners editing the same town at once will conflict more often.",
    ),
    "plan_conflict": (
        "保存冲突：{0} 已于 {1} 修改了这份草案。您的修改没有合并，已另存为草案 {2}（状态：冲突）。"
        "请切换村（居）后重新打开，核对后再改。",
        "Save conflict: {0} changed this draft at {1}. Your edits were not merged; they are kept "
        "as draft {2} (status: conflicted). Open the village again, compare and redo the edits.",
    ),
    "plan_invalid": ("图层有错误，未保存：", "The layer has errors and was not saved:"),
    "plan_need_reason": (
        "请填写发布原因（记入变更记录）。",
        "Enter the reason for publishing (it goes into the change log).",
    ),
    "plan_saved": ("草案已保存为第 {0} 版。", "Draft saved as revision {0}."),
    "plan_refused": (
        "不能发布：检查发现 {0} 个错误。请按“检查报告”中的提示修改后再发布。",
        "Not published: the check found {0} error(s). Fix them as the check report says, then "
        "publish.",
    ),
    "plan_published": (
        "已发布网格第 {0} 版；{1} 户住户换了网格，诉求已按新网格重新落格。",
        "Published grid version {0}; {1} households changed grid and issues were re-assigned.",
    ),
    "plan_errors_warnings": ("错误 / 警告", "Errors / warnings"),
    "plan_unsaved": ("{0} 项修改未保存", "{0} unsaved edit(s)"),
    "plan_revision": ("草案第 {0} 版", "Revision {0}"),
    "plan_draft": ("草案", "Draft"),
    "plan_legend": ("网格规模", "Grid size"),
    "plan_state_0": ("符合户数标准", "Within the standard"),
    "plan_state_1": ("超出户数/人口标准", "Outside the standard"),
    "plan_state_2": ("有错误（不能发布）", "Has errors (blocks publishing)"),
    "plan_draw_hint": (
        "地图左上角的绘图工具：画线（斜线按钮）拆分网格，画面（五边形按钮）重划边界；"
        "画线时在最后一点再点一次，或点“完成”结束。",
        "Drawing tools at the top left of the map: the line (slanted button) splits grids, the "
        "polygon (pentagon button) redraws a boundary; click the last point again, or Finish, "
        "to end a line.",
    ),
    "plan_op": ("操作", "Edit"),
    "plan_op_split": ("拆分", "Split"),
    "plan_op_merge": ("合并", "Merge"),
    "plan_op_redraw": ("重划边界", "Redraw"),
    "plan_op_move": ("移交他村", "Move"),
    "plan_op_renumber": ("重新编号", "Renumber"),
    "plan_op_rename": ("更名", "Rename"),
    "plan_draw_split": (
        "用地图左上角的画线工具，从网格外画过网格到另一侧，再点最后一点结束。",
        "With the line tool (top left of the map), draw from outside a grid across it to the "
        "other side, then click the last point again.",
    ),
    "plan_draw_redraw": (
        "用画面工具圈出要划给某个网格的范围（须与该网格相接），再选择该网格。",
        "With the polygon tool, outline the area a grid should take (touching that grid), then "
        "pick the grid.",
    ),
    "plan_line_cuts": ("画线穿过的网格：{0}", "The line cuts grid(s): {0}"),
    "plan_apply_split": ("沿画线拆分", "Split along the line"),
    "plan_grid_grows": ("扩大的网格", "Grid that grows"),
    "plan_apply_redraw": ("把所画范围划给该网格", "Give the drawn area to it"),
    "plan_merge_grids": (
        "要合并的网格（保留第一个的编码）",
        "Grids to merge (the first keeps its code)",
    ),
    "plan_apply_merge": ("合并", "Merge"),
    "plan_grid": ("网格", "Grid"),
    "plan_move_to": ("移交到", "Move to"),
    "plan_move_needs_town": (
        "移交需要全镇草案：请先打开“按全镇编辑”。",
        "Moving needs a town draft: switch on “Edit the whole town” first.",
    ),
    "plan_apply_move": ("移交", "Move"),
    "plan_apply_renumber": ("按自西北向东南重新编号", "Renumber north-west to south-east"),
    "plan_new_name": ("新名称", "New name"),
    "plan_apply_rename": ("更名", "Rename"),
    "plan_pending": ("未保存的修改：", "Edits not saved yet:"),
    "plan_signed_in": (
        "以 {name} 的名义保存或发布（记入变更记录）",
        "Saved or published as {name} (in the change log)",
    ),
    "plan_publish_needs_draft": (
        "没有可发布的草案：规划员先保存草案，再由另一位审核人发布。",
        "Nothing to publish yet: the planner saves the draft, then another reviewer publishes it.",
    ),
    "plan_reviewer_note": (
        "审核人：审阅规划员已保存的草案，填写理由后发布；不能发布本人编辑的草案。",
        "Reviewer: review the draft a planner saved, give the reason and publish it; nobody "
        "publishes their own draft.",
    ),
    "plan_reason": ("原因", "Reason"),
    "plan_reason_hint": ("例如：按新建小区拆分网格", "e.g. split for the new housing estate"),
    "plan_undo": ("撤销", "Undo"),
    "plan_save": ("保存草案", "Save draft"),
    "plan_publish": ("发布", "Publish"),
    "plan_not_publishable": (
        "有 {0} 个错误，修改后才能发布（见“检查报告”）。",
        "{0} error(s) to fix before publishing (see the check report).",
    ),
    "plan_tab_metrics": ("网格指标", "Metrics"),
    "plan_tab_check": ("检查报告", "Check report"),
    "plan_tab_diff": ("与发布版对比", "Against the published version"),
    "plan_tab_rebalance": ("自动重划方案", "Rebalancing"),
    "plan_tab_files": ("上传与导出", "Upload and export"),
    "plan_tab_history": ("版本记录", "Versions"),
    "plan_rules": (
        "户数标准：农村网格 {0}–{1} 户，城镇网格 {0}–{2} 户，人口不超过 {3} 人（本县设置）；"
        "全国参考 {4}–{5} 户。标红的网格超出标准。",
        "Standard: rural grids {0}–{1} households, urban grids {0}–{2}, at most {3} residents "
        "(this county's settings); national guideline {4}–{5} households. Rows in red break it.",
    ),
    "plan_check_ok": (
        "可以发布：{0} 个错误，{1} 个警告。",
        "Publishable: {0} errors, {1} warnings.",
    ),
    "plan_check_bad": (
        "不能发布：{0} 个错误，{1} 个警告。",
        "Not publishable: {0} errors, {1} warnings.",
    ),
    "plan_error": ("错误", "Error"),
    "plan_warning": ("警告", "Warning"),
    "plan_no_diff": ("草案与当前发布版相同。", "The draft is the same as the published version."),
    "plan_diff_summary": (
        "与发布版相比：{0} 个网格有变化，{1} 户住户将换网格。",
        "Against the published version: {0} grids differ, {1} households change grid.",
    ),
    "plan_status_added": ("新增", "added"),
    "plan_status_removed": ("撤销", "removed"),
    "plan_status_changed": ("调整", "changed"),
    "plan_method": ("方法", "Method"),
    "plan_method_balanced": ("均衡二分（快）", "Balanced bisection (fast)"),
    "plan_method_maxp": ("max-p 区划（慢）", "max-p regions (slow)"),
    "plan_propose": ("生成方案", "Propose"),
    "plan_adopt": ("采用为草案", "Use as the draft"),
    "plan_m_n_grids": ("网格数", "Grids"),
    "plan_m_households_min": ("户数最少", "Households, least"),
    "plan_m_households_median": ("户数中位数", "Households, median"),
    "plan_m_households_max": ("户数最多", "Households, most"),
    "plan_m_share_within_rule": ("符合标准的比例", "Share within the standard"),
    "plan_m_workload_cv": ("工作量离散系数", "Workload spread (CV)"),
    "plan_m_mean_polsby_popper": ("平均紧凑度", "Mean compactness"),
    "plan_upload": (
        "上传编辑后的图层（GeoPackage、GeoJSON 或 Shapefile 压缩包）",
        "Upload an edited layer (GeoPackage, GeoJSON or zipped Shapefile)",
    ),
    "plan_load_upload": ("载入为草案", "Load as the draft"),
    "plan_upload_ignored": (
        "文件中其他村（居）的 {0} 个网格未载入。",
        "{0} grids of other villages in the file were left out.",
    ),
    "plan_export_which": ("导出版本", "Version"),
    "plan_export_format": ("格式", "Format"),
    "plan_export_extent": ("范围", "Extent"),
    "plan_extent_scope": ("本村（镇）", "This village (town)"),
    "plan_extent_county": ("全县", "Whole county"),
    "plan_download": ("下载（可在 QGIS 中打开）", "Download (opens in QGIS)"),
    "plan_col_grid_worker": ("网格员", "Grid worker"),
    "plan_col_issues_12m": ("近12个月诉求", "Issues, last 12 months"),
    "plan_col_workload": ("工作量（户数+诉求）", "Workload (households + issues)"),
    "plan_col_area_km2": ("面积（km²）", "Area (km²)"),
    "plan_col_polsby_popper": ("紧凑度", "Compactness"),
    "plan_col_standard": ("超出标准", "Outside the standard"),
    "plan_col_severity": ("级别", "Severity"),
    "plan_col_message": ("问题", "Problem"),
    "plan_col_hint": ("怎么改", "How to fix"),
    "plan_col_changed_columns": ("变化的字段", "Changed fields"),
    "plan_col_households_before": ("原户数", "Households before"),
    "plan_col_households_after": ("新户数", "Households after"),
    "plan_col_area_before_km2": ("原面积（km²）", "Area before (km²)"),
    "plan_col_area_after_km2": ("新面积（km²）", "Area after (km²)"),
    "plan_col_from_grid": ("原网格", "From grid"),
    "plan_col_to_grid": ("新网格", "To grid"),
    "plan_col_status": ("变化", "Change"),
    "plan_col_before": ("现状", "Now"),
    "plan_col_after": ("方案", "Proposed"),
    "plan_col_version": ("版本", "Version"),
    "plan_col_published_at": ("发布时间", "Published"),
    "plan_col_published_by": ("发布人", "By"),
    "plan_col_reason": ("原因", "Reason"),
    "plan_col_n_grids": ("网格数", "Grids"),
    "plan_col_households_moved": ("换网格住户", "Households moved"),
    "plan_col_issues_moved": ("重新落格诉求", "Issues moved"),
    "plan_col_at": ("时间", "When"),
    "plan_col_author": ("操作人", "Who"),
    "plan_col_action": ("操作", "Action"),
    "plan_col_revision": ("草案版次", "Revision"),
    "plan_col_detail": ("内容", "Detail"),
    "plan_draw.draw.toolbar.buttons.polyline": ("画线（拆分网格）", "Draw a line (split grids)"),
    "plan_draw.draw.toolbar.buttons.polygon": ("画面（重划边界）", "Draw a polygon (redraw)"),
    "plan_draw.draw.toolbar.actions.title": ("取消绘制", "Cancel drawing"),
    "plan_draw.draw.toolbar.actions.text": ("取消", "Cancel"),
    "plan_draw.draw.toolbar.finish.title": ("完成绘制", "Finish drawing"),
    "plan_draw.draw.toolbar.finish.text": ("完成", "Finish"),
    "plan_draw.draw.toolbar.undo.title": ("删除最后一点", "Delete the last point"),
    "plan_draw.draw.toolbar.undo.text": ("删除最后一点", "Delete last point"),
    "plan_draw.draw.handlers.polyline.tooltip.start": ("点击开始画线", "Click to start the line"),
    "plan_draw.draw.handlers.polyline.tooltip.cont": ("点击继续画线", "Click to continue the line"),
    "plan_draw.draw.handlers.polyline.tooltip.end": (
        "再点最后一点结束画线",
        "Click the last point again to finish",
    ),
    "plan_draw.draw.handlers.polygon.tooltip.start": ("点击开始画面", "Click to start the polygon"),
    "plan_draw.draw.handlers.polygon.tooltip.cont": ("点击继续画面", "Click to continue"),
    "plan_draw.draw.handlers.polygon.tooltip.end": (
        "点击第一点闭合",
        "Click the first point to close",
    ),
    "plan_draw.edit.toolbar.buttons.remove": ("删除所画图形", "Delete drawings"),
    "plan_draw.edit.toolbar.buttons.removeDisabled": ("没有可删除的图形", "Nothing to delete"),
    "plan_draw.edit.toolbar.actions.save.text": ("确定", "Save"),
    "plan_draw.edit.toolbar.actions.cancel.text": ("取消", "Cancel"),
    "plan_draw.edit.toolbar.actions.clearAll.text": ("全部删除", "Clear all"),
    "plan_draw.edit.handlers.remove.tooltip.text": (
        "点击要删除的图形",
        "Click a drawing to delete it",
    ),
    "plan_no_scope": (
        "没有编码为 {code!r} 的村（居）或镇（区）；请选村（居）图层中的村（12 位，如 {example}）"
        "或其所在镇（9 位）",
        "no village or town with code {code!r}; pick one of the villages layer (12 digits, "
        "e.g. {example}) or its towns (9 digits)",
    ),
    "plan_rebalance_no_households": (
        "自动重划需要住户点：请先导入住户图层",
        "rebalancing needs household points; import the households layer first",
    ),
    "plan_rebalance_one_scope": (
        "自动重划按一个村（居）或镇（区）进行：请先选择一个",
        "rebalancing works on one village or town; pick one",
    ),
    "plan_uploaded_note": ("上传图层 {name}", "uploaded layer {name}"),
    "plan_note_edit": ("修改", "edit"),
    # == planner (网格规划): add keys above this line ==
    "wall_title": ("网格治理指挥大屏", "Grid governance command wall"),
    "wall_received_today": ("今日受理", "Received today"),
    "wall_open": ("在办", "Open"),
    "wall_overdue": ("超期在办", "Open overdue"),
    "wall_alerts": ("预警", "Warnings"),
    "wall_on_time_month": ("本月按期办结率", "On time this month"),
    "wall_cleared_today": ("今日日清率", "Cleared today"),
    "wall_panel_overdue": ("超期工单", "Overdue"),
    "wall_panel_warnings": ("预警", "Warnings"),
    "wall_panel_towns": ("各镇排名", "Towns"),
    "wall_panel_clearance": ("日清进度", "Daily clearance"),
    "wall_head_overdue": (
        "最新超期工单（共 {overdue} 件，其中通报督办 {reprimand} 件）",
        "Latest overdue tickets ({overdue} in all, {reprimand} at reprimand)",
    ),
    "wall_head_warnings": (
        "最新预警（近30天共 {alerts} 条）",
        "Latest warnings ({alerts} in 30 days)",
    ),
    "wall_head_towns": ("各镇（区）超期在办排名", "Towns by open overdue tickets"),
    "wall_head_clearance": (
        "今日日清进度（已清 {cleared} / 应清 {clearance_items}，日清率低的在前）",
        "Today's clearance ({cleared} of {clearance_items} cleared; lowest first)",
    ),
    "wall_days_over": ("超期天数", "Days over"),
    "wall_state": ("督办", "Follow-up"),
    "wall_reprimand": ("通报督办", "Reprimands"),
    "wall_on_time": ("本月按期率", "On time (month)"),
    "wall_satisfied": ("本月满意率", "Satisfied (month)"),
    "wall_new": ("新受理", "New"),
    "wall_due": ("今日到期", "Due today"),
    "wall_items": ("应清", "To clear"),
    "wall_cleared": ("已清", "Cleared"),
    "wall_cleared_rate": ("日清率", "Rate"),
    "wall_none": ("暂无", "None"),
    "wall_no_town": ("未落格", "Not in a grid"),
    "wall_demo_as_of": ("示例数据截至", "Demo data as of"),
    "wall_live_as_of": ("实时数据截至", "Live data as of"),
    "wall_updated": ("刷新于", "Refreshed"),
    "wall_every": ("每 {s} 秒刷新 · 第 {n} 次", "every {s} s · refresh {n}"),
    "wall_legend_height": ("柱高 = 在办数", "Column height = open tickets"),
    "wall_legend_max": ("最高", "max"),
    "wall_legend_color": ("颜色 = 超期占比", "Colour = share overdue"),
    "wall_exit": ("退出大屏", "Leave the wall screen"),
    "wall_bad_refresh": (
        "地址中的 refresh={value} 无效：应为 1 到 3600 之间的秒数，如 ?refresh=10；"
        "现按默认每 {default} 秒刷新。",
        "refresh={value} in the address is not valid: give seconds from 1 to 3600, e.g. "
        "?refresh=10; refreshing every {default} s meanwhile.",
    ),
    # == wall screen (指挥大屏): add keys above this line ==
    # closed loop page (闭环管理)
    "loop_scope_note": (
        "截至 {as_of}。在办、超期在办、通报督办是当前状态，统计侧栏范围、类别、来源内的全部诉求，"
        "不论何时受理；其余指标统计所选受理日期内的诉求。按期办结率的分母为其中已办结加已超期未办结的诉求。",
        "As of {as_of}. Open, open overdue and reprimands are states now: every issue of the "
        "sidebar's scope, category and source, whenever received; the other figures count "
        "the issues received in the chosen dates. The on-time rate divides by those closed "
        "plus those open past their deadline.",
    ),
    "loop_level": ("分组", "Break down by"),
    "loop_level_town": ("按镇（区）", "Town"),
    "loop_level_village": ("按村（居）", "Village"),
    "loop_level_grid": ("按网格", "Grid"),
    "loop_level_category": ("按类别", "Category"),
    "loop_level_platform": ("按流转平台", "Routing platform"),
    "loop_rhythm_note": (
        "日清、周结、月过堂按侧栏的范围、类别和来源筛选，不受受理日期限制；来电人信息已脱敏。",
        "Daily, weekly and monthly reviews follow the sidebar's scope, category and source, "
        "not its dates; callers are masked.",
    ),
    "loop_tab_daily": ("日清", "Daily clearance"),
    "loop_tab_weekly": ("周结", "Weekly summary"),
    "loop_tab_monthly": ("月过堂", "Monthly review"),
    "loop_daily_note": (
        "{day}：当日新收诉求派单即为已清，当日到期诉求办结即为已清。",
        "{day}: a ticket received today is cleared once dispatched, a ticket due today once "
        "closed.",
    ),
    "loop_daily_new": ("当日新收", "New today"),
    "loop_daily_due": ("当日到期", "Due today"),
    "loop_daily_left": ("未清", "Not cleared"),
    "loop_weekly_note": (
        "本周（{start} 起）各镇（区）受理、办结与积压，最后一行为合计。",
        "This week (from {start}) per town: received, closed and left open; the last row is "
        "the total.",
    ),
    "loop_monthly_note": (
        "{month}积案与疑难案件：超期、重复投诉、上交镇县办理。",
        "{month}: the backlog and the hard cases (overdue, repeated, escalated above the village).",
    ),
    "loop_backlog": ("积案（按镇区）", "Backlog per town"),
    "loop_cases": ("疑难案件", "Hard cases"),
    "loop_report": ("月度报告", "Monthly report"),
    "loop_report_month": ("报告月份", "Month"),
    "loop_report_scope": (
        "报告范围：{scope}（随侧栏镇（区）选择；村（居）不单独出报告）。",
        "Scope: {scope} (the sidebar's town; villages get no report of their own).",
    ),
    "loop_report_note": (
        "点击按钮时即时生成（全县报告需数秒）；来电人信息已脱敏。本月未结束时统计至数据截至时间。",
        "Built when you click (a few seconds for the county); callers are masked. A month not "
        "yet over is counted up to the data's as-of time.",
    ),
    "loop_download_xlsx": ("下载 Excel 报告", "Download the Excel report"),
    "loop_download_pdf": ("下载 PDF 报告", "Download the PDF report"),
    "loop_reason_new": ("当日新收", "New today"),
    "loop_reason_due": ("当日到期", "Due today"),
    "loop_yes": ("是", "yes"),
    "loop_pf_综治": ("综治", "Public order"),
    "loop_pf_市场监管": ("市场监管", "Market regulation"),
    "loop_pf_综合执法": ("综合执法", "Urban law enforcement"),
    "loop_pf_便民服务": ("便民服务", "Public services"),
    # the closed loop's stages, deadline states and KPIs (geo.loop.lifecycle STAGES, STATES, KPIS)
    "loop_stage_received": ("已受理", "Received"),
    "loop_stage_dispatched": ("已派单", "Dispatched"),
    "loop_stage_handled": ("已办理", "Handled"),
    "loop_stage_closed": ("已办结", "Closed"),
    "loop_stage_called_back": ("已回访", "Called back"),
    "loop_state_on_time": ("正常办理", "On time"),
    "loop_state_due_today": ("今日到期", "Due today"),
    "loop_state_overdue": ("超期·催办", "Overdue (reminder)"),
    "loop_state_reprimand": ("超期·通报督办", "Overdue (reprimand)"),
    "loop_state_closed_on_time": ("按期办结", "Closed on time"),
    "loop_state_closed_late": ("超期办结", "Closed late"),
    "loop_kpi_issues": ("受理数", "Received"),
    "loop_kpi_open": ("在办", "Open"),
    "loop_kpi_overdue": ("超期在办", "Open overdue"),
    "loop_kpi_reprimand": ("通报督办", "Reprimands due"),
    "loop_kpi_closed": ("办结数", "Closed"),
    "loop_kpi_closed_on_time": ("按期办结数", "Closed on time"),
    "loop_kpi_on_time_rate": ("按期办结率", "On-time rate"),
    "loop_kpi_first_time_rate": ("一次性办结率", "First-time resolution rate"),
    "loop_kpi_grid_share": ("网格办结占比（小事不出格）", "Resolved in the grid"),
    "loop_kpi_net_share": ("村网办结占比（大事不出网）", "Resolved in the village net"),
    "loop_kpi_callback_rate": ("回访率", "Call-back rate"),
    "loop_kpi_satisfaction_rate": ("满意率", "Satisfaction rate"),
    "loop_kpi_median_close_days": ("办结用时中位数（天）", "Median days to close"),
    "loop_kpi_calendar_fallback": ("按周一至周五推算期限数", "Deadlines on the Mon–Fri fallback"),
    "loop_col_county_code": ("县编码", "County code"),
    "loop_col_town_code": ("镇（区）编码", "Town code"),
    "loop_col_town_name": ("镇（区）", "Town"),
    "loop_col_village_code": ("村（居）编码", "Village code"),
    "loop_col_village_name": ("村（居）", "Village"),
    "loop_col_grid_code": ("网格编码", "Grid code"),
    "loop_col_grid_name": ("网格名称", "Grid"),
    "loop_col_grid_worker": ("网格员", "Grid worker"),
    "loop_col_category": ("诉求类别", "Category"),
    "loop_col_platform": ("流转平台", "Routing platform"),
    "loop_col_ticket_id": ("工单号", "Ticket"),
    "loop_col_request_type": ("诉求类型", "Request type"),
    "loop_col_source": ("来源", "Source"),
    "loop_col_received_at": ("受理时间", "Received"),
    "loop_col_due_at": ("办理期限", "Deadline"),
    "loop_col_closed_at": ("办结时间", "Closed"),
    "loop_col_stage": ("办理环节", "Stage"),
    "loop_col_state": ("期限状态", "Deadline state"),
    "loop_col_overdue": ("超期", "Overdue"),
    "loop_col_repeated": ("重复投诉", "Repeated"),
    "loop_col_escalated": ("上交办理", "Escalated"),
    "loop_col_alert_ids": ("预警编号", "Alerts"),
    "loop_col_n_flags": ("问题项数", "Flags"),
    "loop_col_caller_name": ("来电人（脱敏）", "Caller (masked)"),
    "loop_col_caller_phone": ("电话（脱敏）", "Phone (masked)"),
    "loop_col_reason": ("类型", "Why listed"),
    "loop_col_cleared": ("已清", "Cleared"),
    "loop_col_received": ("受理数", "Received"),
    "loop_col_decided": ("计入按期率件数", "Counted in the on-time rate"),
    "loop_col_day": ("日期", "Day"),
    "loop_col_backlog": ("积案（在办）", "Backlog (open)"),
    "loop_col_closed_late": ("本月超期办结", "Closed late this month"),
    "loop_col_hard_cases": ("疑难案件数", "Hard cases"),
    # monthly report (月度报告: Excel and PDF)
    "rpt_title": (
        "{scope}网格治理月度报告（{month}）",
        "Grid governance monthly report: {scope}, {month}",
    ),
    "rpt_file_word": ("月度报告", "monthly-report"),
    "rpt_scope": ("范围", "Scope"),
    "rpt_month": ("月份", "Month"),
    "rpt_as_of": ("统计截至", "Figures as of"),
    "rpt_partial": ("（本月尚未结束）", " (month not over)"),
    "rpt_data_as_of": ("数据截至", "Data as of"),
    "rpt_generated": ("生成时间", "Generated"),
    "rpt_synthetic": (
        "本报告使用示例数据（合成），不代表真实情况。",
        "This report uses synthetic demo data and describes nobody.",
    ),
    "rpt_masked": ("来电人姓名、电话已脱敏。", "Callers' names and phone numbers are masked."),
    "rpt_scope_note": (
        "闭环指标统计本月受理的诉求，截至统计时间；积案为截至统计时间仍在办的诉求。",
        "Closed-loop figures count the tickets received in the month, as of the time above; "
        "the backlog is what is still open at that time.",
    ),
    "rpt_kpi": ("指标", "Indicator"),
    "rpt_value": ("数值", "Value"),
    "rpt_sheet_summary": ("概况", "Summary"),
    "rpt_sheet_town": ("各镇（区）", "Towns"),
    "rpt_sheet_village": ("各村（居）", "Villages"),
    "rpt_sheet_grid": ("各网格", "Grids"),
    "rpt_sheet_category": ("按类别", "Categories"),
    "rpt_sheet_platform": ("按流转平台", "Routing platforms"),
    "rpt_sheet_daily": ("每日受理", "Daily intake"),
    "rpt_sheet_backlog": ("月过堂积案", "Backlog review"),
    "rpt_sheet_overdue": ("超期案件", "Overdue cases"),
    "rpt_sheet_repeated": ("重复投诉", "Repeated cases"),
    "rpt_sheet_escalated": ("上交案件", "Escalated cases"),
    "rpt_chart_title": (
        "每日受理量与按期办结率",
        "Tickets received per day and their on-time rate",
    ),
    "rpt_chart_intake": ("受理数", "Received"),
    "rpt_chart_on_time": ("按期办结率（%）", "On-time rate (%)"),
    "rpt_map_title": ("在办与超期诉求分布（按网格）", "Open and overdue tickets per grid"),
    "rpt_map_open": ("在办诉求", "Open tickets"),
    "rpt_map_overdue": ("超期在办诉求", "Overdue open tickets"),
    "rpt_legend": ("件数", "Tickets"),
    "rpt_top_grids": ("超期在办最多的网格", "Grids with the most overdue open tickets"),
    "rpt_hard_cases": (
        "疑难案件（超期、重复投诉、上交）",
        "Hard cases (overdue, repeated, escalated)",
    ),
    "rpt_cases_note": (
        "共 {total} 件，此处列前 {n} 件，完整清单见 Excel 工作簿。",
        "{total} in all; the first {n} are listed here, the Excel workbook lists every one.",
    ),
    "rpt_none": ("无", "None"),
    "rpt_page": ("第 {page} 页 / 共 {nb} 页", "Page {page} of {nb}"),
    "rpt_kpi_head": ("本月受理诉求的闭环指标", "Closed loop of the tickets received in the month"),
    "rpt_backlog_head": (
        "月过堂：截至统计时间的积案与疑难案件",
        "Monthly review: backlog and hard cases at that time",
    ),
    "rpt_footer_synthetic": ("示例数据（合成）", "synthetic demo data"),
    # == closed loop and monthly report (闭环管理): add keys above this line ==
}


@dataclass(frozen=True, slots=True)
class Text:
    """One message in Chinese and English (both required, neither empty).

    ``str(text)`` gives ``"中文 / English"`` for logs and the command line; :meth:`pick`
    gives one language for a page or a file.

    Examples
    --------
    >>> t = Text("{n} 个网格", "{n} grids").format(n=3)
    >>> t.pick("en"), str(t)
    ('3 grids', '3 个网格 / 3 grids')
    """

    zh: str
    en: str

    def __post_init__(self) -> None:
        said = {lang: getattr(self, lang) for lang in LANGUAGES}
        empty = [lang for lang, s in said.items() if not isinstance(s, str) or not s.strip()]
        if empty:
            raise ValueError(
                f"Text needs non-empty Chinese and English, got zh={self.zh!r}, en={self.en!r}: "
                f"write the {' and '.join(empty)} text"
            )

    def pick(self, lang: str) -> str:
        """The text in ``lang`` (``"zh"`` or ``"en"``)."""
        if lang == "en":
            return self.en
        if lang == "zh":
            return self.zh
        raise ValueError(f"lang must be one of {list(LANGUAGES)}, got {lang!r}")

    def format(self, *args: object, **params: object) -> Text:
        """Both languages formatted with ``str.format``; a :class:`Text` argument is put in
        each language as its own Chinese or English (messages compose)."""

        def fill(lang: str) -> str:
            def one(value: object) -> object:
                return value.pick(lang) if isinstance(value, Text) else value

            return getattr(self, lang).format(
                *map(one, args), **{k: one(v) for k, v in params.items()}
            )

        return Text(zh=fill("zh"), en=fill("en"))

    def as_dict(self) -> dict[str, str]:
        """``{"zh": …, "en": …}`` (for JSON)."""
        return {"zh": self.zh, "en": self.en}

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


#: The catalog: every keyed UI string of the dashboard.
TEXT: dict[str, Text] = {key: Text(*pair) for key, pair in _ENTRIES.items()}

_missing_logged: set[str] = set()


def _missing(key: str) -> Text:
    """What an unknown key shows: raises under strict mode, else the key (logged once)."""
    if get_settings().strict_i18n:  # read now: a test can switch it off
        raise KeyError(
            f"no i18n key {key!r} in geo.core.i18n.TEXT; add it with its Chinese and English"
        )
    if key not in _missing_logged:
        _missing_logged.add(key)
        _log.warning("no i18n key %r in geo.core.i18n.TEXT; showing the key", key)
    return Text(key, key)


def text(key: str, *args: object, **params: object) -> Text:
    """The catalog's :class:`Text` of ``key``, formatted when arguments are given.

    Raises
    ------
    KeyError
        ``key`` is not in :data:`TEXT` and strict mode is on (``GRIDGOV_STRICT_I18N=1``).
    """
    found = TEXT.get(key)
    if found is None:
        return _missing(key)
    return found.format(*args, **params) if args or params else found


class Translator(Protocol):
    """``tr(key, *args, **params)``: the catalog's text of ``key`` in one language."""

    def __call__(self, key: str, /, *args: object, **params: object) -> str: ...


def translator(lang: str) -> Translator:
    """Return ``tr(key, *args, **params)`` for ``lang`` (``zh`` or ``en``).

    Without arguments the text is returned as written (braces and all); with them it is
    formatted (:meth:`Text.format`). An unknown key raises :class:`KeyError` in strict mode,
    else shows the key (see the module docstring).
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}, got {lang!r}")

    def tr(key: str, /, *args: object, **params: object) -> str:
        return text(key, *args, **params).pick(lang)

    return tr


def pick(value: Text | str, lang: str) -> str:
    """``value`` in ``lang``: a :class:`Text` picks its language; a plain string (a name, a
    code, a planner's own words) reads the same in both and passes through.

    Raises
    ------
    TypeError
        ``value`` is neither (words in two languages travel as a :class:`Text`).
    ValueError
        ``lang`` is not one of :data:`LANGUAGES`.
    """
    if isinstance(value, Text):
        return value.pick(lang)
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}, got {lang!r}")
    if not isinstance(value, str):
        raise TypeError(f"pick takes a Text or a str, got {type(value).__name__}: {value!r}")
    return value

"""The Sheyang demo county (synthetic): towns, villages, grids, households, services and issues.

Real: the county outline, the county and town names, the totals (962,300 residents, 238
villages/communities, 3,689 grids, 254 non-litigation and 254 civilization-practice
centres). Synthetic: every boundary inside the county, every household, service point,
issue, village, grid-worker and caller name. ``data/README.md`` says what was planted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from geo.core import crs as wm
from geo.core.i18n import Text
from geo.core.settings import DEMO_FILENAME, DISPLAY_CRS, ROOT, get_settings
from geo.core.tickets import CLOSED, IN_PROGRESS, PENDING
from geo.demo.addresses import ADDRESS_ONLY, gazetteer_layers, ticket_addresses
from geo.demo.facts import METRIC_CRS
from geo.demo.roads import road_layers
from geo.grids.assign import GridIndex
from geo.grids.partition import dissolve, node_coverage, partition
from geo.planning.codes import grid_code
from geo.store.base import Store, open_store

#: End of the demo history (Beijing time) and its length.
AS_OF = pd.Timestamp("2026-11-20 23:59:59")
HISTORY_DAYS = 730
TOTAL_GRIDS = 3689
SIMING_GRIDS = 181  # 四明镇: 23 villages split into 181 grids (FACTS.md)
DATA = ROOT / "data"

#: ``progress(fraction_done, message)``: where the generator is, in both languages.
Progress = Callable[[float, Text], None]

#: Category → (subcategories, urban weight, rural weight, month factors Jan..Dec).
CATEGORIES: dict[str, tuple[list[str], float, float, list[float]]] = {
    "环境卫生": (
        ["垃圾清运", "污水排放", "河道保洁", "公厕管理"],
        1.0,
        1.0,
        [0.8, 0.8, 0.9, 1.0, 1.1, 1.3, 1.4, 1.4, 1.1, 1.0, 0.9, 0.8],
    ),
    "市容秩序": (
        ["占道经营", "违章搭建", "广告牌匾", "乱堆乱放"],
        1.3,
        0.5,
        [0.9, 0.8, 1.0, 1.0, 1.1, 1.1, 1.1, 1.1, 1.0, 1.0, 1.0, 0.9],
    ),
    "道路交通": (
        ["道路破损", "路灯故障", "停车管理", "交通设施"],
        1.0,
        0.8,
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.2, 1.0, 1.0, 1.0, 1.0],
    ),
    "邻里纠纷": (
        ["宅基地纠纷", "相邻关系", "赡养纠纷", "婚姻家庭"],
        0.8,
        1.2,
        [1.2, 1.4, 1.0, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.1],
    ),
    "物业管理": (
        ["物业服务", "电梯故障", "小区停车", "维修资金"],
        1.6,
        0.05,
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    ),
    "农业农村": (
        ["秸秆焚烧", "农田水利", "农资质量", "土地流转"],
        0.1,
        1.6,
        [0.6, 0.6, 0.9, 1.1, 1.2, 1.6, 1.0, 0.9, 1.0, 1.5, 1.1, 0.7],
    ),
    "劳动保障": (
        ["欠薪讨薪", "社保缴纳", "劳动合同"],
        1.1,
        0.8,
        [1.8, 1.5, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.1, 1.6],
    ),
    "社会治安": (
        ["治安隐患", "电信诈骗", "寻衅滋事"],
        1.0,
        0.9,
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.1, 1.0, 1.0, 1.0, 1.0],
    ),
    "安全隐患": (
        ["消防安全", "燃气安全", "危房", "电动车充电"],
        1.0,
        1.0,
        [1.3, 1.2, 1.0, 0.9, 0.9, 1.0, 1.0, 1.0, 0.9, 1.0, 1.1, 1.3],
    ),
    "噪音扰民": (
        ["施工噪音", "生活噪音", "广场舞", "商业噪音"],
        1.5,
        0.4,
        [0.8, 0.8, 0.9, 1.0, 1.1, 1.3, 1.4, 1.4, 1.1, 1.0, 0.9, 0.8],
    ),
    "供水供电": (
        ["停水", "停电", "水质", "燃气供应"],
        1.0,
        1.0,
        [1.3, 1.1, 0.9, 0.9, 0.9, 1.1, 1.5, 1.5, 1.0, 0.9, 0.9, 1.2],
    ),
    "医疗卫生": (
        ["医保报销", "医疗服务", "疫苗接种"],
        1.0,
        0.9,
        [1.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1],
    ),
    "教育": (
        ["入学招生", "校外培训", "校园安全"],
        1.1,
        0.8,
        [0.8, 0.7, 1.0, 1.0, 1.0, 1.3, 1.6, 1.7, 1.3, 0.8, 0.8, 0.8],
    ),
    "民政救助": (
        ["低保", "残疾人帮扶", "养老服务", "困难救助"],
        0.8,
        1.2,
        [1.3, 1.3, 1.0, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.2],
    ),
    "住房建设": (
        ["房屋质量", "拆迁安置", "不动产登记"],
        1.2,
        0.7,
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    ),
    "消费维权": (
        ["商品质量", "预付卡", "价格欺诈"],
        1.3,
        0.6,
        [1.1, 1.2, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.1],
    ),
    "其他": (["其他"], 1.0, 1.0, [1.0] * 12),
}

#: Source → (share, category weights (same order as CATEGORIES), weekday factors Mon..Sun).
SOURCES: dict[str, tuple[float, list[float], list[float]]] = {
    "12345": (
        0.52,
        [14, 8, 7, 6, 9, 4, 7, 4, 3, 8, 9, 5, 4, 4, 4, 5, 3],
        [1.15, 1.05, 1.05, 1.05, 1.0, 0.8, 0.75],
    ),
    "网格巡查": (
        0.38,
        [22, 14, 8, 10, 3, 8, 2, 5, 14, 2, 2, 2, 1, 5, 1, 0.5, 1],
        [1.2, 1.2, 1.2, 1.2, 1.15, 0.5, 0.4],
    ),
    "群众随手拍": (
        0.07,
        [25, 20, 15, 3, 5, 4, 1, 3, 10, 8, 3, 1, 1, 1, 1, 1, 1],
        [0.9, 0.9, 0.9, 0.9, 1.0, 1.3, 1.3],
    ),
    "部门移交": (
        0.03,
        [10, 10, 10, 2, 2, 10, 10, 5, 15, 2, 5, 5, 5, 5, 5, 2, 2],
        [1.2, 1.2, 1.2, 1.2, 1.2, 0.3, 0.2],
    ),
}

REQUEST_TYPES: dict[str, dict[str, float]] = {
    "12345": {"咨询": 0.25, "求助": 0.22, "投诉": 0.38, "举报": 0.07, "建议": 0.08},
    "网格巡查": {"巡查上报": 1.0},
    "群众随手拍": {"投诉": 0.6, "举报": 0.2, "求助": 0.2},
    "部门移交": {"投诉": 0.5, "求助": 0.5},
}
LEVELS = ["网格", "村", "镇", "县"]
LEVEL_P = {
    "12345": [0.30, 0.32, 0.28, 0.10],
    "网格巡查": [0.70, 0.20, 0.08, 0.02],
    "群众随手拍": [0.45, 0.30, 0.20, 0.05],
    "部门移交": [0.10, 0.25, 0.45, 0.20],
}
SPRING_FESTIVAL = [("2025-01-28", "2025-02-04"), ("2026-02-16", "2026-02-23")]
SERVICE_TYPES = [
    "党群服务中心",
    "非诉讼服务中心",
    "新时代文明实践站",
    "卫生室",
    "学校",
    "养老服务站",
    "警务室",
]


def _noop(fraction: float, message: Text) -> None:
    """Progress sink that ignores everything."""


def build_demo(out_dir: str | Path, *, seed: int = 0, progress: Progress | None = None) -> Path:
    """Generate the demo county and write it to ``out_dir/sheyang_demo.gpkg`` atomically.

    Parameters
    ----------
    out_dir
        Folder to write into (created if missing).
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives the same county.
    progress
        Called with ``(fraction_done, message)`` while generating (``message`` a Text).

    Returns
    -------
    pathlib.Path
        The GeoPackage written. Every layer is in EPSG:4549 (metres).
    """
    from geo.store.gpkg import write_geopackage

    report = progress or _noop
    layers = demo_layers(seed=seed, progress=report)
    out = Path(out_dir) / DEMO_FILENAME
    report(0.92, Text("写入 GeoPackage", "writing GeoPackage"))
    write_geopackage(out, layers)
    add_demo_accounts(open_store(out))
    report(1.0, Text("完成", "done"))
    return out


def add_demo_accounts(store: Store) -> None:
    """The demo's accounts (:data:`geo.access.users.DEMO_ACCOUNTS`, password ``demo``)."""
    from geo.access.users import DEMO_ACCOUNTS, DEMO_PASSWORD, add_user

    for name, role, towns in DEMO_ACCOUNTS:
        add_user(store, name, role=role, password=DEMO_PASSWORD, towns=towns, weak_ok=True)


def demo_layers(*, seed: int = 0, progress: Progress | None = None) -> dict[str, pd.DataFrame]:
    """Every layer the dashboard's demo store holds (roads included), in EPSG:4549."""
    return generate(seed=seed, progress=progress or _noop, roads=True)


def generate(
    *, seed: int = 0, progress: Progress = _noop, roads: bool = False
) -> dict[str, pd.DataFrame]:
    """Generate every layer of the demo county in memory (EPSG:4549).

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives the same county.
    progress
        Called with ``(fraction_done, message)`` while generating (``message`` a Text).
    roads
        Also make the synthetic ``rivers`` and ``roads`` layers (about 1 s more;
        :func:`build_demo` always does). They draw from their own random stream, so the
        other layers are the same with or without them.

    Returns
    -------
    dict
        ``towns``, ``villages``, ``grids``, ``households``, ``service_points``, ``issues``
        (GeoDataFrames), with ``roads=True`` also ``rivers`` and ``roads`` (GeoDataFrames),
        and ``planted``, ``meta`` (tables).
    """
    rng = np.random.default_rng(seed)
    names = _Names(rng)
    progress(0.02, Text("镇区划分", "towns"))
    outline = _outline()
    towns = _towns(outline)
    progress(0.08, Text("村居划分", "villages"))
    villages = _villages(towns, names, rng)
    progress(0.18, Text("住户分布", "households"))
    households = _households(villages, rng)
    progress(0.35, Text("网格划分", "grids"))
    grids = _grids(villages, households, names, rng)
    grids["geometry"] = node_coverage(grids.geometry.to_numpy())
    for frame, key in ((villages, "village_code"), (towns, "town_code")):
        shapes = dissolve(grids.geometry.to_numpy(), grids[key].to_numpy())
        frame["geometry"] = frame[key].map(shapes).to_numpy()
    index = GridIndex.build(grids.geometry.to_numpy())
    hx, hy = households.geometry.x.to_numpy(), households.geometry.y.to_numpy()
    households["grid_code"] = grids["grid_code"].to_numpy()[index.lookup(hx, hy)]
    per_grid = households.groupby("grid_code").agg(
        households=("residents", "size"), residents=("residents", "sum")
    )
    grids = grids.drop(columns=["households", "residents"]).join(per_grid, on="grid_code")
    grids[["households", "residents"]] = grids[["households", "residents"]].fillna(0).astype(int)
    for frame, key in ((villages, "village_code"), (towns, "town_code")):
        sums = grids.groupby(key)[["households", "residents"]].sum()
        frame[["households", "residents"]] = sums.reindex(frame[key]).to_numpy()
    progress(0.55, Text("服务设施", "service points"))
    services = _service_points(towns, villages, names, rng)
    progress(0.62, Text("诉求事件", "issues"))
    # Addresses draw from their own stream: every other layer is as it was without them.
    addr_rng = np.random.default_rng([seed, 11])
    gazetteer, homes = gazetteer_layers(towns, villages, households, services, addr_rng)
    issues, planted, address_truth = _issues(
        towns, villages, grids, households, index, names, rng, (gazetteer, homes, addr_rng)
    )
    network: dict[str, pd.DataFrame] = {}
    if roads:
        progress(0.88, Text("道路水系", "roads and rivers"))
        network = dict(road_layers(outline, towns, villages, seed=seed))
    meta = pd.DataFrame(
        {
            "key": ["synthetic", "seed", "as_of", "county_code", "county_name", "note"],
            "value": [
                "true",
                str(seed),
                AS_OF.isoformat(),
                "320924",
                "射阳县",
                "示例数据（合成）/ synthetic demo data: "
                "only the outline, names and totals are real",
            ],
        }
    )
    return {
        "towns": towns,
        "villages": villages,
        "grids": grids,
        "households": households,
        "service_points": services,
        "issues": issues,
        "gazetteer": gazetteer,
        **network,
        "planted": planted,
        "address_truth": address_truth,
        "meta": meta,
    }


# --------------------------------------------------------------------------- geography


def _outline() -> BaseGeometry:
    """The real county outline in EPSG:4549."""
    out = gpd.read_file(DATA / "sheyang_outline.geojson").to_crs(METRIC_CRS)
    return shapely.union_all(out.geometry.to_numpy())


def _to_metric(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=DISPLAY_CRS).to_crs(METRIC_CRS)
    return np.column_stack([pts.x, pts.y])


def _towns(outline: BaseGeometry) -> gpd.GeoDataFrame:
    table = pd.read_csv(DATA / "sheyang_towns.csv", dtype={"town_code": str})
    seats = _to_metric(table.seat_lon.to_numpy(), table.seat_lat.to_numpy())
    inner = outline.buffer(-800)
    for i, (x, y) in enumerate(seats):
        if not inner.contains(shapely.Point(x, y)):
            p = nearest_points(inner, shapely.Point(x, y))[0]
            seats[i] = (p.x, p.y)
    polys = partition(outline, seats)
    towns = gpd.GeoDataFrame(
        table.drop(columns=["seat_lon", "seat_lat"]), geometry=list(polys), crs=METRIC_CRS
    )
    towns["seat_x"], towns["seat_y"] = seats[:, 0], seats[:, 1]
    return towns


def _spread(
    region: shapely.Polygon,
    n: int,
    existing: np.ndarray,
    rng: np.random.Generator,
    candidates: int = 40,
) -> np.ndarray:
    """``n`` points inside ``region`` far from each other and from ``existing`` (best candidate)."""
    pts = [tuple(p) for p in existing]
    out = []
    minx, miny, maxx, maxy = shapely.bounds(region)
    for _ in range(n):
        cand = _sample_in(region, candidates, rng, (minx, miny, maxx, maxy))
        if pts:
            d = np.min(
                np.hypot(
                    cand[:, None, 0] - np.array(pts)[None, :, 0],
                    cand[:, None, 1] - np.array(pts)[None, :, 1],
                ),
                axis=1,
            )
            best = cand[int(np.argmax(d))]
        else:
            best = cand[0]
        pts.append(tuple(best))
        out.append(best)
    return np.array(out).reshape(-1, 2)


def _sample_in(
    region: shapely.Geometry,
    n: int,
    rng: np.random.Generator,
    bounds: tuple[float, float, float, float] | None = None,
) -> np.ndarray:
    """``n`` uniform random points inside ``region`` by rejection."""
    minx, miny, maxx, maxy = bounds or shapely.bounds(region)
    got: list[np.ndarray] = []
    have = 0
    while have < n:
        x = rng.uniform(minx, maxx, 4 * n + 16)
        y = rng.uniform(miny, maxy, 4 * n + 16)
        ok = shapely.contains_xy(region, x, y)
        got.append(np.column_stack([x[ok], y[ok]]))
        have += int(ok.sum())
    return np.concatenate(got)[:n]


def _gaussian_in(
    region: shapely.Geometry, centre: np.ndarray, sigma: float, n: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` points around ``centre`` (normal, ``sigma`` metres) kept inside ``region``."""
    got: list[np.ndarray] = []
    have = 0
    tries = 0
    while have < n and tries < 50:
        xy = centre + rng.normal(0, sigma, (2 * n + 16, 2))
        ok = shapely.contains_xy(region, xy[:, 0], xy[:, 1])
        got.append(xy[ok])
        have += int(ok.sum())
        tries += 1
        sigma *= 1.2 if ok.mean() < 0.2 else 1.0
    pts = np.concatenate(got)[:n] if got else np.empty((0, 2))
    if len(pts) < n:
        pts = np.concatenate([pts, _sample_in(region, n - len(pts), rng)])
    return pts


def _villages(towns: gpd.GeoDataFrame, names: _Names, rng: np.random.Generator) -> gpd.GeoDataFrame:
    rows = []
    for town in towns.itertuples():
        seat = np.array([town.seat_x, town.seat_y])
        region = town.geometry
        n_comm, n_vill = int(town.communities), int(town.villages) - int(town.communities)
        spread_m = 1100.0 if n_comm > 10 else 500.0 if n_comm > 2 else 300.0
        comm = _gaussian_in(region.buffer(-200), seat, spread_m, n_comm, rng)
        vill = _spread(region, n_vill, comm, rng)
        centres = np.concatenate([comm, vill])
        centres += rng.normal(0, 0.5, centres.shape)
        polys = partition(region, centres)
        urban_share = {"镇": 0.8 if n_comm > 10 else 0.3, "开发区": 0.8}.get(town.kind, 0.6)
        weights = np.concatenate(
            [
                urban_share * rng.dirichlet(np.full(n_comm, 8.0)),
                (1 - urban_share) * rng.dirichlet(np.full(n_vill, 8.0)) if n_vill else [],
            ]
        )
        residents = _integer_split(int(town.residents), weights)
        for j in range(len(centres)):
            is_comm = j < n_comm
            seq = j + 1 if is_comm else 200 + j - n_comm + 1
            rows.append(
                {
                    "village_code": f"{town.town_code}{seq:03d}",
                    "village_name": names.community() if is_comm else names.village(),
                    "town_code": town.town_code,
                    "kind": "社区" if is_comm else "村",
                    "residents": residents[j],
                    "centre_x": centres[j, 0],
                    "centre_y": centres[j, 1],
                    "geometry": polys[j],
                }
            )
    return gpd.GeoDataFrame(rows, crs=METRIC_CRS)


def _integer_split(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    raw = total * np.asarray(weights, dtype=float) / np.sum(weights)
    out = np.floor(raw).astype(int)
    out[np.argsort(raw - out)[::-1][: total - out.sum()]] += 1
    return out


def _households(villages: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    sizes_p = np.array([0.18, 0.32, 0.22, 0.16, 0.08, 0.04])
    xs, ys, res, vcodes = [], [], [], []
    for v in villages.itertuples():
        draws = rng.choice(np.arange(1, 7), size=int(v.residents / 2.0) + 10, p=sizes_p)
        cum = np.cumsum(draws)
        n = int(np.searchsorted(cum, v.residents)) + 1
        sizes = draws[:n].copy()
        sizes[-1] = v.residents - (cum[n - 2] if n > 1 else 0)
        centre = np.array([v.centre_x, v.centre_y])
        if v.kind == "社区":
            sigma = max(np.sqrt(v.geometry.area) / 3.5, 150.0)
            xy = _gaussian_in(v.geometry, centre, sigma, n, rng)
        else:
            n_core = int(n * 0.35)
            core = _gaussian_in(v.geometry, centre, 350.0, n_core, rng)
            minx, miny, maxx, maxy = v.geometry.bounds
            row_y = rng.uniform(miny, maxy, rng.integers(3, 7))
            got: list[np.ndarray] = []
            have = 0
            while have < n - n_core:
                m = 2 * (n - n_core) + 32
                x = rng.uniform(minx, maxx, m)
                y = rng.choice(row_y, m) + rng.normal(0, 25, m)
                ok = shapely.contains_xy(v.geometry, x, y)
                got.append(np.column_stack([x[ok], y[ok]]))
                have += int(ok.sum())
                if len(got) > 20:  # the rows miss a thin village: fill it uniformly
                    got.append(_sample_in(v.geometry, n - n_core, rng))
                    have = n
            xy = np.concatenate([core, np.concatenate(got)[: n - n_core]])
        xs.append(xy[:, 0])
        ys.append(xy[:, 1])
        res.append(sizes)
        vcodes.append(np.full(n, v.village_code))
    x, y = np.concatenate(xs), np.concatenate(ys)
    hh = gpd.GeoDataFrame(
        {
            "household_id": [f"H{i:07d}" for i in range(len(x))],
            "residents": np.concatenate(res).astype(int),
            "village_code": np.concatenate(vcodes),
        },
        geometry=gpd.points_from_xy(x, y),
        crs=METRIC_CRS,
    )
    return hh


def _bisect(region: shapely.Geometry, xy: np.ndarray, k: int) -> list[shapely.Geometry]:
    """Cut ``region`` into ``k`` grids holding nearly equal numbers of the points ``xy``.

    Recursive bisection: each cut is a straight line across the points' main direction,
    placed so that each side gets its share of households (so grids are large where people
    are sparse). A side that falls apart keeps its largest piece; the crumbs join the
    other side, which they touch along the cut.
    """
    if k == 1:
        return [region]
    left = k // 2
    minx, miny, maxx, maxy = shapely.bounds(region)
    # Cut across the region's longer side (straight, like the roads and canals of the
    # coastal plain), where each side gets its share of households, but never closer than
    # 8 % of the extent to an edge (no sliver grids).
    direction = np.array([1.0, 0.0]) if maxx - minx >= maxy - miny else np.array([0.0, 1.0])
    lo, hi = (minx, maxx) if direction[0] else (miny, maxy)
    proj = xy @ direction if len(xy) else np.empty(0)
    if len(xy) >= 2:
        ranked = np.sort(proj)
        cut = min(max(round(len(xy) * left / k), 1), len(xy) - 1)
        t = (ranked[cut - 1] + ranked[cut]) / 2
    else:
        t = lo + (hi - lo) * left / k
    t = float(np.clip(t, lo + 0.08 * (hi - lo), hi - 0.08 * (hi - lo)))
    minx, miny, maxx, maxy = shapely.bounds(region)
    reach = 2 * float(np.hypot(maxx - minx, maxy - miny)) + 1.0
    centre = np.array([(minx + maxx) / 2, (miny + maxy) / 2])
    on_line = centre + (t - centre @ direction) * direction
    along = np.array([-direction[1], direction[0]]) * reach
    a, b = on_line + along, on_line - along
    low = shapely.Polygon([a, b, b - direction * reach, a - direction * reach])
    high = shapely.Polygon([a, b, b + direction * reach, a + direction * reach])
    sides = [shapely.intersection(region, low), shapely.intersection(region, high)]
    for i in (0, 1):
        parts = shapely.get_parts(sides[i])
        parts = parts[shapely.area(parts) > 0]
        if len(parts) > 1:
            keep = int(np.argmax(shapely.area(parts)))
            crumbs = [p for j, p in enumerate(parts) if j != keep]
            sides[i] = parts[keep]
            sides[1 - i] = shapely.union_all([sides[1 - i], *crumbs])
    inside = [
        shapely.contains_xy(side, xy[:, 0], xy[:, 1]) if len(xy) else np.zeros(0, bool)
        for side in sides
    ]
    low_xy = xy[inside[0]] if len(xy) else xy
    high_xy = xy[~inside[0]] if len(xy) else xy
    return _bisect(sides[0], low_xy, left) + _bisect(sides[1], high_xy, k - left)


def _grids(
    villages: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame,
    names: _Names,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    hh_count = households.groupby("village_code").size().reindex(villages.village_code).to_numpy()
    target = np.where(villages.kind.to_numpy() == "社区", 150.0, 80.0)
    desired = hh_count / target
    siming = villages.town_code.to_numpy() == "320924104"
    counts = np.zeros(len(villages), dtype=int)
    for mask, total in ((siming, SIMING_GRIDS), (~siming, TOTAL_GRIDS - SIMING_GRIDS)):
        share = desired[mask]
        base = np.ones(mask.sum(), dtype=int)
        counts[mask] = base + _integer_split(total - base.sum(), share)
    rows = []
    xy_all = np.column_stack([households.geometry.x, households.geometry.y])
    by_village = households.groupby("village_code").indices
    for v, k in zip(villages.itertuples(), counts, strict=True):
        xy = xy_all[by_village[v.village_code]]
        polys = np.array(_bisect(v.geometry, xy, int(k)), dtype=object)
        cents = np.column_stack(
            [
                shapely.get_x(shapely.point_on_surface(polys)),
                shapely.get_y(shapely.point_on_surface(polys)),
            ]
        )
        order = np.lexsort((cents[:, 0], -np.round(cents[:, 1], -2)))  # north to south
        for seq, j in enumerate(order, start=1):
            rows.append(
                {
                    "grid_code": grid_code(v.village_code, seq),
                    "grid_name": f"{v.village_name}第{seq}网格",
                    "village_code": v.village_code,
                    "town_code": v.town_code,
                    "area_type": "城镇" if v.kind == "社区" else "农村",
                    "households": 0,
                    "residents": 0,
                    "grid_worker": names.person(),
                    "grid_worker_phone": names.phone(),
                    "geometry": polys[j],
                }
            )
    grids = gpd.GeoDataFrame(rows, crs=METRIC_CRS)
    return grids.sort_values("grid_code", ignore_index=True)


# --------------------------------------------------------------------------- services


def _service_points(
    towns: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, names: _Names, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    rows: list[dict[str, object]] = []

    def near(centre: np.ndarray, region: shapely.Geometry, sigma: float) -> shapely.Point:
        xy = _gaussian_in(region, centre, sigma, 1, rng)[0]
        return shapely.Point(xy)

    def add(kind: str, name: str, village_code: str, level: str, point: shapely.Point) -> None:
        rows.append(
            {
                "service_type": kind,
                "name": name,
                "village_code": village_code,
                "level": level,
                "geometry": point,
            }
        )

    seat_village = {}
    for t in towns[towns.kind.isin(["镇", "开发区"])].itertuples():
        vs = villages[villages.town_code == t.town_code]
        d = np.hypot(vs.centre_x - t.seat_x, vs.centre_y - t.seat_y)
        sv = vs.iloc[int(np.argmin(d.to_numpy()))]
        seat_village[t.town_code] = sv.village_code
        seat = np.array([t.seat_x, t.seat_y])
        region = t.geometry
        add(
            "非诉讼服务中心",
            f"{t.town_name}非诉讼服务中心",
            sv.village_code,
            "镇",
            near(seat, region, 150),
        )
        add(
            "新时代文明实践站",
            f"{t.town_name}新时代文明实践所",
            sv.village_code,
            "镇",
            near(seat, region, 150),
        )
        add("卫生室", f"{t.town_name}卫生院", sv.village_code, "镇", near(seat, region, 300))
        add("警务室", f"{t.town_name}派出所", sv.village_code, "镇", near(seat, region, 250))
        add("养老服务站", f"{t.town_name}敬老院", sv.village_code, "镇", near(seat, region, 600))
        n_school = 2 + int(t.residents // 30000)
        for k in range(n_school):
            kind_name = "中学" if k == 0 else "小学"
            add(
                "学校",
                f"{t.town_name}第{k + 1}{kind_name}",
                sv.village_code,
                "镇",
                near(seat, region, 900),
            )
    hede = towns[towns.town_code == "320924101"].iloc[0]
    hede_seat = np.array([hede.seat_x, hede.seat_y])
    add(
        "非诉讼服务中心",
        "射阳县非诉讼服务中心",
        seat_village["320924101"],
        "县",
        near(hede_seat, hede.geometry, 300),
    )
    add(
        "新时代文明实践站",
        "射阳县新时代文明实践中心",
        seat_village["320924101"],
        "县",
        near(hede_seat, hede.geometry, 300),
    )
    for v in villages.itertuples():
        centre = np.array([v.centre_x, v.centre_y])
        region = v.geometry
        add(
            "党群服务中心",
            f"{v.village_name}党群服务中心",
            v.village_code,
            "村",
            near(centre, region, 60),
        )
        add(
            "非诉讼服务中心",
            f"{v.village_name}非诉讼服务站",
            v.village_code,
            "村",
            near(centre, region, 60),
        )
        add(
            "新时代文明实践站",
            f"{v.village_name}新时代文明实践站",
            v.village_code,
            "村",
            near(centre, region, 80),
        )
        if v.kind == "村" or rng.random() < 0.5:
            add(
                "卫生室",
                f"{v.village_name}{'卫生室' if v.kind == '村' else '社区卫生服务站'}",
                v.village_code,
                "村",
                near(centre, region, 120),
            )
        if v.kind == "社区":
            add(
                "警务室", f"{v.village_name}警务室", v.village_code, "村", near(centre, region, 100)
            )
        if v.kind == "社区" and rng.random() < 0.4:
            add("学校", f"{v.village_name}幼儿园", v.village_code, "村", near(centre, region, 250))
        if rng.random() < 0.55:
            add(
                "养老服务站",
                f"{v.village_name}居家养老服务站",
                v.village_code,
                "村",
                near(centre, region, 150),
            )
    out = gpd.GeoDataFrame(rows, crs=METRIC_CRS)
    out.insert(0, "service_id", [f"S{i:05d}" for i in range(1, len(out) + 1)])
    return out


# --------------------------------------------------------------------------- issues


def _issues(
    towns: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame,
    index: GridIndex,
    names: _Names,
    rng: np.random.Generator,
    addressing: tuple[gpd.GeoDataFrame, pd.DataFrame, np.random.Generator],
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    days = pd.date_range(AS_OF.normalize() - pd.Timedelta(days=HISTORY_DAYS - 1), AS_OF.normalize())
    month_factor = np.array([0.85, 0.8, 0.95, 1.0, 1.05, 1.15, 1.25, 1.25, 1.05, 1.0, 0.95, 0.9])
    festival = np.ones(len(days))
    for a, b in SPRING_FESTIVAL:
        festival[(days >= pd.Timestamp(a)) & (days <= pd.Timestamp(b))] = 0.5
    growth = 1 + 0.06 * (np.arange(len(days)) / 365.0 - 1)
    base = 150_000 / 365.0
    cat_names = list(CATEGORIES)
    urban = np.array([CATEGORIES[c][1] for c in cat_names])
    rural = np.array([CATEGORIES[c][2] for c in cat_names])
    cat_month = np.array([CATEGORIES[c][3] for c in cat_names])  # (cat, 12)
    is_urban_hh = (
        households.village_code.map(villages.set_index("village_code").kind).to_numpy() == "社区"
    )
    hh_res = households.residents.to_numpy().astype(float)
    hh_xy = np.column_stack([households.geometry.x, households.geometry.y])
    parts = []
    for source, (share, cat_w, weekday) in SOURCES.items():
        lam = (
            base
            * share
            * month_factor[days.month - 1]
            * np.array(weekday)[days.day_of_week]
            * festival
            * growth
        )
        n_day = rng.poisson(lam)
        day_idx = np.repeat(np.arange(len(days)), n_day)
        months = days.month.to_numpy()[day_idx] - 1
        # Category per event: source weights x the category's month factor.
        w = np.array(cat_w)[None, :] * cat_month.T[months]
        u = rng.random(len(day_idx))
        cat = (np.cumsum(w / w.sum(1, keepdims=True), axis=1) < u[:, None]).sum(1)
        cat = np.minimum(cat, len(cat_names) - 1)
        hh = np.empty(len(day_idx), dtype=np.int64)
        for c in range(len(cat_names)):
            sel = np.flatnonzero(cat == c)
            p = hh_res * np.where(is_urban_hh, urban[c], rural[c])
            hh[sel] = rng.choice(len(hh_res), size=len(sel), p=p / p.sum())
        xy = hh_xy[hh] + rng.normal(0, 40, (len(hh), 2))
        parts.append(
            pd.DataFrame(
                {
                    "source": source,
                    "day": day_idx,
                    "category": np.array(cat_names)[cat],
                    "x": xy[:, 0],
                    "y": xy[:, 1],
                    "demo_pattern": "",
                }
            )
        )
    background = pd.concat(parts, ignore_index=True)
    planted_events, planted = _planted(towns, villages, grids, days, rng)
    ev = pd.concat([background, planted_events], ignore_index=True)
    ev["subcategory"] = [
        CATEGORIES[c][0][k % len(CATEGORIES[c][0])]
        for c, k in zip(ev.category, rng.integers(0, 12, len(ev)), strict=True)
    ]
    fixed_sub = ev.pop("fixed_sub") if "fixed_sub" in ev else None
    if fixed_sub is not None:
        has = fixed_sub.notna() & (fixed_sub != "")
        ev.loc[has, "subcategory"] = fixed_sub[has]
    n = len(ev)
    src = ev.source.to_numpy()
    # Time of day: the hotline peaks mid-morning and mid-afternoon; patrols work office hours.
    hours = np.where(
        src == "网格巡查",
        rng.uniform(8, 17.5, n),
        np.clip(rng.choice([9.5, 10.5, 14.5, 16, 19.5], n) + rng.normal(0, 1.3, n), 0, 23.9),
    )
    given_time = ev.pop("time") if "time" in ev else pd.Series(pd.NaT, index=ev.index)
    received = days.to_numpy()[ev.day.to_numpy()] + (hours * 3600).astype("timedelta64[s]")
    received = np.where(given_time.notna(), given_time.to_numpy(dtype="datetime64[ns]"), received)
    received = pd.to_datetime(received).floor("s")
    rtype = np.empty(n, dtype=object)
    level = np.empty(n, dtype=object)
    for source, dist in REQUEST_TYPES.items():
        sel = src == source
        rtype[sel] = rng.choice(list(dist), size=sel.sum(), p=list(dist.values()))
        level[sel] = rng.choice(LEVELS, size=sel.sum(), p=LEVEL_P[source])
    delay_min = np.where(
        src == "网格巡查", rng.lognormal(np.log(10), 0.6, n), rng.lognormal(np.log(45), 0.8, n)
    )
    dispatched = received + pd.to_timedelta(delay_min, unit="m").floor("s")
    sla_days = get_settings().sla_working_days
    sla = np.array([sla_days[t] for t in rtype], dtype=float)
    late = rng.random(n) < 0.05
    work_days = np.where(late, sla * (1 + rng.exponential(0.4, n)), sla * rng.beta(1.6, 3.5, n))
    work_days = np.where(level == "网格", work_days * 0.4, work_days)
    closed = dispatched + pd.to_timedelta(work_days * 7 / 5 * 86400, unit="s").floor("s")
    backlog = rng.random(n) < 0.004
    closed_or_nat = pd.Series(closed).where(~backlog).to_numpy()
    is_closed = pd.notna(closed_or_nat) & (closed_or_nat <= AS_OF.to_datetime64())
    status = np.where(is_closed, CLOSED, np.where(dispatched <= AS_OF, IN_PROGRESS, PENDING))
    closed_at = np.where(is_closed, closed_or_nat, np.datetime64("NaT"))
    hotline = np.isin(src, ["12345", "群众随手拍"])
    sat = rng.choice(["满意", "基本满意", "不满意"], size=n, p=[0.88, 0.095, 0.025])
    satisfaction = np.where(is_closed & hotline, sat, "")
    # Coordinates as delivered: web-map geocoders give GCJ-02 or BD-09, the grid app GPS.
    coord_sys = np.full(n, "wgs84", dtype=object)
    r = rng.random(n)
    coord_sys[(src == "12345") & (r < 0.55)] = "gcj02"
    coord_sys[(src == "12345") & (r >= 0.55) & (r < 0.65)] = "bd09"
    coord_sys[src == "群众随手拍"] = "gcj02"
    coord_sys[(src == "网格巡查") & (r < 0.3)] = "cgcs2000"
    ll = gpd.GeoSeries(gpd.points_from_xy(ev.x, ev.y), crs=METRIC_CRS).to_crs(DISPLAY_CRS)
    lon, lat = ll.x.to_numpy().copy(), ll.y.to_numpy().copy()
    true_lon, true_lat = lon.copy(), lat.copy()
    for name, fn in (("gcj02", wm.wgs84_to_gcj02), ("bd09", wm.wgs84_to_bd09)):
        sel = coord_sys == name
        lon[sel], lat[sel] = fn(lon[sel], lat[sel])
    # A few rows as real exports have them: no location, lon/lat swapped, another county.
    r = rng.random(n)
    background_row = ev.demo_pattern.to_numpy() == ""
    bad_none = background_row & (src == "12345") & (r < 0.0015)
    bad_swap = background_row & (src == "12345") & (r >= 0.0015) & (r < 0.002)
    bad_far = background_row & (src == "12345") & (r >= 0.002) & (r < 0.003)
    lon[bad_none], lat[bad_none] = np.nan, np.nan
    lon[bad_swap], lat[bad_swap] = lat[bad_swap].copy(), lon[bad_swap].copy()
    lon[bad_far] -= 0.45  # about 40 km west, outside the county
    true_lon[bad_none | bad_swap], true_lat[bad_none | bad_swap] = np.nan, np.nan
    true_lon[bad_far] = np.nan
    # Addresses: every hotline ticket has one; some come with it alone (no coordinates).
    gazetteer, homes, addr_rng = addressing
    hotline_12345 = src == "12345"
    address_only = (
        background_row
        & hotline_12345
        & ~(bad_none | bad_swap | bad_far)
        & (addr_rng.random(n) < ADDRESS_ONLY)
    )
    where = hotline_12345 & ~bad_none
    ex, ey = np.where(where, ev.x, np.nan), np.where(where, ev.y, np.nan)
    address, noise, home = ticket_addresses(ex, ey, address_only, households, homes, addr_rng)
    lon[address_only], lat[address_only] = np.nan, np.nan
    coord_sys[address_only] = ""
    geom = gpd.GeoSeries(gpd.points_from_xy(true_lon, true_lat), crs=DISPLAY_CRS).to_crs(METRIC_CRS)
    geom[np.isnan(true_lon)] = None
    prefix = {"12345": "RX", "网格巡查": "WG", "群众随手拍": "SP", "部门移交": "YJ"}
    order = np.lexsort((np.arange(n), received.to_numpy()))
    caller_name = np.where(hotline, names.persons(n), "").astype(object)
    caller_phone = np.where(hotline, names.phones(n), "").astype(object)
    if "caller" in ev:
        has = ev.caller.fillna("").to_numpy() != ""
        caller_name[has] = ev.caller[has].to_numpy()
        caller_phone[has] = ev.caller_phone[has].to_numpy()
    issues = (
        gpd.GeoDataFrame(
            {
                "ticket_id": "",
                "source": src,
                "request_type": rtype,
                "received_at": received,
                "category": ev.category.to_numpy(),
                "subcategory": ev.subcategory.to_numpy(),
                "lon": np.round(lon, 7),
                "lat": np.round(lat, 7),
                "coord_sys": coord_sys,
                "status": status,
                "dispatched_at": dispatched,
                "closed_at": pd.to_datetime(closed_at),
                "resolution_level": np.where(is_closed, level, ""),
                "satisfaction": satisfaction,
                "caller_name": caller_name,
                "caller_phone": caller_phone,
                "address": address,
                "demo_pattern": ev.demo_pattern.to_numpy(),
            },
            geometry=geom.to_numpy(),
            crs=METRIC_CRS,
        )
        .iloc[order]
        .reset_index(drop=True)
    )
    day_key = issues.received_at.dt.strftime("%Y%m%d")
    seq = issues.groupby([issues.source, day_key]).cumcount() + 1
    issues["ticket_id"] = issues.source.map(prefix) + day_key + seq.map("{:04d}".format)
    from geo.grids.assign import PROBLEM_NO_ADDRESS_MATCH, PROBLEM_VILLAGE_LEVEL, assign_events
    from geo.intake.gazetteer import Gazetteer

    # The address-only tickets are placed from their address, as an intake would.
    only = address_only[order]
    found = Gazetteer.build(gazetteer).match(issues.loc[only, "address"])
    placed = found.match_level.to_numpy() != "none"
    rows = np.flatnonzero(only)
    issues.loc[rows, "geometry"] = gpd.points_from_xy(
        found.x.to_numpy(), found.y.to_numpy(), crs=METRIC_CRS
    )
    issues.loc[rows[~placed], "geometry"] = None
    village_level = np.zeros(n, dtype=bool)
    village_level[rows[found.match_level.to_numpy() == "village"]] = True
    issues["assign_problem"] = np.where(village_level, PROBLEM_VILLAGE_LEVEL, "")
    assigned = assign_events(issues, grids, index=index)
    for col in assigned.columns:
        issues[col] = assigned[col].astype(str).to_numpy()
    issues.loc[rows[~placed], "assign_problem"] = PROBLEM_NO_ADDRESS_MATCH
    # What the generator knows of each address-only ticket, for checking the matcher.
    caller = home[order][only]
    entry = homes.entry.to_numpy()[caller]
    gx, gy = gazetteer.geometry.x.to_numpy(), gazetteer.geometry.y.to_numpy()
    truth = pd.DataFrame(
        {
            "ticket_id": issues.ticket_id.to_numpy()[rows],
            "noise": noise[order][only],
            "true_x": ev.x.to_numpy()[order][only],
            "true_y": ev.y.to_numpy()[order][only],
            "village_code": households.village_code.to_numpy()[caller],
            "entry_x": np.where(entry >= 0, gx[entry], np.nan),
            "entry_y": np.where(entry >= 0, gy[entry], np.nan),
            "match_level": found.match_level.to_numpy(),
            "score": found.score.to_numpy(),
        }
    )
    planted_grids = (
        issues[issues.demo_pattern != ""]
        .groupby("demo_pattern")
        .grid_code.agg(lambda s: ",".join(s.value_counts().index[:12]))
    )
    planted["top_grids"] = planted.pattern_id.map(planted_grids).fillna("")
    return issues, planted, truth


def _planted(
    towns: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    days: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spatial clusters and trends that hotspot analysis should find (see data/README.md)."""

    def village(town_code: str, kind: str, k: int) -> pd.Series:
        vs = villages[(villages.town_code == town_code) & (villages.kind == kind)]
        return vs.sort_values("village_code").iloc[k % len(vs)]

    def centre_of(v: pd.Series) -> np.ndarray:
        return np.array([v.centre_x, v.centre_y])

    n_days = len(days)
    week = np.arange(n_days) // 7
    n_weeks = int(week.max()) + 1
    specs = []
    # P1 persistent: a garbage transfer station in a Hede community, the whole history.
    specs.append(
        (
            "P1",
            "persistent",
            "环境卫生",
            "垃圾清运",
            centre_of(village("320924101", "社区", 3)),
            350.0,
            np.full(n_weeks, 20.0),
        )
    )
    # P2 new and intensifying: a construction site in the development zone, last 8 weeks.
    rate = np.zeros(n_weeks)
    rate[-8:] = np.linspace(6, 30, 8)
    specs.append(
        (
            "P2",
            "new_intensifying",
            "噪音扰民",
            "施工噪音",
            centre_of(village("320924401", "社区", 1)),
            300.0,
            rate,
        )
    )
    # P3 seasonal: straw burning in Yangma's fields in June and October.
    rate = np.zeros(n_weeks)
    months = days.month.to_numpy()
    dom = days.day.to_numpy()
    season = ((months == 6) & (dom <= 20)) | ((months == 10) & (dom >= 10))
    rate[np.unique(week[season])] = 10.0
    specs.append(
        (
            "P3",
            "seasonal",
            "农业农村",
            "秸秆焚烧",
            centre_of(village("320924112", "村", 4)),
            1500.0,
            rate,
        )
    )
    # P4 diminishing: property management complaints falling since a fix in month 13, still
    # above normal (a diminishing hot spot is hot in 90 % of the bins, the latest included).
    rate = np.concatenate([np.full(52, 30.0), np.linspace(30, 10, n_weeks - 52)])
    specs.append(
        (
            "P4",
            "diminishing",
            "物业管理",
            "物业服务",
            centre_of(village("320924101", "社区", 9)),
            250.0,
            rate,
        )
    )
    events = []
    rows = []
    for pid, kind, cat, sub, centre, radius, weekly in specs:
        n_week = rng.poisson(weekly)
        wk = np.repeat(np.arange(n_weeks), n_week)
        day = wk * 7 + rng.integers(0, 7, len(wk))
        day = day[day < n_days]  # the last, partial week keeps only its own days
        if pid == "P3":
            day = day[season[day]]
        ang = rng.uniform(0, 2 * np.pi, len(day))
        rad = radius * np.sqrt(rng.uniform(0, 1, len(day)))
        events.append(
            pd.DataFrame(
                {
                    "source": rng.choice(["12345", "网格巡查"], len(day), p=[0.7, 0.3]),
                    "day": day,
                    "category": cat,
                    "fixed_sub": sub,
                    "x": centre[0] + rad * np.cos(ang),
                    "y": centre[1] + rad * np.sin(ang),
                    "demo_pattern": pid,
                }
            )
        )
        rows.append(
            (pid, kind, cat, sub, centre, radius, days[day.min()], days[day.max()], len(day))
        )
    # P5 burst: 12 wage-arrears calls within 150 m and 4 hours at a port-zone factory.
    centre = centre_of(village("320924402", "村", 0))
    t0 = pd.Timestamp("2026-10-28 08:30")
    k = 12
    times = t0 + pd.to_timedelta(np.sort(rng.uniform(0, 4 * 3600, k)), unit="s")
    ang, rad = rng.uniform(0, 2 * np.pi, k), 150 * np.sqrt(rng.uniform(0, 1, k))
    events.append(
        pd.DataFrame(
            {
                "source": "12345",
                "day": int((t0.normalize() - days[0]).days),
                "category": "劳动保障",
                "fixed_sub": "欠薪讨薪",
                "x": centre[0] + rad * np.cos(ang),
                "y": centre[1] + rad * np.sin(ang),
                "demo_pattern": "P5",
                "time": times,
            }
        )
    )
    rows.append(("P5", "burst", "劳动保障", "欠薪讨薪", centre, 150.0, times.min(), times.max(), k))
    # P6 repeat complaints: one caller, the same place, nine calls in 25 days.
    centre = centre_of(village("320924101", "社区", 14))
    k = 9
    times = pd.Timestamp("2026-10-20 21:00") + pd.to_timedelta(
        np.sort(rng.uniform(0, 25, k)), unit="D"
    )
    events.append(
        pd.DataFrame(
            {
                "source": "12345",
                "day": [(t.normalize() - days[0]).days for t in times],
                "category": "噪音扰民",
                "fixed_sub": "生活噪音",
                "x": centre[0] + rng.normal(0, 15, k),
                "y": centre[1] + rng.normal(0, 15, k),
                "demo_pattern": "P6",
                "time": times.floor("s"),
                "caller": "周建华",
                "caller_phone": "13861234567",
            }
        )
    )
    rows.append(("P6", "repeat", "噪音扰民", "生活噪音", centre, 50.0, times.min(), times.max(), k))
    planted = pd.DataFrame(
        rows,
        columns=[
            "pattern_id",
            "kind",
            "category",
            "subcategory",
            "centre",
            "radius_m",
            "start",
            "end",
            "n_events",
        ],
    )
    xy = np.vstack(list(planted.pop("centre")))
    ll = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=METRIC_CRS).to_crs(DISPLAY_CRS)
    planted["centre_x"], planted["centre_y"] = xy[:, 0], xy[:, 1]
    planted["centre_lon"], planted["centre_lat"] = ll.x.round(6), ll.y.round(6)
    return pd.concat(events, ignore_index=True), planted


# --------------------------------------------------------------------------- names


class _Names:
    """Synthetic Chinese names, unique where they must be."""

    def __init__(self, rng: np.random.Generator) -> None:
        spec = json.loads((DATA / "demo_names.json").read_text(encoding="utf-8"))
        self.rng = rng
        self.surnames = list(spec["surnames"])
        self.given = list(spec["given"])
        self.first = list(spec["village_first"])
        self.second = list(spec["village_second"])
        self.words = list(spec["community_words"])
        self.used: set[str] = set()

    def _unique(self, make: Callable[[], str]) -> str:
        for _ in range(1000):
            name = make()
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("ran out of synthetic names; add syllables to data/demo_names.json")

    def village(self) -> str:
        return self._unique(
            lambda: self.rng.choice(self.first) + self.rng.choice(self.second) + "村"
        )

    def community(self) -> str:
        def make() -> str:
            word = str(self.rng.choice(self.words))
            return (
                word + "社区"
                if word + "社区" not in self.used
                else word + self.rng.choice(["东", "西", "南", "北", "新"]) + "社区"
            )

        return self._unique(make)

    def person(self) -> str:
        n = 1 if self.rng.random() < 0.35 else 2
        return str(self.rng.choice(self.surnames)) + "".join(self.rng.choice(self.given, n))

    def persons(self, n: int) -> np.ndarray:
        """``n`` random (not unique) person names at once."""
        out = np.array(self.surnames, dtype=object)[self.rng.integers(0, len(self.surnames), n)]
        given = np.array(self.given, dtype=object)
        out = out + given[self.rng.integers(0, len(given), n)]
        two = self.rng.random(n) >= 0.35
        out[two] = out[two] + given[self.rng.integers(0, len(given), int(two.sum()))]
        return out

    def phones(self, n: int) -> np.ndarray:
        """``n`` random mobile numbers (synthetic) at once."""
        prefix = np.array(
            [
                "138",
                "139",
                "137",
                "150",
                "151",
                "152",
                "158",
                "159",
                "182",
                "187",
                "188",
                "135",
                "136",
                "133",
                "153",
                "180",
                "189",
            ],
            dtype=object,
        )
        digits = self.rng.integers(0, 10**8, n)
        return prefix[self.rng.integers(0, len(prefix), n)] + np.char.zfill(
            digits.astype(str), 8
        ).astype(object)

    def phone(self) -> str:
        prefix = self.rng.choice(
            [
                "138",
                "139",
                "137",
                "150",
                "151",
                "152",
                "157",
                "158",
                "159",
                "182",
                "187",
                "188",
                "135",
                "136",
                "133",
                "153",
                "180",
                "189",
            ]
        )
        return str(prefix) + f"{int(self.rng.integers(0, 10**8)):08d}"


def demo_path() -> Path:
    """Where the dashboard keeps the demo GeoPackage (``GRIDGOV_DATA_DIR`` or ``data/cache``)."""
    return Path(os.fspath(get_settings().data_dir)) / DEMO_FILENAME

"""The demo county's gazetteer (synthetic standard addresses, POIs, villages) and the addresses
its 12345 callers give, some of them noisy. ``data/README.md`` says what was planted.

Everything here draws from its own random stream (``default_rng([seed, 11])``), so the other
layers are the same as without addresses.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.demo.facts import METRIC_CRS

#: The gazetteer's standard prefix (province, city, county).
PREFIX = "江苏省盐城市射阳县"
#: Stems of the synthetic road names (each town draws its own from stem × suffix).
ROAD_STEMS = [
    "人民",
    "解放",
    "幸福",
    "朝阳",
    "振阳",
    "阳光",
    "文峰",
    "长安",
    "兴港",
    "海都",
    "鹤乡",
    "丹顶",
    "明湖",
    "日月",
    "千鹤",
    "府前",
    "黄海",
    "新港",
    "湖畔",
    "双拥",
    "向阳",
    "安康",
    "和平",
    "世纪",
    "金岸",
    "滨河",
    "凤凰",
    "学府",
    "商城",
    "春晖",
    "锦绣",
    "建设",
    "团结",
    "友谊",
    "胜利",
    "工农",
    "红旗",
    "东方",
    "永兴",
    "宏达",
    "通榆",
    "利民",
    "育才",
    "文化",
    "健康",
    "振兴",
    "富康",
    "沿河",
    "迎宾",
    "海港",
]
ROAD_SUFFIXES = ("路", "街", "大道", "东路", "西路")
#: Size of an urban compound: the households of a road within one such square share one
#: standard address (人民路88号), numbered west to east, odd on the north side of the town.
COMPOUND_M = 150.0
#: Households per 组 (group) of a village, and the share of rural houses with a standard
#: address in the gazetteer (the rest are found at village level).
GROUP_HOUSEHOLDS = 35
RURAL_SAMPLE = 0.25
#: Share of the (background) 12345 tickets delivered with an address and no coordinates.
ADDRESS_ONLY = 0.30
#: How the address-only tickets' texts were written: kind → share.
NOISE = {
    "standard": 0.40,  # as the gazetteer writes it, with or without 江苏省盐城市 / 射阳县
    "fullwidth": 0.08,  # ２８号
    "numerals": 0.08,  # 二十八号, 三组
    "no_town": 0.08,  # the town left out
    "with_community": 0.06,  # an urban address naming its community too
    "typo": 0.10,  # one character of the road or village name wrong
    "no_number": 0.08,  # the road or group without a house number
    "village_only": 0.07,  # just the village or community
    "unknown": 0.05,  # nothing that locates it (不详, 家中, a road no one has heard of)
}
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_CN = "零一二三四五六七八九"
_UNKNOWN = ("不详", "家中", "路边", "村口小桥边", "射阳县", "东边那条路", "见描述", "无")


def _chinese(n: int) -> str:
    """12 → 十二, 20 → 二十, 105 → 一百零五 (for 1 ≤ n ≤ 999)."""
    hundreds, tens, ones = n // 100, n // 10 % 10, n % 10
    out = f"{_CN[hundreds]}百" if hundreds else ""
    if tens:
        out += ("" if tens == 1 and not hundreds else _CN[tens]) + "十"
    elif hundreds and ones:
        out += "零"
    return out + (_CN[ones] if ones else "")


def gazetteer_layers(
    towns: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The ``gazetteer`` layer and every household's address.

    Returns
    -------
    gazetteer
        Points (EPSG:4549): ``gazetteer_id``, ``kind`` (address / poi / village), ``name``,
        ``address``, ``town``, ``village_code``. Urban standard addresses are compounds
        (every community household belongs to one), rural ones a sample of houses.
    homes
        One row per household, in order: ``town``, ``village``, ``kind`` (社区/村),
        ``road``, ``group``, ``number``, ``entry`` (position of its gazetteer point, -1 if
        its house is not in the gazetteer).
    """
    vinfo = villages.set_index("village_code")
    town_name = towns.set_index("town_code")["town_name"]
    hx, hy = households.geometry.x.to_numpy(), households.geometry.y.to_numpy()
    vcode = households["village_code"].to_numpy()
    n = len(households)
    road = np.full(n, "", dtype=object)
    group = np.full(n, -1, dtype=np.int64)
    number = np.full(n, -1, dtype=np.int64)
    by_village = households.groupby("village_code").indices
    pools: dict[str, list[str]] = {}
    for t in towns.town_code:
        pool = [s + x for s in ROAD_STEMS for x in ROAD_SUFFIXES]
        pools[t] = list(rng.permutation(pool))
    for v in villages.itertuples():
        idx = by_village.get(v.village_code)
        if idx is None:
            continue
        band_count = (
            int(np.clip(len(idx) // 400 + 2, 2, 6))
            if v.kind == "社区"
            else int(np.clip(round(len(idx) / GROUP_HOUSEHOLDS), 2, 16))
        )
        ranks = np.argsort(np.argsort(-hy[idx], kind="stable"), kind="stable")
        band = ranks * band_count // len(idx)  # north to south
        for b in range(band_count):
            sel = idx[band == b]
            if v.kind == "社区":
                road[sel] = pools[v.town_code].pop()
                cx = np.floor(hx[sel] / COMPOUND_M).astype(np.int64)
                cy = np.floor(hy[sel] / COMPOUND_M).astype(np.int64)
                _, cell = np.unique(cx * 1_000_000 + cy, return_inverse=True)
                number[sel] = 2 * cell + 1 + (b % 2)
            else:
                group[sel] = b + 1
                number[sel] = np.argsort(np.argsort(hx[sel], kind="stable"), kind="stable") + 1
    urban = road != ""
    tname = pd.Series(vcode).str.slice(0, 9).map(town_name).to_numpy()
    vname = vinfo["village_name"].reindex(vcode).to_numpy()
    # Urban compounds: one point (the mean of its households) per road and number.
    comp = pd.DataFrame(
        {"town": tname[urban], "road": road[urban], "number": number[urban], "x": hx[urban]}
    )
    comp["y"], comp["village_code"], comp["h"] = hy[urban], vcode[urban], np.flatnonzero(urban)
    keys = ["town", "road", "number"]
    compounds = comp.groupby(keys, as_index=False, sort=True).agg(
        x=("x", "mean"), y=("y", "mean"), village_code=("village_code", "first")
    )
    compounds["name"] = compounds.road + compounds.number.astype(str) + "号"
    compounds["address"] = PREFIX + compounds.town + compounds.name
    # Rural houses: a sample.
    rural = np.flatnonzero(~urban & (group > 0))
    sampled = rural[rng.random(len(rural)) < RURAL_SAMPLE]
    houses = pd.DataFrame(
        {
            "town": tname[sampled],
            "village_code": vcode[sampled],
            "x": hx[sampled],
            "y": hy[sampled],
            "name": vname[sampled]
            + pd.Series(group[sampled]).astype(str).to_numpy()
            + "组"
            + pd.Series(number[sampled]).astype(str).to_numpy()
            + "号",
        }
    )
    houses["address"] = PREFIX + houses.town + houses.name
    vill = pd.DataFrame(
        {
            "town": villages.town_code.map(town_name).to_numpy(),
            "village_code": villages.village_code.to_numpy(),
            "x": villages.centre_x.to_numpy(),
            "y": villages.centre_y.to_numpy(),
            "name": villages.village_name.to_numpy(),
        }
    )
    vill["address"] = PREFIX + vill.town + vill.name
    sname = services["name"].astype(str)
    stown = services.village_code.str.slice(0, 9).map(town_name)
    pois = pd.DataFrame(
        {
            "town": stown.to_numpy(),
            "village_code": services.village_code.to_numpy(),
            "x": services.geometry.x.to_numpy(),
            "y": services.geometry.y.to_numpy(),
            "name": sname.to_numpy(),
        }
    )
    county_wide = sname.str.startswith("射阳县").to_numpy()
    own_town = np.array([n.startswith(t) for n, t in zip(sname, stown, strict=True)])
    pois["address"] = np.where(
        county_wide,
        PREFIX[:-3] + sname,
        np.where(own_town, PREFIX + sname, PREFIX + stown + sname),
    )
    parts = [
        compounds.assign(kind="address"),
        houses.assign(kind="address"),
        vill.assign(kind="village"),
        pois.assign(kind="poi"),
    ]
    cols = ["kind", "name", "address", "town", "village_code", "x", "y"]
    table = pd.concat([p[cols] for p in parts], ignore_index=True)
    table.insert(0, "gazetteer_id", [f"G{i:06d}" for i in range(1, len(table) + 1)])
    gazetteer = gpd.GeoDataFrame(
        table.drop(columns=["x", "y"]),
        geometry=gpd.points_from_xy(table.x, table.y),
        crs=METRIC_CRS,
    )
    entry = np.full(n, -1, dtype=np.int64)
    pos = compounds.reset_index().set_index(keys)["index"]
    entry[urban] = pos.reindex(pd.MultiIndex.from_frame(comp[keys])).to_numpy()
    entry[sampled] = len(compounds) + np.arange(len(sampled))
    homes = pd.DataFrame(
        {
            "town": tname,
            "village": vname,
            "kind": vinfo["kind"].reindex(vcode).to_numpy(),
            "road": road,
            "group": group,
            "number": number,
            "entry": entry,
        }
    )
    return gazetteer, homes


def ticket_addresses(
    x: np.ndarray,
    y: np.ndarray,
    address_only: np.ndarray,
    households: gpd.GeoDataFrame,
    homes: pd.DataFrame,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The address each ticket's caller gives (of the household nearest to where the problem
    is), how it was written (a key of :data:`NOISE`; ``"standard"`` for tickets that also
    carry coordinates) and that household's position (-1 where the position is unknown).

    Parameters
    ----------
    x, y
        True positions (EPSG:4549, NaN where unknown: the address is then empty).
    address_only
        Tickets delivered without coordinates: only these are written with noise.
    """
    n = len(x)
    known = np.isfinite(x) & np.isfinite(y)
    tree = cKDTree(np.column_stack([households.geometry.x, households.geometry.y]))
    home = np.full(n, -1, dtype=np.int64)
    home[known] = tree.query(np.column_stack([x[known], y[known]]))[1]
    h = homes.iloc[np.where(home >= 0, home, 0)]
    town = h.town.to_numpy(dtype=object).copy()
    village = h.village.to_numpy(dtype=object).copy()
    road = h.road.to_numpy(dtype=object).copy()
    group = h.group.to_numpy()
    num = h.number.to_numpy()
    urban = road != ""
    noise = np.full(n, "standard", dtype=object)
    kinds = list(NOISE)
    draw = rng.choice(len(kinds), size=n, p=list(NOISE.values()))
    sel = address_only & known
    noise[sel] = np.array(kinds, dtype=object)[draw[sel]]
    noise[sel & (noise == "with_community") & ~urban] = "standard"
    number_text = np.array([str(k) for k in num], dtype=object)
    group_text = np.array([str(k) for k in group], dtype=object)
    # Typos: one character of the road's (or village's) stem replaced.
    typo = np.flatnonzero(noise == "typo")
    pool = np.array(
        list("新东西南北红兴太安永海丰盐洋金港通振友合民黄陈裕庆富利中星光河港湾庄集桥")
    )
    swap = pool[rng.integers(0, len(pool), len(typo))]
    at = rng.random(len(typo))
    for k, i in enumerate(typo):
        field = road if urban[i] else village
        word = str(field[i])
        stem = len(word) - (2 if word.endswith(("大道", "东路", "西路", "社区")) else 1)
        j = int(at[k] * stem)
        new = word[:j] + (swap[k] if swap[k] != word[j] else "湾") + word[j + 1 :]
        field[i] = new
    full = noise == "fullwidth"
    number_text[full] = [s.translate(_FULLWIDTH) for s in number_text[full]]
    group_text[full] = [s.translate(_FULLWIDTH) for s in group_text[full]]
    cn = noise == "numerals"
    number_text[cn] = [_chinese(int(s)) for s in number_text[cn]]
    group_text[cn] = [_chinese(int(s)) for s in group_text[cn]]
    house = np.where(
        urban,
        road + number_text + "号",
        village + group_text + "组" + number_text + "号",
    )
    house = np.where(noise == "with_community", village + house, house)
    house = np.where(
        noise == "no_number", np.where(urban, village + road, village + group_text + "组"), house
    )
    house = np.where(noise == "village_only", village, house)
    prefix = np.array(["", "射阳县", PREFIX], dtype=object)[rng.integers(0, 3, n)]
    text = prefix + np.where(noise == "no_town", "", town) + house
    unknown = noise == "unknown"
    text[unknown] = np.array(_UNKNOWN, dtype=object)[rng.integers(0, len(_UNKNOWN), unknown.sum())]
    text[~known] = ""
    return text.astype(object), noise, home

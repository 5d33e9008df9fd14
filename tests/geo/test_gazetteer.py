"""Known answers for geo.intake.gazetteer on a small hand-built gazetteer of another county
(安吉县, Huzhou, Zhejiang: names of towns and villages, positions invented), and the demo
county's address-only tickets against what the generator knows."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.core.errors import InputProblems
from geo.grids.assign import PROBLEM_NO_ADDRESS_MATCH, PROBLEM_VILLAGE_LEVEL
from geo.intake import Gazetteer, match_addresses, normalise_address
from geo.intake.gazetteer import MATCH_THRESHOLD

CRS = "EPSG:4549"
P = "浙江省湖州市安吉县"
#: (kind, name, village_code, address, x, y)
ROWS = [
    ("village", "城东社区", "330523001001", P + "递铺街道城东社区", 1000, 1000),
    ("village", "城西社区", "330523001002", P + "递铺街道城西社区", 3000, 1000),
    ("village", "横溪村", "330523101201", P + "孝丰镇横溪村", 20000, 5000),
    ("village", "南北庄村", "330523101202", P + "孝丰镇南北庄村", 25000, 5000),
    ("village", "良朋村", "330523102201", P + "天子湖镇良朋村", 40000, 9000),
    ("address", "昌硕路12号", "330523001001", P + "递铺街道昌硕路12号", 1010, 1020),
    ("address", "昌硕路14号", "330523001001", P + "递铺街道昌硕路14号", 1030, 1020),
    ("address", "浦源大道8号", "330523001002", P + "递铺街道浦源大道8号", 3010, 1100),
    ("address", "横溪村3组15号", "330523101201", P + "孝丰镇横溪村3组15号", 20100, 5100),
    ("address", "南北庄村3组15号", "330523101202", P + "孝丰镇南北庄村3组15号", 25100, 5100),
    ("address", "昌硕路12号", "330523102201", P + "天子湖镇昌硕路12号", 40100, 9100),
    ("address", "良朋村2组7号", "330523102201", P + "天子湖镇良朋村2组7号", 40200, 9200),
    ("poi", "安吉县人民医院", "330523001001", P + "递铺街道安吉县人民医院", 1200, 1300),
]


@pytest.fixture(scope="module")
def layer() -> gpd.GeoDataFrame:
    frame = pd.DataFrame(ROWS, columns=["kind", "name", "village_code", "address", "x", "y"])
    return gpd.GeoDataFrame(
        frame.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(frame.x, frame.y), crs=CRS
    )


@pytest.fixture(scope="module")
def gaz(layer) -> Gazetteer:
    return Gazetteer.build(layer)


def one(gaz: Gazetteer, address: str) -> pd.Series:
    return gaz.match([address]).iloc[0]


@pytest.mark.parametrize(
    ("address", "xy"),
    [
        (P + "递铺街道昌硕路12号", (1010, 1020)),  # exact
        ("递铺街道昌硕路１２号", (1010, 1020)),  # full-width digits, no prefix
        ("安吉县递铺街道昌硕路十二号", (1010, 1020)),  # Chinese numerals
        ("递铺街道 昌硕路 12 号。", (1010, 1020)),  # spaces and punctuation
        ("递铺街道城东社区昌硕路12-3号", (1010, 1020)),  # community named, 12-3号
        ("孝丰镇横溪村三组十五号", (20100, 5100)),  # group address in numerals
        ("孝丰镇横溪村委会3组15号", (20100, 5100)),  # 村委会 for 村
        ("天子湖镇良朋村第二组7号", (40200, 9200)),  # 第二组
        ("递铺街道人民医院门口", (1200, 1300)),  # a POI
        ("安吉县人民医院", (1200, 1300)),  # the POI, no town
    ],
)
def test_addresses_land_on_their_point(gaz, address, xy):
    got = one(gaz, address)
    assert got.match_level == "address", got.to_dict()
    assert (got.x, got.y) == xy
    assert got.score >= MATCH_THRESHOLD


def test_exact_and_normalised_forms_score_one(gaz):
    got = gaz.match([P + "递铺街道昌硕路12号", "递铺街道昌硕路１２号", "递铺街道昌硕路十二号"])
    assert got.score.tolist() == [1.0, 1.0, 1.0]
    assert got.matched.tolist() == [P + "递铺街道昌硕路12号"] * 3
    assert got.village_code.tolist() == ["330523001001"] * 3


def test_a_typo_still_matches_with_a_lower_score(gaz):
    got = one(gaz, "递铺街道浦原大道8号")  # 源 → 原
    assert got.match_level == "address" and (got.x, got.y) == (3010, 1100)
    assert MATCH_THRESHOLD <= got.score < 1.0
    rural = one(gaz, "孝丰镇横西村3组15号")  # 溪 → 西, the group and house exist there
    assert rural.match_level == "address" and (rural.x, rural.y) == (20100, 5100)
    assert rural.score < 1.0


def test_village_only_and_unknown_houses_are_placed_at_the_village(gaz):
    got = gaz.match(["孝丰镇横溪村", "孝丰镇横溪村5组99号", "递铺街道城西社区幸福小区"])
    assert got.match_level.tolist() == ["village"] * 3
    assert list(zip(got.x, got.y, strict=True)) == [(20000, 5000), (20000, 5000), (3000, 1000)]
    assert got.village_code.tolist() == ["330523101201", "330523101201", "330523001002"]
    assert got.matched.tolist() == ["横溪村", "横溪村", "城西社区"]


@pytest.mark.parametrize(
    "address",
    ["", "不详", "杭州市西湖区文三路8号", "递铺街道昌朔录99号", "递铺街道"],
)
def test_what_locates_nothing_is_none(gaz, address):
    got = one(gaz, address)
    assert got.match_level == "none"
    assert np.isnan(got.x) and np.isnan(got.y)
    assert got.matched == "" and got.village_code == ""


def test_a_town_mismatch_is_never_matched(gaz):
    # 浦源大道8号 and 横溪村 exist only in other towns than the one named.
    got = gaz.match(["天子湖镇浦源大道8号", "天子湖镇横溪村3组15号", "梅溪镇昌硕路12号"])
    assert got.match_level.tolist() == ["none", "none", "none"]
    # The same road and number in two towns: the named town decides, and without a town
    # neither is chosen (ambiguous).
    both = gaz.match(["天子湖镇昌硕路12号", "递铺街道昌硕路12号", "昌硕路12号"])
    assert list(zip(both.x, both.y, strict=True))[:2] == [(40100, 9100), (1010, 1020)]
    assert both.match_level.tolist() == ["address", "address", "none"]


def test_the_group_repeats_in_every_village_so_the_village_decides(gaz):
    got = gaz.match(["孝丰镇横溪村3组15号", "孝丰镇南北庄村3组15号", "孝丰镇3组15号"])
    assert list(zip(got.x, got.y, strict=True))[:2] == [(20100, 5100), (25100, 5100)]
    assert got.match_level.iloc[2] == "none"


def test_scores_fall_as_the_address_degrades(gaz):
    ladder = [
        "递铺街道浦源大道8号",  # exact
        "浦源大道8号",  # no town
        "递铺街道浦原大道8号",  # one character wrong
        "浦原大道8号",  # one wrong, no town
        "递铺街道浦原大路8号",  # two wrong
    ]
    scores = gaz.match(ladder).score.to_numpy()
    assert scores[0] == 1.0
    assert np.all(np.diff(scores) < 0), scores
    assert scores[-1] < MATCH_THRESHOLD


def test_the_series_index_and_repeated_addresses_are_kept(gaz):
    given = pd.Series(["孝丰镇横溪村", None, "孝丰镇横溪村"], index=[10, 20, 30])
    got = gaz.match(given)
    assert list(got.index) == [10, 20, 30]
    assert got.match_level.tolist() == ["village", "none", "village"]
    assert list(got.columns) == ["x", "y", "match_level", "score", "matched", "village_code"]


def test_village_polygons_stand_in_for_a_missing_village_point(layer):
    points = layer[layer.name != "良朋村"]
    square = gpd.GeoSeries.from_wkt(
        ["POLYGON ((39000 8000, 41000 8000, 41000 10000, 39000 10000, 39000 8000))"]
    )
    villages = gpd.GeoDataFrame(
        {"village_code": ["330523102201"], "village_name": ["良朋村"]}, geometry=square, crs=CRS
    )
    got = match_addresses(
        ["天子湖镇良朋村2组99号", "天子湖镇良朋村2组7号"], points, villages=villages
    )
    assert got.match_level.tolist() == ["village", "address"]
    assert (got.x.iloc[0], got.y.iloc[0]) == (40000, 9000)  # the square's representative point
    assert got.village_code.tolist() == ["330523102201"] * 2
    assert match_addresses(["天子湖镇良朋村2组99号"], points).match_level.iloc[0] == "none"


def test_normalise_address():
    assert (
        normalise_address(
            "江苏省盐城市射阳县 合德镇人民路十二号", prefixes=("江苏省", "盐城市", "射阳县")
        )
        == "合德镇人民路12号"
    )
    assert normalise_address("ＸＸ村委会第三组１０５号附近") == "xx村3组105号"
    assert normalise_address("一百零五号") == "105号"


def test_bad_layers_and_thresholds_are_refused(layer, gaz):
    with pytest.raises(InputProblems, match="kind"):
        Gazetteer.build(layer.assign(kind="house"))
    with pytest.raises(InputProblems, match="village_code"):
        Gazetteer.build(layer.drop(columns="village_code"))
    with pytest.raises(InputProblems, match="threshold must be between 0 and 1"):
        gaz.match(["x"], threshold=1.5)


# --------------------------------------------------------------------------- the demo county


def test_the_demo_places_its_address_only_tickets_from_the_gazetteer(demo_layers):
    issues, truth = demo_layers["issues"], demo_layers["address_truth"]
    hotline = issues[issues.source == "12345"]
    assert (hotline.address != "").mean() > 0.99  # every 12345 ticket has its address
    only = issues.set_index("ticket_id").loc[truth.ticket_id]
    assert only.lon.isna().all() and (only.coord_sys == "").all()
    assert 0.25 < len(truth) / len(hotline) < 0.35  # ADDRESS_ONLY = 30 % of the background
    level = truth.match_level.to_numpy()
    placed = level != "none"
    assert (only.grid_code.to_numpy()[placed] != "").all()  # placed ones are in a grid
    assert (only.assign_problem.to_numpy()[level == "village"] == PROBLEM_VILLAGE_LEVEL).all()
    assert (only.assign_problem.to_numpy()[level == "address"] == "").all()
    assert (only.assign_problem.to_numpy()[~placed] == PROBLEM_NO_ADDRESS_MATCH).all()
    assert only.geometry.isna().to_numpy()[~placed].all()
    # Every level occurs, as the planted noise promises.
    assert {"address", "village", "none"} == set(level)


def test_demo_matches_against_what_the_generator_knows(demo_layers):
    issues, truth = demo_layers["issues"], demo_layers["address_truth"]
    got = issues.set_index("ticket_id").loc[truth.ticket_id]
    gx, gy = got.geometry.x.to_numpy(), got.geometry.y.to_numpy()
    address = truth.match_level.to_numpy() == "address"
    noise = truth.noise.to_numpy()
    # Texts that name no house are never placed at a house.
    assert not address[np.isin(noise, ["no_number", "unknown"])].any()
    # A clean text whose house the gazetteer has is found (full-width and numerals alike).
    clean = np.isin(noise, ["standard", "fullwidth", "numerals"]) & truth.entry_x.notna()
    assert address[clean].mean() > 0.999
    # Address-level matches point at the caller's own gazetteer entry …
    at_entry = np.hypot(gx - truth.entry_x, gy - truth.entry_y) < 0.01
    assert at_entry[address].mean() > 0.98
    # … so they are as close to the true place as that entry is: the median distance equals
    # the perfect lookup's (the event lies about 40 m from its household, a compound's
    # point within 150 m of its houses) to within a metre.
    has = address & truth.entry_x.notna().to_numpy()  # the caller's house is in the gazetteer
    d = np.hypot(gx - truth.true_x, gy - truth.true_y)[has]
    perfect = np.hypot(truth.entry_x - truth.true_x, truth.entry_y - truth.true_y)[has]
    assert np.median(d) <= np.median(perfect) + 1.0
    # Village-level placements are in the caller's village.
    village = truth.match_level.to_numpy() == "village"
    assert (
        got.village_code.to_numpy()[village] == truth.village_code.to_numpy()[village]
    ).mean() > 0.99

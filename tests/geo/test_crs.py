"""Known-answer tests for geo.core.crs: GCJ-02 / BD-09 forward values, exact inverses, aliases."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from pyproj import Geod

from geo.core.crs import (
    COORD_SYSTEMS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    normalize_coord_sys,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")
FORWARD_TOL_DEG = 1e-6
ROUND_TRIP_TOL_DEG = 1e-9

# Reference values, all (lon, lat) in degrees; each row is (input, expected output).
WGS84_TO_GCJ02 = [
    # eviltransform (github.com/googollee/eviltransform), python/test.py and go/transform_test.go;
    # the source lists them as (lat, lng) pairs: Shanghai, Shenzhen, Beijing.
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    # coordtransform (github.com/wandergis/coordtransform), test/app.js.
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    # gcoord (github.com/hujiulong/gcoord), test/unit/crs/WGS84.spec.ts (8 decimals).
    ((123.0, 45.0), (123.00607541, 45.00197815)),
]
GCJ02_TO_BD09 = [
    # coordtransform (github.com/wandergis/coordtransform), test/app.js.
    ((116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    # gcoord (github.com/hujiulong/gcoord), test/unit/crs/GCJ02.spec.ts (8 decimals).
    ((123.0, 45.0), (123.00636499, 45.00636899)),
    # gcoord, test/fixtures/china-cities.json (7 decimals; its GCJ02 -> BD09 test checks
    # these to 6 decimals): 泰州市 (Jiangsu, next to Sheyang's prefecture) and 沈阳市.
    ((119.9231242, 32.4557802), (119.9296902, 32.4615531)),
    ((123.4314787, 41.8057023), (123.438095, 41.8114013)),
]
WGS84_TO_BD09 = [
    # gcoord (github.com/hujiulong/gcoord), test/unit/crs/WGS84.spec.ts (7 decimals).
    ((123.0, 45.0), (123.0124491, 45.0083293)),
]

# Sheyang county (射阳县), Yancheng, Jiangsu.
SHEYANG_LON = (120.0, 120.6)
SHEYANG_LAT = (33.5, 34.1)


def lattice(lon_range: tuple[float, float], lat_range: tuple[float, float], n: int = 50):
    """An n x n lattice of (lon, lat) in degrees."""
    return np.meshgrid(np.linspace(*lon_range, n), np.linspace(*lat_range, n))


# Well inside the rough China box, so the round trip never crosses its edge.
LATTICES = {
    "china": lattice((73.5, 135.0), (18.0, 53.5)),
    "sheyang": lattice(SHEYANG_LON, SHEYANG_LAT),
}


def geodesic_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Distance in metres on the WGS84 ellipsoid."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# --- forward values -----------------------------------------------------------------------


@pytest.mark.parametrize(("src", "expected"), WGS84_TO_GCJ02)
def test_wgs84_to_gcj02_reference(src, expected):
    lon, lat = wgs84_to_gcj02(*src)
    np.testing.assert_allclose([lon, lat], expected, rtol=0, atol=FORWARD_TOL_DEG)


@pytest.mark.parametrize(("src", "expected"), GCJ02_TO_BD09)
def test_gcj02_to_bd09_reference(src, expected):
    lon, lat = gcj02_to_bd09(*src)
    np.testing.assert_allclose([lon, lat], expected, rtol=0, atol=FORWARD_TOL_DEG)


@pytest.mark.parametrize(("src", "expected"), WGS84_TO_BD09)
def test_wgs84_to_bd09_reference(src, expected):
    lon, lat = wgs84_to_bd09(*src)
    np.testing.assert_allclose([lon, lat], expected, rtol=0, atol=FORWARD_TOL_DEG)


def test_forward_is_vectorised_and_matches_scalar_calls():
    src = np.array([s for s, _ in WGS84_TO_GCJ02])
    expected = np.array([e for _, e in WGS84_TO_GCJ02])
    lon, lat = wgs84_to_gcj02(src[:, 0], src[:, 1])
    assert lon.dtype == np.float64 and lat.shape == (len(src),)
    np.testing.assert_allclose(np.column_stack([lon, lat]), expected, rtol=0, atol=FORWARD_TOL_DEG)


def test_scalars_give_zero_dim_float64():
    for func in (
        wgs84_to_gcj02,
        gcj02_to_wgs84,
        gcj02_to_bd09,
        bd09_to_gcj02,
        wgs84_to_bd09,
        bd09_to_wgs84,
    ):
        lon, lat = func(120.25, 33.77)
        assert lon.shape == () and lat.shape == ()
        assert lon.dtype == np.float64 and lat.dtype == np.float64


def test_inputs_are_not_modified():
    lon = np.array([120.1, 120.2])
    lat = np.array([33.6, 33.7])
    gcj02_to_wgs84(lon, lat)
    bd09_to_wgs84(lon, lat)
    np.testing.assert_array_equal(lon, [120.1, 120.2])
    np.testing.assert_array_equal(lat, [33.6, 33.7])


# --- exact inverses -----------------------------------------------------------------------


@pytest.mark.parametrize(("expected", "src"), WGS84_TO_GCJ02[:4])
def test_gcj02_to_wgs84_recovers_reference_input(expected, src):
    # Full-precision references only: the inverse must give back the exact input.
    lon, lat = gcj02_to_wgs84(*src)
    np.testing.assert_allclose([lon, lat], expected, rtol=0, atol=ROUND_TRIP_TOL_DEG)


def test_bd09_to_gcj02_recovers_reference_input():
    expected, src = GCJ02_TO_BD09[0]
    lon, lat = bd09_to_gcj02(*src)
    np.testing.assert_allclose([lon, lat], expected, rtol=0, atol=ROUND_TRIP_TOL_DEG)


@pytest.mark.parametrize("where", sorted(LATTICES))
@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (wgs84_to_gcj02, gcj02_to_wgs84),
        (wgs84_to_bd09, bd09_to_wgs84),
        (gcj02_to_bd09, bd09_to_gcj02),
    ],
    ids=["gcj02", "bd09", "gcj02-bd09"],
)
def test_round_trip_is_sub_millimetre(where, forward, inverse):
    lon, lat = LATTICES[where]
    back_lon, back_lat = inverse(*forward(lon, lat))
    err_deg = np.maximum(np.abs(back_lon - lon), np.abs(back_lat - lat))
    assert err_deg.max() < ROUND_TRIP_TOL_DEG
    err_m = geodesic_m(lon, lat, back_lon, back_lat)
    assert err_m.max() < 1e-3  # 1e-9 degrees is about 0.1 mm


def test_inverse_beats_the_one_step_approximation():
    # The usual one-step inverse (input minus the forward offset) is off by metres here.
    lon, lat = LATTICES["sheyang"]
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    fwd_lon, fwd_lat = wgs84_to_gcj02(gcj_lon, gcj_lat)
    one_step_m = geodesic_m(lon, lat, 2 * gcj_lon - fwd_lon, 2 * gcj_lat - fwd_lat)
    exact_m = geodesic_m(lon, lat, *gcj02_to_wgs84(gcj_lon, gcj_lat))
    assert one_step_m.max() > 0.1
    assert exact_m.max() < 1e-3


# --- the Sheyang offset ---------------------------------------------------------------------


def test_sheyang_gcj02_shift_is_a_few_hundred_metres():
    lon, lat = wgs84_to_gcj02(120.25, 33.77)
    shift_m = float(geodesic_m(120.25, 33.77, lon, lat))
    assert 300 < shift_m < 700


# --- outside China, NaN -------------------------------------------------------------------

OUTSIDE = np.array(
    [
        (0.0, 0.0),
        (-74.006, 40.7128),  # New York
        (151.2093, -33.8688),  # Sydney
        (2.3522, 48.8566),  # Paris
        (139.6917, 35.6895),  # Tokyo, east of the box
        (120.0, 0.5),  # south of the box
    ]
)


@pytest.mark.parametrize("func", [wgs84_to_gcj02, gcj02_to_wgs84])
def test_outside_china_is_unchanged(func):
    lon, lat = func(OUTSIDE[:, 0], OUTSIDE[:, 1])
    np.testing.assert_array_equal(lon, OUTSIDE[:, 0])
    np.testing.assert_array_equal(lat, OUTSIDE[:, 1])


def test_outside_china_bd09_is_only_the_baidu_step():
    lon, lat = wgs84_to_bd09(OUTSIDE[:, 0], OUTSIDE[:, 1])
    exp_lon, exp_lat = gcj02_to_bd09(OUTSIDE[:, 0], OUTSIDE[:, 1])
    np.testing.assert_array_equal(lon, exp_lon)
    np.testing.assert_array_equal(lat, exp_lat)


@pytest.mark.parametrize(
    "func",
    [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84],
)
def test_nan_propagates_without_warnings(func):
    lon = np.array([120.25, np.nan, 120.3, np.nan])
    lat = np.array([33.77, 33.8, np.nan, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out_lon, out_lat = func(lon, lat)
    # A point with NaN in either coordinate is NaN in both; the others are converted as usual.
    np.testing.assert_array_equal(np.isnan(out_lon), [False, True, True, True])
    np.testing.assert_array_equal(np.isnan(out_lat), [False, True, True, True])
    np.testing.assert_array_equal([out_lon[0], out_lat[0]], [*map(float, func(120.25, 33.77))])


def test_all_nan_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lon, lat = gcj02_to_wgs84(np.full(3, np.nan), np.full(3, np.nan))
    assert np.isnan(lon).all() and np.isnan(lat).all()


# --- coordinate-system names --------------------------------------------------------------


def test_coord_systems_are_the_canonical_names():
    assert COORD_SYSTEMS == ("wgs84", "gcj02", "bd09", "cgcs2000")


def test_normalize_coord_sys_aliases():
    raw = [
        "WGS84",
        " wgs-84 ",
        "GPS",
        "gcj-02",
        "GCJ",
        "火星坐标",
        "BD-09",
        "Baidu",
        "百度",
        "CGCS2000",
        "4490",
    ]
    expected = ["wgs84"] * 3 + ["gcj02"] * 3 + ["bd09"] * 3 + ["cgcs2000"] * 2
    assert normalize_coord_sys(raw).tolist() == expected
    assert normalize_coord_sys("gcj02").shape == ()


def test_to_wgs84_mixed_per_point():
    lon, lat = (
        LATTICES["sheyang"][0][::10, ::10].ravel(),
        LATTICES["sheyang"][1][::10, ::10].ravel(),
    )
    gcj = wgs84_to_gcj02(lon, lat)
    bd = wgs84_to_bd09(lon, lat)
    names = np.array(["wgs84", "GCJ-02", "baidu", "cgcs2000", "火星坐标", "百度"])
    systems = names[np.arange(lon.size) % names.size]
    canonical = normalize_coord_sys(systems)
    given_lon = np.select([canonical == "gcj02", canonical == "bd09"], [gcj[0], bd[0]], lon)
    given_lat = np.select([canonical == "gcj02", canonical == "bd09"], [gcj[1], bd[1]], lat)

    out_lon, out_lat = to_wgs84(given_lon, given_lat, systems)

    np.testing.assert_allclose(out_lon, lon, rtol=0, atol=ROUND_TRIP_TOL_DEG)
    np.testing.assert_allclose(out_lat, lat, rtol=0, atol=ROUND_TRIP_TOL_DEG)
    # wgs84 and cgcs2000 points pass through untouched.
    same = np.isin(canonical, ["wgs84", "cgcs2000"])
    np.testing.assert_array_equal(out_lon[same], given_lon[same])


def test_to_wgs84_one_name_for_all_points():
    lon, lat = LATTICES["sheyang"]
    out_lon, out_lat = to_wgs84(*wgs84_to_bd09(lon, lat), "BD09")
    assert out_lon.shape == lon.shape
    np.testing.assert_allclose(out_lon, lon, rtol=0, atol=ROUND_TRIP_TOL_DEG)
    np.testing.assert_allclose(out_lat, lat, rtol=0, atol=ROUND_TRIP_TOL_DEG)


def test_to_wgs84_unknown_coord_sys_names_every_bad_value():
    with pytest.raises(ValueError, match=re.escape("'utm'")) as info:
        to_wgs84([120.1, 120.2, 120.3, 120.4], [33.6] * 4, ["wgs84", "utm", "mercator", "utm"])
    message = str(info.value)
    assert "coord_sys" in message
    assert "'mercator'" in message
    assert message.count("'utm'") == 1  # distinct values, listed once
    for name in COORD_SYSTEMS:
        assert name in message


def test_to_wgs84_unknown_single_name():
    with pytest.raises(ValueError, match=r"coord_sys has unknown value\(s\) 'gcj2000'"):
        to_wgs84(120.25, 33.77, "gcj2000")


def test_to_wgs84_shape_mismatch():
    with pytest.raises(ValueError, match=r"coord_sys has shape \(2,\)"):
        to_wgs84([120.1, 120.2, 120.3], [33.6, 33.7, 33.8], ["gcj02", "bd09"])

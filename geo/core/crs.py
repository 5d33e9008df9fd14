"""Chinese web-map coordinate systems (GCJ-02, BD-09) and CRS helpers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "COORD_SYSTEMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gauss_kruger_crs",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "normalize_coord_sys",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

FloatArray = NDArray[np.float64]
LonLat = tuple[FloatArray, FloatArray]

#: Canonical names of the coordinate systems GridGov accepts for lon/lat input.
COORD_SYSTEMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09", "cgcs2000")

# Every accepted spelling (compared after strip + lower-case) -> canonical name.
_ALIASES: dict[str, str] = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "wgs_84": "wgs84",
    "wgs 84": "wgs84",
    "gps": "wgs84",
    "4326": "wgs84",
    "epsg:4326": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj_02": "gcj02",
    "gcj": "gcj02",
    "火星坐标": "gcj02",
    "火星坐标系": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd_09": "bd09",
    "baidu": "bd09",
    "百度": "bd09",
    "百度坐标": "bd09",
    "cgcs2000": "cgcs2000",
    "cgcs-2000": "cgcs2000",
    "4490": "cgcs2000",
    "epsg:4490": "cgcs2000",
}

# GCJ-02: Krasovsky 1940 ellipsoid as used by the published algorithm.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
# BD-09.
_X_PI = np.pi * 3000.0 / 180.0
# The rough bounding box every published implementation uses for "inside China".
_CHINA_LON_DEG = (72.004, 137.8347)
_CHINA_LAT_DEG = (0.8293, 55.8271)
# Inverse iteration: stop when the forward residual is below this (degrees) or after _MAX_ITER.
_INVERSE_TOL_DEG = 1e-10
_MAX_ITER = 30


def _as_lonlat(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Return float64 copies of ``lon`` and ``lat`` broadcast to one shape.

    A point with NaN in either coordinate gets NaN in both, so no half-converted point leaks out.
    """
    lon_arr, lat_arr = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    lon_arr, lat_arr = lon_arr.copy(), lat_arr.copy()
    missing = np.isnan(lon_arr) | np.isnan(lat_arr)
    lon_arr[missing] = np.nan
    lat_arr[missing] = np.nan
    return lon_arr, lat_arr


def _in_china(lon: FloatArray, lat: FloatArray) -> NDArray[np.bool_]:
    """True where the point lies in the rough China box (False for NaN)."""
    return (
        (lon >= _CHINA_LON_DEG[0])
        & (lon <= _CHINA_LON_DEG[1])
        & (lat >= _CHINA_LAT_DEG[0])
        & (lat <= _CHINA_LAT_DEG[1])
    )


def _gcj02_offset(lon: FloatArray, lat: FloatArray) -> LonLat:
    """GCJ-02 minus WGS84 at WGS84 ``(lon, lat)``, in degrees, ignoring the China box."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    shared = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * sqrt_abs_x
        + shared
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * sqrt_abs_x
        + shared
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _invert(
    forward: Callable[[FloatArray, FloatArray], LonLat], lon: FloatArray, lat: FloatArray
) -> LonLat:
    """Solve ``forward(x) == (lon, lat)`` point by point by fixed-point iteration.

    Starts from the target itself and repeatedly subtracts the forward residual. Each point
    stops once its residual is below ``_INVERSE_TOL_DEG`` degrees (or after ``_MAX_ITER`` rounds);
    points with NaN/inf coordinates are left as they are.
    """
    out_lon = lon.copy().ravel()
    out_lat = lat.copy().ravel()
    target_lon = lon.ravel()
    target_lat = lat.ravel()
    active = np.flatnonzero(np.isfinite(out_lon) & np.isfinite(out_lat))
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        fwd_lon, fwd_lat = forward(out_lon[active], out_lat[active])
        err_lon = fwd_lon - target_lon[active]
        err_lat = fwd_lat - target_lat[active]
        out_lon[active] -= err_lon
        out_lat[active] -= err_lat
        still = np.maximum(np.abs(err_lon), np.abs(err_lat)) >= _INVERSE_TOL_DEG
        active = active[still]
    return out_lon.reshape(lon.shape), out_lat.reshape(lat.shape)


def _wgs84_to_gcj02(lon: FloatArray, lat: FloatArray) -> LonLat:
    """Forward GCJ-02 on float64 arrays of equal shape (no copying of the inputs needed)."""
    inside = _in_china(lon, lat)
    dlon, dlat = _gcj02_offset(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def _gcj02_to_bd09(lon: FloatArray, lat: FloatArray) -> LonLat:
    """Forward BD-09 on float64 arrays of equal shape."""
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _wgs84_to_bd09(lon: FloatArray, lat: FloatArray) -> LonLat:
    """WGS84 -> GCJ-02 -> BD-09 on float64 arrays of equal shape."""
    return _gcj02_to_bd09(*_wgs84_to_gcj02(lon, lat))


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS84 longitude/latitude to GCJ-02 ("Mars coordinates", AMap/Tencent).

    The well-known published forward algorithm (Krasovsky ellipsoid, a = 6378245.0 m,
    e² = 0.00669342162296594323). Points outside the rough China box
    (lon 72.004-137.8347°, lat 0.8293-55.8271°) are returned unchanged.

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude in degrees; scalars or arrays that broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in GCJ-02, degrees, float64, in the broadcast shape (0-d for scalars).
        A point with NaN in either coordinate comes back as NaN in both.
    """
    lon_arr, lat_arr = _as_lonlat(lon, lat)
    with np.errstate(invalid="ignore"):
        return _wgs84_to_gcj02(lon_arr, lat_arr)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 longitude/latitude back to WGS84, exactly (not the one-step estimate).

    Inverts :func:`wgs84_to_gcj02` by fixed-point iteration over all points at once until
    the forward residual is below 1e-10 degrees (at most 30 rounds; 4-6 are typical), so a
    WGS84 → GCJ-02 → WGS84 round trip is off by well under a millimetre. Points outside
    the rough China box are returned unchanged. Within about a kilometre of the box edge
    GCJ-02 itself is not one-to-one (it jumps there), so no inverse can be exact; those few
    border points are returned after the last round.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees; scalars or arrays that broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in WGS84, degrees, float64, in the broadcast shape (0-d for scalars).
        A point with NaN in either coordinate comes back as NaN in both.
    """
    lon_arr, lat_arr = _as_lonlat(lon, lat)
    with np.errstate(invalid="ignore"):
        return _invert(_wgs84_to_gcj02, lon_arr, lat_arr)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu Maps).

    The published formula: with ``x_pi = pi * 3000 / 180``,
    ``z = hypot(x, y) + 0.00002 sin(y x_pi)``, ``theta = atan2(y, x) + 0.000003 cos(x x_pi)``,
    ``bd_lon = z cos(theta) + 0.0065``, ``bd_lat = z sin(theta) + 0.006``. Like the published
    implementations it applies everywhere (there is no China box for BD-09).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees; scalars or arrays that broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in BD-09, degrees, float64, in the broadcast shape (0-d for scalars).
        A point with NaN in either coordinate comes back as NaN in both.
    """
    lon_arr, lat_arr = _as_lonlat(lon, lat)
    with np.errstate(invalid="ignore"):
        return _gcj02_to_bd09(lon_arr, lat_arr)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 longitude/latitude back to GCJ-02, exactly (not the one-step estimate).

    Inverts :func:`gcj02_to_bd09` by fixed-point iteration over all points at once until the
    forward residual is below 1e-10 degrees (at most 30 rounds), so a GCJ-02 → BD-09 → GCJ-02
    round trip is off by well under a millimetre.

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude in degrees; scalars or arrays that broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in GCJ-02, degrees, float64, in the broadcast shape (0-d for scalars).
        A point with NaN in either coordinate comes back as NaN in both.
    """
    lon_arr, lat_arr = _as_lonlat(lon, lat)
    with np.errstate(invalid="ignore"):
        return _invert(_gcj02_to_bd09, lon_arr, lat_arr)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS84 longitude/latitude to BD-09 (via GCJ-02).

    Outside the rough China box the GCJ-02 step is the identity, so only the BD-09 step applies.

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude in degrees; scalars or arrays that broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in BD-09, degrees, float64, in the broadcast shape (0-d for scalars).
        A point with NaN in either coordinate comes back as NaN in both.
    """
    lon_arr, lat_arr = _as_lonlat(lon, lat)
    with np.errstate(invalid="ignore"):
        return _wgs84_to_bd09(lon_arr, lat_arr)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 longitude/latitude back to WGS84, exactly.

    Inverts :func:`wgs84_to_bd09` as one map by fixed-point iteration over all points at once
    until the forward residual is below 1e-10 degrees (at most 30 rounds), so a
    WGS84 → BD-09 → WGS84 round trip is off by well under a millimetre.

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude in degrees; scalars or arrays that broadcast together.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in WGS84, degrees, float64, in the broadcast shape (0-d for scalars).
        A point with NaN in either coordinate comes back as NaN in both.
    """
    lon_arr, lat_arr = _as_lonlat(lon, lat)
    with np.errstate(invalid="ignore"):
        return _invert(_wgs84_to_bd09, lon_arr, lat_arr)


def normalize_coord_sys(values: str | ArrayLike) -> NDArray[np.str_]:
    """Map coordinate-system names and aliases to their canonical names.

    Matching ignores case and surrounding spaces. Accepted spellings:

    - ``wgs84``: ``wgs84``, ``wgs-84``, ``wgs_84``, ``gps``, ``4326``, ``epsg:4326``
    - ``gcj02``: ``gcj02``, ``gcj-02``, ``gcj_02``, ``gcj``, ``火星坐标``, ``火星坐标系``
    - ``bd09``: ``bd09``, ``bd-09``, ``bd_09``, ``baidu``, ``百度``, ``百度坐标``
    - ``cgcs2000``: ``cgcs2000``, ``cgcs-2000``, ``4490``, ``epsg:4490``

    Parameters
    ----------
    values
        One name, or an array-like of names (one per point).

    Returns
    -------
    numpy.ndarray
        Canonical names from :data:`COORD_SYSTEMS`, same shape as ``values`` (0-d for one name).

    Raises
    ------
    ValueError
        If any value is not a known name; the message lists every distinct bad value at once
        together with the allowed names.
    """
    arr = np.asarray(values, dtype=object)
    flat = arr.ravel()
    out = np.empty(flat.shape, dtype="<U8")
    bad: dict[str, None] = {}
    for i, value in enumerate(flat):
        canonical = _ALIASES.get(value.strip().lower()) if isinstance(value, str) else None
        if canonical is None:
            bad[repr(value)] = None
        else:
            out[i] = canonical
    if bad:
        raise ValueError(
            f"coord_sys has unknown value(s) {', '.join(bad)}; "
            f"use one of {', '.join(COORD_SYSTEMS)} "
            f"(or an alias: {', '.join(a for a in _ALIASES if a not in COORD_SYSTEMS)})"
        )
    return out.reshape(arr.shape)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, coord_sys: str | ArrayLike) -> LonLat:
    """Convert lon/lat given in any accepted coordinate system to WGS84.

    CGCS2000 (EPSG:4490) is treated as WGS84: the two agree at the metre level, well below
    the accuracy of addresses and hand-placed points, so no shift is applied.
    GCJ-02 and BD-09 are inverted exactly (round trip error is sub-millimetre).

    Parameters
    ----------
    lon, lat
        Longitude and latitude in degrees; scalars or arrays that broadcast together.
    coord_sys
        One name for all points, or one name per point (broadcast against ``lon``/``lat``).
        Canonical names are ``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000``; case-insensitive
        aliases such as ``gcj-02``, ``火星坐标``, ``baidu``, ``百度``, ``gps``, ``4490`` are
        accepted too (see :func:`normalize_coord_sys`).

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in WGS84, degrees, float64. A point with NaN in either
        coordinate comes back as NaN in both.

    Raises
    ------
    ValueError
        If ``coord_sys`` holds unknown names (all of them are listed), or if its shape does not
        broadcast against the coordinates.
    """
    lon_arr, lat_arr = _as_lonlat(lon, lat)
    systems = normalize_coord_sys(coord_sys)
    try:
        lon_arr, lat_arr, systems = np.broadcast_arrays(lon_arr, lat_arr, systems)
    except ValueError as exc:
        raise ValueError(
            f"coord_sys has shape {systems.shape} but the coordinates have shape "
            f"{lon_arr.shape}; give one name, or one name per point"
        ) from exc
    out_lon = lon_arr.copy()
    out_lat = lat_arr.copy()
    for name, inverse in (("gcj02", gcj02_to_wgs84), ("bd09", bd09_to_wgs84)):
        mask = systems == name
        if mask.any():
            out_lon[mask], out_lat[mask] = inverse(lon_arr[mask], lat_arr[mask])
    return out_lon, out_lat


#: EPSG codes of CGCS2000 / 3-degree Gauss-Kruger CM 75E … CM 135E (no zone prefix in the
#: easting): EPSG:4534 is CM 75E, each next code 3° further east, EPSG:4554 CM 135E.
_GK3_FIRST_EPSG, _GK3_FIRST_CM, _GK3_LAST_CM = 4534, 75, 135


def gauss_kruger_crs(lon: float) -> str:
    """The CGCS2000 3-degree Gauss-Kruger CRS whose central meridian is nearest ``lon``.

    Parameters
    ----------
    lon
        Longitude in degrees east (a county's centre, WGS84/CGCS2000).

    Returns
    -------
    str
        ``"EPSG:45xx"``: the zone CM = 3° × round(lon / 3°), e.g. 120.25°E (Sheyang) →
        CM 120E → ``EPSG:4549``; 113.6°E → CM 114E → ``EPSG:4547``. A longitude exactly
        half-way between two meridians (e.g. 118.5°E) takes the eastern zone. Eastings carry
        no zone prefix (false easting 500 km).

    Raises
    ------
    ValueError
        ``lon`` is not finite or falls outside the zones CM 75E … CM 135E (73.5°E–136.5°E).
    """
    value = float(lon)
    low, high = _GK3_FIRST_CM - 1.5, _GK3_LAST_CM + 1.5
    if not (np.isfinite(value) and low <= value < high):
        raise ValueError(
            f"longitude {value!r}°E is outside China's 3-degree Gauss-Kruger zones "
            f"({low}°E–{high}°E); give the metric CRS yourself (e.g. --crs EPSG:4549)"
        )
    cm = 3 * int(np.floor(value / 3 + 0.5))
    return f"EPSG:{_GK3_FIRST_EPSG + (cm - _GK3_FIRST_CM) // 3}"

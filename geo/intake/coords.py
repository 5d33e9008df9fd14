"""Which coordinate system a batch of points is really in: WGS84, GCJ-02 or BD-09.

Web-map geocoders give GCJ-02 (Amap, Tencent) or BD-09 (Baidu); an export that calls them
WGS84 puts every ticket 300–700 m off. Tickets are reported where people live, so under the
right assumption the points fall close to the county's households (or roads, or any reference
points given); under a wrong one they land at the typical distance between a random spot and
the nearest household. The guess compares the median nearest distance under each assumption.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from geo.core.crs import to_wgs84
from geo.core.i18n import Text
from geo.core.settings import DISPLAY_CRS

#: The systems a batch can be delivered in, tried in this order.
CANDIDATES = ("wgs84", "gcj02", "bd09")
#: The best assumption must bring the points this much closer than the next best…
CONFIDENT_RATIO = 0.5
#: …and at least this many points must be usable.
MIN_POINTS = 20


@dataclass(frozen=True)
class CoordGuess:
    """The result of :func:`guess_coord_sys`.

    Attributes
    ----------
    best
        The system under which the points fall closest to the reference (``wgs84``…).
    median_m
        Median distance (metres) from each point to its nearest reference point, per system.
    points
        Points used (finite, inside the plausible range).
    confident
        The best median is at most :data:`CONFIDENT_RATIO` of the next best and enough points
        were used; otherwise the batch's stated system should stand.
    """

    best: str
    median_m: dict[str, float]
    points: int
    confident: bool

    def differs_from(self, stated: str) -> bool:
        """True when the batch says ``stated`` but is confidently in another system."""
        return self.confident and self.best != stated

    def explain(self, stated: str) -> Text:
        """What the check found, with the figures, for the intake summary."""
        zh = "，".join(f"按 {s} 中位距离 {m:,.0f} 米" for s, m in self.median_m.items())
        en = ", ".join(f"as {s} median {m:,.0f} m" for s, m in self.median_m.items())
        if self.differs_from(stated):
            return Text(
                f"坐标看来是 {self.best} 而非 {stated}（{self.points} 个点到最近住户：{zh}）；"
                f"如确认，用 --coords {self.best} 重新导入",
                f"the coordinates look like {self.best}, not {stated} ({self.points} points to "
                f"the nearest household: {en}); if so, import again with --coords {self.best}",
            )
        return Text(
            f"坐标系核对：{self.points} 个点到最近住户，{zh}",
            f"coordinate check: {self.points} points to the nearest household, {en}",
        )


def guess_coord_sys(
    lon: ArrayLike, lat: ArrayLike, reference: gpd.GeoDataFrame, *, sample: int = 5000
) -> CoordGuess:
    """Guess the system of ``lon``/``lat`` from how close they fall to ``reference`` points.

    Parameters
    ----------
    lon, lat
        The batch's coordinates in degrees, as delivered.
    reference
        Points where tickets arise (households, or road vertices), in the county's metric CRS.
    sample
        At most this many points are used (an even spread over the batch).
    """
    x = np.asarray(lon, dtype=np.float64).ravel()
    y = np.asarray(lat, dtype=np.float64).ravel()
    ok = np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90)
    x, y = x[ok], y[ok]
    if len(x) > sample:
        keep = np.linspace(0, len(x) - 1, sample).astype(int)
        x, y = x[keep], y[keep]
    ref = shapely.get_coordinates(reference.geometry.to_numpy())
    medians: dict[str, float] = {}
    if len(x) and len(ref):
        tree = cKDTree(ref)
        for system in CANDIDATES:
            wx, wy = to_wgs84(x, y, system)
            metric = gpd.GeoSeries(gpd.points_from_xy(wx, wy), crs=DISPLAY_CRS).to_crs(
                reference.crs
            )
            distance, _ = tree.query(shapely.get_coordinates(metric.to_numpy()))
            medians[system] = float(np.median(distance))
    if not medians:
        return CoordGuess("wgs84", {}, 0, False)
    ranked = sorted(medians, key=medians.__getitem__)
    best, second = medians[ranked[0]], medians[ranked[1]]
    confident = len(x) >= MIN_POINTS and best <= CONFIDENT_RATIO * second
    return CoordGuess(ranked[0], medians, len(x), confident)

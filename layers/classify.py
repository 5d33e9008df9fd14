"""Class breaks, colours and legend labels for choropleth maps."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["DEFAULT_COLORS", "ClassBreaks", "Scheme", "categorical_breaks", "class_breaks"]

Scheme = Literal["quantiles", "natural_breaks"]

#: ColorBrewer YlOrRd, 7 classes (light = few, dark = many).
DEFAULT_COLORS: tuple[str, ...] = (
    "#ffffb2",
    "#fed976",
    "#feb24c",
    "#fd8d3c",
    "#fc4e2a",
    "#e31a1c",
    "#b10026",
)

_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class ClassBreaks:
    """Classes of a numeric column: upper bounds, colours and legend labels.

    Class ``i`` holds values ``v`` with ``bins[i-1] < v <= bins[i]``; class 0
    starts at ``minimum`` (mapclassify's convention).

    Attributes
    ----------
    bins : tuple of float
        Upper bound of each class, increasing; the last is the maximum.
    minimum : float
        Smallest value classified.
    colors : tuple of str
        One CSS hex colour per class.
    labels : tuple of str
        One legend label per class, e.g. ``"3–5"``.
    """

    bins: tuple[float, ...]
    minimum: float
    colors: tuple[str, ...]
    labels: tuple[str, ...]

    def classify(self, values: Sequence[float] | np.ndarray) -> np.ndarray:
        """Class index of each value, ``-1`` for missing (NaN) values."""
        v = np.asarray(values, dtype=float)
        out = np.searchsorted(np.asarray(self.bins), v, side="left")
        out = np.minimum(out, len(self.bins) - 1)
        return np.where(np.isnan(v), -1, out)


def class_breaks(
    values: Sequence[float] | np.ndarray,
    *,
    classes: int = 7,
    scheme: Scheme = "quantiles",
    colors: Sequence[str] | None = None,
    number_format: str | None = None,
) -> ClassBreaks:
    """Compute class breaks of ``values`` and label them for a legend.

    Parameters
    ----------
    values : sequence of float
        The data; NaN and None are ignored.
    classes : int, default 7
        Number of classes wanted (2–12). Fewer come out when the data have
        fewer distinct breaks (e.g. counts that are mostly zero).
    scheme : {"quantiles", "natural_breaks"}, default "quantiles"
        ``"quantiles"``: equal-count classes whose upper bounds are observed
        values (``numpy.percentile(method="inverted_cdf")``, so no class of
        whole numbers is empty). ``"natural_breaks"``: exact Fisher–Jenks breaks
        (least squared deviation within classes; as ``mapclassify.FisherJenks``).
    colors : sequence of str, optional
        CSS hex colours, light to dark, at least ``classes`` of them; when
        fewer classes come out, colours are taken evenly across the list.
        Defaults to :data:`DEFAULT_COLORS`.
    number_format : str, optional
        ``str.format`` pattern for legend numbers. Default: ``"{:,.0f}"``
        for whole-number data (labels then read ``"3–5"`` for ``(2, 5]``),
        otherwise ``"{:,.2f}"``.

    Returns
    -------
    ClassBreaks

    Raises
    ------
    ValueError
        If ``classes`` is out of range, the scheme is unknown, a colour is not
        a hex colour, there are too few colours, or no value is numeric.
    """
    problems = []
    if not isinstance(classes, int) or not 2 <= classes <= 12:
        problems.append(f"classes must be an int from 2 to 12, got {classes!r}")
    if scheme not in ("quantiles", "natural_breaks"):
        problems.append(f"scheme must be 'quantiles' or 'natural_breaks', got {scheme!r}")
    palette = tuple(colors) if colors is not None else DEFAULT_COLORS
    bad = [c for c in palette if not isinstance(c, str) or not _HEX_COLOR.match(c)]
    if bad:
        problems.append(f"colors must be CSS hex colours like '#fd8d3c', got {bad}")
    elif isinstance(classes, int) and len(palette) < classes:
        problems.append(f"{classes} classes need at least {classes} colors, got {len(palette)}")
    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    if data.size == 0:
        problems.append("values has no numbers to classify (all missing?)")
    if problems:
        raise ValueError("cannot compute class breaks:\n- " + "\n- ".join(problems))

    k = min(classes, int(np.unique(data).size))
    if scheme == "quantiles":
        bins = np.unique(np.percentile(data, np.linspace(100 / k, 100, k), method="inverted_cdf"))
    else:
        bins = _fisher_jenks(data, k)
    picked = np.round(np.linspace(0, len(palette) - 1, len(bins))).astype(int)
    whole = bool(np.all(data == np.round(data)))
    fmt = number_format or ("{:,.0f}" if whole else "{:,.2f}")
    labels = _labels(float(data.min()), bins, fmt=fmt, whole=whole and number_format is None)
    return ClassBreaks(
        bins=tuple(float(b) for b in bins),
        minimum=float(data.min()),
        colors=tuple(palette[i] for i in picked),
        labels=labels,
    )


def _fisher_jenks(data: np.ndarray, k: int) -> np.ndarray:
    """Exact Fisher–Jenks breaks: the k classes of least total squared deviation.

    Dynamic programming over the distinct values weighted by their counts
    (equal values never need to be split), O(k·m²) for m distinct values in
    numpy rows: about 0.3 s for 3,689 distinct values and 7 classes, where
    mapclassify's pure-Python FisherJenks takes over 30 s without numba.
    """
    values, counts = np.unique(data, return_counts=True)
    m = len(values)
    if k >= m:
        return values
    centred = values - values.mean()  # keeps the prefix sums well conditioned
    cw = np.r_[0.0, np.cumsum(counts)]
    cs = np.r_[0.0, np.cumsum(counts * centred)]
    cs2 = np.r_[0.0, np.cumsum(counts * centred**2)]

    def ssd(a: np.ndarray, b: int) -> np.ndarray:
        """Squared deviation of the class holding values[a:b], for each start a."""
        s = cs[b] - cs[a]
        return np.asarray(cs2[b] - cs2[a] - s * s / (cw[b] - cw[a]))

    ends = np.arange(1, m + 1)
    cost = np.full(m + 1, np.inf)
    cost[1:] = cs2[ends] - cs[ends] ** 2 / cw[ends]  # one class over values[:b]
    start = np.zeros((k, m + 1), dtype=np.int64)  # start[j, b]: where class j begins
    for j in range(1, k):
        new = np.full(m + 1, np.inf)
        for b in range(j + 1, m + 1):
            a = np.arange(j, b)
            total = cost[a] + ssd(a, b)
            best = int(np.argmin(total))
            new[b], start[j, b] = total[best], a[best]
        cost = new
    uppers, b = [], m
    for j in range(k - 1, -1, -1):
        uppers.append(values[b - 1])
        b = int(start[j, b])
    return np.asarray(uppers[::-1], dtype=float)


def _labels(minimum: float, bins: np.ndarray, *, fmt: str, whole: bool) -> tuple[str, ...]:
    labels = []
    lower = minimum
    for i, upper in enumerate(bins):
        lo, hi = lower, float(upper)
        if whole:  # whole numbers: class (2, 5] holds 3, 4, 5 — say so
            lo, hi = (lo if i == 0 else math.floor(lo) + 1), math.floor(hi)
        labels.append(fmt.format(hi) if lo >= hi else f"{fmt.format(lo)}–{fmt.format(hi)}")
        lower = float(upper)
    return tuple(labels)


def categorical_breaks(classes: Sequence[tuple[str, str]]) -> ClassBreaks:
    """Classes for a column of integer codes ``0 … k-1``: one ``(label, colour)`` per code.

    For categorical maps (hot-spot classes, emerging categories): code ``i`` is drawn in
    ``classes[i][1]`` and listed in the legend as ``classes[i][0]``.
    """
    if not classes:
        raise ValueError("categorical_breaks needs at least one (label, colour) pair")
    bad = [c for _, c in classes if not _HEX_COLOR.match(c)]
    if bad:
        raise ValueError(f"colours must be CSS hex colours like '#d7191c', got {bad}")
    return ClassBreaks(
        bins=tuple(float(i) for i in range(len(classes))),
        minimum=0.0,
        colors=tuple(c for _, c in classes),
        labels=tuple(label for label, _ in classes),
    )

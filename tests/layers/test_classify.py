"""layers.classify: known breaks (quantiles, Fisher–Jenks), legend labels, colours, errors."""

from __future__ import annotations

import warnings

import mapclassify
import numpy as np
import pytest

from layers.classify import DEFAULT_COLORS, class_breaks


def test_quantiles_of_1_to_100() -> None:
    b = class_breaks(np.arange(1, 101), classes=4)
    assert b.bins == (25.0, 50.0, 75.0, 100.0)
    assert b.labels == ("1–25", "26–50", "51–75", "76–100")
    assert b.colors == (DEFAULT_COLORS[0], DEFAULT_COLORS[2], DEFAULT_COLORS[4], DEFAULT_COLORS[6])
    assert b.classify([1, 25, 26, 100, np.nan]).tolist() == [0, 0, 1, 3, -1]


def test_mostly_zero_counts_give_fewer_classes() -> None:
    # 20th–60th percentiles are all 0, the 80th is 2 (8 of 10 values ≤ 2)
    b = class_breaks([0, 0, 0, 0, 0, 0, 1, 2, 5, 9], classes=5)
    assert b.bins == (0.0, 2.0, 9.0)
    assert b.labels == ("0", "1–2", "3–9")
    assert b.colors == (DEFAULT_COLORS[0], DEFAULT_COLORS[3], DEFAULT_COLORS[6])


def test_decimals_and_missing_values() -> None:
    b = class_breaks([0.5, 1.25, None, 2.5, 3.75], classes=2)  # type: ignore[list-item]
    assert b.minimum == 0.5
    assert b.bins == (1.25, 3.75)
    assert b.labels == ("0.50–1.25", "1.25–3.75")
    b = class_breaks([1.0, 2.0, 3.0, 4.0], classes=2, number_format="{:.1f} 件")
    assert b.labels == ("1.0 件–2.0 件", "2.0 件–4.0 件")


def test_custom_colours_are_spread_over_fewer_classes() -> None:
    palette = ["#eeeeee", "#cccccc", "#aaaaaa", "#888888", "#666666"]
    b = class_breaks([1, 1, 1, 2, 2, 3], classes=5, colors=palette)
    assert b.bins == (1.0, 2.0, 3.0)
    assert b.colors == ("#eeeeee", "#aaaaaa", "#666666")


def test_natural_breaks_known_answer() -> None:
    b = class_breaks([1, 2, 3, 10, 11, 12, 30, 31], classes=3, scheme="natural_breaks")
    assert b.bins == (3.0, 12.0, 31.0)
    assert b.labels == ("1–3", "4–12", "13–31")
    # ties are never split: three classes of a two-valued column
    assert class_breaks([0, 0, 0, 5, 5], classes=3, scheme="natural_breaks").bins == (0.0, 5.0)


def test_natural_breaks_agree_with_mapclassify() -> None:
    y = np.random.default_rng(2).gamma(2.0, 50.0, size=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Numba not installed"
        expected = mapclassify.FisherJenks(y, k=6).bins
    np.testing.assert_allclose(class_breaks(y, classes=6, scheme="natural_breaks").bins, expected)


def test_errors_are_collected() -> None:
    with pytest.raises(
        ValueError,
        match=(
            r"(?s)classes must be an int from 2 to 12, got 1.*scheme must be.*'jenks'"
            r".*hex colours.*'red'.*no numbers"
        ),
    ):
        class_breaks([np.nan], classes=1, scheme="jenks", colors=["red"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="7 classes need at least 7 colors, got 2"):
        class_breaks([1, 2, 3], colors=["#000000", "#ffffff"])


def test_categorical_breaks_colour_each_code():
    from layers.classify import categorical_breaks

    breaks = categorical_breaks(
        [("热点 99%", "#b2182b"), ("不显著", "#f7f7f7"), ("冷点", "#2166ac")]
    )
    assert breaks.labels == ("热点 99%", "不显著", "冷点")
    assert list(breaks.classify([0, 1, 2, float("nan")])) == [0, 1, 2, -1]
    with pytest.raises(ValueError, match="hex colours"):
        categorical_breaks([("x", "red")])

"""Small charts beside the maps (Vega-Lite through altair), in words the page gives them."""

from __future__ import annotations

import altair as alt
import pandas as pd


def weekly_bars(weekly: pd.Series, *, week_label: str, count_label: str) -> alt.Chart:
    """Issues per week (index: each week's first day), dates as numbers (``11-02``): a time
    axis would name the months in English whatever the page's language."""
    frame = pd.DataFrame({"week": pd.to_datetime(weekly.index), "count": weekly.to_numpy()})
    week = alt.X("week:T", title=None, axis=alt.Axis(format="%m-%d", labelAngle=0))
    tips = [alt.Tooltip("week:T", title=week_label, format="%Y-%m-%d"),
            alt.Tooltip("count:Q", title=count_label)]  # fmt: skip
    bars = alt.Chart(frame).mark_bar().encode(week, alt.Y("count:Q", title=None), tooltip=tips)
    return bars.properties(height=150)


def share_bars(
    shares: pd.Series, *, label: str, name_label: str, target: float | None = None
) -> alt.Chart:
    """One bar per unit (index: its name) of a share in [0, 1], lowest first so the worst
    reads at the top, every name written, the axis in percent as the page's tiles; a rule
    at ``target`` when given."""
    frame = pd.DataFrame({"name": shares.index.astype(str), "share": shares.to_numpy(float)})
    frame = frame.sort_values(["share", "name"]).reset_index(drop=True)
    order = frame["name"].tolist()
    y = alt.Y("name:N", sort=order, title=None, axis=alt.Axis(labelLimit=220, labelOverlap=False))
    x = alt.X("share:Q", title=label, scale=alt.Scale(domain=[0, 1]),
              axis=alt.Axis(format=".0%"))  # fmt: skip
    tips = [alt.Tooltip("name:N", title=name_label),
            alt.Tooltip("share:Q", title=label, format=".1%")]  # fmt: skip
    chart = alt.Chart(frame).mark_bar().encode(x, y, tooltip=tips)
    if target is not None:
        rule = alt.Chart(pd.DataFrame({"share": [target]})).mark_rule(color="#d7191c")
        chart = chart + rule.encode(x="share:Q")
    return chart.properties(height=max(120, 22 * len(frame)))

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

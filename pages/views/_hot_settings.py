"""The 热点研判 page's analysis settings: what is tested, how significance is judged, the
time bins of the patterns and the neighbourhood."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from geo.hotspots.emerging import GLOBAL_WINDOWS, GlobalWindow
from geo.hotspots.excess import VALUES, Value
from geo.views.hotspots import INFERENCES, Inference
from pages.views._common import tr


@dataclass(frozen=True)
class HotSettings:
    """What the user chose (the defaults: excess over expectation, analytic z with FDR)."""

    value: Value
    inference: Inference
    bins: str
    near: str
    time_step: int
    window: GlobalWindow


def analysis_settings() -> HotSettings:
    """The settings expander."""
    t = tr()
    with st.expander(t("analysis_settings")):
        value = st.radio(
            t("hot_value"), VALUES, key="hot_value", format_func=lambda v: t(f"hot_value_{v}")
        )
        inference = st.radio(
            t("hot_inference"),
            INFERENCES,
            key="hot_inference",
            format_func=lambda i: t(f"hot_inference_{i}"),
        )
        bins = st.radio(
            t("bins"),
            ["month", "week"],  # the grid meeting's rhythm; weeks show what is new this month
            horizontal=True,
            key="hot_bins",
            format_func=lambda b: t(f"bins_{b}"),
        )
        near = st.radio(
            t("neighbours"),
            ["queen", "rook", "knn10"],
            horizontal=True,
            key="hot_near",
            format_func=lambda n: t(f"near_{n}"),
        )
        window = st.radio(
            t("global_window"),
            GLOBAL_WINDOWS,
            horizontal=True,
            key="hot_window",
            format_func=lambda w: t(f"global_window_{w}"),
        )
        step = st.number_input(
            t("time_step"),
            min_value=0,
            max_value=6,
            value=1,
            step=1,
            key="hot_time_step",
            disabled=window == "individual",
            help=t("time_step_help"),
        )
    time_step = 0 if window == "individual" else int(step)
    return HotSettings(value, inference, bins, near, time_step, window)

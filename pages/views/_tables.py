"""Every page's tables through one door: :func:`show_table` reads the columns the way
:mod:`geo.views.tables` says (97.8 %, whole counts, narrow codes, wide reasons, blank empty
cells) and says "no records" in words instead of an empty grid."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from geo.views.tables import KIND_DECIMALS, Kind, decimals, for_people
from pages.views._common import tr


def _config(kind: Kind, column: str) -> Any:
    if kind in KIND_DECIMALS:
        if kind == "count":
            return st.column_config.NumberColumn(format="localized")
        fmt = f"%.{decimals(column, kind)}f"
        return st.column_config.NumberColumn(format=f"{fmt} %%" if kind == "share" else fmt)
    if kind == "code":
        return st.column_config.TextColumn(width="small")
    if kind == "long":
        return st.column_config.TextColumn(width="large")
    return None


def show_table(
    frame: pd.DataFrame,
    labels: Callable[[str], str] | None = None,
    *,
    empty: str | None = None,
    flagged: Sequence[bool] | None = None,
    **options: Any,
) -> Any:
    """``st.dataframe`` of ``frame`` (raw column names) with headers from ``labels`` (the
    page's translator by default) and each column formatted by its kind; ``flagged`` rows
    are tinted red (a grid breaking a rule); ``options`` go to ``st.dataframe`` (``height``,
    ``key``, ``on_select``…). An empty frame shows ``empty`` (default: the catalogue's "no
    records") and returns None."""
    t = tr()
    label = labels or t
    if frame.empty:
        st.caption(empty or t("table_empty"))
        return None
    shown, kinds = for_people(frame)
    heads = {c: label(str(c)) for c in shown.columns}
    config = {heads[c]: _config(kinds[str(c)], str(c)) for c in shown.columns}
    config = {k: v for k, v in config.items() if v is not None} | options.pop("column_config", {})
    options.setdefault("hide_index", True)
    table: Any = shown.rename(columns=heads)
    if flagged is not None:  # a style's cells show its own text: write the numbers there
        tint = ["background-color: #fde0dd" if f else "" for f in flagged]
        written = {
            heads[c]: f"{{:,.{decimals(str(c), kinds[str(c)])}f}}" + (
                " %" if kinds[str(c)] == "share" else "")
            for c in shown.columns
            if kinds[str(c)] in KIND_DECIMALS
        }  # fmt: skip
        table = table.style.apply(lambda _: tint, axis=0).format(written, na_rep="")
    return st.dataframe(table, column_config=config, **options)

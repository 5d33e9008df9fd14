"""数据接入 Data intake: take in a ticket export, fix the quarantined rows, read the ledger."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from geo.core.errors import GridGovError
from geo.intake import SOURCES, IntakeResult, Quarantine, intake_file
from geo.intake.ingest import COORD_SYSTEMS
from geo.views.errors import explain
from geo.views.intake import COUNTS, intake_counts, ledger_table, quarantine_table, sheet_table
from geo.views.safety import safe_csv
from pages.views._common import lang, plain, principal, store, tr
from pages.views._intake_onboard import onboard_tab
from pages.views._personal import audited_download
from pages.views._tables import show_table

t = tr()
st.title(t("page_intake"))
the_store = store()
tickets, quarantine, ledger, onboard = st.tabs(
    [
        t("intake_tab_tickets"),
        t("intake_tab_quarantine"),
        t("intake_tab_ledger"),
        t("intake_tab_onboard"),
    ]
)


def failed(exc: Exception) -> None:
    st.error(plain(t("intake_failed").format(why=explain(exc, lang()))))


with tickets:
    upload = st.file_uploader(t("intake_upload"), type=["xlsx", "xlsm", "xls", "csv", "txt"])
    left, right = st.columns(2)
    source = left.selectbox(
        t("intake_source"), list(SOURCES), format_func=lambda s: t(f"intake_source_{s}")
    )
    coords = right.selectbox(
        t("intake_coords"),
        ["", *COORD_SYSTEMS],
        format_func=lambda c: c.upper() if c else t("intake_coords_auto"),
    )
    sheet = left.text_input(t("intake_sheet"))
    header_row = right.number_input(t("intake_header_row"), min_value=0, step=1)
    if st.button(t("intake_go"), type="primary", disabled=upload is None) and upload:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            try:
                taken = intake_file(
                    path,
                    store=the_store,
                    source=source,
                    coords=coords or None,
                    sheet=sheet.strip() or None,
                    header_row=int(header_row) or None,
                    user=principal().name,
                )
            except (GridGovError, ValueError) as exc:
                failed(exc)
            else:
                st.session_state["intake_result"] = taken
    result: IntakeResult | None = st.session_state.get("intake_result")
    if result is not None:
        counts = intake_counts(result)
        for col, name in zip(st.columns(len(COUNTS)), COUNTS, strict=True):
            col.metric(t(f"intake_{name}"), f"{counts[name]:,}")
        st.success(
            plain(
                t("intake_done").format(
                    file=result.file, skipped=result.skipped_total_rows, **counts
                )
            )
        )
        if result.coord_warning and result.coord_check is not None:
            st.warning(plain(result.coord_check.pick(lang())))
        show_table(sheet_table(result, lang()), str)

with quarantine:
    if "intake_flash" in st.session_state:  # what the last fix did (the lists are fresh)
        st.success(plain(st.session_state.pop("intake_flash")))
    q = Quarantine(the_store)
    entries = q.entries()
    if entries.empty:
        st.info(t("intake_q_none"))
    else:
        show_table(quarantine_table(entries, lang()), str)
        files = list(dict.fromkeys(entries["file"]))
        file = st.selectbox(t("intake_q_pick"), files)
        mine = entries[entries["file"] == file]
        st.caption(t("intake_q_edit"))
        cells = q.cells(mine["qid"].tolist()).assign(**{t("intake_drop_col"): False})
        edited = st.data_editor(
            cells, hide_index=True, disabled=["qid"], key=f"q_{file}", num_rows="fixed"
        )
        drop = edited[t("intake_drop_col")].astype(bool)
        go, out, get = st.columns(3)
        if go.button(t("intake_q_refile"), type="primary"):
            try:
                done = q.refile(
                    edited[~drop].drop(columns=t("intake_drop_col")), user=principal().name
                )
            except (GridGovError, ValueError) as exc:
                failed(exc)
            else:
                said = [t("intake_done").format(
                    file=d.file, skipped=d.skipped_total_rows, **intake_counts(d)
                ) for d in done]  # fmt: skip
                st.session_state["intake_flash"] = "\n".join(said)
                st.rerun()
        if out.button(t("intake_q_drop"), disabled=not drop.any()):
            n = q.drop(edited.loc[drop, "qid"].tolist(), user=principal().name)
            st.session_state["intake_flash"] = t("intake_q_dropped").format(n=n)
            st.rerun()
        table = pd.concat([quarantine_table(mine, lang()).reset_index(drop=True), cells], axis=1)
        audited_download(get, t("intake_q_download"), safe_csv(table), "quarantine.csv",
                         mime="text/csv")  # fmt: skip

with ledger:
    table = ledger_table(the_store, lang())
    if table.empty:
        st.info(t("intake_ledger_none"))
    else:
        show_table(table, str)

with onboard:
    onboard_tab()

"""The 县域接入 tab of the 数据接入 page: a county's grid layer uploaded, checked, onboarded."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from geo.core.errors import GridGovError
from geo.core.i18n import pick
from geo.core.settings import get_settings
from geo.intake import onboard_county
from geo.store import open_store
from geo.views.errors import explain
from pages.views._common import lang, plain, principal, tr

SUFFIXES = ["gpkg", "geojson", "json", "zip", "parquet"]


def _saved(folder: Path, upload) -> Path | None:
    if upload is None:
        return None
    path = folder / Path(upload.name).name
    path.write_bytes(upload.getvalue())
    return path


def onboard_tab() -> None:
    """Upload, check, onboard into a new GeoPackage under the data folder; say what happened."""
    t = tr()
    st.caption(t("onboard_intro"))
    grids = st.file_uploader(t("onboard_grids"), type=SUFFIXES, key="onb_grids")
    left, right = st.columns(2)
    homes = left.file_uploader(t("onboard_households"), type=SUFFIXES, key="onb_homes")
    services = right.file_uploader(t("onboard_services"), type=SUFFIXES, key="onb_services")
    name = left.text_input(t("onboard_name"), key="onb_name")
    code = right.text_input(t("onboard_code"), key="onb_code")
    file = st.text_input(t("onboard_file"), value="county.gpkg", key="onb_file")
    if not st.button(t("onboard_go"), type="primary", disabled=grids is None):
        return
    target = Path(get_settings().data_dir) / (Path(file.strip() or "county.gpkg").stem + ".gpkg")
    if target.exists():
        st.error(plain(t("onboard_exists").format(path=target)))
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        try:
            report = onboard_county(
                _saved(Path(folder), grids),
                store=open_store(target),
                households=_saved(Path(folder), homes),
                service_points=_saved(Path(folder), services),
                county_name=name.strip() or None,
                county_code=code.strip() or None,
                who=principal(),
            )
        except (GridGovError, ValueError) as exc:
            st.error(plain(explain(exc, lang())))
            return
    if report.written:
        said = t("onboard_done").format(
            name=report.county_name,
            code=report.county_code,
            path=target,
            grids=report.grids,
            crs=report.metric_crs,
            env="GRIDGOV_STORE",
        )
        st.success(plain(said))
    else:
        st.error(t("onboard_blocked").format(n=len(report.errors)))
    if report.problems:
        st.dataframe(
            pd.DataFrame(
                {
                    t("onboard_severity_col"): [
                        t(f"onboard_severity_{p.severity}") for p in report.problems
                    ],
                    t("onboard_grids_col"): [p.feature for p in report.problems],
                    t("intake_reason_col"): [pick(p.message, lang()) for p in report.problems],
                    t("intake_hint_col"): [pick(p.hint, lang()) for p in report.problems],
                }
            ),
            hide_index=True,
        )

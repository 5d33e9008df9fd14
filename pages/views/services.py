"""15分钟服务圈 Service circles: who is outside, where the gaps are, where to add a site."""

import streamlit as st
from streamlit_folium import st_folium

from geo.core.settings import get_settings
from geo.services.coverage import ALL_ESSENTIAL
from geo.store.county import County
from geo.views.services import ServiceCircles
from layers.charts import share_bars
from layers.service_map import service_map
from pages.views._common import county, plain, synthetic_banner, tr
from pages.views._personal import audited_download
from pages.views._sidebar import sidebar_filters
from pages.views._tables import show_table

t = tr()
data = county()
flt = sidebar_filters(data, issues=False)  # service points: no issue filter
synthetic_banner(data)
cfg = get_settings()
K_MAX = 50
if data.service_points.empty:  # a county onboarded without its service points
    st.title(t("page_services"))
    st.info(t("no_service_points_yet"))
    st.stop()


@st.cache_resource(show_spinner=False, max_entries=2)
def _circles(key: tuple[str, ...], _data: County) -> ServiceCircles:
    return ServiceCircles(_data)


circles = _circles(data.key, data)
kinds = [ALL_ESSENTIAL, *[s.name for s in cfg.service_types]]
c1, c2, c3, c4 = st.columns(4)
kind = c1.selectbox(t("service_type"), kinds, key="svc_type", format_func=t)
mode = c2.selectbox(
    t("travel_mode"),
    list(cfg.travel_speeds_kmh),
    key="svc_mode",
    format_func=lambda m: t(f"mode_{m}"),
)
minutes = c3.selectbox(
    t("minutes"),
    [None, 5, 10, 15, 20, 30],
    key="svc_minutes",
    format_func=lambda m: t("minutes_standard") if m is None else str(m),
)
engines = ["line", "network"] if circles.network is not None else ["line"]
engine = c4.radio(
    t("engine"), engines, key="svc_engine", horizontal=True, format_func=lambda e: t(f"engine_{e}")
)
if circles.network is None:
    c4.caption(t("no_roads"))
with st.spinner("…"):
    view = circles.view(kind, minutes, mode, engine, flt.town_code, flt.village_code)
scope = (
    plain(str(view.grids.town_name.iloc[0]))
    if flt.town_code and len(view.grids)
    else t("scope_county")
)
st.title(f"{t('page_services')} · {scope} · {t(kind)}")

m1, m2, m3, m4 = st.columns(4)
for col, label, row in ((m1, "coverage_county", view.county), (m2, "coverage_scope", view.scope)):
    gap = t("target_gap").format(points=100 * (row.coverage - view.target), target=view.target)
    col.metric(t(label), f"{row.coverage:.1%}", gap)
m3.metric(t("uncovered"), f"{view.scope.residents - view.scope.covered_residents:,.0f}")
m4.metric(t("service_count"), f"{len(view.services):,}")

left, right = st.columns([3, 2])  # drawn first; the siting panel below fills in before the map
with st.expander(t("siting"), expanded=kind != ALL_ESSENTIAL):
    s1, s2, s3 = st.columns([2, 2, 3])
    site_kind = kind
    if kind == ALL_ESSENTIAL:
        site_kind = s1.selectbox(t("siting_type"), kinds[1:], key="svc_site_type", format_func=t)
    source = s2.radio(
        t("candidates"), ["grids", "villages"], key="svc_source", horizontal=True,
        format_func=lambda c: t(f"cand_{c}"),
    )  # fmt: skip
    k = s3.slider(t("new_sites"), 0, K_MAX, 10, key="svc_k")
    exact = st.toggle(t("solve_exact"), key="svc_exact", help=t("exact_note"))
    with st.spinner("…"):
        plan = circles.propose(
            site_kind, minutes, mode, engine, k=k, source=source,
            town_code=flt.town_code, exact=exact,
        )  # fmt: skip
    b1, b2, b3 = st.columns(3)
    b1.metric(t("before"), f"{plan.covered(0) / plan.residents:.1%}")
    added = f"+{plan.covered(k) - plan.covered(0):,.0f} {t('residents')}"
    b2.metric(t("after"), f"{plan.covered(k) / plan.residents:.1%}", added)
    optimal = f" · {t('proven_optimal')}" if plan.result.proven_optimal else ""
    b3.caption(f"{'CBC' if exact else t('greedy')}{optimal}")
    sites = plan.sites(k)
    show_table(sites[["rank", "name", "added_residents"]], height=180)
    d1, d2 = st.columns(2)
    audited_download(d1, t("download_gpkg"), plan.export(k, ".gpkg"), "proposals.gpkg",
                     mime="application/geopackage+sqlite3", disabled=not k)  # fmt: skip
    audited_download(d2, t("download_csv"), plan.export(k, ".csv"), "proposals.csv",
                     mime="text/csv", disabled=not k)  # fmt: skip

with left:
    fields = ["grid_code", "grid_name", "grid_worker", "residents", "uncovered_residents"]
    fields += ["coverage", "nearest_minutes_median"]
    tip = {"coverage": t("coverage_pct")}
    villages = data.villages[data.villages.village_code.isin(view.grids.village_code)]
    m = service_map(
        view.grids, villages, view.services, tooltip_fields={f: t(f) for f in fields} | tip,
        legend_title=t("coverage"), no_data_label=t("no_residents"),
        circle_radius_m=view.radius_m, proposals=sites,
        gaps=view.gap_areas if flt.town_code else None,  # county-wide they hide the colours
        proposal_label=t("proposal"), gap_label=t("uncovered"), type_label=t,
        tile_url=cfg.tile_url or None, tile_attribution=cfg.tile_attribution or None,
    )  # fmt: skip
    st_folium(m, key="svc_map", height=620, use_container_width=True, returned_objects=[])
with right:
    st.subheader(t("gap_list"))
    if view.gaps.empty:
        st.info(t("no_gaps"))
    else:
        gaps = view.gaps[["grid_name", "village_name", "uncovered_residents", "coverage"]]
        show_table(gaps.head(100), height=300)
    st.subheader(t("town_coverage"))
    towns = view.towns.set_index("town_name")["coverage"]
    chart = share_bars(towns, label=t("coverage"), name_label=t("town"), target=view.target)
    st.altair_chart(chart, width="stretch")
with st.expander(t("services_explain_title")):
    st.markdown(t("services_explain_text"))

"""GridGov 网格治理一张图: the door — page config, language, shared sidebar, navigation."""

import streamlit as st

from pages.views._common import language_switch, tr, widget_words

t = tr()  # reads the session only, so the page config still comes first
st.set_page_config(page_title=f"GridGov · {t('app_title')}", page_icon="🗺️", layout="wide")
language_switch()
widget_words()
pages = [
    st.Page(
        "pages/views/overview.py", title=t("page_overview"), icon=":material/map:", default=True
    ),
    st.Page(
        "pages/views/hotspots.py", title=t("page_hotspots"), icon=":material/local_fire_department:"
    ),
    st.Page("pages/views/services.py", title=t("page_services"), icon=":material/home_pin:"),
    st.Page("pages/views/loop.py", title=t("page_loop"), icon=":material/task_alt:"),
    st.Page("pages/views/planner.py", title=t("page_planner"), icon=":material/draw:"),
    st.Page("pages/views/intake.py", title=t("page_intake"), icon=":material/upload_file:"),
    st.Page("pages/views/wall.py", title=t("page_wall"), icon=":material/tv:"),
]
st.navigation(pages).run()

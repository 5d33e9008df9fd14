"""GridGov 网格治理一张图: the door — page config, language, sign-in, the pages the signed-in
role may open, navigation, and a friendly error instead of a traceback."""

import streamlit as st

from pages.views._access import (
    allowed,
    checked,
    run_safely,
    sign_in_form,
    sign_out_button,
)
from pages.views._common import language_switch, store, tr
from pages.views._sso import sso_session
from pages.views._words import widget_words

t = tr()  # reads the session only, so the page config still comes first
st.set_page_config(page_title=f"GridGov · {t('app_title')}", page_icon="🗺️", layout="wide")
language_switch()
widget_words()
PAGES = [
    ("pages/views/overview.py", "page_overview", ":material/map:"),
    ("pages/views/hotspots.py", "page_hotspots", ":material/local_fire_department:"),
    ("pages/views/services.py", "page_services", ":material/home_pin:"),
    ("pages/views/loop.py", "page_loop", ":material/task_alt:"),
    ("pages/views/planner.py", "page_planner", ":material/draw:"),
    ("pages/views/intake.py", "page_intake", ":material/upload_file:"),
    ("pages/views/admin.py", "page_admin", ":material/admin_panel_settings:"),
    ("pages/views/wall.py", "page_wall", ":material/tv:"),
]


def main() -> None:
    the_store = store()
    sso_session(the_store)
    # The wall refreshes itself: a run there keeps a command-centre screen signed in.
    who = checked(the_store)
    if who is None:
        # Every page stays routable (a deep link such as /wall?refresh=10 opens after
        # sign-in), but only the sign-in form is drawn and the navigation is hidden.
        everything = [st.Page(f, title=t(k), icon=i) for f, k, i in PAGES]
        st.navigation(everything, position="hidden")
        sign_in_form(the_store)
        return
    mine = [st.Page(f, title=t(k), icon=i) for f, k, i in PAGES if allowed(who, f)]
    sign_out_button(the_store, who)
    st.navigation(mine).run()


run_safely(main)

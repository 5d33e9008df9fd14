"""``dashboard.py`` without its per-run checks: the same page config, language switch, widget
words, navigation and sign-out button, with a county-wide session put in place and never
checked (no idle or expiry test, no account read). Only ``bench_access.py`` runs it, to
measure what the checks cost."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from geo.access import Principal, Role, start_session  # noqa: E402
from pages.views._access import allowed, run_safely, sign_out_button  # noqa: E402
from pages.views._common import SESSION_KEY, language_switch, store, tr  # noqa: E402
from pages.views._words import widget_words  # noqa: E402

PAGES = [("overview.py", "page_overview"), ("hotspots.py", "page_hotspots"),
         ("services.py", "page_services"), ("loop.py", "page_loop"),
         ("planner.py", "page_planner"), ("intake.py", "page_intake"),
         ("admin.py", "page_admin"), ("wall.py", "page_wall")]  # fmt: skip
t = tr()
st.set_page_config(page_title=f"GridGov · {t('app_title')}", page_icon="🗺️", layout="wide")
language_switch()
widget_words()


def main() -> None:
    if SESSION_KEY not in st.session_state:
        st.session_state[SESSION_KEY] = start_session(Principal("county", Role.COUNTY))
    who = st.session_state[SESSION_KEY].principal
    files = [(f"pages/views/{f}", k) for f, k in PAGES]
    mine = [st.Page(str(ROOT / f), title=t(k)) for f, k in files if allowed(who, f)]
    sign_out_button(store(), who)
    st.navigation(mine).run()


run_safely(main)

"""Entry for this page's URL on a server's first request: run the door, which routes here.

Streamlit runs ``*.py`` files lying directly in ``pages/`` as old-style pages when a page
URL is the first request a server gets; this file then runs ``dashboard.py`` (navigation,
language, sidebar), which opens the real page in ``pages/views/``.
"""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parents[1] / "dashboard.py"), run_name="__main__")

"""backcheck, the trainer's app: `streamlit run app.py` (options: `-- --db PATH --model NAME`).

Page layout only; the pages live in `backcheck.ui` and analyse videos with the same
`backcheck.pipeline.analyze_video` the CLI calls.
"""

import sys

import streamlit as st

from backcheck.ui import history_page, upload_page
from backcheck.ui.settings import current, open_store

PAGES = {"analyse": "Check a lift", "live": "Live check", "history": "Clients and history"}

st.set_page_config(page_title="backcheck", page_icon=":material/fitness_center:", layout="wide")
settings = current(sys.argv[1:])
store = open_store(str(settings.db_path))
page = st.segmented_control(
    "Page",
    list(PAGES),
    format_func=PAGES.__getitem__,
    default="analyse",
    key="page",
    label_visibility="collapsed",
    required=True,
)
if page == "history":
    history_page.render(store, settings)
elif page == "live":
    from backcheck.ui import live_page

    live_page.render(store, settings)
else:
    upload_page.render(store, settings)
st.caption(
    "backcheck describes how someone moved on video; it does not diagnose. "
    "For pain, see a qualified clinician."
)

"""MovieDNA: `streamlit run app.py`.  Navigation only; every page lives in views/.

The page scripts live in `views/`, not `pages/`: with a `pages/` folder Streamlit falls back
to its old file-based navigation when a fresh server is first opened on a deep link
(`/similar?movie=50`), runs the page without this entry script and loses the sidebar.
"""

import streamlit as st

from ui.sidebar import sidebar
from ui.text import t

st.set_page_config(page_title="MovieDNA", page_icon="🧬", layout="wide")

PAGES = [
    st.Page("views/home.py", title=t("page_home"), icon="🏠", url_path="home", default=True),
    st.Page("views/similar.py", title=t("page_similar"), icon="🎬", url_path="similar"),
    st.Page("views/mood.py", title=t("page_mood"), icon="💬", url_path="mood"),
    st.Page("views/personalize.py", title=t("page_personal"), icon="👆", url_path="personalize"),
    st.Page("views/explorer.py", title=t("page_explorer"), icon="🗺️", url_path="explorer"),
    st.Page("views/pipeline.py", title=t("page_pipeline"), icon="⚙️", url_path="pipeline"),
    st.Page("views/scale.py", title=t("page_scale"), icon="📈", url_path="scale"),
]

page = st.navigation(PAGES)
sidebar()
page.run()

"""MovieDNA: `streamlit run app.py`.  Navigation only; every page lives in pages/."""

import streamlit as st

from app_state import sidebar, t

st.set_page_config(page_title="MovieDNA", page_icon="🧬", layout="wide")

PAGES = [
    st.Page("pages/home.py", title=t("page_home"), icon="🏠", url_path="home", default=True),
    st.Page("pages/similar.py", title=t("page_similar"), icon="🎬", url_path="similar"),
    st.Page("pages/mood.py", title=t("page_mood"), icon="💬", url_path="mood"),
    st.Page("pages/personalize.py", title=t("page_personal"), icon="👆", url_path="personalize"),
    st.Page("pages/explorer.py", title=t("page_explorer"), icon="🗺️", url_path="explorer"),
    st.Page("pages/pipeline.py", title=t("page_pipeline"), icon="⚙️", url_path="pipeline"),
    st.Page("pages/scale.py", title=t("page_scale"), icon="📈", url_path="scale"),
]

page = st.navigation(PAGES)
sidebar()
page.run()

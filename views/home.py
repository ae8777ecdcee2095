"""Home: the data set in use, its shape, the build status, the measured figures and a tour of the pages."""

import plotly.express as px
import streamlit as st

from engine.core.config import Settings
from engine.core.errors import MovieDNAError
from engine.core.registry import SPACES, label
from ui.actions import build_models
from ui.evaluation import current, home_evaluation
from ui.plain import escape, say
from ui.resources import built_models, dataset, engine, show_error
from ui.text import note_text, t

st.title("🧬 MovieDNA")
st.markdown(t("home_intro"))

ds = dataset()
c = ds.counts
cols = st.columns(4)
cols[0].metric(t("movies"), f"{c['movies']:,}")
cols[1].metric(t("users"), f"{c['users']:,}")
cols[2].metric(t("ratings"), f"{c['ratings']:,}")
cols[3].metric(t("dataset"), ds.name)
say("caption", f"{t('source')}: {ds.source} · {t('hash_check')}: {ds.verified}")  # paths: plain text

left, right = st.columns(2)
genres = ds.movies["genres"].explode().dropna().value_counts().rename_axis("genre").reset_index(name="count")
fig = px.bar(genres, x="count", y="genre", orientation="h", title=t("genre_dist"),
             labels={"genre": t("genre"), "count": t("count")})
fig.update_layout(yaxis={"categoryorder": "total ascending"}, height=460, margin={"l": 0, "r": 0, "t": 40, "b": 0})
left.plotly_chart(fig, key="home_genres")
hist = ds.ratings["rating"].value_counts().sort_index().rename_axis("rating").reset_index(name="count")
fig = px.bar(hist, x="rating", y="count", title=t("rating_hist"), labels={"rating": t("rating"), "count": t("count")})
fig.update_layout(height=460, margin={"l": 0, "r": 0, "t": 40, "b": 0})
right.plotly_chart(fig, key="home_ratings")

# --- embedding spaces: build status and evaluation ------------------------------------
st.header(t("build_title"))
missing = [m for m in SPACES if m not in built_models()]
outdated = engine().outdated_models()      # built with other settings than this code's (an older MovieDNA)
if missing:
    st.warning(t("build_missing", models=", ".join(m.upper() for m in missing)))
    if st.button(t("build_button"), key="home_build", type="primary", icon=":material/build:"):
        build_models(missing)
elif not outdated:
    st.success(t("build_ok"), icon=":material/check_circle:")
if outdated:
    st.warning(t("build_outdated", models=", ".join(m.upper() for m in outdated)))
    if st.button(t("rebuild_button"), key="home_rebuild", icon=":material/build:"):
        build_models(outdated)
for note in engine().build_notes():  # what a big catalogue's training bounded, said where it was built
    say("info", note)

st.subheader(t("eval_title"))
st.caption(t("eval_caption"))
view = home_evaluation(current(engine()))
if view is None:
    st.info(t("eval_none"))
else:
    st.dataframe(view.frame(), hide_index=True, key="home_eval")
    for n in engine().edit_notes():   # the figures describe the catalogue before its edits
        st.info(note_text(n))
    st.caption(view.caption)        # numbers only
    st.caption(view.source)         # the file's text is escaped where it is built
    if view.plain:
        st.markdown(view.plain)
    if view.beyond:
        st.markdown(view.beyond)
    if view.protocols:
        st.markdown(view.protocols)

if Settings.from_env().edits:   # the operator's choice (MOVIEDNA_EDITS=1): otherwise no visitor can write
    st.header(t("edit_title"))
    st.caption(t("edit_caption"))
    add_col, remove_col = st.columns([3, 2])
    with add_col.form("edit_add_form", clear_on_submit=False):
        title = st.text_input(t("edit_add_title"), key="edit_title", max_chars=300)
        year = st.number_input(t("edit_add_year"), min_value=1870, max_value=2100, value=2024, step=1, key="edit_year")
        genres = st.multiselect(t("edit_add_genres"), engine().genres(), key="edit_genres")
        overview = st.text_area(t("edit_add_overview"), key="edit_overview", max_chars=2000)
        tags = st.text_input(t("edit_add_tags"), key="edit_tags")
        add = st.form_submit_button(t("edit_add_button"), type="primary")
    with remove_col.form("edit_remove_form"):
        remove_id = st.number_input(t("edit_remove_id"), min_value=1, step=1, key="edit_remove_id")
        remove = st.form_submit_button(t("edit_remove_button"))
    try:
        if add:
            done = engine().add_movie(title, int(year), list(genres), overview=overview or None, tags=tags or None)
            st.success(t("edit_added", id=done.movie_id, title=escape(done.title), spaces=", ".join(done.spaces)))
            if done.cold_start:
                st.caption(t("edit_cold", spaces=", ".join(label(m) for m in done.cold_start)))
        if remove:
            done = engine().remove_movie(int(remove_id))
            st.success(t("edit_removed", id=done.movie_id, title=escape(done.title)))
    except MovieDNAError as exc:
        show_error(exc)

st.header(t("tour_title"))
st.markdown(t("tour"))

"""Home: the data set in use, its shape, and a tour of the pages."""

import plotly.express as px
import streamlit as st

from ui.plain import say
from ui.resources import dataset
from ui.text import t

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
from ui.actions import build_models  # noqa: E402
from engine.recsys.stages import curve_point  # noqa: E402
from ui.resources import built_models, engine, evaluation_frame  # noqa: E402

st.header(t("build_title"))
missing = [m for m in ("mf", "sasrec", "text", "use") if m not in built_models()]
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
frame = evaluation_frame()
if frame is None or frame.empty:
    st.info(t("eval_none"))
else:
    st.dataframe(frame, hide_index=True, key="home_eval")
    say("caption", frame.attrs.get("caption", ""))  # built from the stored evaluation blob
    st.caption(frame.attrs.get("source", ""))       # its values are escaped where it is built
    fig = frame.attrs.get("figures") or {}     # what the pages do, from the same evaluation as the table
    two = curve_point(fig, "mf", "sasrec", 100)
    if two and "mf" in fig.get("hr", {}).get("taste", {}) and "mf" in fig.get("hr", {}).get("native", {}):
        st.markdown(t("eval_plain", taste=fig["hr"]["taste"]["mf"], native=fig["hr"]["native"]["mf"], two=two["hr@10"]))

st.header(t("tour_title"))
st.markdown(t("tour"))

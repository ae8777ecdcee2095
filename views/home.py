"""Home: the data set in use, its shape, and a tour of the pages."""

import pandas as pd
import plotly.express as px
import streamlit as st

from app_state import dataset, t

st.title("🧬 MovieDNA")
st.markdown(t("home_intro"))

ds = dataset()
c = ds.counts
cols = st.columns(4)
cols[0].metric(t("movies"), f"{c['movies']:,}")
cols[1].metric(t("users"), f"{c['users']:,}")
cols[2].metric(t("ratings"), f"{c['ratings']:,}")
cols[3].metric(t("dataset"), ds.name)
st.caption(f"{t('source')}: `{ds.source}` · {t('hash_check')}: {ds.verified}")

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

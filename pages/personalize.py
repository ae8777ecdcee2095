"""Filled by the dashboard issue."""

import streamlit as st

st.info("This page arrives with the dashboard issue.")

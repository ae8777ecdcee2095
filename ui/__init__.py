"""The Streamlit boundary: cached resources, URL state, the sidebar, UI text and long actions."""

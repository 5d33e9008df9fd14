"""What each page shows, without Streamlit: one module per page."""

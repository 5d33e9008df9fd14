"""What Streamlit itself writes in English, said in the page's language."""

from __future__ import annotations

import json

import streamlit as st

from pages.views._common import lang, tr


def widget_words() -> None:
    """Say in Chinese what Streamlit itself says in English (the file uploader's button and
    size limit, the keyboard's "Skip to main content" link): CSS hides its words and draws
    ours in their place."""
    if lang() == "en":
        return
    t = tr()
    skip = json.dumps(t("skip_to_content"), ensure_ascii=False)
    button = json.dumps(t("uploader_button"), ensure_ascii=False)
    limit = json.dumps(
        t("uploader_limit", mb=st.get_option("server.maxUploadSize")), ensure_ascii=False
    )
    zone = '[data-testid="stFileUploaderDropzone"]'
    words = '[data-testid="stFileUploaderDropzoneInstructions"]'
    st.html(
        "<style>"
        f'{zone} button [data-testid="stMarkdownContainer"] p {{display: none}}'
        f'{zone} button [data-testid="stMarkdownContainer"]::after {{content: {button}}}'
        f"{words} span {{display: none}}"
        f"{words} > div::after {{content: {limit}; font-size: 0.875rem; opacity: 0.6}}"
        '[data-testid="stSkipToContent"] {font-size: 0 !important}'
        f'[data-testid="stSkipToContent"]::after {{content: {skip}; font-size: 1rem}}'
        "</style>"
    )

"""Text from data made safe for where it goes: HTML (map tooltips and popups), Markdown,
spreadsheet cells (formula injection) and file names (no way out of the folder)."""

from __future__ import annotations

import html
import io
import re
import unicodedata

import pandas as pd

#: A spreadsheet takes a cell starting with one of these as a formula (OWASP's list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+-.!|<>~$:"})
#: Where Markdown would make a bare web or mail address a link (``http://``, ``www.``, ``@``):
#: an invisible word joiner (U+2060) goes in, so the text reads the same and links nowhere.
_ADDRESS = re.compile(r"(?i)(?<=[a-z]):(?=//)|(?<=\bwww)(?=\.)|@")
_JOINER = "\u2060"
_UNSAFE_FILE = re.compile(r"[^\w\u4e00-\u9fff.-]+")


def html_text(value: object) -> str:
    """``value`` as HTML text: ``<``, ``>``, ``&`` and quotes escaped (``None`` → ``""``)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def html_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A copy of ``frame`` with the text of ``columns`` escaped for HTML (what folium's
    tooltips and popups insert as markup)."""
    out = frame.copy()
    for column in columns:
        if column in out.columns:
            out[column] = [html_text(v) for v in out[column]]
    return out


def markdown_text(value: object) -> str:
    """``value`` as literal Markdown text: every character Markdown acts on escaped, so
    a link, an image or an HTML tag stays text."""
    text = _ADDRESS.sub(lambda m: m.group(0) + _JOINER, "" if value is None else str(value))
    return text.translate(_MARKDOWN)


def sheet_cell(value: object) -> object:
    """A cell a spreadsheet will not run: text starting like a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def sheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) cannot start a formula."""
    out = frame.copy()
    for i in range(out.shape[1]):  # by position: a table may repeat a column name
        column = out.iloc[:, i]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            out.isetitem(i, column.map(sheet_cell).to_numpy(dtype=object))
    out.columns = [sheet_cell(c) for c in out.columns]
    return out


def safe_csv(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV bytes for Excel (UTF-8 with BOM), formula-safe (:func:`sheet_safe`)."""
    buffer = io.StringIO()
    sheet_safe(frame).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8-sig")


def safe_filename(name: object, *, fallback: str = "file") -> str:
    """A file name from data that stays in its folder: no path separators, no ``..``, no
    control characters; Chinese, letters, digits, ``.``, ``_`` and ``-`` kept (``../../x`` →
    ``x``)."""
    text = unicodedata.normalize("NFKC", str(name or ""))
    text = _UNSAFE_FILE.sub("_", text).strip("._-")
    text = re.sub(r"\.{2,}", ".", text)
    return text[:120] or fallback

"""Cell values as county exports write them: full-width digits, decimal commas, DMS coordinates,
Excel date serials and the usual Chinese date forms. Each parser takes the cell's original text
and returns a value or ``None`` (never raises), so the caller can quarantine the row with the
text kept."""

from __future__ import annotations

import math
import re
import unicodedata

import pandas as pd

#: Excel's day zero (the 1900 system, with its phantom 1900-02-29 already accounted for).
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Serials a ticket can have: 1990-01-01 to 2100-01-01.
_SERIAL_RANGE = (32874.0, 73051.0)
_DMS = re.compile(
    r"^\s*(?P<hemi1>[NSEW东西南北])?\s*(?P<deg>\d+(?:\.\d+)?)\s*[°度]\s*"
    r"(?:(?P<min>\d+(?:\.\d+)?)\s*['′’分]\s*)?"
    r"(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:[\"″”]|''|′′|秒)\s*)?"
    r"(?P<hemi2>[NSEW东西南北])?\s*$",
    re.IGNORECASE,
)
_CN_DATE = re.compile(
    r"^\s*(?P<y>\d{4})\s*[年./-]\s*(?P<m>\d{1,2})\s*[月./-]\s*(?P<d>\d{1,2})\s*[日号]?"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时点]\s*(?:(?P<M>\d{1,2})\s*分?"
    r"(?:\s*[:：]?\s*(?P<S>\d{1,2})\s*秒?)?)?)?\s*$"
)
_NEGATIVE_HEMI = set("SWsw南西")


def clean_text(value: object) -> str:
    """The cell as text, full-width forms folded (NFKC), outer spaces stripped; ``""`` if empty."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def parse_number(value: object) -> float | None:
    """A number from a cell: ``１１９．８`` / ``119,8`` (decimal comma) / ``1,234.5`` → float.

    A comma is a thousands separator when it groups three digits before a point or the end
    (``1,234``, ``1,234.5``); otherwise, alone, it is a decimal comma (``119,8``, ``33,7712``).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    text = clean_text(value).replace(" ", "")
    if not text:
        return None
    if "," in text:
        if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", text):
            text = text.replace(",", "")
        elif text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        else:
            return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_coordinate(value: object) -> float | None:
    """Decimal degrees from a number or a DMS text such as ``120°16′42″`` or ``N33°46'12.5"``."""
    number = parse_number(value)
    if number is not None:
        return number
    match = _DMS.match(clean_text(value))
    if not match:
        return None
    degrees = float(match["deg"]) + float(match["min"] or 0) / 60 + float(match["sec"] or 0) / 3600
    if float(match["min"] or 0) >= 60 or float(match["sec"] or 0) >= 60:
        return None
    hemi = match["hemi1"] or match["hemi2"] or ""
    return -degrees if hemi in _NEGATIVE_HEMI else degrees


def parse_time(value: object) -> pd.Timestamp | None:
    """A naive time from a cell: a datetime, an Excel serial (``46337.5``), ISO text or the usual
    Chinese forms (``2026年11月3日 14:05``, ``2026/11/3 14时5分``, ``2026.11.03``)."""
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.tz_localize(None) if value.tzinfo else value
    if hasattr(value, "year") and hasattr(value, "month"):  # datetime.date / datetime
        return pd.Timestamp(value)  # type: ignore[arg-type]
    number = parse_number(value) if not isinstance(value, str) or value.strip() else None
    if number is not None:
        if _SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]:
            return (_EXCEL_EPOCH + pd.to_timedelta(number, unit="D")).round("s")
        return None
    text = clean_text(value)
    if not text:
        return None
    match = _CN_DATE.match(text)
    if match:
        try:
            return pd.Timestamp(
                int(match["y"]),
                int(match["m"]),
                int(match["d"]),
                int(match["H"] or 0),
                int(match["M"] or 0),
                int(match["S"] or 0),
            )
        except ValueError:
            return None
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        return None
    if pd.isna(stamp):
        return None
    return stamp.tz_localize(None) if stamp.tzinfo else stamp

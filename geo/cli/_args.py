"""What the subcommands share: help in both languages, and the ``--columns`` help."""

from pathlib import Path

from geo.core.errors import InputFileError
from geo.core.i18n import Text


def both(zh: str, en: str) -> str:
    """A help text in Chinese and English, as the command line shows it (``中文 / English``)."""
    return str(Text(zh, en))


COLUMNS_HELP = both(
    "列名映射：本名=文件中的列名，对每个输入文件都适用，如 grid_code=WGBM,lon=经度,lat=纬度",
    "column mapping, our_name=their_name pairs applying to every input, "
    "e.g. grid_code=WGBM,lon=经度,lat=纬度",
)


def existing_store(location: object, hint: Text) -> str:
    """``--store`` as given; refused, with ``hint``, when it names a missing GeoPackage."""
    text = str(location)
    if not text.startswith(("postgresql", "postgres://")) and not Path(text).exists():
        raise InputFileError(text, Text("存储文件不存在", "no such GeoPackage"), hint)
    return text

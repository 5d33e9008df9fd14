"""Settings, errors, coordinate systems, the clock, the working calendar, privacy and i18n."""

from geo.core.clock import now_beijing
from geo.core.crs import normalize_coord_sys, to_wgs84
from geo.core.errors import GridGovError, GridValidationError, InputFileError, Problem
from geo.core.i18n import Text, pick, text, translator
from geo.core.privacy import mask_callers, mask_name, mask_phone
from geo.core.settings import Settings, get_settings
from geo.core.workcal import add_workdays, is_workday

__all__ = [
    "GridGovError",
    "GridValidationError",
    "InputFileError",
    "Problem",
    "Settings",
    "Text",
    "add_workdays",
    "get_settings",
    "is_workday",
    "mask_callers",
    "mask_name",
    "mask_phone",
    "normalize_coord_sys",
    "now_beijing",
    "pick",
    "text",
    "to_wgs84",
    "translator",
]

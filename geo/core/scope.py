"""What part of the county a caller may see: the whole county, some towns, or some grids.

A :class:`Scope` is a plain filter over the county's tables by their ``town_code`` and
``grid_code`` columns, and whether personal data may be shown at all. It lives in core so that
the store can apply it while it reads; who gets which scope (roles, sign-in) is
:mod:`geo.access`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TypeVar, cast

import numpy as np
import pandas as pd

from geo.core.errors import GridGovError
from geo.core.i18n import Text

F = TypeVar("F", bound=pd.DataFrame)


class OutOfScopeError(GridGovError, PermissionError):
    """A caller asked for a town, grid or row outside their scope, or for an action their
    role does not hold."""

    def __init__(self, message: Text) -> None:
        super().__init__(str(message))
        self.text = message


@dataclass(frozen=True)
class Scope:
    """The part of the county a caller may see.

    Attributes
    ----------
    towns
        Town codes the caller may see; ``None``: every town (the county's scope). Rows
        without a town (an issue not yet placed) are seen only by the county's scope.
    grids
        Grid codes (a grid worker's own); ``None``: every grid of ``towns``.
    villages
        The village codes inside the scope, filled by :meth:`resolve` from the county's
        villages and grids (tables such as households and service points carry a village
        code only); ``None`` before that, or for the county.
    label
        How the scope is said in the audit (``county``, ``town:320924101``…).
    """

    towns: frozenset[str] | None = None
    grids: frozenset[str] | None = None
    villages: frozenset[str] | None = None
    label: str = "county"

    @classmethod
    def county(cls) -> Scope:
        """The whole county."""
        return cls()

    @classmethod
    def of_towns(cls, codes: Iterable[str]) -> Scope:
        """Some towns (a 镇（区）领导's own, a planner's assigned ones)."""
        towns = frozenset(str(c) for c in codes)
        return cls(towns=towns, label="town:" + ",".join(sorted(towns)))

    @classmethod
    def of_grids(cls, codes: Iterable[str]) -> Scope:
        """Some grids (a 网格员's own); :meth:`resolve` finds their villages and towns."""
        grids = frozenset(str(c) for c in codes)
        return cls(towns=frozenset(), grids=grids, label="grid:" + ",".join(sorted(grids)))

    @property
    def whole_county(self) -> bool:
        """True when nothing is filtered out."""
        return self.towns is None and self.grids is None

    def resolve(self, villages: pd.DataFrame, grids: pd.DataFrame) -> Scope:
        """The scope with the villages (and, for grids, the towns) it holds, from the
        county's ``villages`` (``village_code``, ``town_code``) and ``grids`` (``grid_code``,
        ``village_code``, ``town_code``)."""
        if self.whole_county:
            return self
        if self.grids is not None:
            mine = grids[grids["grid_code"].astype(str).isin(self.grids)]
            towns = frozenset(mine["town_code"].astype(str))
            held = frozenset(mine["village_code"].astype(str))
            return replace(self, towns=towns, villages=held)
        assert self.towns is not None
        inside = villages["town_code"].astype(str).isin(self.towns)
        return replace(self, villages=frozenset(villages.loc[inside, "village_code"].astype(str)))

    def allows_town(self, code: object) -> bool:
        """Whether the town ``code`` is inside the scope."""
        return self.towns is None or str(code) in self.towns

    def allows_grid(self, grid_code: object, town_code: object) -> bool:
        """Whether the grid is inside the scope (its town, and its code for a grid scope)."""
        if not self.allows_town(town_code):
            return False
        return self.grids is None or str(grid_code) in self.grids

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Which rows of ``frame`` are inside the scope, by its ``town_code``,
        ``village_code`` and ``grid_code`` columns; a table with none of them (roads,
        rivers, the outline) is not told apart by place: every row.

        Raises
        ------
        ValueError
            ``frame`` has a village code only and the scope is not resolved yet.
        """
        keep = np.ones(len(frame), dtype=bool)
        if self.whole_county:
            return keep
        columns = frame.columns
        if self.towns is not None and "town_code" in columns:
            keep &= _isin(frame["town_code"], self.towns)
        if "village_code" in columns and "town_code" not in columns:
            if self.villages is None:
                raise ValueError("resolve the scope before filtering a table by village")
            keep &= _isin(frame["village_code"], self.villages)
        if self.grids is not None:
            if "grid_code" in columns:
                keep &= _isin(frame["grid_code"], self.grids)
            elif "village_code" in columns and self.villages is not None:
                keep &= _isin(frame["village_code"], self.villages)
        return keep

    def filter(self, frame: F) -> F:
        """The rows of ``frame`` inside the scope (the frame itself for the county)."""
        if self.whole_county:
            return frame
        return cast(F, frame[self.mask(frame)])


def _isin(column: pd.Series, codes: frozenset[str]) -> np.ndarray:
    """``column``'s codes as text are among ``codes`` (text and categorical columns directly)."""
    if isinstance(column.dtype, pd.CategoricalDtype) or column.dtype == object:
        return np.asarray(column.isin(codes), dtype=bool)
    return np.asarray(column.astype(str).isin(codes), dtype=bool)

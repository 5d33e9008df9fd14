"""Domain errors that tell the user which file, row or grid is wrong and how to fix it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geo.core.i18n import Text


class GridGovError(Exception):
    """Base class of every error GridGov raises on purpose."""


class InputFileError(GridGovError):
    """A file cannot be read as the layer it should hold.

    Parameters
    ----------
    path
        The file the user gave.
    problem
        What is wrong: a :class:`~geo.core.i18n.Text`, or a plain string where the words come
        from elsewhere (a library's own message).
    hint
        What to change (the same).

    ``str(error)`` reads ``path: problem — hint``, both languages of a :class:`Text` side by
    side (the command line and logs); a page shows one with :func:`geo.core.i18n.pick`.
    """

    def __init__(self, path: str, problem: Text | str, hint: Text | str = "") -> None:
        self.path = str(path)
        self.problem = problem
        self.hint = hint
        text = f"{self.path}: {problem}"
        if hint:
            text += f" — {hint}"
        super().__init__(text)


@dataclass(frozen=True)
class Problem:
    """One problem found in one feature of a layer.

    Attributes
    ----------
    code
        Machine-readable kind, e.g. ``overlap`` or ``invalid_geometry``.
    severity
        ``error`` (must be fixed before publishing) or ``warning``.
    feature
        The grid code (or row number) the problem belongs to.
    message
        What is wrong, in Chinese and English.
    hint
        What to do about it, in Chinese and English.
    """

    code: str
    severity: str
    feature: str
    message: Text
    hint: Text

    def as_dict(self) -> dict[str, Any]:
        """The problem as plain values for JSON: ``message`` and ``hint`` as
        ``{"zh": …, "en": …}``."""
        return {
            "code": self.code,
            "severity": self.severity,
            "feature": self.feature,
            "message": self.message.as_dict(),
            "hint": self.hint.as_dict(),
        }


class InputProblems(GridGovError, ValueError):
    """Inputs that cannot be used; ``problems`` lists every one of them, not just the first.

    The one error for unusable arguments and frames across GridGov (collect, then raise once).

    Parameters
    ----------
    task
        What could not be done, as a verb phrase: ``"compute service coverage"``.
    problems
        One sentence per problem, each naming the argument, the value received and what to do.
    """

    def __init__(self, task: str, problems: str | Sequence[str]) -> None:
        self.task = task
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        lines = [f"  - {p}" for p in self.problems]
        head = f"cannot {task} ({len(self.problems)} problem(s)):"
        super().__init__("\n".join([head, *lines]))


class GridValidationError(GridGovError):
    """A grid layer has errors; ``problems`` lists every one of them, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"{len(errors)} grid error(s)"
        lines = [f"  [{p.code}] {p.feature}: {p.message} — {p.hint}" for p in errors[:50]]
        if len(errors) > 50:
            lines.append(f"  … and {len(errors) - 50} more")
        super().__init__("\n".join([head, *lines]))

"""A refused action (an edit, an upload, an import) said in one language for a page."""

from __future__ import annotations

from geo.core.errors import GridValidationError, InputFileError
from geo.core.i18n import Text, pick
from geo.planning.edit import EditError


def explain(exc: Exception, lang: str) -> str:
    """A refused edit, save or upload in one language: what is wrong and what to do.

    A :class:`~geo.core.errors.GridValidationError` gives one line per problem (a Markdown list).
    """

    def one(said: Text | str) -> str:
        return pick(said, lang)

    if isinstance(exc, GridValidationError):
        return "\n".join(
            f"- {p.feature}: {one(p.message)} — {one(p.hint)}" for p in exc.problems[:20]
        )
    if isinstance(exc, EditError):
        where = exc.feature
    elif isinstance(exc, InputFileError):
        where = exc.path
    else:
        said = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], Text) else str(exc)
        return one(said)
    tail = f" — {one(exc.hint)}" if exc.hint else ""
    return f"{where}: {one(exc.problem)}{tail}"

"""Turning failures into the one line a user reads: never a traceback."""

from __future__ import annotations

from audit_tools.errors import ToolFileError
from workbench.services.errors import ServiceError
from workbench.store.errors import StoreError

EXPECTED_FAILURES = (StoreError, ServiceError, ToolFileError)


def unexpected(error: BaseException | None) -> str:
    """One line for an error nobody planned for: its kind and the first line of its message."""
    kind = type(error).__name__
    text = str(error).strip() if error is not None else ""
    first_line = text.splitlines()[0] if text else ""
    return f"unexpected {kind}: {first_line}" if first_line else f"unexpected {kind}"


def explain(error: BaseException | None) -> str:
    """The message for any failure: expected ones speak for themselves."""
    if isinstance(error, EXPECTED_FAILURES):
        return str(error)
    return unexpected(error)

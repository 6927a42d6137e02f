"""Constraints shared by every free-text and identifier field.

They are patterns checked inside pydantic-core rather than Python validators: a bundle holds
tens of thousands of text fields, and a Python call per field would dominate its import.
`friendly_message` turns a pattern failure back into plain words.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
# PostgreSQL cannot store NUL in text, and no auditor types one: refuse it at the boundary
# so SQLite and PostgreSQL accept exactly the same content.
NO_NUL_PATTERN = r"^[^\x00]*$"

FreeText = Annotated[str, StringConstraints(pattern=NO_NUL_PATTERN)]
"""Text an auditor writes: any length, never NUL."""

Label = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=NO_NUL_PATTERN)]
"""A short, non-empty label or title."""

Slug = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=SLUG_PATTERN)]
"""A stable machine id: tool ids, criterion ids, agency codes, scale ids."""

_PATTERN_MESSAGES = {
    SLUG_PATTERN: "is not a valid id (lower-case letters, digits, '.', '_' or '-')",
    NO_NUL_PATTERN: "text contains a NUL character",
}


def friendly_message(error: Any) -> str:
    """The plain-words message for one pydantic error dict."""
    if error.get("type") == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern")
        if pattern in _PATTERN_MESSAGES:
            return _PATTERN_MESSAGES[pattern]
    return str(error["msg"]).removeprefix("Value error, ")

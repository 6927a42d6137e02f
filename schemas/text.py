"""Constraints shared by every free-text and identifier field."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text, and no auditor types one: refuse it
    # at the boundary so SQLite and PostgreSQL accept exactly the same content.
    if "\x00" in value:
        raise ValueError("text contains a NUL character")
    return value


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            f"{value!r} is not a valid id (lower-case letters, digits, '.', '_' or '-')"
        )
    return value


FreeText = Annotated[str, AfterValidator(_no_nul)]
"""Text an auditor writes: any length, never NUL."""

Label = Annotated[str, StringConstraints(min_length=1, max_length=300), AfterValidator(_no_nul)]
"""A short, non-empty label or title."""

Slug = Annotated[str, StringConstraints(min_length=1, max_length=80), AfterValidator(_slug)]
"""A stable machine id: tool ids, criterion ids, agency codes, scale ids."""

"""Pins tool versions in the store so an audit keeps the tool it was planned with."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.tools import ToolDefinition
from workbench.services.errors import InvalidRequestError
from workbench.store.models import ToolVersion


def canonical_json(definition: ToolDefinition) -> str:
    return definition.model_dump_json(exclude_none=False)


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pin_tool_version(session: Session, definition: ToolDefinition) -> ToolVersion:
    """The stored row for this tool version, creating it the first time an audit uses it."""
    text = canonical_json(definition)
    digest = checksum(text)
    row = session.scalars(
        select(ToolVersion).where(
            ToolVersion.tool_id == definition.tool.id,
            ToolVersion.version == definition.tool.version,
        )
    ).one_or_none()
    if row is None:
        row = ToolVersion(
            tool_id=definition.tool.id,
            version=definition.tool.version,
            title=definition.tool.title,
            checksum=digest,
            definition=text,
        )
        session.add(row)
        session.flush()
    elif row.checksum != digest:
        raise InvalidRequestError(
            f"tool {definition.tool.id!r} version {definition.tool.version} differs from the one "
            "already used by audits in this database; give the changed tool a new version"
        )
    return row


@lru_cache(maxsize=64)
def _parse(digest: str, text: str) -> ToolDefinition:
    return ToolDefinition.model_validate_json(text)


def definition_of(row: ToolVersion) -> ToolDefinition:
    """The pinned definition; parsed once per process, keyed by its checksum."""
    return _parse(row.checksum, row.definition)


def audit_definition(session: Session, audit_id: int) -> ToolDefinition | None:
    """The tool an audit pinned, reading the definition text only the first time per process.

    Hot paths (distributions, progress) need the scale, not a 16 KB row on every call."""
    from workbench.store.models import Audit

    found = session.execute(
        select(ToolVersion.id, ToolVersion.checksum)
        .join(Audit, Audit.tool_version_id == ToolVersion.id)
        .where(Audit.id == audit_id)
    ).one_or_none()
    if found is None:
        return None
    tool_version_id, digest = found
    cached = _BY_CHECKSUM.get(digest)
    if cached is None:
        text = session.scalar(
            select(ToolVersion.definition).where(ToolVersion.id == tool_version_id)
        )
        assert text is not None
        cached = _BY_CHECKSUM[digest] = ToolDefinition.model_validate_json(text)
    return cached


_BY_CHECKSUM: dict[str, ToolDefinition] = {}

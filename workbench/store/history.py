"""Writes change history for audit content in the same transaction as the change itself.

A flush listener rather than calls sprinkled through the services: nothing that changes
an `Audited` row through the ORM can forget to record who, when, before and after.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, UOWTransaction

from workbench.store.models import Audited, ChangeRecord
from workbench.store.types import utcnow

ACTOR_KEY = "actor"


class MissingActorError(RuntimeError):
    """Audit content was changed by a session that does not say who is acting."""


def history_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _snapshot(obj: Audited) -> str:
    return json.dumps(
        {name: history_text(getattr(obj, name)) for name in obj.history_fields},
        ensure_ascii=False,
        sort_keys=True,
    )


def _records(session: Session) -> list[dict[str, Any]]:
    changed = [
        o for o in (*session.new, *session.dirty, *session.deleted) if isinstance(o, Audited)
    ]
    if not changed:
        return []
    actor = session.info.get(ACTOR_KEY)
    if not actor:
        raise MissingActorError("audit content changed without an actor; open the session with one")
    at = utcnow()
    rows: list[dict[str, Any]] = []

    def add(obj: Audited, operation: str, field: str | None, before: Any, after: Any) -> None:
        rows.append(
            {
                "at": at,
                "actor": actor,
                "audit_id": obj.history_audit_id(),
                "entity": type(obj).__tablename__,  # type: ignore[attr-defined]
                "entity_key": obj.history_key(),
                "operation": operation,
                "field": field,
                "before": before,
                "after": after,
            }
        )

    for obj in session.new:
        if isinstance(obj, Audited):
            add(obj, "create", None, None, _snapshot(obj))
    for obj in session.dirty:
        if not isinstance(obj, Audited) or not session.is_modified(obj):
            continue
        state = inspect(obj)
        for name in obj.history_fields:
            hist = state.attrs[name].history
            if not hist.has_changes():
                continue
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            if before == after:
                continue
            add(obj, "update", name, history_text(before), history_text(after))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            add(obj, "delete", None, _snapshot(obj), None)
    return rows


@event.listens_for(Session, "before_flush")
def _require_actor(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    # Refuse before anything is written: a change nobody owns must never reach the database.
    if session.info.get(ACTOR_KEY):
        return
    if any(isinstance(o, Audited) for o in (*session.new, *session.dirty, *session.deleted)):
        raise MissingActorError("audit content changed without an actor; open the session with one")


@event.listens_for(Session, "after_flush")
def _write_history(session: Session, flush_context: UOWTransaction) -> None:
    # after_flush: new rows have their ids and attribute history is still intact.
    rows = _records(session)
    if rows:
        # inline(): no RETURNING of the new ids, which nobody reads. On PostgreSQL RETURNING
        # would make each new row pass the history's read policy, and an auditor who records
        # a voice may write that history row without being one who reads it back.
        session.connection().execute(insert(ChangeRecord).inline(), rows)

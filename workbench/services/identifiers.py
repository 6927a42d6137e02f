"""Real identifiers of a case, where a partnership chooses to hold them: kept apart from the
audit content, readable by the audit's leads only, never exported.

The values never enter the change history (which more people read); each hold, change, read
and removal is recorded there as who and when, without the value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from schemas.audit import Actor, Schema
from schemas.text import Label
from workbench.services import access
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.identifier_scan import KNOWN_IDENTIFIER, IdentifierHit, scan
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import Case, CaseIdentifier, ChangeRecord
from workbench.store.types import utcnow

ENTITY = "case_identifiers"
HIDDEN = "(a held identifier: not shown)"
"""The excerpt of a hit the database found: where it is, never the text around it."""


class HeldIdentifier(Schema):
    kind: Label
    value: str


def _case(session: Session, case_id: int, doing: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError(f"no case with id {case_id}")
    access.require_named_lead(session, case.audit_id, doing)
    return case


def _record(session: Session, actor: str, case: Case, kind: str, operation: str) -> None:
    session.add(
        ChangeRecord(
            at=utcnow(),
            actor=actor,
            audit_id=case.audit_id,
            entity=ENTITY,
            entity_key=f"case {case.reference} / held identifier {kind}",
            operation=operation,
            field="value",
            before=None,
            after=None,
        )
    )


def hold_identifier(
    factory: SessionFactory, actor: Actor, case_id: int, kind: str, value: str
) -> None:
    """Hold (or replace) one identifier of a case, such as "name" or "LCS number"."""
    kind, value = kind.strip(), value.strip()
    if not kind or not value:
        raise InvalidRequestError("a held identifier needs a kind (e.g. name) and a value")
    with unit_of_work(factory, actor) as session:
        case = _case(session, case_id, "hold identifiers for this case")
        row = session.scalar(
            select(CaseIdentifier).where(
                CaseIdentifier.case_id == case_id, CaseIdentifier.kind == kind
            )
        )
        operation = "update"
        if row is None:
            operation = "create"
            row = CaseIdentifier(case_id=case_id, kind=kind)
            session.add(row)
        row.value = value
        row.recorded_by = actor.name
        row.recorded_at = utcnow()
        _record(session, actor.name, case, kind, operation)


def identifiers_of(factory: SessionFactory, actor: Actor, case_id: int) -> list[HeldIdentifier]:
    """The case's held identifiers, for its lead; the reading itself is recorded."""
    with unit_of_work(factory, actor) as session:
        case = _case(session, case_id, "read the identifiers held for this case")
        rows = session.scalars(
            select(CaseIdentifier)
            .where(CaseIdentifier.case_id == case_id)
            .order_by(CaseIdentifier.kind)
        ).all()
        if rows:
            _record(session, actor.name, case, ", ".join(r.kind for r in rows), "read")
        return [HeldIdentifier(kind=r.kind, value=r.value) for r in rows]


def forget_identifier(factory: SessionFactory, actor: Actor, case_id: int, kind: str) -> None:
    with unit_of_work(factory, actor) as session:
        case = _case(session, case_id, "remove identifiers held for this case")
        row = session.scalar(
            select(CaseIdentifier).where(
                CaseIdentifier.case_id == case_id, CaseIdentifier.kind == kind
            )
        )
        if row is None:
            raise NotFoundError(f"case {case.reference} holds no {kind!r}")
        session.delete(row)
        _record(session, actor.name, case, kind, "delete")


def held_identifier_hits(
    session: Session, texts: Sequence[tuple[str, str]], *, today: dt.date
) -> list[IdentifierHit]:
    """Where the (where, text) pairs hold a held identifier, for an export to refuse.

    On PostgreSQL the values are readable by the audit's leads alone, so a subgroup or an
    administrator's login cannot read them to compare: the database compares for it
    (`wb_held_found`, SECURITY DEFINER) and says which texts hold one, never the value."""
    if session.get_bind().dialect.name == "postgresql" and session.scalar(
        text("SELECT to_regprocedure('wb_held_found(text[])') IS NOT NULL")
    ):
        found = session.scalars(
            text("SELECT wb_held_found(CAST(:texts AS text[]))"),
            {"texts": [body for _, body in texts]},
        )
        return [IdentifierHit(texts[n - 1][0], KNOWN_IDENTIFIER, HIDDEN) for n in found]
    held = held_values(session)
    if not held:
        return []
    return [h for h in scan(texts, held, today=today) if h.kind == KNOWN_IDENTIFIER]


def held_values(session: Session, audit_id: int | None = None) -> list[str]:
    """Every held value (of one audit, or all), for the export scan to refuse: the system
    reading on nobody's behalf, so no access check and no record. On PostgreSQL the
    database's own policies still limit it to what the connected login may read."""
    query = select(CaseIdentifier.value)
    if audit_id is not None:
        query = query.join(Case, Case.id == CaseIdentifier.case_id).where(Case.audit_id == audit_id)
    return [v for v in session.scalars(query) if v.strip()]


def require_identifier_access(factory: SessionFactory, case_id: int) -> None:
    """Refuse (AccessDeniedError) unless the principal may hold and read this case's
    identifiers: asked before anything is shown, and reading nothing itself."""
    with unit_of_work(factory) as session:
        _case(session, case_id, "read or hold the identifiers of this case")

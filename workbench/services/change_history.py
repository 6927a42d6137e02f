"""Reading the change history: who changed what, when, before and after, per finding, return,
case or audit. Read-only: nothing here (or anywhere in the application) edits or deletes it.

History rows name what they describe by key ("case C-01 / police / cse-1.1"), built by each
model's `history_key()`. A view is every row whose key is its own or lies under it, matched
exactly on the " / " separator so that "case C-1" never picks up "case C-10". A case reference
may itself hold " / " ("A / B"), so each row's case is found by counting its kind's parts from
the right: case "A" never shows case "A / B"'s rows either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from schemas.audit import ChangeRecordOut
from workbench.services import access
from workbench.services.errors import AccessDeniedError, NotFoundError
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import Audit, Case, ChangeRecord

SEP = " / "


def _case_key(case_reference: str) -> str:
    return f"case {case_reference}"


def _under(key: str, base: str) -> bool:
    return key == base or key.startswith(base + SEP)


def _rows_under(session: Session, audit_id: int, base: str) -> list[ChangeRecord]:
    """Rows of the audit whose key is `base` or starts with `base / `, oldest first.

    substr equality rather than LIKE: exact and case-sensitive on SQLite and PostgreSQL alike,
    with no wildcard in a reference ('_') to escape."""
    prefix = base + SEP
    key = ChangeRecord.entity_key
    return list(
        session.scalars(
            select(ChangeRecord)
            .where(
                ChangeRecord.audit_id == audit_id,
                or_(key == base, func.substr(key, 1, len(prefix)) == prefix),
            )
            .order_by(ChangeRecord.at, ChangeRecord.id)
        )
    )


def _case_keys(session: Session, audit_id: int) -> set[str]:
    """Every case key the audit has, or had: current cases and any named in its history."""
    current = session.scalars(select(Case.reference).where(Case.audit_id == audit_id))
    recorded = session.scalars(
        select(ChangeRecord.entity_key)
        .where(ChangeRecord.audit_id == audit_id, ChangeRecord.entity == Case.__tablename__)
        .distinct()
    )
    return {_case_key(r) for r in current} | set(recorded)


# How many " / " parts each kind of row adds after its case's key ("case REF"): agency codes,
# criterion ids, theme codes and headings never hold " / ", so counting from the right finds
# the case even when its reference holds " / " itself.
_PARTS_AFTER_CASE = {
    "cases": 0,
    "agency_returns": 1,  # agency
    "findings": 2,  # agency / criterion
    "second_grades": 3,  # agency / criterion / second grade
    "finding_themes": 3,  # agency / criterion / theme
    "moderated_grades": 1,
    "voices": 1,
    "immediate_concerns": 1,
    "voice_themes": 2,
    "moderation_themes": 2,
}


def _split(row: ChangeRecord, case_keys: Iterable[str]) -> tuple[str, list[str]] | None:
    """The row's case key and the parts after it, or None if it is no case's row."""
    key = row.entity_key
    parts = _PARTS_AFTER_CASE.get(row.entity)
    if parts is None:
        # A kind this module does not know: the longest case key it lies under owns it.
        owners = [k for k in case_keys if _under(key, k)]
        if not owners:
            return None
        owner = max(owners, key=len)
        return owner, key[len(owner) + len(SEP) :].split(SEP) if key != owner else []
    if parts == 0:
        return key, []
    pieces = key.rsplit(SEP, parts)
    if len(pieces) != parts + 1:
        return None
    return pieces[0], pieces[1:]


def _require_history(
    session: Session, audit_id: int, case_reference: str, within: Sequence[str]
) -> None:
    """A return's history (and its findings') goes to whoever may read the return; a whole
    case's history, which holds moderation and voices too, to the audit's leads."""
    audit = session.get(Audit, audit_id)
    if audit is None:
        raise NotFoundError(f"no audit with id {audit_id}")
    if not within or within[0] not in {a.agency_code for a in audit.agencies}:
        # Not under a return (a voice, a moderated grade, a held identifier's record): the
        # case's own history, which is the leads'.
        access.require_lead(session, audit_id, f"read the history of case {case_reference}")
        return
    if not access.sees_return(session, audit, within[0]):
        principal = access.principal_of(session)
        who = principal.description if principal else "this user"
        raise AccessDeniedError(
            f"{who} cannot read the history of the {within[0]} return for case "
            f"{case_reference}: another agency's return is shared from moderation on"
        )


def _case_view(
    factory: SessionFactory, audit_id: int, case_reference: str, *within: str
) -> list[ChangeRecordOut]:
    case_key = _case_key(case_reference)
    want = list(within)
    with unit_of_work(factory) as session:
        _require_history(session, audit_id, case_reference, within)
        case_keys = _case_keys(session, audit_id) | {case_key}
        out: list[ChangeRecordOut] = []
        for row in _rows_under(session, audit_id, SEP.join((case_key, *within))):
            split = _split(row, case_keys)
            if split is not None and split[0] == case_key and split[1][: len(want)] == want:
                out.append(ChangeRecordOut.model_validate(row))
        return out


def history_of_finding(
    factory: SessionFactory, audit_id: int, case_reference: str, agency: str, criterion_id: str
) -> list[ChangeRecordOut]:
    """One finding's history, with its tags and second grade, oldest first."""
    return _case_view(factory, audit_id, case_reference, agency, criterion_id)


def history_of_return(
    factory: SessionFactory, audit_id: int, case_reference: str, agency: str
) -> list[ChangeRecordOut]:
    """One agency return's history: the return itself, its findings and their tags."""
    return _case_view(factory, audit_id, case_reference, agency)


def history_of_case(
    factory: SessionFactory, audit_id: int, case_reference: str
) -> list[ChangeRecordOut]:
    """Everything under one case: the case, its returns and findings, moderated grades,
    voices, immediate concerns and tags."""
    return _case_view(factory, audit_id, case_reference)


def history_of_audit(factory: SessionFactory, audit_id: int) -> list[ChangeRecordOut]:
    """Every history row of one audit, oldest first."""
    with unit_of_work(factory) as session:
        access.require_lead(session, audit_id, "read the audit's change history")
        rows = session.scalars(
            select(ChangeRecord)
            .where(ChangeRecord.audit_id == audit_id)
            .order_by(ChangeRecord.at, ChangeRecord.id)
        )
        return [ChangeRecordOut.model_validate(r) for r in rows]

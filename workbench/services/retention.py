"""Retention: closed audits past the partnership's retention period are deleted, unless held.

A deletion removes the audit with everything under it (cases, returns, findings, voices,
concerns, grades, recommendations, actions) and the change history that held its content.
What remains is a record of the deletion itself, what, when and by whom, with no content:
no title, no case reference, no finding text. Learning items survive, no longer linked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from schemas.access import Role
from schemas.audit import Actor, AuditDetail, AuditStatus
from workbench.services import access
from workbench.services.audits import _months_before, get_audit
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import (
    AgencyReturn,
    Audit,
    Case,
    ChangeRecord,
    Finding,
    LearningItemFinding,
    ToolVersion,
    TransferRecord,
)
from workbench.store.types import utcnow

TRANSFER_KIND = "retention-delete"

# History of learning items is the learning log's, not the audit's: it stays, unlinked.
_KEPT_HISTORY = ("learning_items", "learning_item_themes")


@dataclass(frozen=True)
class RetentionCandidate:
    """An audit due for deletion: identifiers and counts only, never its content."""

    id: int
    uid: str
    tool_id: str
    tool_version: int
    closed_at: dt.datetime
    cases: int

    def describe(self, months: int) -> str:
        return (
            f"{self.tool_id} v{self.tool_version}, closed {self.closed_at.date().isoformat()}, "
            f"{self.cases} case{'' if self.cases == 1 else 's'}, retention {months} months"
        )


@dataclass(frozen=True)
class RetentionResult:
    months: int
    today: dt.date
    cutoff: dt.date
    dry_run: bool
    due: tuple[RetentionCandidate, ...]
    deleted: tuple[RetentionCandidate, ...]


def retention_cutoff(today: dt.date, months: int) -> dt.date:
    """Audits closed before this day are past retention."""
    if months < 1:
        raise InvalidRequestError(f"the retention period must be at least one month, not {months}")
    return _months_before(today, months)


def _cutoff_instant(cutoff: dt.date) -> dt.datetime:
    return dt.datetime.combine(cutoff, dt.time.min, tzinfo=dt.UTC)


def _due_query(cutoff: dt.date) -> Select[Any]:
    cases = (
        select(func.count(Case.id))
        .where(Case.audit_id == Audit.id)
        .correlate(Audit)
        .scalar_subquery()
    )
    return (
        select(
            Audit.id,
            Audit.uid,
            ToolVersion.tool_id,
            ToolVersion.version,
            Audit.closed_at,
            cases,
        )
        .join(ToolVersion, ToolVersion.id == Audit.tool_version_id)
        .where(
            Audit.status == AuditStatus.CLOSED.value,
            Audit.closed_at.is_not(None),
            Audit.closed_at < _cutoff_instant(cutoff),
            Audit.legal_hold.is_(False),
        )
        .order_by(Audit.closed_at, Audit.id)
    )


def _candidates(session: Session, cutoff: dt.date) -> list[RetentionCandidate]:
    return [
        RetentionCandidate(
            id=row[0],
            uid=row[1],
            tool_id=row[2],
            tool_version=row[3],
            closed_at=row[4],
            cases=int(row[5] or 0),
        )
        for row in session.execute(_due_query(cutoff)).all()
    ]


def due_for_deletion(
    factory: SessionFactory, *, months: int, today: dt.date
) -> list[RetentionCandidate]:
    """Closed audits closed more than `months` before `today` and not under legal hold."""
    cutoff = retention_cutoff(today, months)
    with unit_of_work(factory) as session:
        return _candidates(session, cutoff)


def _delete_one(
    factory: SessionFactory,
    actor: Actor,
    candidate: RetentionCandidate,
    months: int,
    cutoff: dt.date,
) -> bool:
    """Delete one audit in one transaction; False when it is no longer due (held, reopened)."""
    with unit_of_work(factory, actor) as session:
        still_due = session.scalar(
            select(Audit.id)
            .where(
                Audit.id == candidate.id,
                Audit.status == AuditStatus.CLOSED.value,
                Audit.closed_at < _cutoff_instant(cutoff),
                Audit.legal_hold.is_(False),
            )
            .with_for_update()
        )
        if still_due is None:
            return False
        # History of links from learning items to this audit's findings names the cases.
        links = session.scalars(
            select(LearningItemFinding)
            .join(Finding, Finding.id == LearningItemFinding.finding_id)
            .join(AgencyReturn, AgencyReturn.id == Finding.return_id)
            .join(Case, Case.id == AgencyReturn.case_id)
            .where(Case.audit_id == candidate.id)
        ).all()
        link_keys = {link.history_key() for link in links}
        session.expunge_all()
        session.execute(
            delete(ChangeRecord).where(
                ChangeRecord.audit_id == candidate.id,
                ChangeRecord.entity.not_in(_KEPT_HISTORY),
            )
        )
        if link_keys:
            session.execute(
                delete(ChangeRecord).where(
                    ChangeRecord.entity == "learning_item_findings",
                    ChangeRecord.entity_key.in_(link_keys),
                )
            )
        session.execute(
            update(ChangeRecord).where(ChangeRecord.audit_id == candidate.id).values(audit_id=None)
        )
        # A bulk delete, not session.delete(): the database cascades to everything under the
        # audit, and the flush listener does not write every deleted row's content to history.
        session.execute(
            delete(Audit)
            .where(Audit.id == candidate.id)
            .execution_options(synchronize_session=False)
        )
        at = utcnow()
        detail = candidate.describe(months)
        session.add(
            TransferRecord(
                at=at,
                actor=actor.name,
                kind=TRANSFER_KIND,
                audit_uid=candidate.uid,
                target=f"audit {candidate.uid}",
                recipient="",
                detail=detail,
            )
        )
        session.add(
            ChangeRecord(
                at=at,
                actor=actor.name,
                audit_id=None,
                entity="audit",
                entity_key=f"audit {candidate.uid}",
                operation="delete",
                field="retention",
                before=None,
                after=None,
            )
        )
        return True


def apply_retention(
    factory: SessionFactory, actor: Actor, *, months: int, today: dt.date, dry_run: bool
) -> RetentionResult:
    """Delete every audit due, one transaction each; with `dry_run`, only say which."""
    cutoff = retention_cutoff(today, months)
    with unit_of_work(factory) as session:
        access.require_role(session, (Role.ADMIN,), "apply the retention period")
    due = tuple(due_for_deletion(factory, months=months, today=today))
    deleted: list[RetentionCandidate] = []
    if not dry_run:
        for candidate in due:
            if _delete_one(factory, actor, candidate, months, cutoff):
                deleted.append(candidate)
    return RetentionResult(
        months=months,
        today=today,
        cutoff=cutoff,
        dry_run=dry_run,
        due=due,
        deleted=tuple(deleted),
    )


def set_legal_hold(factory: SessionFactory, actor: Actor, audit_id: int, on: bool) -> AuditDetail:
    """Place or release a legal hold; the change history records who and when."""
    with unit_of_work(factory, actor) as session:
        audit = session.get(Audit, audit_id)
        if audit is None:
            raise NotFoundError(f"no audit with id {audit_id}")
        access.require_role(session, (Role.ADMIN,), "place or release a legal hold")
        audit.legal_hold = on
    return get_audit(factory, audit_id)

"""Retention and legal hold, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditDetail, FindingChange, VoiceSource
from schemas.learning import LearningItemIn, LearningSource
from tests.conftest import cse_plan
from workbench.services import audits, casework, returns
from workbench.services.errors import InvalidRequestError
from workbench.services.learning import create_learning_item
from workbench.services.retention import (
    TRANSFER_KIND,
    apply_retention,
    due_for_deletion,
    set_legal_hold,
)
from workbench.store.models import (
    AgencyReturn,
    Audit,
    Case,
    ChangeRecord,
    Finding,
    LearningItem,
    LearningItemFinding,
    TransferRecord,
    Voice,
)

TODAY = dt.date(2026, 6, 15)
EVIDENCE = "Strategy meeting on 3 May noted the missing episode at Oakfield"
VOICE = "I did not want to go back to that house"


def _close(factory: sessionmaker[Session], audit_id: int, closed: dt.datetime) -> None:
    with factory.begin() as session:
        session.execute(
            update(Audit).where(Audit.id == audit_id).values(status="closed", closed_at=closed)
        )


def _utc(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, 12, tzinfo=dt.UTC)


@pytest.fixture
def estate(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> dict[str, AuditDetail]:
    def plan(title: str) -> AuditDetail:
        return audits.create_audit(
            factory, actor, registry, cse_plan().model_copy(update={"title": title})
        )

    old = plan("Old CSE audit Oakfield")
    recent, still_open, held = plan("Recent CSE audit"), plan("Open audit"), plan("Held audit")
    set_legal_hold(factory, actor, held.id, True)
    # Content under the old audit: a finding with evidence, a voice, a learning item citing it.
    rid = returns.find_return(factory, old.id, "CSE-25-01", "police")
    fid = returns.record_finding(
        factory,
        actor,
        rid,
        "cse-1.1",
        FindingChange(grade="good", evidence=EVIDENCE),
        expected_version=None,
    ).id
    casework.add_voice(factory, actor, old.cases[0].id, VoiceSource.CHILD, VOICE)
    create_learning_item(
        factory,
        actor,
        LearningItemIn(
            raised_on=TODAY,
            source=LearningSource.CASE_AUDIT,
            learning="Schools were not told about missing episodes.",
            audit_id=old.id,
            finding_ids=(fid,),
        ),
    )
    _close(factory, old.id, _utc(2019, 3, 1))
    _close(factory, recent.id, _utc(2025, 12, 1))
    _close(factory, held.id, _utc(2018, 1, 1))
    return {"old": old, "recent": recent, "open": still_open, "held": held}


def test_only_the_old_closed_unheld_audit_is_due(
    factory: sessionmaker[Session], estate: dict[str, AuditDetail]
) -> None:
    [due] = due_for_deletion(factory, months=72, today=TODAY)
    old = estate["old"]
    assert (due.id, due.uid, due.tool_id, due.cases) == (old.id, old.uid, "cse", 3)
    assert due.closed_at.date() == dt.date(2019, 3, 1)
    # A shorter period reaches the recent audit too; the open and the held one never go.
    ids = {c.id for c in due_for_deletion(factory, months=1, today=TODAY)}
    assert ids == {estate["old"].id, estate["recent"].id}


def test_dry_run_deletes_nothing(
    factory: sessionmaker[Session], actor: Actor, estate: dict[str, AuditDetail]
) -> None:
    result = apply_retention(factory, actor, months=72, today=TODAY, dry_run=True)
    assert [c.id for c in result.due] == [estate["old"].id]
    assert result.deleted == ()
    assert len(audits.list_audits(factory)) == 4
    with factory() as session:
        assert session.scalars(select(TransferRecord)).all() == []


def test_apply_deletes_the_audit_its_content_and_history_keeping_only_a_bare_record(
    factory: sessionmaker[Session], actor: Actor, estate: dict[str, AuditDetail]
) -> None:
    old = estate["old"]
    result = apply_retention(factory, actor, months=72, today=TODAY, dry_run=False)
    assert [c.uid for c in result.deleted] == [old.uid]
    remaining = {a.id for a in audits.list_audits(factory)}
    assert remaining == {estate["recent"].id, estate["open"].id, estate["held"].id}

    with factory() as session:
        assert session.get(Audit, old.id) is None
        assert session.scalars(select(Case).where(Case.audit_id == old.id)).all() == []
        assert session.scalars(select(Finding)).all() == []
        assert session.scalars(select(Voice)).all() == []
        assert session.scalars(select(LearningItemFinding)).all() == []
        assert (
            session.scalar(select(AgencyReturn).join(Case).where(Case.audit_id == old.id)) is None
        )
        assert (
            session.scalars(select(ChangeRecord).where(ChangeRecord.audit_id == old.id)).all() == []
        )
        [item] = session.scalars(select(LearningItem)).all()
        assert item.audit_id is None

        [transfer] = session.scalars(
            select(TransferRecord).where(TransferRecord.kind == TRANSFER_KIND)
        ).all()
        assert transfer.audit_uid == old.uid and transfer.actor == actor.name
        assert transfer.detail == "cse v1, closed 2019-03-01, 3 cases, retention 72 months"
        [record] = session.scalars(
            select(ChangeRecord).where(ChangeRecord.entity_key == f"audit {old.uid}")
        ).all()
        assert (record.entity, record.operation, record.field) == ("audit", "delete", "retention")
        assert (record.audit_id, record.before, record.after) == (None, None, None)
        assert record.actor == actor.name

        # Nothing left anywhere carries the deleted audit's content.
        rows = [
            *session.scalars(select(ChangeRecord)).all(),
            *session.scalars(select(TransferRecord)).all(),
        ]
        for row in rows:
            text = " ".join(str(v) for v in vars(row).values() if isinstance(v, str))
            for secret in (EVIDENCE, VOICE, "Oakfield", old.title):
                assert secret not in text
        # Case references are shared by every cse_plan() audit: check the unlinked rows only.
        unlinked = session.scalars(
            select(ChangeRecord).where(
                or_(ChangeRecord.audit_id.is_(None), ChangeRecord.audit_id == old.id)
            )
        ).all()
        for row in unlinked:
            for value in (row.entity_key, row.before, row.after):
                assert "CSE-25-" not in (value or "")

    # A second run finds nothing more to do.
    again = apply_retention(factory, actor, months=72, today=TODAY, dry_run=False)
    assert again.due == () and again.deleted == ()


def test_releasing_a_hold_makes_the_audit_eligible_and_history_records_the_hold(
    factory: sessionmaker[Session], actor: Actor, estate: dict[str, AuditDetail]
) -> None:
    held = estate["held"]
    assert held.id not in {c.id for c in due_for_deletion(factory, months=72, today=TODAY)}
    detail = set_legal_hold(factory, actor, held.id, False)
    assert detail.legal_hold is False
    assert held.id in {c.id for c in due_for_deletion(factory, months=72, today=TODAY)}
    with factory() as session:
        changes = session.scalars(
            select(ChangeRecord).where(
                ChangeRecord.audit_id == held.id, ChangeRecord.field == "legal_hold"
            )
        ).all()
    assert [(c.before, c.after) for c in changes] == [("false", "true"), ("true", "false")]


def test_months_below_one_are_refused(factory: sessionmaker[Session], actor: Actor) -> None:
    with pytest.raises(InvalidRequestError, match="at least one month"):
        due_for_deletion(factory, months=0, today=TODAY)
    with pytest.raises(InvalidRequestError, match="at least one month"):
        apply_retention(factory, actor, months=-3, today=TODAY, dry_run=True)

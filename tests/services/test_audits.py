"""Planning and listing audits, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditPlan, AuditStatus
from tests.conftest import cohort, cse_plan
from workbench.services import audits
from workbench.services.errors import InvalidRequestError
from workbench.store.models import ChangeRecord, ToolVersion


def test_create_audit_pins_tool_and_opens_a_return_per_case_and_agency(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    plan = cse_plan().model_copy(update={"audit_day": dt.date(2026, 3, 31)})
    detail = audits.create_audit(factory, actor, registry, plan)

    assert detail.tool_id == "cse"
    assert detail.tool_version == registry.definition("cse").tool.version
    assert [c.reference for c in detail.cases] == ["CSE-25-01", "CSE-25-02", "CSE-25-03"]
    assert detail.agencies == ("gp", "police", "school")
    # Look-back runs twelve months back from the audit day, clamped to a real date.
    assert detail.look_back_end == dt.date(2026, 3, 31)
    assert detail.look_back_start == dt.date(2025, 3, 31)
    [summary] = audits.list_audits(factory)
    assert summary.returns_total == 9
    assert summary.returns_submitted == 0
    cse = registry.definition("cse").tool
    assert summary.findings_expected == 3 * sum(
        len(cse.criteria_for(a)) for a in ("police", "school", "gp")
    )


def test_creating_an_audit_is_recorded_in_history(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    detail = audits.create_audit(factory, actor, registry, cse_plan())
    with factory() as session:
        rows = session.scalars(select(ChangeRecord).where(ChangeRecord.audit_id == detail.id)).all()
    keys = {(r.entity, r.operation) for r in rows}
    assert ("audits", "create") in keys
    assert ("cases", "create") in keys
    assert ("agency_returns", "create") in keys
    assert {r.actor for r in rows} == {actor.name}


def test_second_audit_reuses_the_pinned_tool_version(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    audits.create_audit(factory, actor, registry, cse_plan())
    audits.create_audit(factory, actor, registry, cse_plan())
    with factory() as session:
        assert len(session.scalars(select(ToolVersion)).all()) == 1


def test_a_changed_tool_under_the_same_version_is_refused(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    audits.create_audit(factory, actor, registry, cse_plan())
    changed = ToolRegistry.load()
    tool, path = changed.tools[("cse", 1)]
    changed.tools[("cse", 1)] = (tool.model_copy(update={"title": "Edited in place"}), path)
    with pytest.raises(InvalidRequestError, match="new version"):
        audits.create_audit(factory, actor, changed, cse_plan())


def test_old_audits_keep_their_tool_when_a_new_version_arrives(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    first = audits.create_audit(factory, actor, registry, cse_plan())
    newer = ToolRegistry.load()
    tool, path = newer.tools[("cse", 1)]
    newer.tools[("cse", 2)] = (tool.model_copy(update={"version": 2, "title": "CSE v2"}), path)
    second = audits.create_audit(factory, actor, newer, cse_plan())
    assert second.tool_version == 2
    assert audits.audit_tool(factory, first.id).tool.version == 1
    assert audits.audit_tool(factory, first.id).tool.title != "CSE v2"
    assert audits.audit_tool(factory, second.id).tool.title == "CSE v2"


def test_unknown_agency_and_duplicate_case_are_refused(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    with pytest.raises(InvalidRequestError, match="unknown agency"):
        audits.create_audit(factory, actor, registry, cse_plan(agencies=("police", "nasa")))
    twice = cse_plan().model_copy(update={"cases": cohort(2) + cohort(1)})
    with pytest.raises(InvalidRequestError, match="twice"):
        audits.create_audit(factory, actor, registry, twice)
    assert audits.list_audits(factory) == []


def test_unknown_tool_is_refused(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    plan = AuditPlan(title="x", tool_id="no-such-tool", agencies=("police",))
    with pytest.raises(InvalidRequestError, match="no-such-tool"):
        audits.create_audit(factory, actor, registry, plan)


def test_status_change_is_recorded(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    detail = audits.create_audit(factory, actor, registry, cse_plan())
    audits.set_status(factory, actor, detail.id, AuditStatus.RETURNS)
    with factory() as session:
        row = session.scalars(select(ChangeRecord).where(ChangeRecord.field == "status")).one()
    assert (row.before, row.after) == ("planning", "returns")

"""Each migration upgrades a database made, and filled, by the one before, losing nothing."""

from __future__ import annotations

from sqlalchemy import inspect

from audit_tools import ToolRegistry
from schemas.audit import Actor, FindingChange
from tests.conftest import cse_plan
from workbench.services import audits, returns
from workbench.services.bundle import bundle_json, export_bundle, without_export_time
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import current_revision, head_revision, upgrade


def test_0001_to_0002_keeps_audits_and_adds_the_progress_index(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0001")
    factory = make_session_factory(engine)
    actor = Actor(name="before.upgrade")
    # Services at 0001 work because 0002 only adds an index.
    detail = audits.create_audit(factory, actor, ToolRegistry.load(), cse_plan())
    rid = returns.find_return(factory, detail.id, detail.cases[0].reference, "police")
    returns.record_finding(
        factory,
        actor,
        rid,
        "cse-1.1",
        FindingChange(grade="good", evidence="Chronology"),
        expected_version=None,
    )
    before = bundle_json(export_bundle(factory, detail.id))

    upgrade(engine, "0002")
    assert current_revision(engine) == "0002" == head_revision()
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("findings")}
    assert "ix_findings_return_grade" in indexes
    after = bundle_json(export_bundle(factory, detail.id))
    assert without_export_time(after) == without_export_time(before)
    engine.dispose()


def test_the_fast_path_head_matches_the_migration_scripts() -> None:
    from workbench.store.migrate import HEAD_REVISION

    assert head_revision() == HEAD_REVISION

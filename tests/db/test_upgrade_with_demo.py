"""A database made by each earlier migration, filled with the demo, upgrades to head losing nothing.

For every revision but head (found from Alembic's scripts, so a new migration is covered
without touching this file): the demo is loaded at head, once per database kind; its rows are
copied into a database upgraded only to that revision; the copy's every row is recorded, the
database is upgraded to head, and every row and value must still be there, the demo must read
back the same through the services, and new saves must work.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import Actor, FindingChange, ReturnStatus, VoiceSource
from schemas.learning import TaggedKind
from tests.conftest import cse_plan, postgres_base_url, require_postgres
from tests.db.demo_copy import (
    Contents,
    added_rows,
    as_rows,
    copy_demo,
    copy_problems,
    lost_or_changed,
    revisions_oldest_first,
    seeded_after,
    snapshot,
)
from workbench.services import (
    actions,
    audits,
    casework,
    learning,
    matrix,
    returns,
    theme_analysis,
    themes,
)
from workbench.services.demo import load_demo
from workbench.services.returns import EDITABLE
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import (
    MIGRATIONS,
    current_revision,
    ensure_schema,
    head_revision,
    upgrade,
)
from workbench.store.models import Base

Factory = sessionmaker[Session]

TODAY = dt.date(2026, 3, 16)
REVISIONS = revisions_oldest_first()
EARLIER = REVISIONS[:-1]

# The demo's own content, which no migration seeds: every row of these must be copied, so the
# test cannot pass on a near-empty database.
DEMO_TABLES = {
    "audits": 4,
    "cases": 15,
    "agency_returns": 100,
    "findings": 500,
    "voices": 10,
    "moderated_grades": 20,
    "immediate_concerns": 2,
    "learning_items": 3,
    "actions": 3,
    "change_history": 1000,
}


@dataclass(frozen=True)
class DemoSource:
    """The demo loaded at head: where to read it, and the database before and after loading."""

    url: str
    fresh: Contents
    demo: Contents


@contextmanager
def _private_schema() -> Iterator[str]:
    """A URL on a new PostgreSQL schema of its own, dropped afterwards (as conftest's fixture,
    but usable for the module-wide demo and for a second database in one test)."""
    require_postgres()
    import psycopg

    schema = f"wb_{uuid.uuid4().hex[:12]}"
    admin = postgres_base_url().replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_base_url() else "?"
    try:
        yield f"{postgres_base_url()}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def demo_source(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    registry: ToolRegistry,
) -> Iterator[DemoSource]:
    # Loaded once per database kind: the demo takes seconds, and the tests only read it.
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
        else:
            url = stack.enter_context(_private_schema())
        engine = make_engine(url)
        stack.callback(engine.dispose)
        upgrade(engine)
        fresh = snapshot(engine)
        load_demo(make_session_factory(engine), registry, today=TODAY)
        yield DemoSource(url=url, fresh=fresh, demo=snapshot(engine))


@pytest.fixture
def target_url(demo_source: DemoSource, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind as the demo's."""
    if demo_source.url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'older.db'}"
    else:
        with _private_schema() as url:
            yield url


def _read_back(factory: Factory) -> tuple[dict[str, Any], dict[str, Any]]:
    """The demo as the services show it: (content no migration touches, theme content)."""
    log = learning.list_learning(factory)
    core: dict[str, Any] = {
        "audits": audits.list_audits(factory),
        "learning": [item.model_copy(update={"themes": ()}) for item in log],
        # Whether seeded by a migration since or copied, the vocabulary is the same.
        "vocabulary": [t.model_dump(exclude={"id"}) for t in themes.list_themes(factory)],
    }
    themed: dict[str, Any] = {"learning": log}
    for summary in core["audits"]:
        audit_id = summary.id
        detail = audits.get_audit(factory, audit_id)
        core[f"audit {audit_id}"] = detail
        core[f"matrix {audit_id}"] = matrix.return_matrix(factory, audit_id)
        progress = returns.progress(factory, audit_id)
        core[f"progress {audit_id}"] = progress
        for p in progress:
            core[f"return {p.return_id}"] = returns.get_return(factory, p.return_id)
            themed[f"tags {p.return_id}"] = themes.tags_for_return(factory, p.return_id)
        for case in detail.cases:
            core[f"voices {case.id}"] = casework.list_voices(factory, case.id)
            core[f"moderated {case.id}"] = casework.moderated_grades(factory, case.id)
        core[f"concerns {audit_id}"] = casework.open_concerns(factory, audit_id)
        core[f"actions {audit_id}"] = actions.list_actions(factory, today=TODAY, audit_id=audit_id)
        core[f"recommendations {audit_id}"] = actions.list_recommendations(factory, audit_id)
        themed[f"recurring {audit_id}"] = theme_analysis.recurring_themes(factory, audit_id)
    return core, themed


def _save_after_upgrade(factory: Factory, registry: ToolRegistry) -> None:
    """New rows and changed rows through the services, in the upgraded database: ids come
    from sequences that must have moved past the copied ones (PostgreSQL)."""
    actor = Actor(name="after.upgrade", agency="police")
    old_ids = {a.id for a in audits.list_audits(factory)}
    created = audits.create_audit(factory, actor, registry, cse_plan())
    assert created.id not in old_ids and len(created.cases) == 3
    new_return = returns.progress(factory, created.id)[0].return_id
    criterion = returns.unanswered(factory, new_return)[0].criterion_id
    saved = returns.record_finding(
        factory,
        actor,
        new_return,
        criterion,
        FindingChange(grade="good", evidence="Chronology seen after the upgrade"),
        expected_version=0,
    )
    themes.set_tags(factory, actor, TaggedKind.FINDING, saved.id, ["voice-of-the-child"])
    assert themes.tags_for_return(factory, new_return) == {saved.id: ("voice-of-the-child",)}

    # A demo finding still being written: its version moves on from the copied one.
    editable = next(
        (p, summary.id)
        for summary in audits.list_audits(factory)
        if summary.status.value in EDITABLE and summary.id in old_ids
        for p in returns.progress(factory, summary.id)
        if p.status is ReturnStatus.IN_PROGRESS and p.answered
    )
    finding = returns.get_return(factory, editable[0].return_id).findings[0]
    changed = returns.record_finding(
        factory,
        actor,
        finding.return_id,
        finding.criterion_id,
        FindingChange(strengths="Seen again after the upgrade"),
        expected_version=finding.version,
    )
    assert changed.id == finding.id and changed.version == finding.version + 1
    case_id = audits.get_audit(factory, editable[1]).cases[0].id
    before = len(casework.list_voices(factory, case_id))
    casework.add_voice(factory, actor, case_id, VoiceSource.CHILD, "Said after the upgrade")
    assert len(casework.list_voices(factory, case_id)) == before + 1


@pytest.mark.slow
@pytest.mark.parametrize("revision", EARLIER)
def test_demo_made_at_an_earlier_revision_upgrades_to_head_losing_nothing(
    revision: str, demo_source: DemoSource, target_url: str, registry: ToolRegistry
) -> None:
    source = make_engine(demo_source.url)
    target = make_engine(target_url)
    try:
        upgrade(target, revision)
        assert current_revision(target) == revision
        fresh = snapshot(target)
        seeded = seeded_after(fresh, demo_source.fresh)
        report = copy_demo(source, target, seeded)
        before = snapshot(target)

        # The copy is the demo: every row of every table the revision has, bar those a later
        # migration seeds itself (0003's themes, before 0003) and the tags on them.
        assert copy_problems(demo_source.demo, fresh, before, report) == []
        for table, at_least in DEMO_TABLES.items():
            if table in before:
                assert report.copied[table] == len(demo_source.demo[table].rows) >= at_least
                assert table not in report.left_out

        upgrade(target)
        assert current_revision(target) == head_revision()
        after = snapshot(target)
        assert lost_or_changed(before, after) == []
        # Rows new to old tables are exactly what the later migrations seed, nothing else.
        assert added_rows(before, after) == as_rows(demo_source.fresh, seeded)
        assert set(after) == set(demo_source.demo)

        # The code of head accepts the database as current, and finds no schema difference.
        assert ensure_schema(target, "upgraded demo", upgrade_if_needed=False) == head_revision()
        with target.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []

        # Read through the services, the demo is the demo; with nothing left out, all of it.
        core, themed = _read_back(make_session_factory(target))
        demo_core, demo_themed = _read_back(make_session_factory(source))
        assert core.keys() == demo_core.keys()
        for name, value in demo_core.items():
            assert core[name] == value, name
        if not report.left_out:
            assert themed == demo_themed

        _save_after_upgrade(make_session_factory(target), registry)
    finally:
        source.dispose()
        target.dispose()


def test_every_earlier_revision_is_tested() -> None:
    """The list comes from Alembic, not from this file: head last, every other one tested."""
    scripts = [p for p in (MIGRATIONS / "versions").glob("*.py") if p.name != "__init__.py"]
    assert len(REVISIONS) == len(scripts) >= 4
    assert REVISIONS[-1] == head_revision()
    assert REVISIONS[0] == "0001"

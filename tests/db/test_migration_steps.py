"""Each migration upgrades a database made, and filled, by the one before, losing nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, MetaData, Table, inspect, select, text

from audit_tools import ToolRegistry
from workbench.services import themes
from workbench.services.theme_suggest import suggest_themes
from workbench.services.tools import pin_tool_version
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import current_revision, head_revision, upgrade


def _contents(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table the database has, in primary-key order: what must survive."""
    found = inspect(engine)
    out: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as connection:
        for table in sorted(found.get_table_names()):
            if table == "alembic_version":
                continue
            reflected = Table(table, MetaData(), autoload_with=connection)
            order = list(reflected.primary_key.columns) or list(reflected.columns)
            rows = connection.execute(select(reflected).order_by(*order))
            out[table] = [tuple(row) for row in rows]
    return out


def _fill_at(engine: Engine, revision: str) -> None:
    """An audit with a finding, written with SQL the revision understands (the ORM models
    describe head, so they cannot write to an older schema)."""
    upgrade(engine, revision)
    factory = make_session_factory(engine)
    registry = ToolRegistry.load()
    with factory.begin() as session:
        session.info["actor"] = "before.upgrade"
        tool_version_id = pin_tool_version(session, registry.definition("cse")).id
        audit_id = session.execute(
            text(
                "INSERT INTO audits (uid, title, tool_version_id, status, look_back_months,"
                " chair, scope, legal_hold, created_at, created_by)"
                " VALUES ('u-1', 'CSE 2026', :tv, 'returns', 12, '', '', false, :at, 'lead')"
                " RETURNING id"
            ),
            {"tv": tool_version_id, "at": dt.datetime(2026, 1, 1)},
        ).scalar_one()
        case_id = session.execute(
            text(
                "INSERT INTO cases (audit_id, reference, level_of_need, age_band, gender,"
                " ethnicity, send) VALUES (:a, 'C-01', 'cin', '11-15', 'female', 'White',"
                " 'none') RETURNING id"
            ),
            {"a": audit_id},
        ).scalar_one()
        return_id = session.execute(
            text(
                "INSERT INTO agency_returns (case_id, agency_code, status, auditor)"
                " VALUES (:c, 'police', 'in_progress', 'pc') RETURNING id"
            ),
            {"c": case_id},
        ).scalar_one()
        session.execute(
            text(
                "INSERT INTO findings (return_id, criterion_id, grade, evidence, strengths,"
                " areas_for_development, version, updated_at, updated_by)"
                " VALUES (:r, 'cse-1.1', 'good', 'Chronology', '', '', 1, :at, 'pc')"
            ),
            {"r": return_id, "at": dt.datetime(2026, 1, 2)},
        )


def test_0001_to_0002_keeps_audits_and_adds_the_progress_index(db_url: str) -> None:
    engine = make_engine(db_url)
    _fill_at(engine, "0001")
    before = _contents(engine)
    assert before["findings"]

    upgrade(engine, "0002")
    assert current_revision(engine) == "0002"
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("findings")}
    assert "ix_findings_return_grade" in indexes
    assert _contents(engine) == before
    engine.dispose()


def test_0002_to_0003_keeps_audits_adds_double_grading_and_seeds_themes(db_url: str) -> None:
    engine = make_engine(db_url)
    _fill_at(engine, "0002")
    before = _contents(engine)
    assert before["themes"] == []

    upgrade(engine, "0003")
    assert current_revision(engine) == "0003"
    after = _contents(engine)
    assert {t: rows for t, rows in after.items() if t in before and t != "themes"} == {
        t: rows for t, rows in before.items() if t != "themes"
    }
    assert after["second_grades"] == []
    codes = {row[1] for row in after["themes"]}
    assert {"voice-of-the-child", "information-sharing", "professional-curiosity"} <= codes
    # The vocabulary works with the models of head: a suggestion from the seeded keywords.
    factory = make_session_factory(engine)
    vocabulary = themes.list_themes(factory)
    suggested = suggest_themes("The child's wishes and feelings were not recorded", vocabulary)
    assert suggested and suggested[0].code == "voice-of-the-child"
    engine.dispose()


def test_0003_to_0004_keeps_audits_and_makes_each_creator_its_lead(db_url: str) -> None:
    engine = make_engine(db_url)
    _fill_at(engine, "0003")
    before = _contents(engine)
    assert before["findings"]

    upgrade(engine, "0004")
    assert current_revision(engine) == "0004"
    after = _contents(engine)
    assert {t: rows for t, rows in after.items() if t in before} == before
    assert after["users"] == [] and after["case_identifiers"] == []
    # The audit's creator ("lead" in _fill_at) leads it, so nobody loses sight of their audit.
    audit_id = before["audits"][0][0]
    assert after["audit_leads"] == [(audit_id, "lead")]
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            secured = set(
                connection.execute(
                    text(
                        "SELECT relname FROM pg_class WHERE relrowsecurity"
                        " AND relnamespace = current_schema()::regnamespace"
                    )
                ).scalars()
            )
        assert {"findings", "agency_returns", "case_identifiers", "change_history"} <= secured
    engine.dispose()


def test_the_fast_path_head_matches_the_migration_scripts() -> None:
    from workbench.store.migrate import HEAD_REVISION

    assert head_revision() == HEAD_REVISION

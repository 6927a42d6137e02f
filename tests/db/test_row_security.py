"""On PostgreSQL the database itself enforces the roles: a direct SQL connection under a user's
login sees no more than the workbench would show them, and changes no more either."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.access import Role
from schemas.audit import FindingChange, VoiceSource
from tests.services.test_access import Day
from workbench.services import casework, identifiers, overview, returns, users
from workbench.services.access import bind
from workbench.services.errors import AccessDeniedError, NotFoundError
from workbench.store.engine import make_engine, make_session_factory

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(postgres_schema_url: str) -> str:
    return postgres_schema_url


@pytest.fixture
def db_url(pg_url: str) -> str:
    """Only PostgreSQL here: row-level security is its feature."""
    return pg_url


@pytest.fixture
def day(factory: sessionmaker[Session], registry: ToolRegistry, login: Callable[[str], str]) -> Day:
    day = Day(factory, registry, login)
    day.save("ann", day.police, "Police saw the child at the station")
    day.save("sam", day.school, "School attendance fell in spring")
    casework.add_voice(
        day.as_("ann"), day.actor("ann"), day.case.id, VoiceSource.CHILD, "I want to stay"
    )
    identifiers.hold_identifier(
        day.as_("lead"), day.actor("lead"), day.case.id, "name", "Jordan Example"
    )
    return day


@pytest.fixture
def connect(pg_url: str) -> Iterator[Callable[[str], Engine]]:
    """An engine logged in as one of the test's logins, on the test's schema."""
    made: list[Engine] = []

    def as_login(role: str) -> Engine:
        engine = make_engine(make_url(pg_url).set(username=role))
        made.append(engine)
        return engine

    yield as_login
    for engine in made:
        engine.dispose()


def _rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def _app_findings(day: Day, key: str) -> set[int]:
    """Every finding id the workbench shows this user, return by return."""
    shown: set[int] = set()
    for case in day.audit.cases:
        for agency in ("gp", "police", "school"):
            return_id = returns.find_return(day.factory, day.audit.id, case.reference, agency)
            try:
                got = returns.get_return(day.as_(key), return_id)
            except AccessDeniedError:
                continue
            shown |= {f.id for f in got.findings}
    return shown


def test_an_auditors_login_sees_no_more_than_the_workbench_shows(
    day: Day, connect: Callable[[str], Engine]
) -> None:
    ann = connect(day.logins["ann"])
    sql_findings = {r[0] for r in _rows(ann, "SELECT id FROM findings")}
    assert sql_findings == _app_findings(day, "ann")
    assert len(sql_findings) == 1
    assert _rows(ann, "SELECT evidence FROM findings") == [("Police saw the child at the station",)]
    assert {r[0] for r in _rows(ann, "SELECT agency_code FROM agency_returns")} == {"police"}
    # The police auditor works this case, so its voices are theirs; held identifiers never.
    assert _rows(ann, "SELECT text FROM voices") == [("I want to stay",)]
    assert _rows(ann, "SELECT * FROM case_identifiers") == []
    assert _rows(ann, "SELECT * FROM moderated_grades") == []
    keys = {r[0] for r in _rows(ann, "SELECT entity_key FROM change_history")}
    assert keys and all(" / police" in k for k in keys), keys

    day.moderate()
    shared = {r[0] for r in _rows(ann, "SELECT id FROM findings")}
    assert shared == _app_findings(day, "ann")
    assert len(shared) == 2
    assert {r[0] for r in _rows(ann, "SELECT agency_code FROM agency_returns")} == {
        "gp",
        "police",
        "school",
    }


def test_an_auditors_login_changes_only_their_own_agencys_returns(
    day: Day, connect: Callable[[str], Engine]
) -> None:
    day.moderate()  # the school return is now readable: still not writable
    ann = connect(day.logins["ann"])
    with ann.begin() as connection:
        changed = connection.execute(
            text("UPDATE findings SET evidence = 'changed by police' WHERE return_id = :r"),
            {"r": day.school},
        )
        assert changed.rowcount == 0
        own = connection.execute(
            text("UPDATE findings SET evidence = 'police again' WHERE return_id = :r"),
            {"r": day.police},
        )
        assert own.rowcount == 1
    with pytest.raises(DBAPIError, match="row-level security"), ann.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO findings (return_id, criterion_id, evidence, strengths,"
                " areas_for_development, version, updated_at, updated_by)"
                " VALUES (:r, 'cse-1.2', 'x', '', '', 1, now(), 'ann')"
            ),
            {"r": day.school},
        )
    school = returns.get_return(day.factory, day.school)
    assert [f.evidence for f in school.findings] == ["School attendance fell in spring"]


def test_history_is_append_only_and_signed_by_the_login_that_wrote_it(
    day: Day, connect: Callable[[str], Engine]
) -> None:
    ann = connect(day.logins["ann"])
    before = _rows(connect(day.logins["lead"]), "SELECT count(*) FROM change_history")
    for statement in (
        "UPDATE change_history SET after = 'rewritten'",
        "DELETE FROM change_history",
    ):
        with pytest.raises(ProgrammingError, match="permission denied"), ann.begin() as c:
            c.execute(text(statement))
    with pytest.raises(DBAPIError, match="row-level security"), ann.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO change_history (at, actor, entity, entity_key, operation)"
                " VALUES (now(), 'somebody.else', 'findings', 'case X / police', 'update')"
            )
        )
    assert _rows(connect(day.logins["lead"]), "SELECT count(*) FROM change_history") == before


def test_the_workbench_runs_under_an_auditors_own_login(
    day: Day, connect: Callable[[str], Engine]
) -> None:
    factory = make_session_factory(connect(day.logins["ann"]))
    principal = users.resolve_principal(factory, "ignored-on-postgresql", None)
    assert (principal.login, principal.role, principal.agency) == (
        day.logins["ann"],
        Role.AUDITOR,
        "police",
    )
    ann = bind(factory, principal)
    second_case = day.audit.cases[1].reference
    police = returns.find_return(day.factory, day.audit.id, second_case, "police")
    saved = returns.record_finding(
        ann,
        principal.actor,
        police,
        "cse-1.1",
        FindingChange(grade="good", evidence="Saved under the auditor's login"),
        expected_version=None,
    )
    assert saved.updated_by == day.logins["ann"]
    # The database hides the school's return before the service's own check is reached...
    with pytest.raises(NotFoundError, match="no agency return"):
        returns.get_return(ann, day.school)
    # ...and so even a path with no workbench user bound sees only what the login may.
    unbound = make_session_factory(connect(day.logins["ann"]))
    with pytest.raises(NotFoundError, match="no agency return"):
        returns.get_return(unbound, day.school)


def test_a_subgroup_login_reads_grades_for_aggregates_but_no_text(
    day: Day, connect: Callable[[str], Engine]
) -> None:
    sue = connect(day.logins["sue"])
    assert sorted(r[0] for r in _rows(sue, "SELECT grade FROM findings")) == ["good", "good"]
    for statement in (
        "SELECT evidence FROM findings",
        "SELECT text FROM voices",
        "SELECT value FROM case_identifiers",
        "SELECT before FROM change_history",
        "SELECT reasons FROM moderated_grades",
    ):
        with pytest.raises(ProgrammingError, match="permission denied"):
            _rows(sue, statement)
    # The subgroup's overview works under its own login: aggregates need no text.
    factory = make_session_factory(sue)
    principal = users.resolve_principal(factory, "ignored", None)
    seen = overview.overview(bind(factory, principal))
    assert [a.id for a in seen.audits] == [day.audit.id]


def test_held_identifiers_are_readable_by_the_audits_named_leads_only(
    day: Day, connect: Callable[[str], Engine]
) -> None:
    lead = connect(day.logins["lead"])
    assert _rows(lead, "SELECT kind, value FROM case_identifiers") == [("name", "Jordan Example")]
    for other in ("admin", "other", "ann", "sam"):
        assert _rows(connect(day.logins[other]), "SELECT value FROM case_identifiers") == []


def test_a_login_that_is_not_a_workbench_user_is_refused(
    factory: sessionmaker[Session],
    login: Callable[[str], str],
    connect: Callable[[str], Engine],
) -> None:
    stranger = login("stranger")
    with pytest.raises(AccessDeniedError, match="may not use this workbench database"):
        users.resolve_principal(make_session_factory(connect(stranger)), "x", None)
    # The database's owner (who ran the migrations) is its administrator.
    owner = users.resolve_principal(factory, "x", None)
    assert owner.role is Role.ADMIN


def test_a_switched_off_user_loses_their_privileges(
    day: Day, connect: Callable[[str], Engine]
) -> None:
    from schemas.access import UserIn
    from tests.services.test_access import SYSTEM

    users.save_user(
        day.factory,
        SYSTEM,
        UserIn(login=day.logins["ann"], role=Role.AUDITOR, agency="police", active=False),
    )
    ann = connect(day.logins["ann"])
    with pytest.raises(ProgrammingError, match="permission denied"):
        _rows(ann, "SELECT id FROM findings")
    with pytest.raises(AccessDeniedError, match="or switched off"):
        users.resolve_principal(make_session_factory(ann), "x", None)


def test_logins_must_exist_before_they_become_users(factory: sessionmaker[Session]) -> None:
    from schemas.access import UserIn
    from tests.services.test_access import SYSTEM
    from workbench.services.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError, match="no login 'nobody-here'"):
        users.save_user(factory, SYSTEM, UserIn(login="nobody-here", role=Role.LEAD))

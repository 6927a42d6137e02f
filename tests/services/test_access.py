"""Roles enforced by the services: what each user may read and change (SQLite and PostgreSQL).

Each test acts through a factory bound to a principal, exactly as the CLI and the terminal
app do; the PostgreSQL database's own policies are tested in tests/db/test_row_security.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.access import Principal, Role, UserIn
from schemas.audit import Actor, AuditStatus, FindingChange, ModerationHeading, VoiceSource
from schemas.learning import LearningItemIn, LearningSource
from tests.conftest import cse_plan
from workbench.services import (
    audits,
    casework,
    change_history,
    exporting,
    identifiers,
    learning,
    matrix,
    overview,
    returns,
    users,
)
from workbench.services.access import bind
from workbench.services.bundle import bundle_json, export_bundle
from workbench.services.errors import AccessDeniedError, InvalidRequestError, NotFoundError
from workbench.store.models import ChangeRecord

SYSTEM = Actor(name="system.setup")


class Day:
    """An audit of police, school and gp returns, and a user of each role."""

    def __init__(
        self, factory: sessionmaker[Session], registry: ToolRegistry, login: Callable[[str], str]
    ) -> None:
        self.factory = factory
        self.registry = registry
        names = {k: login(k) for k in ("admin", "lead", "other", "ann", "sam", "sue")}
        self.logins = names
        roles = {
            "admin": (Role.ADMIN, None),
            "lead": (Role.LEAD, None),
            "other": (Role.LEAD, None),
            "ann": (Role.AUDITOR, "police"),
            "sam": (Role.AUDITOR, "school"),
            "sue": (Role.SUBGROUP, None),
        }
        self.principals: dict[str, Principal] = {}
        for key, (role, agency) in roles.items():
            users.save_user(factory, SYSTEM, UserIn(login=names[key], role=role, agency=agency))
            self.principals[key] = Principal(login=names[key], role=role, agency=agency)
        self.audit = audits.create_audit(
            self.as_("lead"), self.actor("lead"), registry, cse_plan(cases=2)
        )
        self.case = self.audit.cases[0]
        self.police = returns.find_return(factory, self.audit.id, self.case.reference, "police")
        self.school = returns.find_return(factory, self.audit.id, self.case.reference, "school")

    def as_(self, key: str) -> sessionmaker[Session]:
        return bind(self.factory, self.principals[key])

    def actor(self, key: str) -> Actor:
        return self.principals[key].actor

    def save(self, key: str, return_id: int, text: str, criterion: str = "cse-1.1") -> None:
        returns.record_finding(
            self.as_(key),
            self.actor(key),
            return_id,
            criterion,
            FindingChange(grade="good", evidence=text),
            expected_version=None,
        )

    def moderate(self) -> None:
        audits.set_status(
            self.as_("lead"), self.actor("lead"), self.audit.id, AuditStatus.MODERATION
        )


@pytest.fixture
def day(factory: sessionmaker[Session], registry: ToolRegistry, login: Callable[[str], str]) -> Day:
    return Day(factory, registry, login)


def test_an_auditor_reads_and_writes_their_own_agency_return_only(day: Day) -> None:
    day.save("ann", day.police, "Police evidence")
    day.save("sam", day.school, "School evidence")

    mine = returns.get_return(day.as_("ann"), day.police)
    assert [f.evidence for f in mine.findings] == ["Police evidence"]
    with pytest.raises(AccessDeniedError, match="school return"):
        returns.get_return(day.as_("ann"), day.school)
    with pytest.raises(AccessDeniedError, match="own agency"):
        day.save("ann", day.school, "Overwritten by police")
    # The refusal changed nothing.
    school = returns.get_return(day.factory, day.school)
    assert [f.evidence for f in school.findings] == ["School evidence"]


def test_from_moderation_an_auditor_reads_every_return_but_still_writes_only_their_own(
    day: Day,
) -> None:
    day.save("sam", day.school, "School evidence")
    day.moderate()

    shared = returns.get_return(day.as_("ann"), day.school)
    assert [f.evidence for f in shared.findings] == ["School evidence"]
    with pytest.raises(AccessDeniedError):
        day.save("ann", day.school, "Changed by police")
    with pytest.raises(AccessDeniedError):
        returns.submit_return(day.as_("ann"), day.actor("ann"), day.school)


def test_the_matrix_shows_an_auditor_their_own_column_until_moderation(day: Day) -> None:
    before = matrix.return_matrix(day.as_("ann"), day.audit.id)
    assert [a.code for a in before.agencies] == ["police"]
    assert {c.agency_code for c in before.cells} == {"police"}
    assert len(before.cells) == 2  # one per case

    day.moderate()
    after = matrix.return_matrix(day.as_("ann"), day.audit.id)
    assert [a.code for a in after.agencies] == ["gp", "police", "school"]
    assert len(after.cells) == 6
    # The lead always sees everything.
    lead = matrix.return_matrix(day.as_("lead"), day.audit.id)
    assert len(lead.cells) == 6


def test_moderation_is_the_audit_leads(day: Day) -> None:
    day.moderate()

    def moderate(key: str) -> None:
        casework.set_moderated_grade(
            day.as_(key),
            day.actor(key),
            day.case.id,
            ModerationHeading.OVERALL,
            grade="good",
            reasons=f"agreed by {key}",
            expected_version=None,
        )

    for refused in ("ann", "sue", "other"):
        with pytest.raises(AccessDeniedError):
            moderate(refused)
    moderate("lead")
    # Auditors read the panel's grades from moderation on; the subgroup does not read reasons.
    seen = casework.moderated_grades(day.as_("ann"), day.case.id)
    assert [(m.grade, m.reasons) for m in seen] == [("good", "agreed by lead")]
    with pytest.raises(AccessDeniedError):
        casework.moderated_grades(day.as_("sue"), day.case.id)
    with pytest.raises(AccessDeniedError):
        matrix.case_moderation(day.as_("sue"), day.case.id)


def test_a_lead_leads_only_their_own_audits(day: Day) -> None:
    assert users.leads_of(day.factory, day.audit.id) == [day.logins["lead"]]
    with pytest.raises(AccessDeniedError, match="only the audit's lead"):
        audits.set_status(
            day.as_("other"), day.actor("other"), day.audit.id, AuditStatus.MODERATION
        )
    with pytest.raises(AccessDeniedError):
        change_history.history_of_case(day.as_("other"), day.audit.id, day.case.reference)
    # Named as a lead, they may.
    users.add_lead(day.as_("lead"), day.actor("lead"), day.audit.id, day.logins["other"])
    audits.set_status(day.as_("other"), day.actor("other"), day.audit.id, AuditStatus.MODERATION)
    # Only a lead (or the administrator) can lead an audit.
    with pytest.raises(InvalidRequestError, match="agency auditor"):
        users.add_lead(day.as_("lead"), day.actor("lead"), day.audit.id, day.logins["ann"])


def test_only_leads_and_the_administrator_plan_audits(day: Day) -> None:
    for refused in ("ann", "sue"):
        with pytest.raises(AccessDeniedError, match="plan an audit"):
            audits.create_audit(day.as_(refused), day.actor(refused), day.registry, cse_plan())
    made = audits.create_audit(day.as_("admin"), day.actor("admin"), day.registry, cse_plan())
    assert users.leads_of(day.factory, made.id) == [day.logins["admin"]]


def test_the_subgroup_sees_aggregates_and_learning_but_no_case_level_text(
    day: Day, tmp_path: Path
) -> None:
    day.save("ann", day.police, "Police evidence about the child")
    sue = day.as_("sue")
    for refused in (
        lambda: returns.get_return(sue, day.police),
        lambda: matrix.return_matrix(sue, day.audit.id),
        lambda: casework.list_voices(sue, day.case.id),
        lambda: change_history.history_of_return(sue, day.audit.id, day.case.reference, "police"),
        lambda: exporting.export_report(
            sue, day.actor("sue"), exporting.ExportOptions(), day.audit.id, tmp_path / "r.docx"
        ),
        lambda: export_bundle(sue, day.audit.id),
    ):
        with pytest.raises(AccessDeniedError):
            refused()
    assert not (tmp_path / "r.docx").exists()
    # Aggregates and learning are the subgroup's.
    seen = overview.overview(sue, today=dt.date(2026, 11, 24))
    assert [a.id for a in seen.audits] == [day.audit.id]
    item = learning.create_learning_item(
        sue,
        day.actor("sue"),
        LearningItemIn(
            raised_on=dt.date(2026, 11, 24),
            source=LearningSource.CASE_AUDIT,
            learning="Share the plan with the school",
        ),
    )
    assert [i.reference for i in learning.list_learning(sue)] == [item.reference]
    exported = exporting.export_learning_log(
        sue, day.actor("sue"), exporting.ExportOptions(), tmp_path / "log.docx"
    )
    assert exported.path.exists()
    # An auditor reads the learning log but does not change it.
    assert [i.reference for i in learning.list_learning(day.as_("ann"))] == [item.reference]
    with pytest.raises(AccessDeniedError, match="learning log"):
        learning.create_learning_item(
            day.as_("ann"),
            day.actor("ann"),
            LearningItemIn(
                raised_on=dt.date(2026, 11, 24),
                source=LearningSource.CASE_AUDIT,
                learning="Police view",
            ),
        )


def test_voices_belong_to_those_working_the_case(day: Day) -> None:
    casework.add_voice(
        day.as_("ann"), day.actor("ann"), day.case.id, VoiceSource.CHILD, "I want to stay"
    )
    assert [v.text for v in casework.list_voices(day.as_("sam"), day.case.id)] == ["I want to stay"]
    with pytest.raises(AccessDeniedError):
        casework.list_voices(day.as_("sue"), day.case.id)


def test_an_auditor_reads_the_history_of_returns_they_may_read(day: Day) -> None:
    day.save("ann", day.police, "First")
    day.save("sam", day.school, "School")
    ann = day.as_("ann")
    rows = change_history.history_of_return(ann, day.audit.id, day.case.reference, "police")
    assert any("First" in (r.after or "") for r in rows)
    with pytest.raises(AccessDeniedError, match="school return"):
        change_history.history_of_return(ann, day.audit.id, day.case.reference, "school")
    with pytest.raises(AccessDeniedError):
        change_history.history_of_case(ann, day.audit.id, day.case.reference)
    with pytest.raises(AccessDeniedError):
        change_history.history_of_audit(ann, day.audit.id)


def test_held_identifiers_are_the_audit_leads_alone_and_recorded_without_the_value(
    day: Day,
) -> None:
    identifiers.hold_identifier(
        day.as_("lead"), day.actor("lead"), day.case.id, "name", "Jordan Example"
    )
    identifiers.hold_identifier(
        day.as_("lead"), day.actor("lead"), day.case.id, "name", "Jordan Q Example"
    )
    held = identifiers.identifiers_of(day.as_("lead"), day.actor("lead"), day.case.id)
    assert [(h.kind, h.value) for h in held] == [("name", "Jordan Q Example")]
    for refused in ("ann", "sue", "other", "admin"):
        with pytest.raises(AccessDeniedError):
            identifiers.identifiers_of(day.as_(refused), day.actor(refused), day.case.id)
        with pytest.raises(AccessDeniedError):
            identifiers.hold_identifier(
                day.as_(refused), day.actor(refused), day.case.id, "dob", "2014-01-02"
            )
    with day.factory() as session:
        records = session.scalars(
            select(ChangeRecord).where(ChangeRecord.entity == identifiers.ENTITY)
        ).all()
    assert [(r.operation, r.actor) for r in records] == [
        ("create", day.logins["lead"]),
        ("update", day.logins["lead"]),
        ("read", day.logins["lead"]),
    ]
    assert all(r.before is None and r.after is None for r in records)
    assert all("Jordan" not in r.entity_key for r in records)
    identifiers.forget_identifier(day.as_("lead"), day.actor("lead"), day.case.id, "name")
    assert identifiers.identifiers_of(day.as_("lead"), day.actor("lead"), day.case.id) == []
    with pytest.raises(NotFoundError):
        identifiers.forget_identifier(day.as_("lead"), day.actor("lead"), day.case.id, "name")


def test_held_identifiers_never_reach_an_export_even_with_an_override(
    day: Day, tmp_path: Path
) -> None:
    identifiers.hold_identifier(
        day.as_("lead"), day.actor("lead"), day.case.id, "name", "Jordan Example"
    )
    identifiers.hold_identifier(
        day.as_("lead"), day.actor("lead"), day.case.id, "system number", "LCS-998877"
    )
    returns.record_finding(
        day.as_("ann"),
        day.actor("ann"),
        day.police,
        "cse-1.1",
        FindingChange(grade="good", strengths="Jordan Example was seen at the station twice"),
        expected_version=None,
    )
    out = tmp_path / "report.docx"
    with pytest.raises(exporting.HeldIdentifiersError, match="no override"):
        exporting.export_report(
            day.as_("lead"),
            day.actor("lead"),
            exporting.ExportOptions(),
            day.audit.id,
            out,
            override_reason="the board needs it",
        )
    assert not out.exists()
    # The bundle, the other way out, has no place for held identifiers: the finding's text
    # travels (it is audit content), the held record does not.
    bundle = bundle_json(export_bundle(day.as_("lead"), day.audit.id))
    assert "Jordan Example was seen" in bundle
    assert "LCS-998877" not in bundle
    # With the text cleaned, the report goes out and holds no held value.
    returns.record_finding(
        day.as_("ann"),
        day.actor("ann"),
        day.police,
        "cse-1.1",
        FindingChange(strengths="The child was seen at the station twice"),
        expected_version=1,
    )
    exporting.export_report(
        day.as_("lead"), day.actor("lead"), exporting.ExportOptions(), day.audit.id, out
    )
    text = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "Jordan" not in text


def test_on_sqlite_the_local_user_is_the_administrator_unless_the_users_table_says_otherwise(
    tmp_path: Path,
) -> None:
    from workbench.store.engine import make_engine, make_session_factory
    from workbench.store.migrate import ensure_schema

    engine = make_engine(f"sqlite:///{tmp_path / 'own.db'}")
    ensure_schema(engine, "own.db", upgrade_if_needed=True)
    factory = make_session_factory(engine)
    me = users.resolve_principal(factory, "jo.bloggs", "police")
    assert (me.login, me.role, me.agency) == ("jo.bloggs", Role.ADMIN, "police")

    users.save_user(factory, SYSTEM, UserIn(login="jo.bloggs", role=Role.AUDITOR, agency="gp"))
    me = users.resolve_principal(factory, "jo.bloggs", "police")
    assert (me.role, me.agency) == (Role.AUDITOR, "gp")
    # An auditor cannot make themselves anything else.
    with pytest.raises(AccessDeniedError, match="administrator"):
        users.save_user(bind(factory, me), me.actor, UserIn(login="jo.bloggs", role=Role.ADMIN))
    users.save_user(
        factory, SYSTEM, UserIn(login="jo.bloggs", role=Role.AUDITOR, agency="gp", active=False)
    )
    with pytest.raises(AccessDeniedError, match="switched off"):
        users.resolve_principal(factory, "jo.bloggs", None)
    engine.dispose()


def test_an_auditor_needs_an_agency_and_a_known_one(factory: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="needs an agency"):
        UserIn(login="x", role=Role.AUDITOR)
    with pytest.raises(NotFoundError, match="no agency 'nowhere'"):
        users.save_user(factory, SYSTEM, UserIn(login="x", role=Role.AUDITOR, agency="nowhere"))


def test_another_agencys_shared_return_opens_read_only(day: Day) -> None:
    from workbench.services.return_context import return_context

    day.moderate()
    theirs = return_context(day.as_("ann"), day.school)
    assert theirs.read_only_reason == "the school return is that agency's to change"
    mine = return_context(day.as_("ann"), day.police)
    assert mine.read_only_reason == ""
    assert return_context(day.as_("lead"), day.school).read_only_reason == ""

"""Review of the roles on PostgreSQL: each login's privileges are enough for the workbench to
run under it, and no more than its role's rules; each hole found in review pinned by a test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.access import Principal, Role, UserIn
from schemas.audit import (
    AuditStatus,
    FindingChange,
    ModerationHeading,
    VoiceSource,
)
from schemas.learning import (
    ActionIn,
    ActionStatus,
    ActionUpdateIn,
    LearningItemChange,
    LearningItemIn,
    LearningSource,
    RecommendationIn,
    SharedHow,
    TaggedKind,
)
from tests.conftest import cse_plan
from tests.services.test_access import SYSTEM, Day
from workbench.services import (
    actions,
    agreement,
    audits,
    casework,
    change_history,
    exporting,
    identifiers,
    learning,
    matrix,
    overview,
    returns,
    theme_analysis,
    themes,
    users,
)
from workbench.services.access import bind
from workbench.services.bundle import export_bundle
from workbench.services.return_context import return_context
from workbench.store.engine import make_engine, make_session_factory

pytestmark = pytest.mark.postgres

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def pg_url(postgres_schema_url: str) -> str:
    return postgres_schema_url


@pytest.fixture
def db_url(pg_url: str) -> str:
    """Only PostgreSQL here: logins, grants and row-level security are its features."""
    return pg_url


@pytest.fixture
def connect(pg_url: str) -> Iterator[Callable[[str], Engine]]:
    made: list[Engine] = []

    def as_login(role: str) -> Engine:
        engine = make_engine(make_url(pg_url).set(username=role))
        made.append(engine)
        return engine

    yield as_login
    for engine in made:
        engine.dispose()


@pytest.fixture
def day(factory: sessionmaker[Session], registry: ToolRegistry, login: Callable[[str], str]) -> Day:
    day = Day(factory, registry, login)
    day.save("ann", day.police, "Police saw the child at the station")
    day.save("sam", day.school, "School attendance fell in spring")
    casework.add_voice(
        day.as_("ann"), day.actor("ann"), day.case.id, VoiceSource.CHILD, "I want to stay"
    )
    return day


class Login:
    """The workbench as it runs under one user's own database login."""

    def __init__(self, day: Day, key: str, connect: Callable[[str], Engine]) -> None:
        self.engine = connect(day.logins[key])
        plain = make_session_factory(self.engine)
        self.principal: Principal = users.resolve_principal(plain, "ignored", None)
        self.factory = bind(plain, self.principal)
        self.actor = self.principal.actor

    def sql(self, statement: str, **params: object) -> int:
        with self.engine.begin() as connection:
            return connection.execute(text(statement), params).rowcount


def _refused(login: Login, statement: str, **params: object) -> None:
    with pytest.raises(ProgrammingError, match="permission denied"):
        login.sql(statement, **params)


def _finding_id(day: Day, return_id: int) -> int:
    return returns.get_return(day.factory, return_id).findings[0].id


def _tag(day: Day, return_id: int, code: str = "information-sharing") -> int:
    finding_id = _finding_id(day, return_id)
    themes.set_tags(day.factory, day.actor("lead"), TaggedKind.FINDING, finding_id, [code])
    return finding_id


# --- the subgroup -----------------------------------------------------------------------------


def test_a_subgroup_login_keeps_the_learning_log_and_the_action_plan(
    day: Day, connect: Callable[[str], Engine]
) -> None:
    tagged = _tag(day, day.school)
    sue = Login(day, "sue", connect)
    draft = learning.draft_from_theme(sue.factory, day.audit.id, "information-sharing", today=TODAY)
    # Evidence links to findings: the subgroup links grades, never reads the findings' text.
    item = learning.create_learning_item(sue.factory, sue.actor, draft)
    assert [link.finding_id for link in item.evidence_links] == [tagged]
    item = learning.update_learning_item(
        sue.factory,
        sue.actor,
        item.id,
        LearningItemChange(shared_how=(SharedHow.BRIEFING,), themes=("drift-delay",)),
    )
    assert learning.sign_off(sue.factory, sue.actor, item.id, TODAY).signed_off_by == sue.actor.name
    rec = actions.add_recommendation(
        sue.factory,
        sue.actor,
        day.audit.id,
        RecommendationIn(text="Share plans with schools", learning_item_ids=(item.id,)),
    )
    action = actions.add_action(
        sue.factory,
        sue.actor,
        ActionIn(
            description="Add schools to the strategy meeting list",
            owner_name="Designated lead",
            owner_agency="police",
            due_on=TODAY + dt.timedelta(days=30),
            recommendation_id=rec.id,
        ),
        today=TODAY,
    )
    actions.update_action(
        sue.factory,
        sue.actor,
        action.id,
        ActionUpdateIn(on=TODAY, text="Started", status=ActionStatus.ON_TRACK),
        today=TODAY,
    )
    actions.change_due_date(
        sue.factory, sue.actor, action.id, TODAY + dt.timedelta(days=60), today=TODAY
    )
    assert [i.id for i in learning.list_learning(sue.factory)] == [item.id]
    assert [a.status for a in actions.list_actions(sue.factory, today=TODAY)] == [
        ActionStatus.ON_TRACK
    ]
    # Still no text: the grants that let the subgroup keep the log read nothing more.
    _refused(sue, "SELECT evidence FROM findings")
    _refused(sue, "SELECT reasons FROM moderated_grades")


def test_a_subgroup_login_sees_the_aggregates(day: Day, connect: Callable[[str], Engine]) -> None:
    _tag(day, day.police)
    day.moderate()
    casework.set_moderated_grade(
        day.factory,
        day.actor("lead"),
        day.case.id,
        ModerationHeading.OVERALL,
        grade="good",
        reasons="The panel agreed",
        expected_version=None,
    )
    sue = Login(day, "sue", connect)
    owner = {c: agreement.agreement(day.factory, day.audit.id, c) for c in agreement.Comparison}
    for comparison in agreement.Comparison:
        assert agreement.agreement(sue.factory, day.audit.id, comparison) == owner[comparison]
    assert owner[agreement.Comparison.AGENCY_VS_MODERATED].overall is not None
    assert theme_analysis.theme_grid(sue.factory, audit_id=day.audit.id) == (
        theme_analysis.theme_grid(day.factory, audit_id=day.audit.id)
    )
    theme_analysis.compare_with_previous(sue.factory, day.audit.id)
    recurring = theme_analysis.recurring_themes(sue.factory, day.audit.id)
    assert [(t.code, t.findings) for t in recurring] == [("information-sharing", 1)]


# --- the auditor -----------------------------------------------------------------------------


def test_an_auditor_login_moves_and_rewrites_nothing_beyond_its_own_answers(
    day: Day, connect: Callable[[str], Engine]
) -> None:
    casework.raise_concern(
        day.as_("ann"),
        day.actor("ann"),
        day.case.id,
        concern="Seen with an older man",
        who_told="Duty social worker",
        told_at=dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
    )
    other_case = day.audit.cases[1]
    other_police = returns.find_return(day.factory, day.audit.id, other_case.reference, "police")
    ann = Login(day, "ann", connect)
    # A return and its findings stay where they are, even within the auditor's own agency.
    _refused(
        ann, "UPDATE agency_returns SET case_id = :c WHERE id = :r", c=other_case.id, r=day.police
    )
    _refused(
        ann, "UPDATE findings SET return_id = :o WHERE return_id = :r", o=other_police, r=day.police
    )
    # Voices and concerns are recorded, not rewritten; closing a concern is the lead's.
    _refused(ann, "UPDATE voices SET text = 'rewritten'")
    _refused(ann, "UPDATE immediate_concerns SET status = 'closed', closure_note = 'by police'")
    _refused(ann, "DELETE FROM findings")
    _refused(ann, "UPDATE second_grades SET return_id = :o", o=other_police)
    # Returns are opened with the audit's plan, by its lead: never by an auditor.
    _refused(
        ann,
        "INSERT INTO agency_returns (case_id, agency_code, status, auditor)"
        " VALUES (:c, 'police', 'not_started', '')",
        c=other_case.id,
    )
    # Its own answers it still changes, as the workbench does.
    assert (
        ann.sql(
            "UPDATE findings SET grade = 'requires_improvement' WHERE return_id = :r", r=day.police
        )
        == 1
    )


def test_the_workbench_runs_under_an_auditors_login(
    day: Day, connect: Callable[[str], Engine]
) -> None:
    ann = Login(day, "ann", connect)
    f, a = ann.factory, ann.actor
    context = return_context(f, day.police)
    assert context.read_only_reason == ""
    second = context.criteria[1].id
    saved = returns.record_finding(
        f,
        a,
        day.police,
        second,
        FindingChange(grade="good", evidence="Seen"),
        expected_version=None,
    )
    returns.record_finding(
        f,
        a,
        day.police,
        second,
        FindingChange(strengths="Quick"),
        expected_version=saved.version,
    )
    agreement.record_second_grade(f, a, day.police, "cse-1.1", "good")
    agreement.record_second_grade(f, a, day.police, "cse-1.1", "requires_improvement")
    assert [g.grade for g in agreement.second_grades(f, day.police)] == ["requires_improvement"]
    finding = _finding_id(day, day.police)
    assert themes.set_tags(f, a, TaggedKind.FINDING, finding, ["information-sharing"])
    assert themes.tags_for_return(f, day.police) == {finding: ("information-sharing",)}
    themes.suggest_for(f, TaggedKind.FINDING, finding)
    assert themes.set_tags(f, a, TaggedKind.FINDING, finding, []) == ()
    voice = casework.add_voice(f, a, day.case.id, VoiceSource.FAMILY, "Mum wants help")
    themes.set_tags(f, a, TaggedKind.VOICE, voice.id, ["voice-of-the-child"])
    casework.raise_concern(
        f,
        a,
        day.case.id,
        concern="Missing overnight",
        who_told="Police duty sergeant",
        told_at=dt.datetime(2026, 11, 21, 22, 0, tzinfo=dt.UTC),
    )
    assert len(casework.list_voices(f, day.case.id)) == 2
    history = change_history.history_of_return(f, day.audit.id, day.case.reference, "police")
    assert {r.actor for r in history} >= {a.name}
    matrix.return_matrix(f, day.audit.id)
    for comparison in agreement.Comparison:
        agreement.agreement(f, day.audit.id, comparison)
    for criterion in context.criteria:
        if criterion.id not in {"cse-1.1", second}:
            returns.record_finding(
                f, a, day.police, criterion.id, FindingChange(grade="good"), expected_version=None
            )
    returns.submit_return(f, a, day.police)
    returns.reopen_return(f, a, day.police)


# --- the lead --------------------------------------------------------------------------------


def test_a_lead_login_changes_no_user_hold_or_export_record(
    day: Day, connect: Callable[[str], Engine], tmp_path: Path
) -> None:
    exporting.export_report(
        day.factory, day.actor("lead"), exporting.ExportOptions(), day.audit.id, tmp_path / "r.docx"
    )
    lead = Login(day, "lead", connect)
    _refused(lead, "UPDATE users SET role = 'admin' WHERE login = current_user")
    _refused(
        lead,
        "INSERT INTO users (login, name, role, active, created_at)"
        " VALUES ('x', '', 'admin', true, now())",
    )
    _refused(lead, "UPDATE audits SET legal_hold = true")
    _refused(lead, "DELETE FROM audits")
    _refused(lead, "DELETE FROM transfers")
    _refused(lead, "UPDATE transfers SET target = 'nowhere'")
    _refused(lead, "DELETE FROM audit_leads")
    # What a lead does in the workbench it still does.
    assert lead.sql("UPDATE audits SET status = 'moderation' WHERE id = :a", a=day.audit.id) == 1


def test_the_workbench_runs_under_a_leads_login(
    day: Day, connect: Callable[[str], Engine], registry: ToolRegistry, tmp_path: Path
) -> None:
    lead = Login(day, "lead", connect)
    f, a = lead.factory, lead.actor
    made = audits.create_audit(f, a, registry, cse_plan(cases=1))
    assert users.leads_of(f, made.id) == [a.name]
    audits.add_case(f, a, day.audit.id, cse_plan(cases=3).cases[2])
    users.add_lead(f, a, day.audit.id, day.logins["other"])
    audits.set_status(f, a, day.audit.id, AuditStatus.MODERATION)
    grade = casework.set_moderated_grade(
        f,
        a,
        day.case.id,
        ModerationHeading.OVERALL,
        grade="good",
        reasons="Agreed",
        expected_version=None,
    )
    themes.set_tags(f, a, TaggedKind.MODERATION, grade.id, ["information-sharing"])
    concern = casework.raise_concern(
        f,
        a,
        day.case.id,
        concern="Missing overnight",
        who_told="Duty sergeant",
        told_at=dt.datetime(2026, 11, 21, 22, 0, tzinfo=dt.UTC),
    )
    casework.close_concern(f, a, concern.id, "Strategy meeting held")
    identifiers.hold_identifier(f, a, day.case.id, "name", "Jordan Example")
    assert identifiers.identifiers_of(f, a, day.case.id)[0].value == "Jordan Example"
    change_history.history_of_audit(f, day.audit.id)
    export_bundle(f, day.audit.id)
    # An export kept by override writes its reason into the history, under the lead's login.
    returns.record_finding(
        day.factory,
        day.actor("ann"),
        day.police,
        "cse-1.1",
        FindingChange(strengths="Seen by PC 4471 on 12/03/2013"),
        expected_version=1,
    )
    out = tmp_path / "report.docx"
    result = exporting.export_report(
        f, a, exporting.ExportOptions(), day.audit.id, out, override_reason="the board needs it"
    )
    assert result.hits_overridden and out.exists()


# --- held identifiers in exports -------------------------------------------------------------


def test_no_login_exports_a_held_identifier(
    day: Day, connect: Callable[[str], Engine], tmp_path: Path
) -> None:
    identifiers.hold_identifier(
        day.factory, day.actor("lead"), day.case.id, "name", "Jordan Example"
    )
    learning.create_learning_item(
        day.factory,
        day.actor("lead"),
        LearningItemIn(
            raised_on=TODAY,
            source=LearningSource.CASE_AUDIT,
            learning="Jordan  example was not seen by the school",
        ),
    )
    # The subgroup may not read held identifiers, nor the administrator (not a named lead):
    # the database checks for them, and the export is refused all the same.
    sue = Login(day, "sue", connect)
    with pytest.raises(exporting.HeldIdentifiersError) as refused:
        exporting.export_learning_log(
            sue.factory, sue.actor, exporting.ExportOptions(), tmp_path / "l.docx"
        )
    assert "Jordan" not in str(refused.value)
    assert [h.excerpt for h in refused.value.hits] == [identifiers.HIDDEN]
    returns.record_finding(
        day.factory,
        day.actor("ann"),
        day.police,
        "cse-1.1",
        FindingChange(strengths="Jordan Example was seen at the station"),
        expected_version=1,
    )
    admin = Login(day, "admin", connect)
    out = tmp_path / "report.docx"
    with pytest.raises(exporting.HeldIdentifiersError):
        exporting.export_report(
            admin.factory, admin.actor, exporting.ExportOptions(), day.audit.id, out
        )
    assert not out.exists()
    # A login that is no (longer a) workbench user may not even ask the function.
    users.save_user(
        day.factory, SYSTEM, UserIn(login=day.logins["sue"], role=Role.SUBGROUP, active=False)
    )
    with (
        pytest.raises(ProgrammingError, match="permission denied for function wb_held_found"),
        connect(day.logins["sue"]).connect() as connection,
    ):
        connection.execute(text("SELECT wb_held_found(ARRAY['Jordan Example'])"))


# --- what needs migration 0004 ----------------------------------------------------------------


def _other_audit(day: Day) -> int:
    """An audit the test's lead does not lead."""
    made = audits.create_audit(
        day.as_("other"), day.actor("other"), day.registry, cse_plan(cases=1)
    )
    return made.id


def test_a_subgroup_login_counts_voices_and_open_concerns(
    day: Day, connect: Callable[[str], Engine]
) -> None:
    voice = casework.list_voices(day.factory, day.case.id)[0]
    themes.set_tags(day.factory, day.actor("lead"), TaggedKind.VOICE, voice.id, ["drift-delay"])
    casework.raise_concern(
        day.factory,
        day.actor("ann"),
        day.case.id,
        concern="Seen with an older man",
        who_told="Duty social worker",
        told_at=dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
    )
    sue = Login(day, "sue", connect)
    owner = overview.overview(day.factory, today=TODAY)
    seen = overview.overview(sue.factory, today=TODAY)
    assert owner.open_concerns == 1
    assert (seen.open_concerns, seen.themes) == (owner.open_concerns, owner.themes)
    assert theme_analysis.recurring_themes(sue.factory, day.audit.id) == (
        theme_analysis.recurring_themes(day.factory, day.audit.id)
    )


def test_a_subgroup_login_exports_its_documents(
    day: Day, connect: Callable[[str], Engine], tmp_path: Path
) -> None:
    sue = Login(day, "sue", connect)
    options = exporting.ExportOptions()
    exporting.export_learning_log(sue.factory, sue.actor, options, tmp_path / "log.docx")
    exporting.export_briefing(sue.factory, sue.actor, options, day.audit.id, tmp_path / "b.docx")
    exporting.export_summary(
        sue.factory,
        sue.actor,
        options,
        TODAY - dt.timedelta(days=180),
        TODAY,
        tmp_path / "summary.docx",
    )


def test_a_lead_login_cannot_make_itself_lead_of_another_audit(
    day: Day, connect: Callable[[str], Engine]
) -> None:
    theirs = _other_audit(day)
    lead = Login(day, "lead", connect)
    with pytest.raises(ProgrammingError, match="row-level security"):
        lead.sql("INSERT INTO audit_leads (audit_id, login) VALUES (:a, current_user)", a=theirs)
    assert users.leads_of(day.factory, theirs) == [day.logins["other"]]


def test_a_lead_login_changes_only_the_audits_it_leads(
    day: Day, connect: Callable[[str], Engine]
) -> None:
    theirs = _other_audit(day)
    lead = Login(day, "lead", connect)
    assert lead.sql("UPDATE audits SET status = 'closed' WHERE id = :a", a=theirs) == 0
    assert lead.sql("DELETE FROM cases WHERE audit_id = :a", a=theirs) == 0
    assert lead.sql("DELETE FROM audit_agencies WHERE audit_id = :a", a=theirs) == 0
    with pytest.raises(ProgrammingError, match="row-level security"):
        lead.sql(
            "INSERT INTO cases (audit_id, reference, level_of_need, age_band, gender,"
            " ethnicity, send) VALUES (:a, 'X-1', 'early-help', '11-15', 'male', '', 'none')",
            a=theirs,
        )
    # Its own audits it still plans and runs, as the workbench does.
    assert lead.sql("UPDATE audits SET status = 'moderation' WHERE id = :a", a=day.audit.id) == 1

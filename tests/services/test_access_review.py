"""Holes found reviewing the roles' enforcement in the services, each pinned by a test
(SQLite and PostgreSQL, through factories bound to a principal as the app binds them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.access import Role, UserIn
from schemas.audit import AuditStatus, FindingChange, ModerationHeading, VoiceSource
from schemas.learning import TaggedKind
from tests.services.test_access import SYSTEM, Day
from workbench.services import (
    agreement,
    audits,
    casework,
    change_history,
    exporting,
    identifiers,
    learning,
    returns,
    themes,
    users,
)
from workbench.services.access import bind
from workbench.services.bundle import export_bundle, import_bundle
from workbench.services.errors import AccessDeniedError
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import ensure_schema

TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def day(factory: sessionmaker[Session], registry: ToolRegistry, login: Callable[[str], str]) -> Day:
    return Day(factory, registry, login)


def _finding_id(day: Day, return_id: int) -> int:
    return returns.get_return(day.factory, return_id).findings[0].id


def test_the_tags_on_another_agencys_return_are_shown_from_moderation_only(day: Day) -> None:
    day.save("sam", day.school, "School attendance fell")
    themes.set_tags(
        day.as_("lead"),
        day.actor("lead"),
        TaggedKind.FINDING,
        _finding_id(day, day.school),
        ["information-sharing"],
    )
    with pytest.raises(AccessDeniedError, match="school return"):
        themes.tags_for_return(day.as_("ann"), day.school)
    with pytest.raises(AccessDeniedError):
        themes.tags_for_return(day.as_("sue"), day.school)
    day.moderate()
    shown = themes.tags_for_return(day.as_("ann"), day.school)
    assert list(shown.values()) == [("information-sharing",)]


def test_agreement_with_the_panel_is_an_aggregate_the_subgroup_and_auditors_see(day: Day) -> None:
    # Before moderation an auditor's agreement view asks for both comparisons: no refusal.
    early = agreement.agreement(
        day.as_("ann"), day.audit.id, agreement.Comparison.AGENCY_VS_MODERATED
    )
    assert early.overall is None
    day.save("ann", day.police, "Police evidence")
    day.save("sam", day.school, "School evidence")
    day.moderate()
    casework.set_moderated_grade(
        day.as_("lead"),
        day.actor("lead"),
        day.case.id,
        ModerationHeading.OVERALL,
        grade="good",
        reasons="The panel agreed",
        expected_version=None,
    )
    lead = agreement.agreement(
        day.as_("lead"), day.audit.id, agreement.Comparison.AGENCY_VS_MODERATED
    )
    sue = agreement.agreement(
        day.as_("sue"), day.audit.id, agreement.Comparison.AGENCY_VS_MODERATED
    )
    assert sue == lead
    assert sue.overall is not None
    # police and school graded "good" under the overall heading; gp left it unanswered.
    assert (sue.overall.pairs, sue.overall.agreed, sue.overall.unanswered) == (2, 2, 1)


def test_an_auditor_cannot_draft_learning_from_a_theme(day: Day) -> None:
    day.save("sam", day.school, "School attendance fell")
    themes.set_tags(
        day.as_("lead"),
        day.actor("lead"),
        TaggedKind.FINDING,
        _finding_id(day, day.school),
        ["information-sharing"],
    )
    # The draft names each tagged finding's case, agency and grade: the school's grade is
    # not the police auditor's to read before moderation, and the log is not theirs to keep.
    with pytest.raises(AccessDeniedError, match="draft a learning item"):
        learning.draft_from_theme(day.as_("ann"), day.audit.id, "information-sharing", today=TODAY)
    draft = learning.draft_from_theme(
        day.as_("sue"), day.audit.id, "information-sharing", today=TODAY
    )
    assert draft.finding_ids == (_finding_id(day, day.school),)


def test_history_that_is_not_under_a_return_is_the_leads(day: Day) -> None:
    identifiers.hold_identifier(
        day.as_("lead"), day.actor("lead"), day.case.id, "name", "Jordan Example"
    )
    casework.add_voice(
        day.as_("ann"), day.actor("ann"), day.case.id, VoiceSource.CHILD, "I want to stay"
    )
    day.moderate()
    ref = day.case.reference
    for within in ("held identifier name", "voice of child"):
        # The lead reads it...
        assert change_history.history_of_return(day.as_("lead"), day.audit.id, ref, within)
        # ...an auditor, who reads every return from moderation on, does not: these are not
        # returns, and who read a held identifier is the leads' business.
        with pytest.raises(AccessDeniedError, match=f"history of case {ref}"):
            change_history.history_of_return(day.as_("ann"), day.audit.id, ref, within)
    # A real return's history still opens for them.
    police = change_history.history_of_return(day.as_("ann"), day.audit.id, ref, "police")
    assert [r.entity for r in police] == ["agency_returns"]


def test_the_subgroups_briefing_quotes_no_case_level_text(day: Day, tmp_path: Path) -> None:
    returns.record_finding(
        day.as_("ann"),
        day.actor("ann"),
        day.police,
        "cse-1.1",
        FindingChange(grade="outstanding", strengths="Police shared the safety plan at once"),
        expected_version=None,
    )

    def briefing(key: str) -> str:
        out = tmp_path / f"{key}.docx"
        exporting.export_briefing(
            day.as_(key), day.actor(key), exporting.ExportOptions(), day.audit.id, out
        )
        return "\n".join(p.text for p in Document(str(out)).paragraphs)

    assert "Police shared the safety plan" in briefing("lead")
    by_subgroup = briefing("sue")
    assert "Police shared the safety plan" not in by_subgroup
    assert "What good looks like" in by_subgroup


def test_whoever_imports_an_audit_leads_it(
    day: Day, tmp_path: Path, registry: ToolRegistry
) -> None:
    bundle = export_bundle(day.as_("lead"), day.audit.id)
    engine = make_engine(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    ensure_schema(engine, "elsewhere", upgrade_if_needed=True)
    elsewhere = make_session_factory(engine)
    users.save_user(elsewhere, SYSTEM, UserIn(login="kim", role=Role.LEAD))
    kim = bind(elsewhere, users.resolve_principal(elsewhere, "kim", None))
    actor = users.resolve_principal(elsewhere, "kim", None).actor
    made = import_bundle(kim, actor, bundle, "bundle.json")
    assert users.leads_of(elsewhere, made.id) == ["kim"]
    audits.set_status(kim, actor, made.id, AuditStatus.MODERATION)
    # And a lead who did not import it still leads only their own.
    users.save_user(elsewhere, SYSTEM, UserIn(login="lee", role=Role.LEAD))
    lee = bind(elsewhere, users.resolve_principal(elsewhere, "lee", None))
    with pytest.raises(AccessDeniedError):
        audits.set_status(lee, actor, made.id, AuditStatus.REPORTING)
    engine.dispose()
    assert registry  # the registry fixture loads the tools the bundle pins


def test_an_audit_whose_held_identifiers_were_read_still_moves_as_a_bundle(day: Day) -> None:
    identifiers.hold_identifier(
        day.as_("lead"), day.actor("lead"), day.case.id, "name", "Jordan Example"
    )
    assert identifiers.identifiers_of(day.as_("lead"), day.actor("lead"), day.case.id)
    # A "read" is no change a bundle can carry; nor does the record of the identifiers
    # travel, as the identifiers themselves never do.
    bundle = export_bundle(day.as_("lead"), day.audit.id)
    assert identifiers.ENTITY not in {change.entity for change in bundle.history}
    assert {change.entity for change in bundle.history} >= {"audits", "cases"}

"""The audit lead's journey: the matrix, moderating a case and closing immediate concerns."""

from __future__ import annotations

import datetime as dt
import sys
import types
from collections.abc import Callable

import pytest
from rich.style import Style
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Select, Static, TextArea

from audit_tools import ToolRegistry
from schemas.audit import (
    Actor,
    AuditDetail,
    ConcernStatus,
    FindingChange,
    ImmediateConcernOut,
    ModerationHeading,
)
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services import audits, casework, returns
from workbench.services.matrix import return_matrix
from workbench.store.models import ImmediateConcern
from workbench.tui.app import WorkbenchApp, make_app
from workbench.tui.concerns_screen import ClosingNoteDialog, ConcernsScreen
from workbench.tui.matrix_screen import (
    SUBMITTED_GLYPH,
    AuditScreen,
    GradeTable,
    grade_short,
    grade_tone,
)
from workbench.tui.moderation_screen import (
    DISAGREEMENT_MARK,
    ConflictDialog,
    ModerationScreen,
)

AGENCIES = ("gp", "police", "school")
AUDITOR = Actor(name="a.auditor", agency="police")
LEAD = Actor(name="t.tester")  # the settings fixture's actor: the app acts as this person
SIZE = (100, 30)
TOLD = dt.datetime(2026, 3, 2, 11, 30, tzinfo=dt.UTC)

# Case 1: police complete and submitted (median good), gp part-way (median requires
# improvement), school not started. Case 2: agencies disagree on cse-2.1 and cse-2.2.
CASE_1_POLICE = {
    "cse-1.1": "good",
    "cse-2.1": "outstanding",
    "cse-2.2": "good",
    "cse-3.2": "requires_improvement",
    "cse-3.3": "good",
    "cse-4.1": "good",
    "cse-4.2": "not_applicable",
    "cse-4.3": "outstanding",
    "cse-5.1": "requires_improvement",
    "cse-5.2": "good",
    "cse-6.1": "good",
}
CASE_1_GP = {
    "cse-1.1": "requires_improvement",
    "cse-1.2": "inadequate",
    "cse-2.1": "good",
    "cse-2.2": "not_evidenced",
}
CASE_2 = {
    "gp": {"cse-2.1": "outstanding", "cse-2.2": "good", "cse-1.1": "good"},
    "police": {"cse-2.1": "inadequate", "cse-2.2": "requires_improvement", "cse-1.1": "good"},
    "school": {"cse-2.1": "good", "cse-2.2": "good", "cse-1.1": "requires_improvement"},
}


def record(
    factory: sessionmaker[Session],
    audit: AuditDetail,
    reference: str,
    agency: str,
    grades: dict[str, str],
) -> int:
    rid = returns.find_return(factory, audit.id, reference, agency)
    for criterion, grade in grades.items():
        returns.record_finding(
            factory,
            AUDITOR,
            rid,
            criterion,
            FindingChange(
                grade=grade,
                evidence=f"[2025] {agency.upper()} record for {criterion}: contact log, "
                "strategy discussion notes and the referral form",
            ),
            expected_version=None,
        )
    return rid


def build(factory: sessionmaker[Session], registry: ToolRegistry) -> AuditDetail:
    """A small audit built with the services, with fixed content so snapshots are stable."""
    audit = audits.create_audit(
        factory,
        AUDITOR,
        registry,
        cse_plan(agencies=AGENCIES, cases=3).model_copy(
            update={"title": "CSE audit, spring 2026", "audit_day": dt.date(2026, 3, 31)}
        ),
    )
    first, second = audit.cases[0].reference, audit.cases[1].reference
    police = record(factory, audit, first, "police", CASE_1_POLICE)
    returns.submit_return(factory, AUDITOR, police)
    record(factory, audit, first, "gp", CASE_1_GP)
    for agency, grades in CASE_2.items():
        record(factory, audit, second, agency, grades)
    casework.set_moderated_grade(
        factory,
        AUDITOR,
        audit.cases[0].id,
        ModerationHeading.OVERALL,
        grade="good",
        reasons="Police response timely; health referral late",
        expected_version=0,
    )
    casework.raise_concern(
        factory,
        AUDITOR,
        audit.cases[1].id,
        concern="Child went missing overnight again and was found with older adults",
        who_told="Duty team manager, children's social care",
        told_at=TOLD,
        agency_code="police",
    )
    casework.raise_concern(
        factory,
        AUDITOR,
        audit.cases[2].id,
        concern="School reports the child is not attending and sibling is at risk",
        who_told="Designated safeguarding lead",
        told_at=TOLD + dt.timedelta(hours=2),
    )
    return audit


@pytest.fixture
def audit(sqlite_factory: sessionmaker[Session], registry: ToolRegistry) -> AuditDetail:
    return build(sqlite_factory, registry)


def app_for(
    settings: Settings, factory: sessionmaker[Session], registry: ToolRegistry
) -> WorkbenchApp:
    return make_app(settings, factory, database_label="workbench.db", registry=registry)


def table(app: WorkbenchApp, selector: str) -> GradeTable:
    return app.screen.query_one(selector, GradeTable)


def has_style(text: Text, style: Style) -> bool:
    return any(span.style == style for span in text.spans) or text.style == style


def notes(seen: list[Message]) -> list[str]:
    return [m.notification.message for m in seen if isinstance(m, Notify)]


# --- the matrix ---------------------------------------------------------------------------


async def test_matrix_shows_each_agencys_grade_and_status_as_stored(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    scale = registry.definition("cse").scale
    tool = registry.definition("cse").tool
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(AuditScreen(sqlite_factory, LEAD, audit.id))
        await settle(pilot)
        grid = table(app, "#matrix")
        assert [str(c.label) for c in grid.columns.values()] == [
            "Case",
            "Need",
            *AGENCIES,
            "Moderated",
        ]
        assert grid.row_count == 3
        first, second, third = (c.id for c in audit.cases)
        police_total = len(tool.criteria_for("police"))
        expected = {
            (first, "police"): ("2 Good", SUBMITTED_GLYPH),  # 10 levels, median good
            (first, "gp"): ("3 RI", f"4/{len(tool.criteria_for('gp'))}"),  # RI, inad., good
            (first, "school"): ("-", f"0/{len(tool.criteria_for('school'))}"),
            (second, "gp"): ("2 Good", f"3/{len(tool.criteria_for('gp'))}"),
            (second, "police"): ("3 RI", f"3/{police_total}"),  # inadequate, RI, good
            (second, "school"): ("2 Good", f"3/{len(tool.criteria_for('school'))}"),
            (third, "police"): ("-", f"0/{police_total}"),
        }
        for (case_id, agency), (grade, status) in expected.items():
            cell = grid.get_cell(str(case_id), agency)
            assert cell.plain == f"{grade} {status}", (case_id, agency)
        # The cells agree with what is stored, read back through the services.
        matrix = return_matrix(sqlite_factory, audit.id)
        for stored in matrix.cells:
            cell = grid.get_cell(str(stored.case_id), stored.agency_code)
            assert cell.plain.startswith(grade_short(scale, stored.grade) + " ")
            tone = grid.style_for(grade_tone(scale, stored.grade))
            assert has_style(cell, tone)
        assert grid.get_row(str(first))[:2] == [Text("CSE-25-01"), Text("EH")]
        assert grid.get_cell(str(first), "moderated").plain == "2 Good"
        assert grid.get_cell(str(second), "moderated").plain == "-"
        # Colours differ by level: the four-point scale's tones are all distinct.
        tones = {grid.style_for(grade_tone(scale, level.key)) for level in scale.levels}
        assert len(tones) == 4
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "2 open immediate concerns" in summary
        assert app.screen.has_class("-concerns")

        # The detail line says in words what the abbreviated cell holds.
        grid.move_cursor(row=0, column=AGENCIES.index("police") + 2)
        await pilot.pause()
        detail = str(app.screen.query_one("#detail", Static).render())
        assert "CSE-25-01" in detail and "Good (median of 10 graded)" in detail
        assert "submitted" in detail


async def test_matrix_refresh_and_returning_show_new_grades(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(AuditScreen(sqlite_factory, LEAD, audit.id))
        await settle(pilot)
        third = str(audit.cases[2].id)
        assert table(app, "#matrix").get_cell(third, "school").plain.startswith("- 0/")
        record(sqlite_factory, audit, audit.cases[2].reference, "school", {"cse-1.1": "inadequate"})
        await pilot.press("r")
        await settle(pilot)
        assert table(app, "#matrix").get_cell(third, "school").plain.startswith("4 Inad. 1/")


async def test_switching_theme_recolours_the_grades(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    scale = registry.definition("cse").scale
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(AuditScreen(sqlite_factory, LEAD, audit.id))
        await settle(pilot)
        grid = table(app, "#matrix")
        before = grid.style_for(grade_tone(scale, "good"))
        await pilot.press("f2")
        await settle(pilot)
        await pilot.pause()
        after = grid.style_for(grade_tone(scale, "good"))
        assert after != before  # the light theme has its own blue
        cell = grid.get_cell(str(audit.cases[0].id), "police")
        assert has_style(cell, after) and not has_style(cell, before)


@pytest.fixture
def stub_return_screen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """Stands in for the auditor's ReturnScreen (another module) to see what Enter opens."""
    opened: list[tuple[object, ...]] = []

    class ReturnScreen(Screen[None]):
        def __init__(self, factory: object, actor: object, return_id: int) -> None:
            super().__init__()
            opened.append((factory, actor, return_id))

    module = types.ModuleType("workbench.tui.return_screen")
    module.ReturnScreen = ReturnScreen  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "workbench.tui.return_screen", module)
    return opened


async def test_enter_opens_the_return_under_the_cursor(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
    stub_return_screen: list[tuple[object, ...]],
) -> None:
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(AuditScreen(sqlite_factory, LEAD, audit.id))
        await settle(pilot)
        # Row 2 (CSE-25-02), column of the police.
        table(app, "#matrix").move_cursor(row=1, column=2 + AGENCIES.index("police"))
        await pilot.press("enter")
        await pilot.pause()
        rid = returns.find_return(sqlite_factory, audit.id, "CSE-25-02", "police")
        assert stub_return_screen == [(sqlite_factory, LEAD, rid)]
        assert type(app.screen).__name__ == "ReturnScreen"


async def test_enter_opens_the_auditors_return_screen(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    from workbench.tui.return_screen import ReturnScreen

    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(AuditScreen(sqlite_factory, LEAD, audit.id))
        await settle(pilot)
        table(app, "#matrix").move_cursor(row=0, column=2 + AGENCIES.index("police"))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReturnScreen)


async def test_keys_open_moderation_and_concerns_and_escape_comes_back(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(AuditScreen(sqlite_factory, LEAD, audit.id))
        await settle(pilot)
        active = {b.binding.key: b.binding for b in app.active_bindings.values()}
        for key in ("enter", "m", "c", "r", "escape"):
            assert active[key].tooltip, key
        table(app, "#matrix").move_cursor(row=1, column=2)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, ModerationScreen)
        assert app.screen.case_id == audit.cases[1].id
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        # Enter on the case column moderates that case too.
        table(app, "#matrix").move_cursor(row=2, column=0)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ModerationScreen)
        assert app.screen.case_id == audit.cases[2].id
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConcernsScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AuditScreen)


# --- moderation ---------------------------------------------------------------------------


def agency_findings(
    factory: sessionmaker[Session], audit: AuditDetail, reference: str
) -> dict[str, list[tuple[str, str | None, int]]]:
    return {
        agency: [
            (f.criterion_id, f.grade, f.version)
            for f in returns.get_return(
                factory, returns.find_return(factory, audit.id, reference, agency)
            ).findings
        ]
        for agency in AGENCIES
    }


async def choose_grade(pilot: Pilot[None], label: str) -> None:
    """Open the grade list and move to the option with this label, as a user would."""
    screen = pilot.app.screen
    assert isinstance(screen, ModerationScreen) and screen.sheet is not None
    scale = screen.sheet.scale
    keys = list(scale.answer_keys)
    select = screen.query_one("#grade", Select)
    # The list opens on the current value; the blank "no grade" option comes first.
    current = keys.index(select.value) + 1 if isinstance(select.value, str) else 0
    target = [scale.label(k) for k in keys].index(label) + 1
    select.focus()
    await pilot.press("enter")
    await pilot.pause()
    for _ in range(abs(target - current)):
        await pilot.press("down" if target > current else "up")
    await pilot.press("enter")
    await pilot.pause()


async def type_reasons(pilot: Pilot[None], text: str) -> None:
    pilot.app.screen.query_one("#reasons", TextArea).focus()
    await pilot.press("ctrl+a")
    for char in text:
        await pilot.press("space" if char == " " else char)


async def test_moderating_a_case_stores_grade_and_reasons_and_keeps_agency_grades(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    case = audit.cases[1]
    before = agency_findings(sqlite_factory, audit, case.reference)
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = ModerationScreen(sqlite_factory, LEAD, case.id)
        await app.push_screen(screen)
        await settle(pilot)
        assert screen.editing is ModerationHeading.OVERALL
        await choose_grade(pilot, "Requires improvement to be good")
        await type_reasons(pilot, "Missing episodes not reviewed")
        await pilot.pause()
        assert ModerationHeading.OVERALL in screen.drafts
        assert "*" in table(app, "#headings").get_cell("overall", "heading").plain
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.drafts == {}
        assert str(screen.query_one("#save-state", Static).render()) == "Saved"

        # A second heading: move the headings cursor up to assessment and grade it.
        headings = table(app, "#headings")
        headings.focus()
        headings.move_cursor(row=list(ModerationHeading).index(ModerationHeading.ASSESSMENT))
        await pilot.pause()
        assert screen.editing is ModerationHeading.ASSESSMENT
        assert screen.query_one("#reasons", TextArea).text == ""
        await choose_grade(pilot, "Inadequate")
        await type_reasons(pilot, "No joint assessment")
        await pilot.press("ctrl+s")
        await settle(pilot)

    stored = {m.heading: m for m in casework.moderated_grades(sqlite_factory, case.id)}
    overall = stored[ModerationHeading.OVERALL]
    assert (overall.grade, overall.reasons, overall.updated_by) == (
        "requires_improvement",
        "Missing episodes not reviewed",
        LEAD.name,
    )
    assessment = stored[ModerationHeading.ASSESSMENT]
    assert (assessment.grade, assessment.reasons) == ("inadequate", "No joint assessment")
    # Each agency's own grade is kept exactly as it was (same grades, same versions).
    assert agency_findings(sqlite_factory, audit, case.reference) == before


async def test_disagreement_cells_are_marked(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = ModerationScreen(sqlite_factory, LEAD, audit.cases[1].id)
        await app.push_screen(screen)
        await settle(pilot)
        answers = table(app, "#answers")
        marked = answers.style_for("disagreement")
        # cse-2.1: outstanding / inadequate / good -> three levels apart.
        row = answers.get_row("cse-2.1")
        assert row[0].plain == f"{DISAGREEMENT_MARK} cse-2.1" and has_style(row[0], marked)
        assert [c.plain for c in row[2:]] == ["1 Outst.", "4 Inad.", "2 Good"]
        assert all(has_style(c, marked) for c in row[2:])
        # cse-2.2: good / RI / good -> one level: not marked. cse-1.1 likewise.
        for quiet in ("cse-2.2", "cse-1.1"):
            row = answers.get_row(quiet)
            assert not row[0].plain.startswith(DISAGREEMENT_MARK)
            assert not any(has_style(c, marked) for c in row)
        # Not asked of an agency: shown as such, never as a grade.
        assert answers.get_cell("cse-1.3", "gp").plain == "·"
        # Per heading: assessment medians are good / inadequate / good -> marked.
        headings = table(app, "#headings")
        assessment = headings.get_row("assessment")
        assert assessment[0].plain.startswith(DISAGREEMENT_MARK)
        assert [c.plain for c in assessment[1:5]] == ["2 Good", "4 Inad.", "2 Good", "2"]
        assert headings.get_cell("recognition", "spread").plain == "1"
        assert headings.get_cell("planning", "spread").plain == "-"  # nothing graded there
        assert not headings.get_row("recognition")[0].plain.startswith(DISAGREEMENT_MARK)
        assert screen.has_class("-disagreement")

        # The detail line gives the highlighted agency's own answer and evidence.
        answers.move_cursor(row=answers.get_row_index("cse-2.1"), column=3)  # the police
        await pilot.pause()
        detail = str(screen.query_one("#answer-detail", Static).render())
        assert "police: Inadequate" in detail and "POLICE record for cse-2.1" in detail
        assert "[2025]" in detail  # typed text is shown as typed, never read as markup


async def test_a_stale_moderated_grade_shows_theirs_and_lets_the_lead_choose(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    case = audit.cases[0]  # overall already stored as good, version 1
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = ModerationScreen(sqlite_factory, LEAD, case.id)
        await app.push_screen(screen)
        await settle(pilot)
        assert screen.query_one("#reasons", TextArea).text.startswith("Police response")
        # The lead starts choosing; meanwhile someone else on the panel saves first. (The
        # draft comes first so a live refresh cannot load theirs into the editor before the
        # lead has touched it: then there would be nothing to conflict with.)
        await choose_grade(pilot, "Requires improvement to be good")
        casework.set_moderated_grade(
            sqlite_factory,
            Actor(name="panel.member"),
            case.id,
            ModerationHeading.OVERALL,
            grade="inadequate",
            reasons="Health never referred",
            expected_version=1,
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConflictDialog)
        theirs = str(app.screen.query_one("#theirs", Static).render())
        assert "panel.member" in theirs and "Inadequate" in theirs
        assert "Health never referred" in theirs
        await pilot.click("#save-mine")
        await settle(pilot)
        assert app.screen is screen
        [overall] = casework.moderated_grades(sqlite_factory, case.id)
        assert (overall.grade, overall.version, overall.updated_by) == (
            "requires_improvement",
            3,
            LEAD.name,
        )
        assert overall.reasons == "Police response timely; health referral late"

        # Again, but this time the lead keeps the other person's grade.
        await choose_grade(pilot, "Inadequate")
        casework.set_moderated_grade(
            sqlite_factory,
            Actor(name="panel.member"),
            case.id,
            ModerationHeading.OVERALL,
            grade="good",
            reasons="Agreed after discussion",
            expected_version=3,
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConflictDialog)
        await pilot.click("#keep-theirs")
        await settle(pilot)
        assert screen.drafts == {}
        assert screen.query_one("#grade", Select).value == "good"
        assert screen.query_one("#reasons", TextArea).text == "Agreed after discussion"
    [overall] = casework.moderated_grades(sqlite_factory, case.id)
    assert (overall.grade, overall.version, overall.updated_by) == ("good", 4, "panel.member")


async def test_leaving_with_unsaved_grades_warns_once(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    seen: list[Message] = []
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await app.push_screen(AuditScreen(sqlite_factory, LEAD, audit.id))
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        await choose_grade(pilot, "Outstanding")  # stored: good
        table(app, "#answers").focus()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ModerationScreen)
        assert any(n.startswith("Not saved yet: Overall") for n in notes(seen))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
    # Leaving twice means leaving the draft: what is stored is untouched.
    assert casework.moderated_grades(sqlite_factory, audit.cases[0].id)[0].grade == "good"


# --- concerns -----------------------------------------------------------------------------


def concern_row_of(factory: sessionmaker[Session], concern_id: int) -> ImmediateConcernOut:
    with factory() as session:
        row = session.scalars(select(ImmediateConcern).where(ImmediateConcern.id == concern_id))
        return ImmediateConcernOut.model_validate(row.one())


async def test_closing_a_concern_stores_it_closed_and_removes_it(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    first, second = casework.open_concerns(sqlite_factory, audit.id)
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = ConcernsScreen(sqlite_factory, LEAD, audit.id)
        await app.push_screen(screen)
        await settle(pilot)
        concerns = screen.query_one("#concerns", DataTable)
        assert concerns.row_count == 2
        assert [c.plain for c in concerns.get_row(str(first.id))] == [
            "CSE-25-02",
            "Child went missing overnight again…",  # cut to fit; the detail line has it all
            "Duty team manag…",
            "2 Mar 2026 11:30",
            "a.auditor",
        ]
        assert concerns.get_row(str(second.id))[0].plain == "CSE-25-03"
        detail = str(screen.query_one("#concern-detail", Static).render())
        assert first.concern in detail and first.who_told in detail  # in full below the table

        # An empty note is refused: a closed concern says how it was resolved.
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ClosingNoteDialog)
        await pilot.click("#confirm")
        await pilot.pause()
        assert isinstance(app.screen, ClosingNoteDialog)
        assert "resolved" in str(app.screen.query_one("#closing-error", Static).render())
        for char in "Strategy meeting held":
            await pilot.press("space" if char == " " else char)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert concerns.row_count == 1
        assert concerns.get_row_at(0)[0].plain == "CSE-25-03"

        # Escape in the dialog keeps the concern open.
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert concerns.row_count == 1

    closed = concern_row_of(sqlite_factory, first.id)
    assert closed.status is ConcernStatus.CLOSED
    assert closed.closure_note == "Strategy meeting held"
    assert closed.closed_by == LEAD.name
    assert [c.id for c in casework.open_concerns(sqlite_factory, audit.id)] == [second.id]


async def test_no_open_concerns_says_so(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    for concern in casework.open_concerns(sqlite_factory, audit.id):
        casework.close_concern(sqlite_factory, LEAD, concern.id, "done")
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = ConcernsScreen(sqlite_factory, LEAD, audit.id)
        await app.push_screen(screen)
        await settle(pilot)
        assert screen.has_class("-empty")
        await pilot.press("x")
        await pilot.pause()
        assert app.screen is screen


# --- snapshots ----------------------------------------------------------------------------

SnapCompare = Callable[..., bool]


def _snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    factory: sessionmaker[Session],
    registry: ToolRegistry,
    make: Callable[[AuditDetail], Screen[None]],
    size: tuple[int, int],
) -> bool:
    audit = build(factory, registry)
    app = app_for(settings, factory, registry)

    async def open_screen(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await app.push_screen(make(audit))
        await settle(pilot)

    return snap_compare(app, terminal_size=size, run_before=open_screen)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_audit_screen_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    size: tuple[int, int],
) -> None:
    assert _snapshot(
        snap_compare,
        settings,
        sqlite_factory,
        registry,
        lambda a: AuditScreen(sqlite_factory, LEAD, a.id),
        size,
    )


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_moderation_screen_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    size: tuple[int, int],
) -> None:
    assert _snapshot(
        snap_compare,
        settings,
        sqlite_factory,
        registry,
        lambda a: ModerationScreen(sqlite_factory, LEAD, a.cases[1].id),
        size,
    )


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_concerns_screen_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    size: tuple[int, int],
) -> None:
    assert _snapshot(
        snap_compare,
        settings,
        sqlite_factory,
        registry,
        lambda a: ConcernsScreen(sqlite_factory, LEAD, a.id),
        size,
    )

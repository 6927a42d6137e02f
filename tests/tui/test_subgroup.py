"""The subgroup's screens: the overview, planning an audit, the list of keys and the palette."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from textual.app import App
from textual.command import CommandPalette, DiscoveryHit
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, SelectionList, Static
from textual.worker import WorkerFailed

from audit_tools import ToolRegistry
from schemas.audit import (
    Actor,
    AgeBand,
    AuditDetail,
    AuditPlan,
    CaseProfile,
    FindingChange,
    Gender,
    LevelOfNeed,
    Send,
)
from schemas.learning import ActionIn, TaggedKind
from schemas.tools import NON_GRADE_ANSWERS
from tests.conftest import cohort
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services import actions, audits, casework, returns, themes
from workbench.services.overview import overview
from workbench.services.unit import unit_of_work
from workbench.store.models import Agency
from workbench.tui import app as app_module
from workbench.tui.app import WorkbenchApp, make_app
from workbench.tui.commands import (
    SHOW_KEYS,
    TOGGLE_THEME,
    WorkbenchCommands,
    screen_verbs,
    toggle_theme,
)
from workbench.tui.grade_bars import GradeBars, level_colours, segment_widths
from workbench.tui.help_screen import EVERYWHERE, HelpScreen
from workbench.tui.overview_screen import NO_PREVIOUS, OverviewScreen
from workbench.tui.plan_audit import PlanAuditScreen, parse_day
from workbench.tui.plan_flow import PlanAuditFlow

ACTOR = Actor(name="s.subgroup", agency="police")
TODAY = dt.date(2026, 6, 1)
SnapCompare = Callable[..., bool]

# (audit) -> [(agency, grade)] for every answer recorded, so the test can count by hand.
Answers = dict[int, list[tuple[str, str]]]


def build_app(settings: Settings, factory: sessionmaker[Session]) -> WorkbenchApp:
    return make_app(settings, factory, database_label="workbench.db", registry=ToolRegistry.load())


def _plan(title: str, tool: str, agencies: tuple[str, ...], day: dt.date, cases: int) -> AuditPlan:
    return AuditPlan(
        title=title,
        tool_id=tool,
        agencies=agencies,
        cases=cohort(cases),
        audit_day=day,
        chair="Chair",
    )


def _answer(
    factory: sessionmaker[Session],
    registry: ToolRegistry,
    detail: AuditDetail,
    pattern: tuple[str, ...],
    answers: Answers,
) -> None:
    tool = registry.definition(detail.tool_id, detail.tool_version).tool
    step = 0
    for case in detail.cases:
        for agency in detail.agencies:
            return_id = returns.find_return(factory, detail.id, case.reference, agency)
            for criterion in tool.criteria_for(agency):
                grade = pattern[step % len(pattern)]
                step += 1
                returns.record_finding(
                    factory,
                    ACTOR,
                    return_id,
                    criterion.id,
                    FindingChange(grade=grade),
                    expected_version=None,
                )
                answers.setdefault(detail.id, []).append((agency, grade))


def build_audits(
    factory: sessionmaker[Session], registry: ToolRegistry
) -> tuple[dict[str, AuditDetail], Answers]:
    """Two CSE audits a year apart (the later one better) and one domestic abuse audit."""
    answers: Answers = {}
    earlier = audits.create_audit(
        factory,
        ACTOR,
        registry,
        _plan("CSE audit 2025", "cse", ("police", "school", "gp"), dt.date(2025, 2, 10), 2),
    )
    later = audits.create_audit(
        factory,
        ACTOR,
        registry,
        _plan("CSE audit 2026", "cse", ("police", "school", "gp"), dt.date(2026, 2, 10), 2),
    )
    da = audits.create_audit(
        factory,
        ACTOR,
        registry,
        _plan("Domestic abuse audit", "domestic-abuse", ("police",), dt.date(2026, 3, 1), 1),
    )
    _answer(
        factory,
        registry,
        earlier,
        ("requires_improvement", "inadequate", "good", "requires_improvement"),
        answers,
    )
    _answer(
        factory,
        registry,
        later,
        ("good", "outstanding", "good", "requires_improvement", "not_applicable"),
        answers,
    )
    _answer(factory, registry, da, ("good", "requires_improvement"), answers)
    casework.raise_concern(
        factory,
        ACTOR,
        later.cases[0].id,
        concern="Missing overnight, not reported",
        who_told="Duty team manager",
        told_at=dt.datetime(2026, 2, 10, 14, 0, tzinfo=dt.UTC),
    )
    _tag_and_act(factory, earlier, later)
    return {"earlier": earlier, "later": later, "da": da}, answers


def _tag_and_act(factory: sessionmaker[Session], earlier: AuditDetail, later: AuditDetail) -> None:
    """Missing children in both CSE audits (three cases), information sharing in one case of
    2026; two actions on 2026, one of them overdue on TODAY."""

    def first_findings(audit: AuditDetail, case: int, agency: str, n: int) -> list[int]:
        rid = returns.find_return(factory, audit.id, audit.cases[case].reference, agency)
        return [f.id for f in returns.get_return(factory, rid).findings][:n]

    tagged = [
        *((f, "missing-children") for f in first_findings(later, 0, "police", 2)),
        *((f, "missing-children") for f in first_findings(later, 1, "gp", 1)),
        *((f, "missing-children") for f in first_findings(earlier, 0, "school", 1)),
        *((f, "information-sharing") for f in first_findings(later, 1, "police", 1)),
    ]
    for finding_id, code in tagged:
        themes.set_tags(factory, ACTOR, TaggedKind.FINDING, finding_id, [code])
    for description, due in (
        ("Refresh the missing-from-home protocol", dt.date(2026, 5, 1)),
        ("Return interviews within 72 hours", dt.date(2026, 7, 1)),
    ):
        actions.add_action(
            factory,
            ACTOR,
            ActionIn(
                description=description,
                owner_name="Named owner",
                owner_agency="police",
                due_on=due,
                audit_id=later.id,
            ),
            today=TODAY,
        )


def top_share(pairs: list[tuple[str, str]]) -> float:
    graded = [g for _, g in pairs if g not in NON_GRADE_ANSWERS]
    return sum(g in {"outstanding", "good"} for g in graded) / len(graded)


def cell_text(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def table_rows(app: App[Any]) -> dict[str, list[str]]:
    table: DataTable[Any] = app.screen.query_one("#audits", DataTable)
    return {str(key.value): [cell_text(c) for c in table.get_row(key)] for key in table.rows}


# The overview


async def test_overview_shows_the_stored_figures(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    made, answers = build_audits(sqlite_factory, registry)
    later, earlier, da = made["later"], made["earlier"], made["da"]
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(OverviewScreen(sqlite_factory, today=TODAY))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        assert screen.current == overview(sqlite_factory, today=TODAY)

        rows = table_rows(app)
        assert list(rows) == [str(da.id), str(later.id), str(earlier.id)]  # newest first
        now, then = top_share(answers[later.id]), top_share(answers[earlier.id])
        assert rows[str(later.id)][2] == f"{now:.0%}"
        assert rows[str(earlier.id)][2] == f"{then:.0%}"
        # The change since the previous CSE audit: an arrow and signed percentage points.
        assert rows[str(later.id)][3] == f"▲ {(now - then) * 100:+.0f} pts"
        assert rows[str(earlier.id)][3] == "first"
        assert rows[str(da.id)][3] == "first"  # another tool is not "the previous audit"
        assert [rows[str(a.id)][4] for a in (da, later, earlier)] == ["0", "1", "0"]

        # It opens on the newest audit with something to compare, drawn then and now.
        title = str(screen.query_one("#change-title", Static).render())
        assert "CSE audit 2026 compared with CSE audit 2025" in title
        bars = screen.query_one("#change-bars", GradeBars)
        levels = ("outstanding", "good", "requires_improvement", "inadequate")
        assert [row.counts for row in bars.rows] == [
            tuple(Counter(g for _, g in answers[a.id])[k] for k in levels) for a in (earlier, later)
        ]
        changes = str(screen.query_one("#change-levels", Static).render())
        assert f"Good or better: {then:.0%} → {now:.0%}" in changes

        # Grades per agency: each bar holds exactly what that agency recorded.
        agency_bars = screen.query_one(".bars-agency", GradeBars)
        names = {"police": "Police", "school": "Schools", "gp": "General practice (GP)"}
        expected = {
            names[agency]: tuple(
                Counter(g for a_id in answers for a, g in answers[a_id] if a == agency)[k]
                for k in levels
            )
            for agency in names
        }
        assert {row.label: row.counts for row in agency_bars.rows} == expected
        tool_bars = screen.query_one(".bars-tool", GradeBars)
        assert len(tool_bars.rows) == 2

        summary = str(screen.query_one("#summary", Static).render())
        assert "3 audits" in summary and "open immediate concerns 1" in summary
        assert "open actions 2, overdue 1" in summary
        assert rows[str(later.id)][5] == "2, 1 late"

        # Open and overdue actions by audit, and the themes that keep coming up.
        actions_shown = str(screen.query_one("#actions", Static).render())
        assert actions_shown.splitlines() == [
            "2 open, 1 overdue (as of 1 Jun 2026)",
            "  CSE audit 2026: 2 open, 1 overdue",
        ]
        themes_shown = str(screen.query_one("#themes", Static).render()).splitlines()
        assert [" ".join(line.split()) for line in themes_shown] == [
            "Missing children 2 audits 3 cases 4 findings",
            "Information sharing 1 audit 1 case 1 finding",
        ]
        current = screen.current
        assert current is not None
        assert [t.code for t in current.themes] == ["missing-children", "information-sharing"]

        # Moving to the domestic abuse audit: nothing earlier on that tool to compare with.
        table = screen.query_one("#audits", DataTable)
        table.move_cursor(row=0)
        await pilot.pause()
        assert NO_PREVIOUS in str(screen.query_one("#change-title", Static).render())

        # A concern closed elsewhere shows after r, and only then (no polling).
        [concern] = casework.open_concerns(sqlite_factory, later.id)
        casework.close_concern(sqlite_factory, ACTOR, concern.id, "Seen and safe")
        assert table_rows(app)[str(later.id)][4] == "1"
        await pilot.press("r")
        await settle(pilot)
        assert table_rows(app)[str(later.id)][4] == "0"

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, OverviewScreen)


async def test_overview_with_no_audits_says_what_to_do(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(OverviewScreen(sqlite_factory, today=TODAY))
        await settle(pilot)
        assert app.screen.has_class("-empty")
        assert app.screen.query_one("#empty", Static).display
        assert "workbench demo" in str(app.screen.query_one("#empty", Static).render())


async def test_overview_that_cannot_read_says_so_in_one_line(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    def broken() -> Session:
        raise RuntimeError("the disk went away\nwith a second line")

    seen: list[Message] = []
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await settle(pilot)
        await app.push_screen(OverviewScreen(broken, today=TODAY))  # type: ignore[arg-type]
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        notes = [m.notification for m in seen if isinstance(m, Notify)]
        [note] = [n for n in notes if n.title == "Overview not loaded"]
        assert note.severity == "error"
        assert (
            note.message
            == "Could not read the overview: unexpected RuntimeError: the disk went away"
        )


def test_segments_fill_the_bar_and_keep_small_levels_visible() -> None:
    assert segment_widths([1, 1, 1, 1], 10) == [3, 3, 2, 2]
    assert sum(segment_widths([300, 20, 7, 1], 37)) == 37
    assert segment_widths([300, 20, 7, 1], 37)[-1] == 1  # one inadequate still shows
    assert segment_widths([0, 0], 12) == [0, 0]
    assert len(set(level_colours(4))) == 4 and len(level_colours(7)) == 7


# Planning an audit


async def open_planner(
    app: WorkbenchApp, pilot: Pilot[Any]
) -> tuple[PlanAuditFlow, PlanAuditScreen]:
    flow = PlanAuditFlow(app)
    flow.start()
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, PlanAuditScreen)
    for field in screen.query(Input):
        field.cursor_blink = False
    return flow, screen


async def type_into(pilot: Pilot[Any], selector: str, text: str) -> None:
    """Move to the field, clear it, and type like a person."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    await pilot.pause()
    field.value = ""
    await pilot.press(*text)


async def add_case(
    pilot: Pilot[Any],
    reference: str,
    level: str,
    age: str,
    gender: str,
    ethnicity: str,
    send: str,
    *,
    typed: bool = False,
) -> None:
    """Fill the case fields and press Enter in the reference, which adds the case."""
    screen = pilot.app.screen
    for name, value in (
        ("level_of_need", level),
        ("age_band", age),
        ("gender", gender),
        ("send", send),
    ):
        screen.query_one(f"#case-{name}", Select).value = value
    screen.query_one("#case-ethnicity", Input).value = ethnicity
    if typed:
        await type_into(pilot, "#case-reference", reference)
    else:
        field = screen.query_one("#case-reference", Input)
        field.value = reference
        field.focus()
    await pilot.press("enter")
    await pilot.pause()


async def fill_valid_plan(pilot: Pilot[Any]) -> None:
    """Some fields typed key by key, the rest set directly (typing is slow under Pilot)."""
    screen = pilot.app.screen
    await type_into(pilot, "#title", "CSE audit, autumn 2026")
    screen.query_one("#tool", Select).value = ("cse", 1)
    agencies = screen.query_one("#agencies", SelectionList)
    agencies.focus()
    await pilot.pause()
    await pilot.press("space")  # the first agency on the list: Acute health trust
    await pilot.press("space")  # ... and unticked again, as a person changing their mind
    for code in ("police", "school", "childrens-social-care"):
        agencies.select(code)
    screen.query_one("#look_back_months", Input).value = "18"
    screen.query_one("#returns_due", Input).value = "02/10/2026"
    await type_into(pilot, "#audit_day", "2026-10-20")
    screen.query_one("#chair", Input).value = "Head of quality assurance"
    await add_case(
        pilot,
        "CSE-26-01",
        "child-protection",
        "11-15",
        "female",
        "White British",
        "none",
        typed=True,
    )
    await add_case(pilot, "CSE-26-02", "child-in-need", "16-17", "male", "Mixed heritage", "ehcp")
    await pilot.pause()


def notes_in(seen: list[Message]) -> list[Notify]:
    return [m for m in seen if isinstance(m, Notify)]


async def test_planning_an_audit_stores_what_was_entered(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    seen: list[Message] = []
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=(100, 40), message_hook=seen.append) as pilot:
        await settle(pilot)
        flow, screen = await open_planner(app, pilot)
        await fill_valid_plan(pilot)
        assert [c.reference for c in screen.cases] == ["CSE-26-01", "CSE-26-02"]
        chosen = str(screen.query_one("#agencies-chosen", Static).render())
        assert chosen == "Chosen (3): Children's social care, Police, Schools"

        # A third case added by mistake: Delete on the cohort list takes it out again.
        await add_case(pilot, "CSE-26-03", "looked-after", "5-10", "other", "Not recorded", "none")
        cohort_table = screen.query_one("#cohort", DataTable)
        assert cohort_table.row_count == 3
        cohort_table.focus()
        cohort_table.move_cursor(row=2)
        await pilot.press("delete")
        await pilot.pause()
        # Enter on a case puts it back into the case fields to correct; Enter adds it again.
        cohort_table.move_cursor(row=1)
        await pilot.press("enter")
        await pilot.pause()
        assert screen.query_one("#case-reference", Input).value == "CSE-26-02"
        assert [c.reference for c in screen.cases] == ["CSE-26-01"]
        screen.query_one("#case-ethnicity", Input).value = "Mixed heritage"
        await pilot.press("enter")
        await pilot.pause()
        assert [c.reference for c in screen.cases] == ["CSE-26-01", "CSE-26-02"]
        assert cohort_table.row_count == 2
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, PlanAuditScreen)

        [summary] = audits.list_audits(sqlite_factory)
        detail = audits.get_audit(sqlite_factory, summary.id)
        assert detail.title == "CSE audit, autumn 2026"
        assert (detail.tool_id, detail.tool_version) == ("cse", 1)
        assert detail.agencies == ("childrens-social-care", "police", "school")
        assert detail.look_back_months == 18
        assert detail.returns_due == dt.date(2026, 10, 2)
        assert detail.audit_day == dt.date(2026, 10, 20)
        assert detail.look_back_start == dt.date(2025, 4, 20)
        assert detail.chair == "Head of quality assurance"
        assert detail.created_by == settings.actor
        assert [
            CaseProfile.model_validate(c.model_dump(include=set(CaseProfile.model_fields)))
            for c in detail.cases
        ] == [
            CaseProfile(
                reference="CSE-26-01",
                level_of_need=LevelOfNeed.CHILD_PROTECTION,
                age_band=AgeBand.EARLY_TEEN,
                gender=Gender.FEMALE,
                ethnicity="White British",
                send=Send.NONE,
            ),
            CaseProfile(
                reference="CSE-26-02",
                level_of_need=LevelOfNeed.CHILD_IN_NEED,
                age_band=AgeBand.OLDER,
                gender=Gender.MALE,
                ethnicity="Mixed heritage",
                send=Send.EHCP,
            ),
        ]
        assert flow.created == detail
        [note] = [n.notification for n in notes_in(seen) if n.notification.title == "Audit planned"]
        assert note.message == "CSE audit, autumn 2026: 2 cases, 3 agencies, 6 returns opened."


async def test_invalid_plans_are_refused_in_plain_words_and_nothing_is_stored(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        _, screen = await open_planner(app, pilot)
        await fill_valid_plan(pilot)

        # No agencies.
        screen.query_one("#agencies", SelectionList).deselect_all()
        # A date that does not exist, and one typed the American way round.
        await type_into(pilot, "#returns_due", "31/02/2026")
        await type_into(pilot, "#audit_day", "10/20/2026")
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert app.screen is screen  # still open: nothing was handed over

        def error(name: str) -> str:
            widget = screen.query_one(f"#{name}-error", Static)
            return str(widget.render()) if widget.display else ""

        assert error("agencies") == "Agencies: choose at least one agency taking part"
        assert error("returns_due") == "Returns due: '31/02/2026' is not a real date"
        assert error("audit_day") == ("Audit day: '10/20/2026' is not a real date")
        assert error("title") == ""
        problems = str(screen.query_one("#problems", Static).render())
        assert problems == "Not planned: 3 problems shown in red"
        for message in (error("agencies"), error("returns_due"), problems):
            assert "\n" not in message and "Traceback" not in message

        # Returns due after the audit day is refused too.
        screen.query_one("#agencies", SelectionList).select("police")
        await type_into(pilot, "#returns_due", "21/10/2026")
        await type_into(pilot, "#audit_day", "20/10/2026")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert error("returns_due") == "Returns due: must be on or before the audit day"
        assert error("agencies") == ""

        # A case reference already in the cohort: refused at once, the cohort unchanged.
        await add_case(pilot, "cse-26-01", "early-help", "0-4", "male", "Not recorded", "none")
        assert error("case") == "Case cse-26-01 is already in the cohort"
        assert [c.reference for c in screen.cases] == ["CSE-26-01", "CSE-26-02"]
        # And a reference that looks like a name or carries odd characters.
        await add_case(pilot, "Jane Smith!", "early-help", "0-4", "male", "Not recorded", "none")
        assert error("case").startswith("Reference: a case reference is a pseudonymous code")
        assert len(screen.cases) == 2

        assert audits.list_audits(sqlite_factory) == []

        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, PlanAuditScreen)
        assert audits.list_audits(sqlite_factory) == []


async def test_a_plan_the_store_refuses_is_offered_again_in_full(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    seen: list[Message] = []
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=(100, 40), message_hook=seen.append) as pilot:
        await settle(pilot)
        _, screen = await open_planner(app, pilot)
        await fill_valid_plan(pilot)
        # Someone retires an agency while the plan is being typed.
        with unit_of_work(sqlite_factory, ACTOR) as session:
            session.execute(update(Agency).where(Agency.code == "school").values(active=False))
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert audits.list_audits(sqlite_factory) == []
        [note] = [
            n.notification for n in notes_in(seen) if n.notification.title == "Audit not planned"
        ]
        assert note.severity == "error"
        assert note.message == (
            "The audit was not planned: unknown agency code(s): school. "
            "Your plan is open again to correct."
        )
        again = app.screen
        assert isinstance(again, PlanAuditScreen) and again is not screen
        assert again.query_one("#title", Input).value == "CSE audit, autumn 2026"
        assert again.query_one("#audit_day", Input).value == "20/10/2026"
        assert [c.reference for c in again.cases] == ["CSE-26-01", "CSE-26-02"]
        # The retired agency is no longer offered; the others are still chosen.
        assert again.query_one("#agencies", SelectionList).selected == [
            "childrens-social-care",
            "police",
        ]


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("02/10/2026", dt.date(2026, 10, 2)),
        ("2.10.2026", dt.date(2026, 10, 2)),
        ("2026-10-02", dt.date(2026, 10, 2)),
        ("  ", None),
    ],
)
def test_dates_are_read_day_first_or_iso(typed: str, day: dt.date | None) -> None:
    assert parse_day(typed) == day


@pytest.mark.parametrize("typed", ["10/20/2026", "2026/10/02", "tomorrow", "31/04/2026"])
def test_dates_that_are_not_dates_are_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_day(typed)


# Help and the palette


async def test_help_lists_every_key_of_the_screen_beneath(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    build_audits(sqlite_factory, registry)
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(OverviewScreen(sqlite_factory, today=TODAY))
        await settle(pilot)
        overview_screen = app.screen
        expected = {
            app.get_key_display(b.binding)
            for b in overview_screen.active_bindings.values()
            if not b.binding.system
        }
        await app.push_screen(HelpScreen())
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        titles = [g.title for g in help_screen.groups]
        assert titles[0] == "On this screen: Subgroup overview"
        assert titles[-1] == EVERYWHERE
        groups = {g.title: g for g in help_screen.groups}
        own = {k.keys: k for k in groups["On this screen: Subgroup overview"].keys}
        assert own["r"].description == "Refresh"
        assert own["r"].tooltip == "Read the figures again from the database"
        assert own["esc"].description == "Back"
        assert "In the focused data table" in groups  # the table's cursor keys too
        listed = {key for g in help_screen.groups for k in g.keys for key in k.keys.split()}
        assert expected <= listed
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is overview_screen


async def test_palette_offers_the_screens_verbs_and_the_theme_switch(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(OverviewScreen(sqlite_factory, today=TODAY))
        await settle(pilot)
        screen = app.screen
        provider = WorkbenchCommands(screen)
        hits = [hit async for hit in provider.discover()]
        assert all(isinstance(h, DiscoveryHit) for h in hits)
        names = [h.text for h in hits]
        assert names == ["Refresh", "Export", "Back", SHOW_KEYS, TOGGLE_THEME]
        helps = {h.text: h.help for h in hits}
        assert helps["Refresh"] == "Read the figures again from the database (r)"
        found = [hit.text async for hit in provider.search("theme")]
        assert found == [TOGGLE_THEME]

        verbs = {v.name: v for v in screen_verbs(screen)}
        start = app.theme
        verbs[TOGGLE_THEME].run()
        assert app.current_theme.dark != app.get_theme(start).dark  # type: ignore[union-attr]
        toggle_theme(app)
        assert app.theme == ("textual-dark" if app.get_theme(start).dark else "textual-light")  # type: ignore[union-attr]

        verbs[SHOW_KEYS].run()
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()

        await verbs["Back"].run()
        await pilot.pause()
        assert not isinstance(app.screen, OverviewScreen)


class PaletteApp(WorkbenchApp):
    """The app as the lead will wire it: the workbench's verbs in the palette."""

    # CSS_PATH is relative to the class's own module, so point it back at the app's file.
    CSS_PATH = str(Path(app_module.__file__).parent / "workbench.tcss")
    COMMANDS = WorkbenchApp.COMMANDS | {WorkbenchCommands}


async def test_the_real_palette_runs_the_theme_switch(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    app = PaletteApp(settings, sqlite_factory, ToolRegistry.load())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.theme = "textual-dark"
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"toggle dark")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "textual-light"


# Snapshots: fixed data, fixed dates, fixed size; workers finish before the shot.


def _no_blink(app: App[Any]) -> None:
    for field in app.screen.query(Input):
        field.cursor_blink = False


def _overview_run_before(factory: sessionmaker[Session]) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.app.push_screen(OverviewScreen(factory, today=TODAY))
        await settle(pilot)

    return run_before


def _plan_run_before(
    app: WorkbenchApp, factory: sessionmaker[Session]
) -> Callable[[Pilot[Any]], Any]:
    initial = AuditPlan(
        title="CSE audit, autumn 2026",
        tool_id="cse",
        tool_version=1,
        agencies=("police", "school"),
        cases=cohort(2),
        look_back_months=12,
        returns_due=dt.date(2026, 10, 2),
        audit_day=dt.date(2026, 10, 20),
        chair="Head of quality assurance",
    )

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        agencies = audits.list_agencies(factory)
        await app.push_screen(PlanAuditScreen(app.registry, agencies, initial=initial))
        await pilot.pause()
        _no_blink(app)
        await pilot.pause()

    return run_before


def _help_run_before(factory: sessionmaker[Session]) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _overview_run_before(factory)(pilot)
        await pilot.app.push_screen(HelpScreen())
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_overview_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    size: tuple[int, int],
) -> None:
    build_audits(sqlite_factory, registry)
    app = build_app(settings, sqlite_factory)
    assert snap_compare(app, terminal_size=size, run_before=_overview_run_before(sqlite_factory))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_plan_audit_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    size: tuple[int, int],
) -> None:
    app = build_app(settings, sqlite_factory)
    assert snap_compare(app, terminal_size=size, run_before=_plan_run_before(app, sqlite_factory))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_help_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    size: tuple[int, int],
) -> None:
    build_audits(sqlite_factory, registry)
    app = build_app(settings, sqlite_factory)
    assert snap_compare(app, terminal_size=size, run_before=_help_run_before(sqlite_factory))

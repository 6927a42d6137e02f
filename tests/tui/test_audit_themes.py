"""The audit lead's themes: recurring themes, theme x agency x grade, since last time, and a
learning item drafted from the most widespread theme."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import DataTable, Static, TextArea

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditDetail, FindingChange, ModerationHeading, VoiceSource
from schemas.learning import LearningFilter, TaggedKind
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services import audits, casework, learning, returns, theme_analysis, themes
from workbench.services.unit import unit_of_work
from workbench.store.models import Finding
from workbench.tui.app import WorkbenchApp
from workbench.tui.audit_themes_screen import ALL_AGENCIES, AuditThemesScreen
from workbench.tui.learning_dialog import LearningItemDialog
from workbench.tui.matrix_screen import AuditScreen

AGENCIES = ("gp", "police", "school")
AUDITOR = Actor(name="a.auditor", agency="police")
LEAD = Actor(name="t.tester")  # the settings fixture's actor: the app acts as this person
TODAY = dt.date(2026, 11, 23)
SIZE = (100, 36)
SnapCompare = Callable[..., bool]

# Grades per criterion and agency, the same in every case of an audit: 2026 is better than
# 2025 on cse-1.1, worse on cse-2.1 and the same on cse-2.2.
NOW = {
    "cse-1.1": {"gp": "good", "police": "outstanding", "school": "good"},
    "cse-2.1": {"gp": "inadequate", "police": "requires_improvement", "school": "inadequate"},
    "cse-2.2": {"gp": "good", "police": "not_evidenced", "school": "good"},
}
BEFORE = {
    "cse-1.1": {"gp": "requires_improvement", "police": "inadequate", "school": "inadequate"},
    "cse-2.1": {"gp": "good", "police": "good", "school": "outstanding"},
    "cse-2.2": {"gp": "good", "police": "good", "school": "good"},
}


@dataclass
class Seeded:
    now: AuditDetail
    before: AuditDetail
    # theme code -> the finding ids tagged with it in the 2026 audit
    tagged: dict[str, set[int]] = field(default_factory=dict)


def _plan(title: str, cases: int, day: dt.date) -> Any:
    return cse_plan(agencies=AGENCIES, cases=cases).model_copy(
        update={"title": title, "audit_day": day}
    )


def _record(
    factory: sessionmaker[Session], audit: AuditDetail, grades: dict[str, dict[str, str]]
) -> dict[tuple[str, str, str], int]:
    """Every case answered as `grades` says; {(case, agency, criterion): finding id}."""
    ids: dict[tuple[str, str, str], int] = {}
    for case in audit.cases:
        for agency in AGENCIES:
            rid = returns.find_return(factory, audit.id, case.reference, agency)
            for criterion, by_agency in grades.items():
                saved = returns.record_finding(
                    factory,
                    AUDITOR,
                    rid,
                    criterion,
                    FindingChange(
                        grade=by_agency[agency],
                        evidence=f"{agency} record: missing episodes and return interviews",
                    ),
                    expected_version=None,
                )
                ids[(case.reference, agency, criterion)] = saved.id
    return ids


def _tag(factory: sessionmaker[Session], seeded: Seeded, finding_id: int, *codes: str) -> None:
    current = themes.tags_of(factory, TaggedKind.FINDING, finding_id)
    themes.set_tags(factory, AUDITOR, TaggedKind.FINDING, finding_id, {*current, *codes})
    for code in codes:
        seeded.tagged.setdefault(code, set()).add(finding_id)


def seed(factory: sessionmaker[Session], registry: ToolRegistry) -> Seeded:
    """Two CSE audits a year apart, built with the services; 2026 has three themes tagged."""
    before = audits.create_audit(
        factory, AUDITOR, registry, _plan("CSE audit 2025", 3, dt.date(2025, 3, 31))
    )
    now = audits.create_audit(
        factory, AUDITOR, registry, _plan("CSE audit 2026", 5, dt.date(2026, 3, 31))
    )
    seeded = Seeded(now=now, before=before)
    earlier = _record(factory, before, BEFORE)
    themes.set_tags(
        factory,
        AUDITOR,
        TaggedKind.FINDING,
        earlier[(before.cases[0].reference, "police", "cse-2.1")],
        ["missing-children"],
    )
    ids = _record(factory, now, NOW)
    refs = [c.reference for c in now.cases]
    # Missing children: four of five cases, all three agencies (one finding not evidenced).
    for ref in refs[:4]:
        for agency in ("gp", "police"):
            _tag(factory, seeded, ids[(ref, agency, "cse-2.1")], "missing-children")
    _tag(factory, seeded, ids[(refs[0], "school", "cse-2.1")], "missing-children")
    _tag(factory, seeded, ids[(refs[0], "police", "cse-2.2")], "missing-children")
    # Information sharing: two cases, two agencies.
    for ref in refs[:2]:
        for agency in ("police", "school"):
            _tag(factory, seeded, ids[(ref, agency, "cse-1.1")], "information-sharing")
    # Voice of the child: a voice and a moderation reason in the last case, no findings.
    last = now.cases[4].id
    voice = casework.add_voice(
        factory, AUDITOR, last, VoiceSource.CHILD, "Nobody asked me why I kept running away"
    )
    themes.set_tags(factory, AUDITOR, TaggedKind.VOICE, voice.id, ["voice-of-the-child"])
    moderated = casework.set_moderated_grade(
        factory,
        AUDITOR,
        last,
        ModerationHeading.VOICE_OF_THE_CHILD,
        grade="inadequate",
        reasons="The child's own account is missing from every record",
        expected_version=0,
    )
    themes.set_tags(factory, AUDITOR, TaggedKind.MODERATION, moderated.id, ["voice-of-the-child"])
    return seeded


@pytest.fixture
def seeded(sqlite_factory: sessionmaker[Session], registry: ToolRegistry) -> Seeded:
    return seed(sqlite_factory, registry)


def app_for(
    settings: Settings, factory: sessionmaker[Session], registry: ToolRegistry
) -> WorkbenchApp:
    return WorkbenchApp(settings, factory, registry, database_label="workbench.db", today=TODAY)


def plain_rows(table: DataTable[Any]) -> dict[str, list[str]]:
    return {
        str(key.value): [c.plain if isinstance(c, Text) else str(c) for c in table.get_row(key)]
        for key in table.rows
    }


def notes(seen: list[Message]) -> list[Notify]:
    return [m for m in seen if isinstance(m, Notify)]


async def open_themes(app: WorkbenchApp, pilot: Pilot[None], audit_id: int) -> AuditThemesScreen:
    """From the audit's matrix, t."""
    await app.push_screen(AuditScreen(app.factory, app.actor, audit_id))
    await settle(pilot)
    await pilot.press("t")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, AuditThemesScreen)
    return screen


# --- what the screen shows ------------------------------------------------------------------


async def test_themes_screen_shows_what_the_services_count(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    seeded: Seeded,
) -> None:
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_themes(app, pilot, seeded.now.id)
        recurring = theme_analysis.recurring_themes(sqlite_factory, seeded.now.id)
        rows = plain_rows(screen.query_one("#themes", DataTable))
        # Most widespread first, as the service orders them, with "n of N" cases.
        assert (
            list(rows)
            == [t.code for t in recurring]
            == [
                "missing-children",
                "information-sharing",
                "voice-of-the-child",
            ]
        )
        assert rows["missing-children"] == ["Missing children", "4 of 5", "3", "10", "0", "0"]
        assert rows["information-sharing"][1:] == ["2 of 5", "2", "4", "0", "0"]
        assert rows["voice-of-the-child"][1:] == ["1 of 5", "0", "0", "1", "1"]

        # The grid of the highlighted theme: agencies down, the audit's scale across.
        grid = screen.query_one("#grid", DataTable)
        assert [str(c.label) for c in grid.columns.values()] == [
            "Agency",
            "1 Outst.",
            "2 Good",
            "3 RI",
            "4 Inad.",
            "Other",
            "Total",
        ]
        cells = plain_rows(grid)
        assert cells["gp"] == ["gp", "·", "·", "·", "4", "·", "4"]
        assert cells["police"] == ["police", "·", "·", "4", "·", "1", "5"]
        assert cells["school"] == ["school", "·", "·", "·", "1", "·", "1"]
        assert cells[ALL_AGENCIES] == [ALL_AGENCIES, "·", "·", "4", "5", "1", "10"]
        stored = theme_analysis.theme_grid(sqlite_factory, audit_id=seeded.now.id)
        assert stored.count("missing-children") == 10
        note = str(screen.query_one("#grid-note", Static).render())
        assert note == "Other: 1 not evidenced"

        # Moving down the themes redraws the grid for that theme.
        themes_table = screen.query_one("#themes", DataTable)
        themes_table.move_cursor(row=1)
        await pilot.pause()
        assert "Information sharing" in str(screen.query_one("#grid-title", Static).render())
        cells = plain_rows(grid)
        assert cells[ALL_AGENCIES] == [ALL_AGENCIES, "2", "2", "·", "·", "·", "4"]
        themes_table.move_cursor(row=2)
        await pilot.pause()
        assert grid.row_count == 0
        assert "voices or moderation only" in str(screen.query_one("#grid-note", Static).render())

        # Since the previous audit: improved, declined, unchanged, then → now; themes too.
        comparison = str(screen.query_one("#comparison", Static).render())
        assert "Compared with CSE audit 2025" in comparison
        improved = comparison.index("Improved (1)")
        declined = comparison.index("Declined (1)")
        unchanged = comparison.index("Unchanged (1)")
        assert improved < comparison.index("cse-1.1") < declined
        assert declined < comparison.index("cse-2.1") < unchanged
        assert "0% → 100%" in comparison and "100% → 0%" in comparison
        assert "100% → 100%" in comparison  # cse-2.2
        assert "Missing children     1 → 4" in comparison


async def test_with_no_previous_audit_the_note_says_so(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    seeded: Seeded,
) -> None:
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_themes(app, pilot, seeded.before.id)
        comparison = str(screen.query_one("#comparison", Static).render())
        assert comparison == (
            "No earlier audit of Child sexual exploitation multi-agency case audit "
            "on the same scale."
        )
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)


async def test_an_audit_with_no_themes_says_how_to_tag(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    audit = audits.create_audit(
        sqlite_factory, AUDITOR, registry, _plan("CSE audit 2027", 2, dt.date(2027, 3, 31))
    )
    seen: list[Message] = []
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = await open_themes(app, pilot, audit.id)
        assert screen.has_class("-no-themes")
        assert screen.query_one("#no-themes", Static).display
        await pilot.press("l")
        await settle(pilot)
        assert app.screen is screen
        assert [n.notification.message for n in notes(seen)] == [
            "There is no theme to draft from yet."
        ]


# --- the journey: a learning item from the most widespread theme -----------------------------


async def test_learning_item_from_a_recurring_theme(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    seeded: Seeded,
) -> None:
    seen: list[Message] = []
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = await open_themes(app, pilot, seeded.now.id)
        assert screen.highlighted_theme is not None
        assert screen.highlighted_theme.code == "missing-children"  # the most widespread first
        await pilot.press("l")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, LearningItemDialog)
        assert str(dialog.query_one("#linked", Static).render()) == (
            "10 findings linked as evidence"
        )
        evidence = dialog.query_one("#evidence", TextArea).text
        assert evidence.startswith(
            "Missing children recurred in 4 of 5 cases across 3 agencies "
            "(10 findings, 0 voices, 0 moderation reasons)."
        )
        assert "- Case CSE-25-01, gp, cse-2.1: Inadequate" in evidence
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen

    [item] = learning.list_learning(sqlite_factory, LearningFilter())
    assert item.reference == "LL-2026-001"
    assert item.raised_on == TODAY
    assert item.audit_id == seeded.now.id
    assert item.themes == ("missing-children",)
    assert item.agencies == AGENCIES
    assert {link.finding_id for link in item.evidence_links} == seeded.tagged["missing-children"]
    assert item.created_by == LEAD.name
    messages = [n.notification.message for n in notes(seen)]
    assert any(m.startswith("LL-2026-001 added to the learning log") for m in messages)


async def test_a_learning_item_that_cannot_be_saved_comes_back_as_written(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    seeded: Seeded,
) -> None:
    seen: list[Message] = []
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await open_themes(app, pilot, seeded.now.id)
        await pilot.press("l")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, LearningItemDialog)
        dialog.query_one("#learning", TextArea).load_text("Return interviews are not shared.")
        # One of the findings the draft links to is deleted before the lead saves.
        gone = min(seeded.tagged["missing-children"])
        with unit_of_work(sqlite_factory, LEAD) as session:
            finding = session.get(Finding, gone)
            assert finding is not None
            session.delete(finding)
        await pilot.press("ctrl+s")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, LearningItemDialog) and again is not dialog
        assert again.query_one("#learning", TextArea).text == "Return interviews are not shared."
        errors = [n.notification for n in notes(seen) if n.notification.severity == "error"]
        assert len(errors) == 1 and f"no finding with id {gone}" in errors[0].message
        await pilot.press("escape")
        await settle(pilot)
    assert learning.list_learning(sqlite_factory, LearningFilter()) == []


# --- snapshot -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_themes_screen_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    size: tuple[int, int],
) -> None:
    seeded = seed(sqlite_factory, registry)
    app = app_for(settings, sqlite_factory, registry)

    async def open_screen(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await app.push_screen(AuditThemesScreen(sqlite_factory, LEAD, seeded.now.id, TODAY))
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=open_screen)

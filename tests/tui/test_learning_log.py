"""The learning log: adding learning by hand, search and filters, sign-off, drafts, the look."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, Select, SelectionList, Static, TextArea

from audit_tools import ToolRegistry
from schemas.audit import Actor, FindingChange
from schemas.learning import (
    LearningFilter,
    LearningItemChange,
    LearningItemIn,
    LearningItemOut,
    LearningSource,
    LearningStatus,
    SharedHow,
    TaggedKind,
    ThemeIn,
)
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services import audits, learning, returns, themes
from workbench.tui.app import WorkbenchApp
from workbench.tui.learning_dialog import LearningEditDialog, LearningItemDialog, LearningItemFlow
from workbench.tui.learning_screen import NOTHING_MATCHES, SEARCH_DEBOUNCE, LearningLogScreen

TODAY = dt.date(2026, 11, 23)
LEAD = Actor(name="t.tester")  # the settings fixture's actor: the app acts as this person
SEEDER = Actor(name="s.subgroup", agency="police")
SIZE = (120, 34)
SnapCompare = Callable[..., bool]


def seed(factory: sessionmaker[Session]) -> tuple[LearningItemOut, LearningItemOut]:
    """A theme vocabulary and two items: one not yet shared, one shared at a briefing."""
    for code, label in (
        ("information-sharing", "Information sharing"),
        ("voice-of-child", "Voice of the child"),
        ("supervision", "Supervision"),
    ):
        themes.save_theme(factory, SEEDER, ThemeIn(code=code, label=label))
    unshared = learning.create_learning_item(
        factory,
        SEEDER,
        LearningItemIn(
            raised_on=dt.date(2026, 3, 2),
            source=LearningSource.PRACTITIONER_FEEDBACK,
            learning="Practitioners want shorter strategy discussions",
            evidence="Feedback from two practitioner forums",
            themes=("information-sharing",),
            agencies=("police",),
        ),
    )
    shared = learning.create_learning_item(
        factory,
        SEEDER,
        LearningItemIn(
            raised_on=dt.date(2026, 5, 10),
            source=LearningSource.RESEARCH,
            learning="Children's words should be recorded verbatim",
            themes=("voice-of-child",),
            agencies=("school", "childrens-social-care"),
            shared_how=(SharedHow.BRIEFING,),
            impact_evidence="Dip sample: quotes in 8 of 10 records",
            reaudit_on=dt.date(2027, 5, 1),
        ),
    )
    shared = learning.update_learning_item(
        factory, SEEDER, shared.id, LearningItemChange(status=LearningStatus.SHARED)
    )
    return unshared, shared


def top(app: WorkbenchApp) -> Screen[Any]:
    """The screen on top now (a function, so a type checker does not carry narrowing over)."""
    return app.screen


def build_app(settings: Settings, factory: sessionmaker[Session]) -> WorkbenchApp:
    return WorkbenchApp(settings, factory, database_label="workbench.db", today=TODAY)


def row_ids(app: WorkbenchApp) -> list[int]:
    table: DataTable[Any] = app.screen.query_one("#items", DataTable)
    return [int(str(key.value)) for key in table.rows]


def row_of(app: WorkbenchApp, item_id: int) -> list[str]:
    table: DataTable[Any] = app.screen.query_one("#items", DataTable)
    return [c.plain if isinstance(c, Text) else str(c) for c in table.get_row(str(item_id))]


def detail(app: WorkbenchApp) -> str:
    return str(app.screen.query_one("#detail-text", Static).render())


def problem(app: WorkbenchApp) -> str:
    return str(app.screen.query_one("#problem", Static).render())


def notes(seen: list[Message]) -> list[str]:
    return [m.notification.message for m in seen if isinstance(m, Notify)]


async def open_log(app: WorkbenchApp, pilot: Pilot[Any]) -> LearningLogScreen:
    await settle(pilot)
    await pilot.press("l")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, LearningLogScreen)
    return screen


async def type_text(pilot: Pilot[Any], selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector).focus()
    await pilot.pause()
    await pilot.press(*text)


async def searched(pilot: Pilot[Any]) -> None:
    """Wait out the search box's pause-for-typing, then for the search itself."""
    await pilot.pause(SEARCH_DEBOUNCE + 0.1)
    await settle(pilot)


async def test_new_learning_item_by_hand_then_search_and_filter(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    unshared, shared = seed(sqlite_factory)
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_log(app, pilot)
        assert row_ids(app) == [shared.id, unshared.id]  # newest first
        assert row_of(app, shared.id)[:5] == [
            "LL-2026-002",
            "10 May 2026",
            "Research",
            "Shared",
            "Voice of the child",
        ]
        assert "Children's words should be recorded verbatim" in detail(app)
        assert "How shared: Briefing" in detail(app)
        assert "Agencies: Children's social care, Schools" in detail(app)

        await pilot.press("n")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, LearningItemDialog)
        assert dialog.query_one("#raised", Input).value == "2026-11-23"  # today by default
        await type_text(pilot, "#learning", "Invite schools")
        dialog.query_one("#raised", Input).value = "20/11/2026"
        dialog.query_one("#source", Select).value = LearningSource.SECTION_11.value
        dialog.query_one("#themes", SelectionList).select("information-sharing")
        for code in ("school", "police"):
            dialog.query_one("#agencies", SelectionList).select(code)
        await pilot.press("ctrl+s")
        await pilot.pause()
        # A date the other way round is refused in the dialog, and nothing typed is lost.
        assert top(app) is dialog
        assert problem(app) == (
            "Not saved yet: Raised on: '20/11/2026' is not a date like 2026-11-23."
        )
        assert dialog.query_one("#learning", TextArea).text == "Invite schools"
        dialog.query_one("#raised", Input).value = "2026-11-20"
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert top(app) is screen
        [made] = learning.list_learning(sqlite_factory, LearningFilter(text="invite SCHOOLS"))
        assert made.reference == "LL-2026-003"
        assert made.raised_on == dt.date(2026, 11, 20)
        assert made.source is LearningSource.SECTION_11
        assert made.learning == "Invite schools"
        assert made.themes == ("information-sharing",)
        assert made.agencies == ("police", "school")
        assert made.status is LearningStatus.OPEN
        assert made.created_by == LEAD.name
        assert made.audit_id is None and made.evidence_links == ()
        # The log read itself again and sits on the new item.
        assert row_ids(app) == [made.id, shared.id, unshared.id]
        highlighted = screen.highlighted()
        assert highlighted is not None and highlighted.id == made.id

        # The search box narrows the list once the typing pauses.
        await pilot.press("slash")
        await pilot.pause()
        assert screen.focused is screen.query_one("#search", Input)
        await pilot.press(*"verbatim")
        await searched(pilot)
        assert row_ids(app) == [shared.id]
        assert screen.listing.where == LearningFilter(text="verbatim")
        await pilot.press("escape")  # leaves the search box, not the screen
        await pilot.pause()
        assert top(app) is screen
        screen.query_one("#search", Input).value = ""
        await searched(pilot)
        assert len(row_ids(app)) == 3

        # A filter narrows it too; filters and words together can leave nothing.
        screen.query_one("#theme", Select).value = "information-sharing"
        await settle(pilot)
        assert row_ids(app) == [made.id, unshared.id]
        screen.query_one("#agency", Select).value = "police"
        screen.query_one("#source", Select).value = LearningSource.PRACTITIONER_FEEDBACK.value
        await settle(pilot)
        assert row_ids(app) == [unshared.id]
        screen.query_one("#status", Select).value = LearningStatus.SIGNED_OFF.value
        await settle(pilot)
        assert row_ids(app) == []
        assert screen.has_class("-empty")
        assert str(screen.query_one("#empty", Static).render()) == NOTHING_MATCHES


async def test_sign_off_is_refused_until_the_item_is_shared(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    unshared, _shared = seed(sqlite_factory)
    seen: list[Message] = []
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = await open_log(app, pilot)
        screen.query_one("#items", DataTable).move_cursor(row=1)
        await pilot.pause()
        assert "Practitioners want shorter strategy discussions" in detail(app)

        await pilot.press("s")
        await settle(pilot)
        refusal = (
            "Could not sign LL-2026-001 off: LL-2026-001 has not been shared yet; "
            "record how it was shared first"
        )
        assert refusal in notes(seen)
        assert learning.get_learning_item(sqlite_factory, unshared.id).status is (
            LearningStatus.OPEN
        )

        # Record how it was shared (and the impact), then sign it off.
        await pilot.press("e")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, LearningEditDialog)
        assert dialog.query_one("#learning", TextArea).text == unshared.learning
        shared_list = dialog.query_one("#shared", SelectionList)
        shared_list.focus()
        await pilot.pause()
        await pilot.press("space")  # the first way of sharing: a briefing
        dialog.query_one("#impact", TextArea).text = "Strategy meetings now under an hour"
        dialog.query_one("#status", Select).value = LearningStatus.SHARED.value
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert top(app) is screen
        item = learning.get_learning_item(sqlite_factory, unshared.id)
        assert item.shared_how == (SharedHow.BRIEFING,)
        assert item.impact_evidence == "Strategy meetings now under an hour"
        assert item.status is LearningStatus.SHARED

        await pilot.press("s")
        await settle(pilot)
        item = learning.get_learning_item(sqlite_factory, unshared.id)
        assert item.status is LearningStatus.SIGNED_OFF
        assert (item.signed_off_by, item.signed_off_on) == (LEAD.name, TODAY)
        assert row_of(app, unshared.id)[3] == "Signed off"
        assert "Sign-off: t.tester on 23 Nov 2026" in detail(app)

        # Changing a signed-off item without reopening it is refused; what was typed comes back.
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#learning", TextArea).text = "Shorter, better-chaired discussions"
        await pilot.press("ctrl+s")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, LearningEditDialog)
        assert problem(app) == (
            "Not saved: LL-2026-001 is signed off; reopen it (status open) to change it"
        )
        assert again.query_one("#learning", TextArea).text == "Shorter, better-chaired discussions"
        assert learning.get_learning_item(sqlite_factory, unshared.id).learning == unshared.learning
        again.query_one("#status", Select).value = LearningStatus.OPEN.value
        await pilot.press("ctrl+s")
        await settle(pilot)
        item = learning.get_learning_item(sqlite_factory, unshared.id)
        assert item.learning == "Shorter, better-chaired discussions"
        assert item.status is LearningStatus.OPEN and item.signed_off_by is None


async def test_a_draft_from_a_theme_keeps_its_evidence_and_survives_a_failed_save(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    seed(sqlite_factory)
    audit = audits.create_audit(sqlite_factory, SEEDER, registry, cse_plan())
    for case, agency, criterion in (
        ("CSE-25-01", "police", "cse-1.1"),
        ("CSE-25-02", "school", "cse-1.1"),
    ):
        return_id = returns.find_return(sqlite_factory, audit.id, case, agency)
        finding = returns.record_finding(
            sqlite_factory,
            SEEDER,
            return_id,
            criterion,
            FindingChange(grade="requires_improvement"),
            expected_version=None,
        )
        themes.set_tags(sqlite_factory, SEEDER, TaggedKind.FINDING, finding.id, ["voice-of-child"])
    draft = learning.draft_from_theme(sqlite_factory, audit.id, "voice-of-child", today=TODAY)
    assert len(draft.finding_ids) == 2

    made: list[LearningItemOut] = []
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_log(app, pilot)

        def flow_for() -> LearningItemFlow:
            return LearningItemFlow(
                screen,
                sqlite_factory,
                app.actor,
                screen.choices.themes,
                screen.choices.agencies,
                today=TODAY,
                on_created=made.append,
            )

        # A draft the store refuses (evidence that does not exist) comes back whole.
        broken = draft.model_copy(update={"finding_ids": (*draft.finding_ids, 99999)})
        flow_for().start(broken)
        await settle(pilot)
        assert isinstance(app.screen, LearningItemDialog)
        assert str(app.screen.query_one("#linked", Static).render()) == (
            "3 findings linked as evidence"
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, LearningItemDialog)
        assert problem(app) == "Not saved: no finding with id 99999"
        assert again.query_one("#learning", TextArea).text == draft.learning
        await pilot.press("escape")
        await settle(pilot)
        assert made == []

        # The real draft: everything filled in; the user rewrites the learning and saves.
        flow_for().start(draft)
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, LearningItemDialog)
        assert str(dialog.query_one("#linked", Static).render()) == "2 findings linked as evidence"
        assert dialog.query_one("#evidence", TextArea).text == draft.evidence
        assert dialog.query_one("#themes", SelectionList).selected == ["voice-of-child"]
        assert sorted(dialog.query_one("#agencies", SelectionList).selected) == ["police", "school"]
        dialog.query_one("#learning", TextArea).text = "Record what children say, in their words"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert top(app) is screen
        [item] = made
        assert item.learning == "Record what children say, in their words"
        assert item.audit_id == audit.id
        assert item.source is LearningSource.CASE_AUDIT
        assert sorted(link.finding_id for link in item.evidence_links) == sorted(draft.finding_ids)
        await pilot.press("r")  # this flow's caller refreshes nothing: the log reads on asking
        await settle(pilot)
        assert row_ids(app)[0] == item.id
        screen.query_one("#items", DataTable).move_cursor(row=0)
        await pilot.pause()
        assert "CSE-25-01 / police / cse-1.1: requires improvement" in detail(app)


def test_learning_log_snapshot(
    snap_compare: SnapCompare, settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    seed(sqlite_factory)
    app = build_app(settings, sqlite_factory)

    async def open_screen(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_screen)

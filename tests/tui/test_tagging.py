"""Tagging findings, voices and moderated grades with themes: suggested, shown, never applied
unasked; exactly what the user ticked is stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from textual.binding import Binding
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import SelectionList, Static, TextArea

from audit_tools import ToolRegistry
from schemas.audit import Actor, FindingChange, ModerationHeading, VoiceSource
from schemas.learning import TaggedKind
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services import themes
from workbench.services.audits import create_audit
from workbench.services.casework import add_voice, moderated_grades, set_moderated_grade
from workbench.services.returns import find_return, get_return, record_finding
from workbench.tui.app import WorkbenchApp
from workbench.tui.moderation_screen import ModerationScreen
from workbench.tui.return_screen import ReturnScreen
from workbench.tui.theme_picker import ThemePicker, picker_entries
from workbench.tui.voices import VoiceItem, VoicesScreen

ACTOR = Actor(name="a.auditor", agency="police")
LEAD = Actor(name="t.tester")
SIZE = (100, 32)
TODAY = dt.date(2026, 11, 23)
EVIDENCE = "No return home interview after the missing episode; the GP was not told."


@dataclass(frozen=True)
class PoliceReturn:
    audit_id: int
    case_id: int
    return_id: int
    criteria: tuple[str, ...]


@pytest.fixture
def police_return(sqlite_factory: sessionmaker[Session], registry: ToolRegistry) -> PoliceReturn:
    detail = create_audit(
        sqlite_factory, ACTOR, registry, cse_plan(agencies=("police", "school"), cases=1)
    )
    return_id = find_return(sqlite_factory, detail.id, "CSE-25-01", "police")
    criteria = tuple(c.id for c in registry.definition("cse").tool.criteria_for("police"))
    return PoliceReturn(detail.id, detail.cases[0].id, return_id, criteria)


def build_app(
    settings: Settings, factory: sessionmaker[Session], registry: ToolRegistry
) -> WorkbenchApp:
    return WorkbenchApp(settings, factory, registry, today=TODAY)


async def open_return(
    pilot: Pilot[None], factory: sessionmaker[Session], return_id: int
) -> ReturnScreen:
    screen = ReturnScreen(factory, ACTOR, return_id)
    await pilot.app.push_screen(screen)
    await settle(pilot)
    assert pilot.app.screen is screen
    return screen


async def open_picker(pilot: Pilot[None]) -> ThemePicker:
    await pilot.press("ctrl+r")
    await settle(pilot)
    picker = pilot.app.screen
    assert isinstance(picker, ThemePicker), [n.message for n in pilot.app._notifications]
    return picker


def top(pilot: Pilot[None]) -> Screen[Any]:
    """The screen on top now (a function, so a type checker does not keep an earlier answer)."""
    return pilot.app.screen


def listed(picker: ThemePicker) -> SelectionList[str]:
    return picker.query_one("#themes", SelectionList)


def shown_codes(picker: ThemePicker) -> list[str]:
    options = listed(picker)
    return [options.get_option_at_index(i).value for i in range(options.option_count)]


async def highlight(pilot: Pilot[None], picker: ThemePicker, code: str) -> None:
    options = listed(picker)
    options.highlighted = shown_codes(picker).index(code)
    await pilot.pause()


def finding_id(factory: sessionmaker[Session], return_id: int, criterion: str) -> int:
    return next(
        f.id for f in get_return(factory, return_id).findings if f.criterion_id == criterion
    )


def notices(pilot: Pilot[None]) -> list[str]:
    return [n.message for n in pilot.app._notifications]


def themes_line(screen: ReturnScreen) -> Static:
    return screen.query_one("#themes", Static)


# -- findings ----------------------------------------------------------------------------------


async def test_tagging_a_finding_offers_suggestions_and_stores_exactly_what_was_ticked(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    first = police_return.criteria[0]
    app = build_app(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        screen.query_one("#evidence", TextArea).focus()
        await pilot.pause()
        await pilot.press(*EVIDENCE)
        # At once, before the autosave's pause: the picker saves first and reads the editor.
        picker = await open_picker(pilot)

        suggested = [e for e in picker.entries if e.suggestion is not None]
        assert [e.theme.code for e in suggested] == ["missing-children", "health-involvement"]
        assert shown_codes(picker)[:2] == ["missing-children", "health-involvement"]
        prompt = str(listed(picker).get_option_at_index(0).prompt)
        assert prompt.startswith("Missing children")
        assert "suggested: matched “return home interview”, “missing episode”" in prompt
        assert listed(picker).selected == []  # suggested, never ticked for the user
        assert "2 suggested, not ticked" in str(picker.query_one("#summary", Static).render())

        await pilot.press("space")  # the highlighted first suggestion
        await pilot.press("slash", *"drift", "enter", "space")  # one more, found by filtering
        assert picker.chosen() == ("drift-delay", "missing-children")
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert top(pilot) is screen
        tagged = finding_id(sqlite_factory, police_return.return_id, first)
        assert get_return(sqlite_factory, police_return.return_id).findings[0].evidence == EVIDENCE
        assert themes.tags_of(sqlite_factory, TaggedKind.FINDING, tagged) == (
            "drift-delay",
            "missing-children",
        )
        line = themes_line(screen)
        assert line.display
        assert str(line.render()) == "Themes: Drift and delay, Missing children"

        # The line follows the criterion shown.
        await pilot.press("ctrl+n")
        assert not themes_line(screen).display
        await pilot.press("ctrl+b")
        assert str(themes_line(screen).render()) == "Themes: Drift and delay, Missing children"

        picker = await open_picker(pilot)
        assert sorted(listed(picker).selected) == ["drift-delay", "missing-children"]
        await highlight(pilot, picker, "missing-children")
        await pilot.press("space")  # untick
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert themes.tags_of(sqlite_factory, TaggedKind.FINDING, tagged) == ("drift-delay",)
        assert str(themes_line(screen).render()) == "Themes: Drift and delay"


async def test_escape_leaves_the_themes_as_they_were(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    first = police_return.criteria[0]
    record_finding(
        sqlite_factory,
        ACTOR,
        police_return.return_id,
        first,
        FindingChange(evidence=EVIDENCE),
        expected_version=0,
    )
    tagged = finding_id(sqlite_factory, police_return.return_id, first)
    themes.set_tags(sqlite_factory, ACTOR, TaggedKind.FINDING, tagged, ["neglect"])
    app = build_app(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        # Read from the store when the return opens.
        assert str(themes_line(screen).render()) == "Themes: Neglect"
        picker = await open_picker(pilot)
        await pilot.press("a")  # tick every suggestion ...
        assert picker.chosen() == ("health-involvement", "missing-children", "neglect")
        await pilot.press("escape")  # ... and think better of it
        await settle(pilot)
        assert top(pilot) is screen
        assert themes.tags_of(sqlite_factory, TaggedKind.FINDING, tagged) == ("neglect",)
        assert str(themes_line(screen).render()) == "Themes: Neglect"


async def test_a_finding_with_nothing_written_is_not_tagged(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert top(pilot) is screen
        assert "Write or grade this finding first" in notices(pilot)[-1]


async def test_retired_themes_show_only_where_applied(
    sqlite_factory: sessionmaker[Session],
) -> None:
    vocabulary = themes.list_themes(sqlite_factory)
    neglect = next(t for t in vocabulary if t.code == "neglect")
    retired = neglect.model_copy(update={"active": False})
    others = [t for t in vocabulary if t.code != "neglect"]
    assert "neglect" not in [e.theme.code for e in picker_entries([*others, retired], (), [])]
    [entry] = [
        e for e in picker_entries([*others, retired], ("neglect",), []) if not e.theme.active
    ]
    assert "(retired)" in str(entry.prompt())


# -- voices and moderated grades ---------------------------------------------------------------


async def test_tagging_a_voice(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    voice = add_voice(
        sqlite_factory,
        ACTOR,
        police_return.case_id,
        VoiceSource.CHILD,
        "Nobody asked me why I ran away. My mum's new partner shouts.",
    )
    app = build_app(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = VoicesScreen(sqlite_factory, ACTOR, police_return.case_id)
        await app.push_screen(screen)
        await settle(pilot)
        await pilot.press("ctrl+r")  # no voice chosen yet: said, nothing opened
        assert top(pilot) is screen
        assert "Choose a voice first" in str(screen.query_one("#problem", Static).render())

        item = screen.query_one(VoiceItem)
        item.focus()
        await pilot.pause()
        assert screen.chosen_voice == voice.id
        picker = await open_picker(pilot)
        suggested = [e.theme.code for e in picker.entries if e.suggestion is not None]
        assert suggested == ["missing-children", "perpetrator-visibility"]
        assert listed(picker).selected == []
        await pilot.press("a", "ctrl+s")
        await settle(pilot)

        assert top(pilot) is screen
        assert themes.tags_of(sqlite_factory, TaggedKind.VOICE, voice.id) == (
            "missing-children",
            "perpetrator-visibility",
        )
        assert "Themes: Missing children, Perpetrator visibility" in str(item.render())
        assert app.focused is item


async def test_tagging_a_moderated_grade(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    case_id = police_return.case_id
    app = build_app(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = ModerationScreen(sqlite_factory, LEAD, case_id)
        await app.push_screen(screen)
        await settle(pilot)
        assert screen.editing is ModerationHeading.OVERALL
        await pilot.press("ctrl+r")  # nothing saved for the heading yet
        await settle(pilot)
        assert top(pilot) is screen
        assert "Save a moderated grade for Overall first" in notices(pilot)[-1]

        set_moderated_grade(
            sqlite_factory,
            LEAD,
            case_id,
            ModerationHeading.OVERALL,
            grade="requires_improvement",
            reasons="Drift after the strategy meeting; no escalation.",
            expected_version=0,
        )
        screen.action_refresh()
        await settle(pilot)
        picker = await open_picker(pilot)
        suggested = [e.theme.code for e in picker.entries if e.suggestion is not None]
        assert set(suggested) == {"drift-delay", "multi-agency-working", "thresholds-escalation"}
        assert listed(picker).selected == []
        await highlight(pilot, picker, "drift-delay")
        await pilot.press("space", "ctrl+s")
        await settle(pilot)

        [grade] = moderated_grades(sqlite_factory, case_id)
        assert themes.tags_of(sqlite_factory, TaggedKind.MODERATION, grade.id) == ("drift-delay",)
        reasons = screen.query_one("#reasons", TextArea)
        assert str(reasons.border_title) == "Themes: Drift and delay"


async def test_theme_bindings_have_ids_and_tooltips() -> None:
    for screen in (ReturnScreen, VoicesScreen, ModerationScreen, ThemePicker):
        for binding in screen.BINDINGS:
            assert isinstance(binding, Binding)
            assert binding.id and binding.tooltip, binding
    keys = {
        b.id: b.key
        for b in (*ReturnScreen.BINDINGS, *VoicesScreen.BINDINGS)
        if isinstance(b, Binding)
    }
    assert keys["return.themes"] == keys["voices.themes"] == "ctrl+r"


def test_tags_for_return_reads_every_findings_themes(
    sqlite_factory: sessionmaker[Session], police_return: PoliceReturn
) -> None:
    ids = []
    for criterion in police_return.criteria[:3]:
        stored = record_finding(
            sqlite_factory,
            ACTOR,
            police_return.return_id,
            criterion,
            FindingChange(evidence="x"),
            expected_version=0,
        )
        ids.append(stored.id)
    themes.set_tags(sqlite_factory, ACTOR, TaggedKind.FINDING, ids[0], ["neglect", "drift-delay"])
    themes.set_tags(sqlite_factory, ACTOR, TaggedKind.FINDING, ids[2], ["housing"])
    assert themes.tags_for_return(sqlite_factory, police_return.return_id) == {
        ids[0]: ("drift-delay", "neglect"),
        ids[2]: ("housing",),
    }


# -- snapshot ----------------------------------------------------------------------------------

SnapCompare = Callable[..., bool]


def _picker(
    factory: sessionmaker[Session], prepared: PoliceReturn
) -> Callable[[Pilot[None]], object]:
    record_finding(
        factory,
        ACTOR,
        prepared.return_id,
        prepared.criteria[0],
        FindingChange(evidence=EVIDENCE),
        expected_version=0,
    )
    tagged = finding_id(factory, prepared.return_id, prepared.criteria[0])
    themes.set_tags(factory, ACTOR, TaggedKind.FINDING, tagged, ["neglect"])

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.app.push_screen(ReturnScreen(factory, ACTOR, prepared.return_id))
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ThemePicker)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_theme_picker_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
    size: tuple[int, int],
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    assert snap_compare(app, terminal_size=size, run_before=_picker(sqlite_factory, police_return))

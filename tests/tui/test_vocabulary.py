"""The theme vocabulary editor: add, edit keywords, retire and restore, delete only when unused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from textual.binding import Binding
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, SelectionList, Static

from audit_tools import ToolRegistry
from schemas.audit import Actor, FindingChange
from schemas.learning import TaggedKind, ThemeIn, ThemeOut
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services import themes
from workbench.services.audits import create_audit
from workbench.services.returns import find_return, record_finding
from workbench.tui.app import WorkbenchApp
from workbench.tui.home import HomeScreen
from workbench.tui.theme_picker import ThemePicker
from workbench.tui.vocabulary_screen import (
    ThemeDialog,
    VocabularyScreen,
    code_from_label,
    parse_keywords,
)

ACTOR = Actor(name="a.auditor", agency="police")
SIZE = (100, 30)
TODAY = dt.date(2026, 11, 23)


def build_app(settings: Settings, factory: sessionmaker[Session]) -> WorkbenchApp:
    return WorkbenchApp(settings, factory, today=TODAY)


async def open_vocabulary(pilot: Pilot[None]) -> VocabularyScreen:
    await settle(pilot)
    assert isinstance(pilot.app.screen, HomeScreen)
    await pilot.press("v")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, VocabularyScreen)
    return screen


def top(pilot: Pilot[None]) -> Screen[Any]:
    """The screen on top now (a function, so a type checker does not keep an earlier answer)."""
    return pilot.app.screen


def theme(factory: sessionmaker[Session], code: str) -> ThemeOut | None:
    return next((t for t in themes.list_themes(factory) if t.code == code), None)


def message(screen: VocabularyScreen) -> str:
    return str(screen.query_one("#message", Static).render())


async def go_to(pilot: Pilot[None], screen: VocabularyScreen, code: str) -> None:
    table = screen.query_one("#vocabulary", DataTable)
    table.move_cursor(row=table.get_row_index(code))
    await pilot.pause()
    highlighted = screen.highlighted()
    assert highlighted is not None and highlighted.code == code


async def fill(pilot: Pilot[None], dialog: ThemeDialog, field: str, text: str) -> None:
    box = dialog.query_one(f"#{field}", Input)
    box.focus()
    box.value = ""
    await pilot.press(*text)


def codes_offered(picker: ThemePicker) -> list[str]:
    options = picker.query_one("#themes", SelectionList)
    return [options.get_option_at_index(i).value for i in range(options.option_count)]


async def test_add_edit_retire_restore_and_delete_a_theme(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_vocabulary(pilot)
        table = screen.query_one("#vocabulary", DataTable)
        assert table.row_count == len(themes.list_themes(sqlite_factory)) > 0

        # Add: the code is asked for only here.
        await pilot.press("n")
        dialog = app.screen
        assert isinstance(dialog, ThemeDialog)
        await fill(pilot, dialog, "code", "online-harm")
        await fill(pilot, dialog, "label", "Online harm")
        await fill(pilot, dialog, "keywords", "social media, sexting")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert top(pilot) is screen
        added = theme(sqlite_factory, "online-harm")
        assert added is not None
        assert (added.label, added.keywords, added.active) == (
            "Online harm",
            ("social media", "sexting"),
            True,
        )
        assert screen.highlighted() == added  # the cursor follows the theme just saved
        assert "Online harm" in str(screen.query_one("#detail", Static).render())

        # Edit its keywords: suggestions then find it by the new one.
        text = "She met him in a chat room."
        assert "online-harm" not in [s.code for s in themes.suggest_for_text(sqlite_factory, text)]
        await pilot.press("e")
        editing = app.screen
        assert isinstance(editing, ThemeDialog)
        assert not editing.query("#code")  # a saved theme's code is fixed
        await fill(pilot, editing, "keywords", "social media, sexting, chat room")
        await pilot.press("ctrl+s")
        await settle(pilot)
        [suggestion] = [
            s for s in themes.suggest_for_text(sqlite_factory, text) if s.code == "online-harm"
        ]
        assert suggestion.matched == ("chat room",)

        # Retire: no longer offered in the picker; x again restores it.
        await pilot.press("x")
        await settle(pilot)
        retired = theme(sqlite_factory, "online-harm")
        assert retired is not None and not retired.active
        assert "Retired Online harm" in message(screen)
        await app.push_screen(
            ThemePicker(
                themes.list_themes(sqlite_factory),
                (),
                themes.suggest_for_text(sqlite_factory, text),
            )
        )
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ThemePicker)
        assert "online-harm" not in codes_offered(picker)
        await pilot.press("escape")
        await pilot.pause()
        assert top(pilot) is screen
        await pilot.press("x")
        await settle(pilot)
        restored = theme(sqlite_factory, "online-harm")
        assert restored is not None and restored.active

        # Delete an unused theme: asked twice, then gone.
        await pilot.press("delete")
        assert "Press Delete again" in message(screen)
        assert theme(sqlite_factory, "online-harm") is not None
        await pilot.press("delete")
        await settle(pilot)
        assert theme(sqlite_factory, "online-harm") is None
        assert "online-harm" not in [str(k.value) for k in table.rows]


async def test_a_theme_in_use_is_not_deleted(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    detail = create_audit(
        sqlite_factory, ACTOR, registry, cse_plan(agencies=("police", "school"), cases=1)
    )
    return_id = find_return(sqlite_factory, detail.id, "CSE-25-01", "police")
    finding = record_finding(
        sqlite_factory,
        ACTOR,
        return_id,
        "cse-1.1",
        FindingChange(evidence="Neglected home conditions."),
        expected_version=0,
    )
    themes.set_tags(sqlite_factory, ACTOR, TaggedKind.FINDING, finding.id, ["neglect"])
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_vocabulary(pilot)
        await go_to(pilot, screen, "neglect")
        await pilot.press("delete", "delete")
        await settle(pilot)
        assert theme(sqlite_factory, "neglect") is not None
        said = message(screen)
        assert said == (
            "Could not delete neglect: "
            "the theme neglect is in use; retire it instead of deleting it"
        )
        assert "\n" not in said


async def test_the_dialog_refuses_a_bad_or_taken_code_and_keeps_what_was_typed(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_vocabulary(pilot)
        count = len(themes.list_themes(sqlite_factory))
        await pilot.press("n")
        dialog = app.screen
        assert isinstance(dialog, ThemeDialog)
        problem = dialog.query_one("#problem", Static)
        await pilot.press("ctrl+s")
        assert "give the theme a label" in str(problem.render())
        await fill(pilot, dialog, "code", "Bad Code")
        await fill(pilot, dialog, "label", "Something")
        await pilot.press("ctrl+s")
        assert "Code: is not a valid id" in str(problem.render())
        await fill(pilot, dialog, "code", "neglect")
        await pilot.press("ctrl+s")
        assert "already exists" in str(problem.render())
        assert isinstance(top(pilot), ThemeDialog)  # still open, nothing lost
        assert dialog.query_one("#label", Input).value == "Something"

        # A blank code is made from the label.
        await fill(pilot, dialog, "code", "")
        await fill(pilot, dialog, "label", "Cost of living & poverty")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert top(pilot) is screen
        assert theme(sqlite_factory, "cost-of-living-poverty") is not None
        assert len(themes.list_themes(sqlite_factory)) == count + 1

        await pilot.press("n")
        await pilot.press("escape")
        await settle(pilot)
        assert top(pilot) is screen
        assert len(themes.list_themes(sqlite_factory)) == count + 1


def test_keywords_and_codes_from_typed_text() -> None:
    assert parse_keywords(" missing episode, RHI,, ran away ,") == (
        "missing episode",
        "RHI",
        "ran away",
    )
    assert code_from_label("Drift & delay!") == "drift-delay"


async def test_vocabulary_bindings_have_ids_and_tooltips(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    for screen in (VocabularyScreen, ThemeDialog):
        for binding in screen.BINDINGS:
            assert isinstance(binding, Binding)
            assert binding.id and binding.tooltip, binding
    home = {b.id: b.key for b in HomeScreen.BINDINGS if isinstance(b, Binding)}
    assert home["home.vocabulary"] == "v"


# -- snapshot ----------------------------------------------------------------------------------

SnapCompare = Callable[..., bool]


async def _open(pilot: Pilot[None]) -> None:
    await open_vocabulary(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_vocabulary_screen_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    size: tuple[int, int],
) -> None:
    themes.save_theme(
        sqlite_factory,
        ACTOR,
        ThemeIn(code="online-harm", label="Online harm", keywords=("sexting",), active=False),
    )
    app = build_app(settings, sqlite_factory)
    assert snap_compare(app, terminal_size=size, run_before=_open)

"""The command palette's verbs: the current screen's keys, the list of keys, the theme switch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from workbench.tui.help_screen import HelpScreen, screen_title

DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"
TOGGLE_THEME = "Toggle dark/light theme"
SHOW_KEYS = "Show every key"

# Actions the palette has no business offering: opening itself, or the app's quit key that
# Textual already lists among its system commands.
# The palette offers "Show every key" and the theme switch itself, so the app's own keys for
# them (F1, F2) are left out rather than listed twice.
# Verbs kept off a crowded footer (so it fits 80 columns) that the palette still offers.
_OFF_FOOTER_VERBS = {"refresh", "vocabulary", "agreement", "history", "identifiers"}
_LEFT_OUT = {
    "command_palette",
    "app.command_palette",
    "quit",
    "app.quit",
    "help_quit",
    "help",
    "app.help",
    "toggle_theme",
    "app.toggle_theme",
}


def toggle_theme(app: App[Any]) -> str:
    """Switch between the light and the dark theme; returns the theme now in use."""
    app.theme = LIGHT_THEME if app.current_theme.dark else DARK_THEME
    return app.theme


@dataclass(frozen=True)
class Verb:
    """One thing the palette can do: its name, its help line and what runs it."""

    name: str
    help: str
    run: Callable[[], Any]


def screen_verbs(screen: Screen[Any]) -> Iterator[Verb]:
    """The verbs on offer from `screen`: its shown key bindings (enabled ones only, each
    action once), then the list of keys and the theme switch."""
    app = screen.app
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if (
            binding.system
            or not (binding.show or binding.action in _OFF_FOOTER_VERBS)
            or not active.enabled
            or not binding.description
            or binding.action in _LEFT_OUT
            or binding.action in seen
        ):
            continue
        seen.add(binding.action)
        key = app.get_key_display(binding)
        tooltip = active.tooltip or binding.tooltip
        yield Verb(
            name=binding.description,
            help=f"{tooltip} ({key})" if tooltip else f"Key: {key}",
            # run_action resolves the action in the namespace that declared it, so a
            # screen's "refresh" runs on that screen even with the palette on top.
            run=partial(app.run_action, binding.action, active.node),
        )

    def show_keys() -> None:
        app.push_screen(HelpScreen(screen))

    yield Verb(
        name=SHOW_KEYS,
        help=f"List every key of {screen_title(screen)} with what it does",
        run=show_keys,
    )
    yield Verb(
        name=TOGGLE_THEME,
        help="Switch between the light and the dark look",
        run=partial(toggle_theme, app),
    )


class WorkbenchCommands(Provider):
    """Built afresh each time the palette opens, from the screen it was opened over."""

    def _verbs(self) -> list[Verb]:
        return list(screen_verbs(self.screen))

    async def discover(self) -> Hits:
        for verb in self._verbs():
            yield DiscoveryHit(verb.name, verb.run, help=verb.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for verb in self._verbs():
            score = matcher.match(verb.name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(verb.name), verb.run, text=verb.name, help=verb.help
                )

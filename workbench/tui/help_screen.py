"""The help screen: every key the screen beneath answers to, grouped by where it applies."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

EVERYWHERE = "Everywhere"


@dataclass(frozen=True)
class KeyHelp:
    keys: str
    description: str
    tooltip: str
    enabled: bool


@dataclass(frozen=True)
class KeyGroup:
    title: str
    keys: tuple[KeyHelp, ...]


def humanise(name: str) -> str:
    """`cursor_left` -> `Cursor left`; `PlanAuditScreen` -> `Plan audit`."""
    name = name.removesuffix("Screen")
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").split()
    text = " ".join(words).lower()
    return text[:1].upper() + text[1:]


def screen_title(screen: Screen[Any]) -> str:
    return screen.BINDING_GROUP_TITLE or humanise(type(screen).__name__)


def _group_title(node: DOMNode, screen: Screen[Any]) -> str:
    if isinstance(node, App):
        return EVERYWHERE
    if node is screen:
        return f"On this screen: {screen_title(screen)}"
    where = (node.BINDING_GROUP_TITLE or humanise(type(node).__name__)).lower()
    if node is screen.focused:
        return f"In the focused {where}"
    return f"In the {where} around it"


def _description(binding: Binding) -> str:
    if binding.description:
        return binding.description
    return humanise(binding.action.rsplit(".", 1)[-1].split("(", 1)[0])


def key_groups(screen: Screen[Any]) -> list[KeyGroup]:
    """The screen's active bindings (focused widget, screen, app), with keys for one action
    merged, the screen's own first. System bindings (such as ctrl+c) are left out, as the
    footer leaves them out."""
    by_node: dict[DOMNode, dict[str, list[ActiveBinding]]] = {}
    for active in screen.active_bindings.values():
        if active.binding.system:
            continue
        by_node.setdefault(active.node, {}).setdefault(active.binding.action, []).append(active)
    app = screen.app
    groups = []
    for node, actions in by_node.items():
        keys = []
        # The keys the footer shows are the ones people look for: they come first.
        for bindings in sorted(actions.values(), key=lambda b: not b[0].binding.show):
            first = bindings[0]
            shown = dict.fromkeys(app.get_key_display(b.binding) for b in bindings)
            keys.append(
                KeyHelp(
                    keys=" ".join(shown),
                    description=_description(first.binding),
                    tooltip=first.tooltip or first.binding.tooltip,
                    enabled=first.enabled,
                )
            )
        groups.append(KeyGroup(_group_title(node, screen), tuple(keys)))

    def order(group: KeyGroup) -> int:
        if group.title.startswith("On this screen"):
            return 0
        return 2 if group.title == EVERYWHERE else 1

    return sorted(groups, key=order)


def keys_table(group: KeyGroup, key_width: int = 8, what_width: int = 16) -> Table:
    """One group as a table; the widths are shared so every group's columns line up."""
    table = Table(show_header=False, box=None, expand=True, padding=(0, 1, 0, 0))
    table.add_column("keys", style="bold", no_wrap=True, width=key_width)
    table.add_column("what", no_wrap=True, width=what_width)
    table.add_column("more", style="dim", ratio=1)
    for key in group.keys:
        style = "" if key.enabled else "dim"
        table.add_row(Text(key.keys, style=style), Text(key.description, style=style), key.tooltip)
    return table


class HelpScreen(ModalScreen[None]):
    """Lists the keys of `screen` (default: the screen it was opened over)."""

    CSS_PATH = "help_screen.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close", tooltip="Close the list of keys", id="help.close"),
        Binding("q", "close", "Close", show=False, id="help.close_q"),
    ]

    def __init__(self, screen: Screen[Any] | None = None) -> None:
        super().__init__()
        self._beneath = screen
        self.groups: list[KeyGroup] = []

    def _screen_beneath(self) -> Screen[Any]:
        if self._beneath is not None:
            return self._beneath
        stack = self.app.screen_stack
        index = stack.index(self) if self in stack else len(stack)
        return stack[max(0, index - 1)]

    def compose(self) -> ComposeResult:
        beneath = self._screen_beneath()
        self.groups = key_groups(beneath)
        with Vertical(id="dialog") as dialog:
            dialog.border_title = f"Keys: {screen_title(beneath)}"
            dialog.border_subtitle = "esc closes"
            every_key = [k for group in self.groups for k in group.keys]
            key_width = max((len(k.keys) for k in every_key), default=8)
            what_width = min(28, max((len(k.description) for k in every_key), default=16))
            with VerticalScroll(id="keys"):
                for group in self.groups:
                    yield Static(group.title, classes="group-title", markup=False)
                    yield Static(keys_table(group, key_width, what_width), classes="group-keys")
        yield Footer()

    def on_mount(self) -> None:
        # Focus the list so the arrow keys and page keys scroll it straight away.
        self.query_one("#keys").focus()

    def action_close(self) -> None:
        self.dismiss(None)


def help_groups_text(groups: Iterable[KeyGroup]) -> str:
    """The groups as plain lines, e.g. for a log or a test's failure message."""
    lines = []
    for group in groups:
        lines.append(group.title)
        lines.extend(f"  {k.keys}: {k.description}" for k in group.keys)
    return "\n".join(lines)

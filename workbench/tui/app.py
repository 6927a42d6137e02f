"""The Textual application and the factory that builds it around a session factory."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker
from textual import on
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from audit_tools.registry import ToolRegistry
from schemas.audit import Actor
from workbench.config import Settings
from workbench.services.access import factory_principal
from workbench.tui.commands import WorkbenchCommands, toggle_theme
from workbench.tui.help_screen import HelpScreen
from workbench.tui.home import HomeScreen
from workbench.tui.live import DataChanged, LiveStatus, LiveUpdates, announce, forward
from workbench.tui.preferences import load_preferences


class WorkbenchApp(App[None]):
    """The workbench. It holds a session factory, never a Session: each unit of work opens one."""

    CSS_PATH = "workbench.tcss"
    TITLE = "Case Audit Workbench"
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    BINDINGS = [
        Binding("f1", "help", "Keys", tooltip="Every key on this screen", id="app.help"),
        Binding("f2", "toggle_theme", "Theme", tooltip="Switch light and dark", id="app.theme"),
    ]

    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        registry: ToolRegistry | None = None,
        *,
        database_label: str = "",
        today: dt.date | None = None,
    ) -> None:
        """`today` fixes the date overdue actions count from (for tests); None is the real date."""
        super().__init__()
        self._today = today
        self.settings = settings
        self.factory = factory
        self._tool_registry = registry
        # The auditor's own agency: their user's, else configured, else remembered from the
        # last return they opened.
        self.principal = factory_principal(factory)
        name = self.principal.login if self.principal else settings.actor
        agency = (
            (self.principal.agency if self.principal else None)
            or settings.agency
            or load_preferences(settings.config_dir).agency
        )
        self.actor = Actor(name=name, agency=agency)
        # The entry point already knows how to describe the database without its password,
        # so the label is passed in rather than worked out from the engine here.
        who = f" · {self.principal.description}" if self.principal else ""
        self.sub_title = f"{database_label}{who}"
        # Watches for other people's saves, so the lead's views follow them (see live.py).
        self.live = LiveUpdates.for_factory(self, factory)

    def today(self) -> dt.date:
        """The date actions turn overdue against: read each time, so a session left open
        overnight counts from the new day."""
        return self._today or dt.date.today()

    @property
    def registry(self) -> ToolRegistry:
        """The tool files, read on first use: only planning needs them, so launch does not wait.

        A broken partnership tool file raises ToolFileError here, shown as a notification."""
        if self._tool_registry is None:
            self._tool_registry = ToolRegistry.load(self.settings.tool_dirs)
        return self._tool_registry

    def on_mount(self) -> None:
        self.live.start()

    def on_unmount(self) -> None:
        # Ends promptly: the thread's wait is cut short, so quitting is not held up.
        self.live.stop()

    @on(DataChanged)
    def _data_changed(self, event: DataChanged) -> None:
        forward(self, event)

    @on(LiveStatus)
    def _live_status(self, event: LiveStatus) -> None:
        announce(self, event)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        self.notify(f"Theme: {toggle_theme(self)}")

    def get_default_screen(self) -> Screen[None]:
        return HomeScreen(self.factory)


def make_app(
    settings: Settings,
    factory: sessionmaker[Session],
    database_label: str = "",
    registry: ToolRegistry | None = None,
) -> WorkbenchApp:
    """Build the app; the caller creates the engine, so importing this module touches no disk."""
    return WorkbenchApp(settings, factory, registry, database_label=database_label)

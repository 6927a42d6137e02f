"""Exporting from the screens: the audit report, identifiers refused or overridden with a reason,
a folder that is not there, the learning log as Excel, the subgroup summary, and the look."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, ProgressBar, Select, Static

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditDetail, FindingChange
from schemas.learning import LearningItemIn, LearningSource
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services import audits, learning, returns
from workbench.services.exporting import ExportOptions, IdentifiersFoundError, export_report
from workbench.store.models import ChangeRecord, TransferRecord
from workbench.tui.app import WorkbenchApp
from workbench.tui.export_dialog import (
    ExportDialog,
    ExportProgress,
    ExportScope,
    ExportSubject,
    IdentifiersDialog,
    six_months_to,
)
from workbench.tui.learning_screen import LearningLogScreen
from workbench.tui.matrix_screen import AuditScreen
from workbench.tui.overview_screen import OverviewScreen

TODAY = dt.date(2026, 11, 23)
AUDITOR = Actor(name="a.auditor", agency="police")
TITLE = "CSE audit, spring 2026"
NHS = "943 476 5919"
RECIPIENT = "Learning and Improvement subgroup"
SIZE = (100, 32)
SnapCompare = Callable[..., bool]
Factory = sessionmaker[Session]


def seed_audit(factory: Factory, registry: ToolRegistry, *, areas: str = "") -> AuditDetail:
    """A small audit: two cases, police and school graded; `areas` goes into one finding."""
    audit = audits.create_audit(
        factory,
        AUDITOR,
        registry,
        cse_plan(agencies=("police", "school"), cases=2).model_copy(
            update={"title": TITLE, "audit_day": dt.date(2026, 3, 31)}
        ),
    )
    for case in audit.cases:
        for agency, grade in (("police", "good"), ("school", "requires_improvement")):
            rid = returns.find_return(factory, audit.id, case.reference, agency)
            returns.record_finding(
                factory,
                AUDITOR,
                rid,
                "cse-1.1",
                FindingChange(
                    grade=grade,
                    evidence="Contact log and strategy discussion notes",
                    strengths="Referral made the same day",
                    areas_for_development=areas or "The plan did not say who would visit",
                ),
                expected_version=None,
            )
    return audit


def seed_log(factory: Factory) -> None:
    """Two learning items: one open from practitioners, one shared from research."""
    learning.create_learning_item(
        factory,
        AUDITOR,
        LearningItemIn(
            raised_on=dt.date(2026, 3, 2),
            source=LearningSource.PRACTITIONER_FEEDBACK,
            learning="Practitioners want shorter strategy discussions",
        ),
    )
    learning.create_learning_item(
        factory,
        AUDITOR,
        LearningItemIn(
            raised_on=dt.date(2026, 5, 10),
            source=LearningSource.RESEARCH,
            learning="Children's words should be recorded verbatim",
        ),
    )


def build_app(settings: Settings, factory: Factory, registry: ToolRegistry) -> WorkbenchApp:
    return WorkbenchApp(settings, factory, registry, database_label="workbench.db", today=TODAY)


def top(app: WorkbenchApp) -> Screen[Any]:
    """The screen on top now (a function, so a type checker does not carry narrowing over)."""
    return app.screen


def notes(seen: list[Message]) -> list[str]:
    return [m.notification.message for m in seen if isinstance(m, Notify)]


def problem(app: WorkbenchApp) -> str:
    return str(app.screen.query_one("#problem", Static).render())


def transfers(factory: Factory) -> list[TransferRecord]:
    with factory() as session:
        return list(session.scalars(select(TransferRecord).order_by(TransferRecord.id)))


def overrides(factory: Factory) -> list[ChangeRecord]:
    with factory() as session:
        return list(session.scalars(select(ChangeRecord).where(ChangeRecord.entity == "export")))


async def open_audit(app: WorkbenchApp, pilot: Pilot[Any]) -> AuditScreen:
    await settle(pilot)
    await pilot.press("enter")  # the home list's only audit
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, AuditScreen)
    return screen


async def fill(pilot: Pilot[Any], recipient: str, out: Path) -> ExportDialog:
    """Type who it is for into the dialog (focused there first) and say where it goes."""
    dialog = pilot.app.screen
    assert isinstance(dialog, ExportDialog)
    assert dialog.focused is dialog.query_one("#recipient", Input)
    await pilot.press(*recipient)
    dialog.query_one("#path", Input).value = str(out)
    await pilot.pause()
    return dialog


async def test_export_the_audit_report(
    settings: Settings, sqlite_factory: Factory, registry: ToolRegistry, tmp_path: Path
) -> None:
    audit = seed_audit(sqlite_factory, registry)
    app = build_app(settings, sqlite_factory, registry)
    seen: list[Message] = []
    out = tmp_path / "spring-report.docx"
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = await open_audit(app, pilot)
        await pilot.press("e")
        await settle(pilot)
        dialog = top(app)
        assert isinstance(dialog, ExportDialog)
        assert dialog.query_one("#what", Select).value == "report"
        path = dialog.query_one("#path", Input)
        assert Path(path.value).name == "cse-audit-spring-2026-report.docx"
        # Choosing the briefing renames the file suggested; back again, and it follows.
        dialog.query_one("#what", Select).value = "briefing"
        await pilot.pause()
        assert Path(path.value).name == "cse-audit-spring-2026-briefing.docx"
        dialog.query_one("#what", Select).value = "report"
        await pilot.pause()
        assert Path(path.value).name == "cse-audit-spring-2026-report.docx"

        # Without a recipient nothing happens: an export says for whom.
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert top(app) is dialog
        assert problem(app) == "Not exported yet: say who the document is for."
        await fill(pilot, RECIPIENT, tmp_path / "spring-report.pdf")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert top(app) is dialog
        assert problem(app) == (
            "Not exported yet: the file name ends .pdf but the document is .docx."
        )
        path.value = str(out)
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert top(app) is screen
        document = Document(io.BytesIO(out.read_bytes()))
        assert document.core_properties.title == TITLE
        [record] = transfers(sqlite_factory)
        assert record.kind == "report-export"
        assert record.recipient == RECIPIENT
        assert record.audit_uid == audit.uid
        assert record.actor == settings.actor
        assert record.target == str(out.resolve())
        size = max(1, round(out.stat().st_size / 1024))
        assert notes(seen)[-1] == f"Wrote {out} (report, {size} KB) for {RECIPIENT}."
        assert overrides(sqlite_factory) == []


async def test_identifiers_refuse_the_export_until_overridden_with_a_reason(
    settings: Settings, sqlite_factory: Factory, registry: ToolRegistry, tmp_path: Path
) -> None:
    audit = seed_audit(sqlite_factory, registry)
    rid = returns.find_return(sqlite_factory, audit.id, audit.cases[0].reference, "school")
    [finding] = [
        f for f in returns.get_return(sqlite_factory, rid).findings if f.criterion_id == "cse-1.1"
    ]
    returns.record_finding(
        sqlite_factory,
        AUDITOR,
        rid,
        "cse-1.1",
        FindingChange(
            evidence=f"GP letter quoted NHS {NHS}",
            areas_for_development=f"The record gave NHS {NHS} in full",
        ),
        expected_version=finding.version,
    )
    app = build_app(settings, sqlite_factory, registry)
    seen: list[Message] = []
    out = tmp_path / "report.docx"
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = await open_audit(app, pilot)
        await pilot.press("e")
        await settle(pilot)
        await fill(pilot, RECIPIENT, out)
        await pilot.press("ctrl+s")
        await settle(pilot)

        refusal = top(app)
        assert isinstance(refusal, IdentifiersDialog)
        listed = str(refusal.query_one("#hits-text", Static).render())
        assert listed == (
            "NHS number in sections[0].areas_for_development[1].text\n"
            "  …ecord gave NHS ●●● ●●● ●●●● in full"
        )
        shown = " ".join(str(w.render()) for w in refusal.query(Static))
        assert "holds 1 thing that looks like an identifier" in shown
        assert NHS not in shown

        # Go back: nothing written, nothing recorded.
        await pilot.press("escape")
        await settle(pilot)
        assert top(app) is screen
        assert not out.exists()
        assert transfers(sqlite_factory) == []
        assert notes(seen)[-1] == "Nothing was written: the audit report was not exported."

        # Again, and this time override: first without a reason, which is refused.
        await pilot.press("e")
        await settle(pilot)
        await fill(pilot, RECIPIENT, out)
        await pilot.press("ctrl+s")
        await settle(pilot)
        refusal = top(app)
        assert isinstance(refusal, IdentifiersDialog)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert top(app) is refusal
        assert problem(app) == "Not exported: say why it must go out with these in it, or go back."
        assert refusal.focused is refusal.query_one("#reason", Input)
        assert not out.exists()
        reason = "Training example number agreed with the Caldicott guardian"
        await pilot.press(*reason)
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert top(app) is screen
        assert out.exists()
        [record] = transfers(sqlite_factory)
        assert record.recipient == RECIPIENT
        assert "1 identifier-like items kept by override" in record.detail
        [change] = overrides(sqlite_factory)
        after = json.loads(change.after or "{}")
        assert after["reason"] == reason
        assert after["identifiers"] == [
            {"where": "sections[0].areas_for_development[1].text", "kind": "NHS number"}
        ]
        assert change.actor == settings.actor and change.operation == "override"
        assert NHS not in (change.after or "")
        assert notes(seen)[-1].endswith(
            "1 identifier-like item kept by override; the reason is in the change history."
        )


async def test_a_missing_folder_brings_the_dialog_back_with_what_was_typed(
    settings: Settings, sqlite_factory: Factory, registry: ToolRegistry, tmp_path: Path
) -> None:
    seed_audit(sqlite_factory, registry)
    app = build_app(settings, sqlite_factory, registry)
    seen: list[Message] = []
    out = tmp_path / "nowhere" / "report.docx"
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await open_audit(app, pilot)
        await pilot.press("e")
        await settle(pilot)
        first = await fill(pilot, RECIPIENT, out)
        first.query_one("#what", Select).value = "briefing"
        await pilot.press("ctrl+s")
        await settle(pilot)

        dialog = top(app)
        assert isinstance(dialog, ExportDialog) and dialog is not first
        assert dialog.query_one("#recipient", Input).value == RECIPIENT
        assert dialog.query_one("#path", Input).value == str(out)
        assert dialog.query_one("#what", Select).value == "briefing"
        reason = f"{out}: folder {out.parent} does not exist"
        assert problem(app) == f"Not exported: {reason}"
        assert "\n" not in problem(app)
        assert notes(seen)[-1] == f"The briefing was not exported: {reason}"
        assert transfers(sqlite_factory) == []

        # Fixed in the same dialog, the export goes through.
        dialog.query_one("#path", Input).value = str(tmp_path / "briefing.docx")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (tmp_path / "briefing.docx").exists()
        assert [r.kind for r in transfers(sqlite_factory)] == ["briefing-export"]


async def test_a_broken_partnership_setting_is_one_line_and_nothing_is_lost(
    settings: Settings, sqlite_factory: Factory, registry: ToolRegistry, tmp_path: Path
) -> None:
    seed_audit(sqlite_factory, registry)
    missing = tmp_path / "identifiers.txt"
    broken = settings.model_copy(update={"identifiers_file": missing})
    app = build_app(broken, sqlite_factory, registry)
    out = tmp_path / "report.docx"
    async with app.run_test(size=SIZE) as pilot:
        await open_audit(app, pilot)
        await pilot.press("e")
        await settle(pilot)
        await fill(pilot, RECIPIENT, out)
        await pilot.press("ctrl+s")
        await settle(pilot)
        dialog = top(app)
        assert isinstance(dialog, ExportDialog)
        assert problem(app) == f"Not exported: identifiers file {missing}: no such file"
        assert dialog.query_one("#recipient", Input).value == RECIPIENT
        assert not out.exists() and transfers(sqlite_factory) == []


async def test_export_the_learning_log_as_excel_with_the_screens_filter(
    settings: Settings, sqlite_factory: Factory, registry: ToolRegistry, tmp_path: Path
) -> None:
    seed_log(sqlite_factory)
    app = build_app(settings, sqlite_factory, registry)
    out = tmp_path / "research.xlsx"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        screen = top(app)
        assert isinstance(screen, LearningLogScreen)
        screen.query_one("#source", Select).value = LearningSource.RESEARCH.value
        await settle(pilot)
        assert len(screen.listing.items) == 1
        await pilot.press("x")
        await settle(pilot)
        dialog = top(app)
        assert isinstance(dialog, ExportDialog)
        explain = str(dialog.query_one("#explain", Static).render())
        assert explain.startswith("Items: 1 item: source Research.")
        path = dialog.query_one("#path", Input)
        assert Path(path.value).name == "learning-log-2026-11-23.docx"
        dialog.query_one("#what", Select).value = "xlsx"
        await pilot.pause()
        assert Path(path.value).name == "learning-log-2026-11-23.xlsx"
        await fill(pilot, RECIPIENT, out)
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert top(app) is screen
        sheet = load_workbook(out).active
        assert sheet is not None
        cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
        assert "Children's words should be recorded verbatim" in cells
        assert "Practitioners want shorter strategy discussions" not in cells
        [record] = transfers(sqlite_factory)
        assert record.kind == "learning-log-export"
        assert record.recipient == RECIPIENT
        assert record.detail.startswith("learning log as xlsx: 1 item")


async def test_export_the_subgroup_summary_for_the_last_six_months(
    settings: Settings, sqlite_factory: Factory, registry: ToolRegistry, tmp_path: Path
) -> None:
    seed_audit(sqlite_factory, registry)
    app = build_app(settings, sqlite_factory, registry)
    out = tmp_path / "summary.docx"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        screen = top(app)
        assert isinstance(screen, OverviewScreen)
        await pilot.press("e")
        await settle(pilot)
        dialog = top(app)
        assert isinstance(dialog, ExportDialog)
        start, end = dialog.query_one("#from", Input), dialog.query_one("#to", Input)
        assert (start.value, end.value) == ("2026-05-24", "2026-11-23")
        path = dialog.query_one("#path", Input)
        assert Path(path.value).name == "subgroup-summary-2026-05-24-to-2026-11-23.docx"
        start.value = "2026-01-01"
        await pilot.pause()
        assert Path(path.value).name == "subgroup-summary-2026-01-01-to-2026-11-23.docx"
        end.value = "2025-12-31"
        await fill(pilot, RECIPIENT, out)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert problem(app) == (
            "Not exported yet: the period starts (2026-01-01) after it ends (2025-12-31)."
        )
        end.value = "2026-06-30"
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert top(app) is screen
        assert out.exists()
        [record] = transfers(sqlite_factory)
        assert record.kind == "summary-export"
        assert record.detail.startswith("subgroup summary 2026-01-01 to 2026-06-30: 1 audits")


async def test_progress_shows_each_step(
    settings: Settings, sqlite_factory: Factory, registry: ToolRegistry
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        progress = ExportProgress("the audit report")
        await app.push_screen(progress)
        await pilot.pause()
        bar = progress.query_one("#bar", ProgressBar)
        assert (bar.progress, bar.total) == (0, 4)
        for step in (
            "Gathering the audit's findings",
            "Checking for identifiers",
            "Rendering the document",
            "Writing the file",
            "One more than expected",
        ):
            progress.step(step)
        await pilot.pause()
        assert (bar.progress, bar.total) == (5, 5)
        assert str(progress.query_one("#step", Static).render()) == "One more than expected…"


def test_six_months_ending_on_a_day() -> None:
    assert six_months_to(dt.date(2026, 11, 23)) == dt.date(2026, 5, 24)
    assert six_months_to(dt.date(2026, 3, 15)) == dt.date(2025, 9, 16)
    assert six_months_to(dt.date(2026, 6, 30)) == dt.date(2026, 1, 1)
    assert six_months_to(dt.date(2026, 8, 31)) == dt.date(2026, 3, 1)
    assert six_months_to(dt.date(2026, 2, 28)) == dt.date(2025, 9, 1)
    assert six_months_to(dt.date(2026, 1, 10)) == dt.date(2025, 7, 11)


# --- snapshots ----------------------------------------------------------------------------

FOLDER = Path("/home/auditor/Documents")  # fixed, so the picture does not depend on the machine


def _no_blink(app: WorkbenchApp) -> None:
    for field in app.screen.query(Input):
        field.cursor_blink = False


def _snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    factory: Factory,
    registry: ToolRegistry,
    make: Callable[[AuditDetail], Screen[Any]],
    size: tuple[int, int],
) -> bool:
    audit = seed_audit(factory, registry, areas=f"The record gave NHS {NHS} in full")
    app = build_app(settings, factory, registry)

    async def open_screen(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await app.push_screen(AuditScreen(factory, app.actor, audit.id))
        await settle(pilot)
        await app.push_screen(make(audit))
        await settle(pilot)
        _no_blink(app)
        await pilot.pause()

    return snap_compare(app, terminal_size=size, run_before=open_screen)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_export_dialog_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: Factory,
    registry: ToolRegistry,
    size: tuple[int, int],
) -> None:
    def dialog(audit: AuditDetail) -> Screen[Any]:
        subject = ExportSubject(
            scope=ExportScope.AUDIT, today=TODAY, folder=FOLDER, title=TITLE, audit_id=audit.id
        )
        return ExportDialog(subject)

    assert _snapshot(snap_compare, settings, sqlite_factory, registry, dialog, size)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_identifiers_dialog_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: Factory,
    registry: ToolRegistry,
    tmp_path: Path,
    size: tuple[int, int],
) -> None:
    def refusal(audit: AuditDetail) -> Screen[Any]:
        try:
            export_report(
                sqlite_factory, AUDITOR, ExportOptions(), audit.id, tmp_path / "r.docx", today=TODAY
            )
        except IdentifiersFoundError as exc:
            return IdentifiersDialog(exc.hits, "the audit report")
        raise AssertionError("the report was not refused")

    assert _snapshot(snap_compare, settings, sqlite_factory, registry, refusal, size)

"""Exporting a document from any screen: the dialog, a worker with progress, the outcome.

Shared so the audit, the learning log and the overview make the same promises: a failed
export comes back to the user with everything they typed, and identifier-like text is shown
masked and only goes out with a reason recorded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from textual.screen import Screen

from schemas.audit import Actor
from schemas.learning import LearningFilter
from workbench.config import Settings
from workbench.files import OutputFileError
from workbench.services.exporting import (
    ExportOptions,
    ExportResult,
    IdentifiersFoundError,
    Progress,
    export_briefing,
    export_learning_log,
    export_report,
    export_summary,
)
from workbench.services.identifier_scan import IdentifierHit
from workbench.tui.export_dialog import (
    ExportDialog,
    ExportProgress,
    ExportRequest,
    ExportScope,
    ExportSubject,
    IdentifiersDialog,
    default_folder,
)
from workbench.tui.feedback import explain


def size_words(n_bytes: int) -> str:
    return f"{max(1, round(n_bytes / 1024))} KB"


def first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else text


class ExportFlow:
    """Opens the export dialog over `screen` and writes what it asks for, in a worker."""

    def __init__(
        self,
        screen: Screen[Any],
        factory: sessionmaker[Session],
        actor: Actor,
        settings: Settings,
        subject: ExportSubject,
    ) -> None:
        self._screen = screen
        self._factory = factory
        self._actor = actor
        self._settings = settings
        self.subject = subject
        self._progress: ExportProgress | None = None

    def start(self, draft: ExportRequest | None = None, problem: str = "") -> None:
        dialog = ExportDialog(self.subject, draft, problem)
        self._screen.app.push_screen(dialog, self._chosen)

    def _chosen(self, request: ExportRequest | None) -> None:
        if request is not None:
            self._run(request, None)

    def _run(self, request: ExportRequest, override_reason: str | None) -> None:
        app = self._screen.app
        progress = ExportProgress(request.what)
        self._progress = progress
        app.push_screen(progress)

        def step(message: str) -> None:
            app.call_from_thread(progress.step, message)

        def export() -> None:
            try:
                # Read here, off the event loop: the partnership's identifiers file is a file.
                options = ExportOptions.from_settings(self._settings)
                result = self._export(request, options, override_reason, step)
            except IdentifiersFoundError as exc:
                app.call_from_thread(self._refused, request, exc.hits)
            except OutputFileError as exc:
                app.call_from_thread(self._failed, request, first_line(str(exc)))
            except Exception as exc:  # whatever went wrong, what was typed goes back to the user
                app.call_from_thread(self._failed, request, first_line(explain(exc)))
            else:
                app.call_from_thread(self._done, request, result)

        self._screen.run_worker(
            export, thread=True, exclusive=True, exit_on_error=False, group="export.write"
        )

    def _export(
        self,
        request: ExportRequest,
        options: ExportOptions,
        override_reason: str | None,
        step: Progress,
    ) -> ExportResult:
        subject = self.subject
        common: dict[str, Any] = {
            "recipient": request.recipient,
            "override_reason": override_reason,
            "today": subject.today,
            "progress": step,
        }
        factory, actor, out = self._factory, self._actor, request.out
        if request.kind in ("report", "briefing"):
            if subject.audit_id is None:
                raise ValueError("no audit to export")
            export = export_report if request.kind == "report" else export_briefing
            return export(factory, actor, options, subject.audit_id, out, **common)
        if request.kind == "learning-log":
            where = subject.where if subject.where != LearningFilter() else None
            return export_learning_log(
                factory, actor, options, out, where=where, file_format=request.file_format, **common
            )
        if request.start is None or request.end is None:
            raise ValueError("no period to summarise")
        return export_summary(factory, actor, options, request.start, request.end, out, **common)

    def _close_progress(self) -> None:
        progress, self._progress = self._progress, None
        if progress is None or progress not in self._screen.app.screen_stack:
            return
        if self._screen.app.screen is not progress:
            # Anything opened over it meanwhile (the command palette) goes with it.
            progress.pop_until_active()
        progress.dismiss()

    def _done(self, request: ExportRequest, result: ExportResult) -> None:
        self._close_progress()
        kind = result.kind.replace("-", " ")
        if result.kind == "learning-log":
            kind = f"{kind} as {request.file_format}"
        message = (
            f"Wrote {result.path} ({kind}, {size_words(result.bytes_written)}) "
            f"for {request.recipient}."
        )
        if result.hits_overridden:
            n = len(result.hits_overridden)
            message += (
                f" {n} identifier-like item{'' if n == 1 else 's'} kept by override; "
                "the reason is in the change history."
            )
        self._screen.notify(message, title="Exported")

    def _refused(self, request: ExportRequest, hits: Sequence[IdentifierHit]) -> None:
        self._close_progress()

        def decided(reason: str | None) -> None:
            if reason is None:
                self._screen.notify(
                    f"Nothing was written: {request.what} was not exported.",
                    title="Not exported",
                    severity="warning",
                )
                return
            self._run(request, reason)

        self._screen.app.push_screen(IdentifiersDialog(hits, request.what), decided)

    def _failed(self, request: ExportRequest, reason: str) -> None:
        self._close_progress()
        self._screen.notify(
            f"{request.what.capitalize()} was not exported: {reason}",
            title="Not exported",
            severity="error",
        )
        self.start(request, problem=f"Not exported: {reason}")


def start_export(
    screen: Screen[Any],
    scope: ExportScope,
    *,
    title: str = "",
    audit_id: int | None = None,
    where: LearningFilter | None = None,
    selection: str = "",
) -> None:
    """Open the export dialog over `screen`, for the workbench's store, person and settings."""
    from workbench.tui.app import WorkbenchApp  # the app imports the screens, not back

    app = screen.app
    if not isinstance(app, WorkbenchApp):
        screen.notify("Exporting needs the workbench's settings.", severity="error")
        return
    subject = ExportSubject(
        scope=scope,
        today=app.today(),
        folder=default_folder(),
        title=title,
        audit_id=audit_id,
        where=where,
        selection=selection,
    )
    ExportFlow(screen, app.factory, app.actor, app.settings, subject).start()

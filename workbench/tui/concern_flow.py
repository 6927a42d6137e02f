"""Recording an immediate concern from any screen inside a case: dialog, save in a worker, say so.

Shared so every case screen offers the same one-key escalation and the same promise: a
concern that fails to save comes back to the user with everything they typed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from textual.screen import Screen

from schemas.audit import Actor
from workbench.services.casework import raise_concern
from workbench.tui.concern_dialog import ConcernDialog, ConcernDraft
from workbench.tui.feedback import explain


class ConcernFlow:
    """Opens the concern dialog over `screen` and records what it returns for `case_id`."""

    def __init__(
        self,
        screen: Screen[Any],
        factory: sessionmaker[Session],
        actor: Actor,
        case_id: int,
    ) -> None:
        self._screen = screen
        self._factory = factory
        self._actor = actor
        self._case_id = case_id

    def start(
        self,
        agencies: Sequence[str],
        agency: str | None = None,
        draft: ConcernDraft | None = None,
    ) -> None:
        dialog = ConcernDialog(tuple(agencies), agency=agency, draft=draft)
        self._screen.app.push_screen(
            dialog, lambda result: self._drafted(result, tuple(agencies), agency)
        )

    def _drafted(
        self, draft: ConcernDraft | None, agencies: tuple[str, ...], agency: str | None
    ) -> None:
        if draft is None:
            return

        def save() -> None:
            try:
                raise_concern(
                    self._factory,
                    self._actor,
                    self._case_id,
                    concern=draft.concern,
                    who_told=draft.who_told,
                    told_at=draft.told_at,
                    agency_code=draft.agency_code,
                )
            except Exception as exc:  # the draft must come back to the user whatever went wrong
                reason = explain(exc)
                self._screen.app.call_from_thread(self._failed, draft, reason, agencies, agency)
            else:
                self._screen.app.call_from_thread(self._recorded)

        self._screen.run_worker(
            save, thread=True, exclusive=True, exit_on_error=False, group="case.concern"
        )

    def _recorded(self) -> None:
        self._screen.notify(
            "Immediate concern recorded; it stays open for the audit lead until closed.",
            title="Concern recorded",
        )

    def _failed(
        self,
        draft: ConcernDraft,
        reason: str,
        agencies: tuple[str, ...],
        agency: str | None,
    ) -> None:
        self._screen.notify(
            f"The concern was not recorded: {reason}. It is open again for you.",
            title="Concern not recorded",
            severity="error",
        )
        self.start(agencies, agency, draft)

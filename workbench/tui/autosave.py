"""What an auditor typed and whether it is stored: the save state of each finding, UI-free.

The screen edits from the event loop while a worker thread (or the shutdown flush) saves, so
every change of state happens under one lock, and saves themselves are serialised by another:
a flush always waits for the save before it and then sends whatever is still outstanding.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from schemas.audit import FindingChange, FindingOut
from workbench.services.errors import StaleFindingError
from workbench.tui.feedback import explain

FIELDS = ("grade", "evidence", "strengths", "areas_for_development")

SaveFunction = Callable[[str, FindingChange, int], FindingOut]
"""Stores one change: (criterion id, change, version last seen) -> the stored finding."""


class SaveState(enum.StrEnum):
    SAVED = "saved"
    PENDING = "pending"  # changed, waiting for typing to stop
    SAVING = "saving"
    FAILED = "failed"
    CONFLICT = "conflict"  # someone else saved first: the user chooses


def stored_values(finding: FindingOut) -> dict[str, str]:
    """A stored finding as field -> text; an empty grade is ''."""
    return {
        "grade": finding.grade or "",
        "evidence": finding.evidence,
        "strengths": finding.strengths,
        "areas_for_development": finding.areas_for_development,
    }


def change_of(values: dict[str, str]) -> FindingChange:
    grade = values.get("grade")
    return FindingChange(
        grade=grade or None,
        clear_grade=grade == "",
        evidence=values.get("evidence"),
        strengths=values.get("strengths"),
        areas_for_development=values.get("areas_for_development"),
    )


@dataclass
class Conflict:
    """My unsaved values for the fields I changed, and what the other person stored."""

    criterion_id: str
    mine: dict[str, str]
    theirs: FindingOut


@dataclass
class _Draft:
    saved: dict[str, str] = field(default_factory=dict)
    version: int = 0
    pending: dict[str, str] = field(default_factory=dict)
    sending: dict[str, str] = field(default_factory=dict)
    state: SaveState = SaveState.SAVED
    error: str = ""
    theirs: FindingOut | None = None

    def value(self, name: str) -> str:
        for layer in (self.pending, self.sending, self.saved):
            if name in layer:
                return layer[name]
        return ""

    def unsent(self) -> dict[str, str]:
        # What the user has that the store does not: pending wins, being the newer.
        return {**self.sending, **self.pending}


@dataclass(frozen=True)
class Overall:
    """The one status line a screen shows for all its findings."""

    state: SaveState
    error: str = ""
    unsaved: int = 0


class Autosaver:
    """Tracks every finding of one return: edits in, saves out, versions and failures kept."""

    def __init__(self, findings: Iterable[FindingOut] = ()) -> None:
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._drafts: dict[str, _Draft] = {}
        for finding in findings:
            self._drafts[finding.criterion_id] = _Draft(
                saved=stored_values(finding), version=finding.version
            )

    def _draft(self, criterion_id: str) -> _Draft:
        return self._drafts.setdefault(criterion_id, _Draft())

    def value(self, criterion_id: str, name: str) -> str:
        """What the screen shows for a field: the newest text, saved or not."""
        with self._lock:
            return self._draft(criterion_id).value(name)

    def answered(self, criterion_id: str) -> bool:
        return self.value(criterion_id, "grade") != ""

    def edit(self, criterion_id: str, name: str, value: str) -> bool:
        """Record a change; False when the value is what is already there (no save needed)."""
        if name not in FIELDS:
            raise KeyError(name)
        with self._lock:
            draft = self._draft(criterion_id)
            if draft.value(name) == value:
                return False
            draft.pending[name] = value
            if draft.state in (SaveState.SAVED, SaveState.SAVING):
                # SAVING stays visible as such; the worker sees the new pending when it ends.
                draft.state = SaveState.SAVING if draft.sending else SaveState.PENDING
            return True

    def state(self, criterion_id: str) -> SaveState:
        with self._lock:
            return self._draft(criterion_id).state

    def error(self, criterion_id: str) -> str:
        with self._lock:
            return self._draft(criterion_id).error

    def has_unsaved(self) -> bool:
        with self._lock:
            return any(d.unsent() for d in self._drafts.values())

    def overall(self) -> Overall:
        """The worst state across findings: conflict, failed, saving/pending, then saved."""
        with self._lock:
            drafts = list(self._drafts.values())
            unsaved = sum(1 for d in drafts if d.unsent())
            for state in (SaveState.CONFLICT, SaveState.FAILED, SaveState.SAVING):
                hit = next((d for d in drafts if d.state is state), None)
                if hit is not None:
                    return Overall(state, hit.error, unsaved)
            if unsaved:
                return Overall(SaveState.PENDING, "", unsaved)
            return Overall(SaveState.SAVED)

    def conflicts(self) -> list[Conflict]:
        with self._lock:
            return [
                Conflict(cid, d.unsent(), d.theirs)
                for cid, d in self._drafts.items()
                if d.state is SaveState.CONFLICT and d.theirs is not None
            ]

    def keep_mine(self, criterion_id: str) -> None:
        """Save my values over theirs on the next flush."""
        with self._lock:
            draft = self._draft(criterion_id)
            if draft.theirs is not None:
                draft.version = draft.theirs.version
                draft.saved = stored_values(draft.theirs)
            draft.theirs = None
            draft.error = ""
            draft.state = SaveState.PENDING if draft.unsent() else SaveState.SAVED

    def take_theirs(self, criterion_id: str) -> None:
        """Drop my unsaved values and show what the other person stored."""
        with self._lock:
            draft = self._draft(criterion_id)
            if draft.theirs is not None:
                draft.version = draft.theirs.version
                draft.saved = stored_values(draft.theirs)
            draft.pending.clear()
            draft.theirs = None
            draft.error = ""
            draft.state = SaveState.SAVED

    def flush(self, save: SaveFunction) -> list[str]:
        """Send every outstanding change (failed ones again); never raises. Returns the ids tried.

        Safe to call from any thread; a second caller waits for the first to finish, so two saves
        of one finding never race each other with the same expected version.
        """
        tried: list[str] = []
        with self._save_lock:
            while (job := self._next_job(tried)) is not None:
                criterion_id, values, version = job
                tried.append(criterion_id)
                try:
                    stored = save(criterion_id, change_of(values), version)
                except StaleFindingError as exc:
                    self._failed(criterion_id, SaveState.CONFLICT, str(exc), exc.current)
                except Exception as exc:  # every failure must show as "failed", text kept
                    self._failed(criterion_id, SaveState.FAILED, explain(exc), None)
                else:
                    self._stored(criterion_id, stored)
        return tried

    def _next_job(self, tried: list[str]) -> tuple[str, dict[str, str], int] | None:
        with self._lock:
            for criterion_id, draft in self._drafts.items():
                # One attempt per finding per flush: a failure waits for a retry, not a loop.
                if criterion_id in tried or draft.state is SaveState.CONFLICT:
                    continue
                if draft.pending:
                    draft.sending = dict(draft.pending)
                    draft.pending.clear()
                    draft.state = SaveState.SAVING
                    return criterion_id, dict(draft.sending), draft.version
        return None

    def _stored(self, criterion_id: str, stored: FindingOut) -> None:
        with self._lock:
            draft = self._draft(criterion_id)
            draft.saved = stored_values(stored)
            draft.version = stored.version
            draft.sending.clear()
            draft.error = ""
            draft.state = SaveState.PENDING if draft.pending else SaveState.SAVED

    def _failed(
        self, criterion_id: str, state: SaveState, reason: str, theirs: FindingOut | None
    ) -> None:
        with self._lock:
            draft = self._draft(criterion_id)
            draft.pending = draft.unsent()
            draft.sending.clear()
            draft.state = state
            draft.error = reason
            draft.theirs = theirs

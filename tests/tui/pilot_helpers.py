"""Shared Pilot steps for the terminal UI tests."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.worker import WorkerState

_BUSY = (WorkerState.PENDING, WorkerState.RUNNING)


async def settle(pilot: Pilot[Any], rounds: int = 10) -> None:
    """Let every worker finish and its message land, including workers those messages start
    (a load whose result highlights a row that loads a detail): wait until none is busy."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(worker.state in _BUSY for worker in pilot.app.workers):
            return

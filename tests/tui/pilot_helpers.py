"""Shared Pilot steps for the terminal UI tests."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot


async def settle(pilot: Pilot[Any]) -> None:
    """Let every worker finish and its message land."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()

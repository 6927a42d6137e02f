"""Preferences: the auditor's agency survives a restart; a broken file never stops the app."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from workbench.tui.preferences import (
    Preferences,
    load_preferences,
    preferences_path,
    save_preferences,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_agency_round_trips_in_an_owner_only_file(tmp_path: Path) -> None:
    config = tmp_path / "config" / "workbench"
    assert load_preferences(config) == Preferences()

    assert save_preferences(config, Preferences(agency="police")) is None

    assert load_preferences(config) == Preferences(agency="police")
    assert mode(config) == 0o700
    assert mode(preferences_path(config)) == 0o600
    assert json.loads(preferences_path(config).read_text()) == {"agency": "police"}
    # No temporary file is left behind.
    assert [p.name for p in config.iterdir()] == ["preferences.json"]


def test_clearing_the_agency(tmp_path: Path) -> None:
    save_preferences(tmp_path, Preferences(agency="school"))
    save_preferences(tmp_path, Preferences())
    assert load_preferences(tmp_path) == Preferences()


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[1, 2, 3]",
        b'"police"',
        b'{"agency": 42}',
        b'{"agency": "Not A Code!"}',
        b"\xff\xfe\x00garbage",
        b"",
    ],
)
def test_a_broken_file_falls_back_to_defaults_and_can_be_overwritten(
    tmp_path: Path, content: bytes
) -> None:
    preferences_path(tmp_path).write_bytes(content)
    assert load_preferences(tmp_path) == Preferences()
    assert save_preferences(tmp_path, Preferences(agency="gp")) is None
    assert load_preferences(tmp_path) == Preferences(agency="gp")


def test_a_folder_in_place_of_the_file_is_read_as_defaults(tmp_path: Path) -> None:
    preferences_path(tmp_path).mkdir()
    assert load_preferences(tmp_path) == Preferences()
    reason = save_preferences(tmp_path, Preferences(agency="gp"))
    assert reason is not None
    assert "preferences not saved" in reason


def test_an_unwritable_place_gives_a_reason_instead_of_raising(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    reason = save_preferences(blocker / "config", Preferences(agency="police"))
    assert reason is not None
    assert reason.startswith(str(blocker / "config" / "preferences.json"))
    assert "\n" not in reason


def test_keys_from_a_newer_version_are_kept(tmp_path: Path) -> None:
    preferences_path(tmp_path).write_text(json.dumps({"agency": "police", "theme": "dark"}))
    save_preferences(tmp_path, Preferences(agency="school"))
    assert json.loads(preferences_path(tmp_path).read_text()) == {
        "agency": "school",
        "theme": "dark",
    }

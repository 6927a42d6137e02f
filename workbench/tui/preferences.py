"""The auditor's own choices kept between runs (their agency), in a small owner-only JSON file."""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "preferences.json"
# Same shape as an agency code (schemas.text.Slug): anything else in the file is ignored.
_AGENCY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


@dataclass(frozen=True)
class Preferences:
    agency: str | None = None


def preferences_path(config_dir: Path) -> Path:
    return config_dir / FILE_NAME


def _read_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_preferences(config_dir: Path) -> Preferences:
    """The saved preferences; defaults for a missing, unreadable or broken file. Never raises."""
    agency = _read_object(preferences_path(config_dir)).get("agency")
    if isinstance(agency, str) and _AGENCY.match(agency):
        return Preferences(agency=agency)
    return Preferences()


def save_preferences(config_dir: Path, preferences: Preferences) -> str | None:
    """Write the preferences; None when written, else the reason in plain words. Never raises.

    Keys this version does not know are kept, so an older workbench does not wipe a newer one's.
    """
    path = preferences_path(config_dir)
    data = _read_object(path)
    data["agency"] = preferences.agency
    temporary = path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
    try:
        if not config_dir.exists():
            config_dir.mkdir(mode=0o700, parents=True)
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        # Created 0600 from the start, then renamed over the old file: never half-written,
        # never readable by others.
        descriptor = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2, sort_keys=True)
            stream.write("\n")
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        return f"{path}: preferences not saved ({exc.strerror or exc})"
    return None

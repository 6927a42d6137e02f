"""The one error a broken tool or scale file raises: a single line naming file, line and field."""

from __future__ import annotations

from pathlib import Path


class ToolFileError(Exception):
    """A tool or scale file that cannot be used. `str()` is the one line a user sees."""

    def __init__(
        self, path: Path | str, message: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {what}"

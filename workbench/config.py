"""Settings from the environment (prefix WORKBENCH_) with paths under the user's data directory."""

from __future__ import annotations

import getpass
from pathlib import Path

from platformdirs import user_config_path, user_data_path
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "case-audit-workbench"


def default_data_dir() -> Path:
    return user_data_path(APP_NAME, appauthor=False)


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return "local-user"


class Settings(BaseSettings):
    """Everything configurable. Nothing is created on disk until something asks for it."""

    model_config = SettingsConfigDict(env_prefix="WORKBENCH_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; unset means the SQLite file in the data directory",
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    config_dir: Path = Field(default_factory=lambda: user_config_path(APP_NAME, appauthor=False))
    tools_dir: Path | None = Field(
        default=None, description="A partnership's own folder of tool and scale YAML files"
    )
    actor: str = Field(default_factory=_default_actor, description="Who is acting, for history")
    agency: str | None = Field(default=None, description="The auditor's own agency code")
    protective_marking: str = Field(
        default="OFFICIAL-SENSITIVE", description="The marking in every exported document"
    )
    template_path: Path | None = Field(
        default=None, description="A partnership's own Word template (.docx) for exports"
    )
    identifiers_file: Path | None = Field(
        default=None,
        description="A partnership's list of identifiers no export may contain, one per line",
    )
    partnership: str = Field(
        default="Safeguarding children partnership", description="The name on exported documents"
    )
    retention_months: int | None = Field(
        default=None,
        description="Months after closing that an audit is kept; unset keeps every audit",
    )

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "workbench.db"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    @property
    def tool_dirs(self) -> tuple[Path, ...]:
        return (self.tools_dir,) if self.tools_dir else ()

"""Users, their roles and the principal a session acts for."""

from __future__ import annotations

import datetime as dt
import enum

from pydantic import model_validator

from schemas.audit import Actor, Schema
from schemas.text import Label, Slug


class Role(enum.StrEnum):
    """DOMAIN.md's people on an audit day, as far as what they may see and change."""

    AUDITOR = "auditor"
    LEAD = "lead"
    SUBGROUP = "subgroup"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {
            Role.AUDITOR: "agency auditor",
            Role.LEAD: "audit lead",
            Role.SUBGROUP: "subgroup member",
            Role.ADMIN: "administrator",
        }[self]


class Principal(Schema):
    """Who a session acts for: the login (or local user), the role and, for an auditor,
    the agency whose returns they complete."""

    login: Label
    name: str = ""
    role: Role
    agency: Slug | None = None

    @property
    def actor(self) -> Actor:
        return Actor(name=self.login, agency=self.agency)

    @property
    def description(self) -> str:
        agency = f", {self.agency}" if self.agency else ""
        return f"{self.login} ({self.role.label}{agency})"


class UserIn(Schema):
    login: Label
    name: str = ""
    role: Role
    agency: Slug | None = None
    active: bool = True

    @model_validator(mode="after")
    def _auditor_has_agency(self) -> UserIn:
        if self.role is Role.AUDITOR and not self.agency:
            raise ValueError("an agency auditor needs an agency (--agency CODE)")
        return self


class UserOut(UserIn):
    created_at: dt.datetime

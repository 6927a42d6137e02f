"""Store failures a user can understand: each message says what is wrong and where."""

from __future__ import annotations


class StoreError(Exception):
    """A database problem with a one-line message fit to show a user."""


class DatabaseNewerError(StoreError):
    pass


class DatabaseNotOursError(StoreError):
    pass


class DatabaseLockedError(StoreError):
    pass


class DatabaseUnavailableError(StoreError):
    pass


class DatabaseNeedsUpgradeError(StoreError):
    pass

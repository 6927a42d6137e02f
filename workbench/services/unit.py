"""One unit of work: a short-lived session in one transaction, tagged with who is acting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from schemas.audit import Actor
from workbench.store.engine import READ_ONLY, describe
from workbench.store.history import ACTOR_KEY
from workbench.store.migrate import translate

SessionFactory = sessionmaker[Session]


@contextmanager
def unit_of_work(factory: SessionFactory, actor: Actor | None = None) -> Iterator[Session]:
    """Commit on success, roll back on any error; driver errors become one-line StoreErrors."""
    session = factory()
    if actor is not None:
        session.info[ACTOR_KEY] = actor.name
    try:
        with session.begin():
            if actor is None:
                # No actor, no changes: a read, which on SQLite need not take the write lock.
                session.connection(execution_options={READ_ONLY: True})
            yield session
    except DBAPIError as exc:
        if exc.connection_invalidated or _is_operational(exc):
            raise translate(exc, _where(factory)) from exc
        raise
    finally:
        session.close()


def _is_operational(exc: DBAPIError) -> bool:
    from sqlalchemy.exc import OperationalError

    return isinstance(exc, OperationalError)


def _where(factory: SessionFactory) -> str:
    bind = factory.kw.get("bind")
    if bind is None:
        return "database"
    return describe(bind.url)

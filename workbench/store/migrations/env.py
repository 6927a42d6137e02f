"""Alembic environment: always run on a connection the workbench hands over."""

from __future__ import annotations

from alembic import context

from workbench.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - the workbench always passes one
    raise RuntimeError("run migrations through `workbench db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

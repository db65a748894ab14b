"""Alembic environment: runs migrations on the engine `portal.migrations` hands over."""

from __future__ import annotations

from alembic import context

from portal import models  # noqa: F401  (registers the tables on Base.metadata)
from portal.db import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()

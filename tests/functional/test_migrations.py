"""Migrations match the models and survive upgrade -> downgrade -> upgrade.

Runs on SQLite always, and on PostgreSQL when TEST_DATABASE_URL points at it (CI's second pass).
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from portal import migrations
from portal.db import Base, make_engine

POSTGRES = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    else:
        if not POSTGRES.startswith("postgresql"):
            pytest.skip("PostgreSQL migration check runs when TEST_DATABASE_URL is set (CI's second pass)")
        # A database of its own, named after the suite's, so the suite's migrated database is left
        # alone and two runs on different databases of one server do not collide.
        base, _, suite_db = POSTGRES.rpartition("/")
        scratch = f"{suite_db.split('?')[0]}_migrations"
        admin = make_engine(POSTGRES).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}"'))
            connection.execute(sa.text(f'CREATE DATABASE "{scratch}"'))
        admin.dispose()
        url = f"{base}/{scratch}"
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _diff(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_models_and_migrations_agree(engine):  # type: ignore[no-untyped-def]
    migrations.migrate(engine, "head")
    assert _diff(engine) == []


def test_upgrade_downgrade_upgrade(engine):  # type: ignore[no-untyped-def]
    migrations.migrate(engine, "head")
    head = migrations.current_revision(engine)
    migrations.migrate(engine, "base")
    assert migrations.current_revision(engine) is None
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    migrations.migrate(engine, "head")
    assert migrations.current_revision(engine) == head
    assert {"users", "hubs", "memberships", "audit_events"} <= set(sa.inspect(engine).get_table_names())

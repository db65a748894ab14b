"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL with TEST_DATABASE_URL),
the app, a test client, and sign-in helpers. Each test starts from empty tables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app, migrations
from portal.db import Base, make_engine
from tests.helpers import sign_in


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database for the whole run."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.sqlite3'}"
    engine = make_engine(url)
    reset_schema(engine)
    migrations.migrate(engine, "head")
    engine.dispose()
    yield url


def reset_schema(engine: sa.Engine) -> None:
    """Drop every table (ours and Alembic's) so a run never inherits an old schema."""
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def app_settings() -> dict:
    """Extra settings for the ``app`` fixture; a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path: Path, app_settings: dict) -> Iterator[Flask]:
    app = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": database_url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            **app_settings,
        }
    )
    yield app
    app.extensions["kaltura"].close()
    engine: sa.Engine = app.extensions["db"].kw["bind"]
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


@pytest.fixture
def db(app: Flask):
    """A database session for arranging and checking data (the app uses its own per request).

    No app context stays pushed: requests made by the test client must get their own `g`.
    """
    session = app.extensions["db"]()
    yield session
    session.close()


@pytest.fixture
def demo(app: Flask, db) -> None:  # type: ignore[no-untyped-def]
    """The demo users, hubs and memberships."""
    from portal.demo import seed_demo

    seed_demo(db)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def signed_in(client: FlaskClient, demo):  # type: ignore[no-untyped-def]
    """Sign the client in as a demo user: ``signed_in("ada@northwind.example")``."""

    def _sign_in(email: str) -> FlaskClient:
        sign_in(client, email)
        return client

    return _sign_in


@pytest.fixture(scope="session")
def kaltura_sandbox():  # type: ignore[no-untyped-def]
    """One Kaltura sandbox process (real HTTP, control surface on) for the whole run."""
    from kaltura_sandbox.testing import SandboxProcess

    with SandboxProcess(enable_control=True, conversion_delay=0) as process:
        yield process

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

import portal.models  # noqa: F401  (reset_schema drops what Base.metadata knows: every model must be loaded)
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
    app.extensions["kaltura_recorder"].close()  # its figures written before the tables are emptied
    engine: sa.Engine = app.extensions["db"].kw["bind"]
    recorder_engine: sa.Engine = app.extensions["kaltura_recorder"].engine
    if recorder_engine is not engine:
        recorder_engine.dispose()
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
    """The demo users, hubs and memberships (without Harbour Lab: the ``harbour`` fixture adds it)."""
    from portal.demo import seed_demo

    seed_demo(db, harbour=False)


@pytest.fixture
def harbour(demo, db):  # type: ignore[no-untyped-def]
    """The demo's second paid hub, Harbour Lab (Ada admin, Hana participant), as `make demo` seeds it."""
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


#: The reliability and security suite (issue 13; reference/security.md §7), all of it part of
#: `make test`. `make test PYTEST_ARGS="-m security"` runs it alone. Entries are node-id prefixes.
SECURITY_SUITE = (
    # Tenant isolation: every route × every kind of user, plain and HTMX; refusals change nothing.
    "tests/functional/test_authorization.py",
    # Headers on every route with its status; cookies __Host-/Secure in production.
    "tests/functional/test_security_headers.py",
    # The CSRF split: cookie-authenticated POSTs need the form token...
    "tests/functional/test_csrf.py",
    # ...and picker routes take only the Bearer header (no cookie, query-string or form credential).
    "tests/functional/test_picker_session.py",
    "tests/functional/test_upload_routes.py",  # the upload routes likewise (issue 12)
    # Framing: frame-ancestors exactly the hub's origins, 'none' elsewhere; a stranger cannot frame.
    "tests/functional/test_picker_headers.py",
    "tests/browser/test_picker_browser.py::test_a_host_not_in_the_list_cannot_frame_the_picker",
    "tests/browser/test_picker_browser.py::test_the_picker_launches_cross_site_and_sets_no_cookie",
    # Launch-token rejections: tampered, expired, replayed, alg none, audience, origin...
    "tests/functional/test_embed_launch.py",
    # postMessage: to the launch origin only; the host ignores other origins, sources and shapes.
    "tests/production/test_postmessage_targets.py",
    "tests/browser/test_postmessage_browser.py",
    # SSRF: the outbound policy at save time and on every connection.
    "tests/unit/kaltura/test_kaltura_outbound.py",
    "tests/integration/kaltura/test_ssrf_sandbox.py",
    # Secrets: at rest, in logs, pages, fragments, the database and Redis.
    "tests/unit/kaltura/test_portal_secrets.py",
    "tests/unit/kaltura/test_kaltura_vault.py",
    "tests/unit/kaltura/test_kaltura_redaction.py",
    "tests/unit/kaltura/test_kaltura_client.py::test_logs_carry_service_action_and_code_but_no_secrets",
    "tests/integration/portal/test_kaltura_tab.py::test_no_copy_of_a_saved_token_anywhere",
    "tests/integration/portal/test_picker_sandbox.py::test_no_app_token_or_listing_session_ever_reaches_a_picker_page",
    "tests/production/test_secrets_canary.py",
    "tests/production/test_identity_secrets_canary.py",
    "tests/production/test_status_secrets_canary.py",
    "tests/production/test_shared_sessions.py",
    "tests/production/test_gunicorn_profile.py",
    # Reliability: a worker killed mid-request, bounded picker time, Redis away, production settings.
    "tests/production/test_restart.py",
    "tests/production/test_picker_budget.py",
    "tests/production/test_ratelimit_fallback.py",
    "tests/production/test_production_config.py",
    "tests/unit/test_config.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the reliability and security suite (``-m security``)."""
    for item in items:
        if item.nodeid.startswith(SECURITY_SUITE):
            item.add_marker(pytest.mark.security)

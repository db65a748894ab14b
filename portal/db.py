"""SQLAlchemy 2.0 engine and per-request session handling, and the declarative ``Base``.

Views get the request's session with :func:`session`; services receive it as an argument and
own the transaction. The session is closed (and rolled back if uncommitted) when the app
context ends, so a failed request never leaves half-written rows behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

logger = logging.getLogger("portal.db")

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the zone otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> sa.Engine:
    """Create the engine; SQLite gets foreign keys, a busy timeout and an owner-only file.

    ``hide_parameters``: a database error's message (which reaches the log) names the statement
    but not its values, which can be password hashes, sealed tokens or email addresses.
    """
    if url.startswith("sqlite"):
        _create_owner_only(sa.engine.make_url(url).database)
        engine = sa.create_engine(url, connect_args={"timeout": 15}, hide_parameters=True)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _create_owner_only(database: str | None) -> None:
    """Create a SQLite database file readable by its owner only, before SQLite creates it with the umask.

    It holds password hashes and the sealed App Tokens; SQLite gives its -wal and -shm files the
    same permissions as the database file.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process created it first: SQLite opens it
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL cannot corrupt the database; a power cut may lose the last commits, which
    # a development or single-host database accepts for commits that do not wait on the disk.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to the app."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def session() -> Session:
    """The current request's (or CLI command's) database session."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db"]()
    return g.db_session


def engine() -> sa.Engine:
    return current_app.extensions["db"].kw["bind"]


def rollback() -> None:
    """Roll the request's session back, if it has one. Never raises: every error path calls it first.

    After a failed statement the session refuses all work (and on PostgreSQL so does the
    transaction) until it is rolled back, so an error page that loads the signed-in user
    would fail in turn.
    """
    db_session = g.get("db_session")
    if db_session is None:
        return
    try:
        db_session.rollback()
    except Exception:  # the connection itself is gone: drop the session, the next use gets a new one
        logger.warning("rollback failed; discarding the session", exc_info=True)
        g.pop("db_session", None)
        with contextlib.suppress(Exception):
            db_session.close()


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()

"""Storage: one SQLite database (in memory, or ``DIR/sandbox.sqlite3`` with ``--data DIR``).

``Store`` wraps a single connection shared by the server's threads and guarded by a re-entrant
lock: ``with store.tx():`` holds the lock and commits (or rolls back) at the end; ``store.query``
and friends take the lock for one statement. Every module contributes its tables through
``register_schema(sql)`` at import time; ``Store.create_schema()`` runs them all (idempotent SQL:
``CREATE TABLE IF NOT EXISTS``).

The core's own tables live here: partners, roles, Kaltura users (kusers), App Tokens, revoked
session ids, and a small key/value ``meta`` table.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DB_FILE = "sandbox.sqlite3"
#: Bumped when tables change: a ``--data`` database of another version is rebuilt on start.
SCHEMA_VERSION = "2"

_SCHEMAS: list[str] = []


def register_schema(sql: str) -> None:
    """Add ``CREATE ... IF NOT EXISTS`` statements to run when a store is created or reset."""
    if sql not in _SCHEMAS:
        _SCHEMAS.append(sql)


register_schema(
    """
    CREATE TABLE IF NOT EXISTS meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS partners (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        admin_secret TEXT NOT NULL,
        secret TEXT NOT NULL,
        status INTEGER NOT NULL DEFAULT 1,
        entitlement_enabled INTEGER NOT NULL DEFAULT 0,
        ks_version INTEGER NOT NULL DEFAULT 2,
        ks_max_expiry INTEGER NOT NULL DEFAULT 86400,
        has_4k INTEGER NOT NULL DEFAULT 0,
        default_privacy_context TEXT,
        end_user_reports INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS roles (
        id INTEGER PRIMARY KEY,
        partner_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        system_name TEXT NOT NULL,
        permissions TEXT NOT NULL DEFAULT '',
        is_admin_role INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS roles_partner ON roles(partner_id, system_name);
    CREATE TABLE IF NOT EXISTS kusers (
        partner_id INTEGER NOT NULL,
        puser_id TEXT NOT NULL,
        screen_name TEXT,
        first_name TEXT,
        last_name TEXT,
        email TEXT,
        description TEXT,
        tags TEXT,
        partner_data TEXT,
        status INTEGER NOT NULL DEFAULT 1,
        user_type INTEGER NOT NULL DEFAULT 0,
        is_admin INTEGER NOT NULL DEFAULT 0,
        role_ids TEXT,
        login_enabled INTEGER NOT NULL DEFAULT 0,
        external_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (partner_id, puser_id)
    );
    CREATE INDEX IF NOT EXISTS kusers_email ON kusers(partner_id, email);
    CREATE TABLE IF NOT EXISTS app_tokens (
        id TEXT PRIMARY KEY,
        partner_id INTEGER NOT NULL,
        token TEXT NOT NULL,
        status INTEGER NOT NULL,
        expiry INTEGER,
        session_type INTEGER,
        session_user_id TEXT,
        session_duration INTEGER,
        session_privileges TEXT,
        hash_type TEXT,
        description TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS app_tokens_partner ON app_tokens(partner_id, status);
    CREATE TABLE IF NOT EXISTS revoked_sessions (
        partner_id INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        PRIMARY KEY (partner_id, session_id)
    );
    """
)


@dataclass(frozen=True)
class Partner:
    """A Kaltura partner (account) and the per-partner switches the sandbox honours."""

    id: int
    name: str
    admin_secret: str
    secret: str
    status: int
    entitlement_enabled: bool
    ks_version: int
    ks_max_expiry: int
    has_4k: bool
    default_privacy_context: str | None
    created_at: int
    #: Kaltura's ``FEATURE_END_USER_REPORTS`` permission: using a KS creates its user.
    end_user_reports: bool = False

    def admin_secrets(self) -> list[str]:
        """The admin secrets accepted for signing/validation (a comma list is allowed)."""
        return [s for s in self.admin_secret.split(",") if s]


@dataclass(frozen=True)
class Role:
    """A user role: a named set of permission names (``*`` = every permission)."""

    id: int
    partner_id: int
    name: str
    system_name: str
    permissions: frozenset[str]
    is_admin_role: bool

    def grants(self, permission: str) -> bool:
        """Whether the role includes ``permission``."""
        return "*" in self.permissions or permission in self.permissions


class Store:
    """The sandbox state: one SQLite connection guarded by ``lock``."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = data_dir
        self.lock = threading.RLock()
        self._tx_depth = 0
        self.conn = self._connect()

    # -- connection management -----------------------------------------------------------------

    @property
    def path(self) -> str:
        """``DIR/sandbox.sqlite3``, or ``:memory:`` without a data directory."""
        return str(self.data_dir / DB_FILE) if self.data_dir else ":memory:"

    def _connect(self) -> sqlite3.Connection:
        if self.data_dir:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        if self.data_dir:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def create_schema(self) -> None:
        """Create every registered table and index (safe to call on an existing database)."""
        with self.lock:
            for sql in _SCHEMAS:
                self.conn.executescript(sql)

    def wipe(self) -> None:
        """Drop all data: delete the database file (or the in-memory database) and recreate it."""
        with self.lock:
            self.conn.close()
            if self.data_dir:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(self.path + suffix)
            self.conn = self._connect()
            self.create_schema()

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.conn.close()

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock for a transaction; commit on success, roll back on an exception.

        Nested ``tx()`` blocks (same thread) become savepoints of the outer transaction.
        """
        with self.lock:
            depth = self._tx_depth
            if depth == 0:
                begin, commit, rollback = "BEGIN", ["COMMIT"], ["ROLLBACK"]
            else:
                name = f"sp{depth}"
                begin, commit = f"SAVEPOINT {name}", [f"RELEASE {name}"]
                rollback = [f"ROLLBACK TO {name}", f"RELEASE {name}"]
            self.conn.execute(begin)
            self._tx_depth += 1
            try:
                yield self.conn
            except BaseException:
                self._tx_depth -= 1
                for statement in rollback:
                    self.conn.execute(statement)
                raise
            self._tx_depth -= 1
            for statement in commit:
                self.conn.execute(statement)

    # -- statement helpers ---------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Cursor:
        """Run one statement under the lock (autocommit outside ``tx()``)."""
        with self.lock:
            return self.conn.execute(sql, params)

    def query(self, sql: str, params: Sequence[Any] | dict = ()) -> list[sqlite3.Row]:
        """All rows of a query."""
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Row | None:
        """The first row of a query, or None."""
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Sequence[Any] | dict = ()) -> Any:
        """The first column of the first row, or None."""
        row = self.query_one(sql, params)
        return None if row is None else row[0]

    # -- meta ------------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A value of the key/value ``meta`` table."""
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return default if value is None else value

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the key/value ``meta`` table."""
        self.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- partners and roles ----------------------------------------------------------------------

    def partner(self, partner_id: int | None) -> Partner | None:
        """The partner with this id, or None."""
        if partner_id is None:
            return None
        row = self.query_one("SELECT * FROM partners WHERE id = ?", (partner_id,))
        if row is None:
            return None
        return Partner(
            id=row["id"],
            name=row["name"],
            admin_secret=row["admin_secret"],
            secret=row["secret"],
            status=row["status"],
            entitlement_enabled=bool(row["entitlement_enabled"]),
            ks_version=row["ks_version"],
            ks_max_expiry=row["ks_max_expiry"],
            has_4k=bool(row["has_4k"]),
            default_privacy_context=row["default_privacy_context"],
            created_at=row["created_at"],
            end_user_reports=bool(row["end_user_reports"]),
        )

    def partners(self) -> list[Partner]:
        """Every partner, by id."""
        ids = [row[0] for row in self.query("SELECT id FROM partners ORDER BY id")]
        return [p for p in (self.partner(i) for i in ids) if p is not None]

    def update_partner(self, partner_id: int, **fields: Any) -> None:
        """Change partner columns (``has_4k``, ``entitlement_enabled``, ``ks_max_expiry``...)."""
        allowed = {
            "name",
            "status",
            "entitlement_enabled",
            "ks_version",
            "ks_max_expiry",
            "has_4k",
            "default_privacy_context",
            "end_user_reports",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown partner fields: {sorted(unknown)}")
        if not fields:
            return
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self.execute(
            f"UPDATE partners SET {assignments} WHERE id = ?",
            (*fields.values(), partner_id),
        )

    def role(self, partner_id: int, ref: str | int) -> Role | None:
        """A role of the partner by numeric id or system name."""
        text = str(ref)
        if text.lstrip("-").isdigit():
            row = self.query_one("SELECT * FROM roles WHERE id = ? AND partner_id IN (?, 0)", (int(text), partner_id))
        else:
            # The partner's own role first, then a system (partner 0) one.
            row = self.query_one(
                "SELECT * FROM roles WHERE system_name = ? AND partner_id IN (?, 0) ORDER BY partner_id DESC",
                (text, partner_id),
            )
        if row is None:
            return None
        return Role(
            id=row["id"],
            partner_id=row["partner_id"],
            name=row["name"],
            system_name=row["system_name"],
            permissions=frozenset(p for p in row["permissions"].split(",") if p),
            is_admin_role=bool(row["is_admin_role"]),
        )

    # -- Kaltura users -------------------------------------------------------------------------

    def user(self, partner_id: int, puser_id: str) -> sqlite3.Row | None:
        """The Kaltura user (kuser) row for a partner user id, or None."""
        return self.query_one("SELECT * FROM kusers WHERE partner_id = ? AND puser_id = ?", (partner_id, puser_id))

    def ensure_user(self, partner_id: int, puser_id: str, now: float) -> sqlite3.Row:
        """The kuser for ``puser_id``, created ACTIVE (screenName = firstName = id) if missing.

        This is Kaltura's implicit user creation (``kuserPeer::createKuserForPartner``), which only
        actions that need the user trigger (reference §7): ``uploadToken.*`` and ``media.add`` as
        the user, an ADMIN ``media.add``/``update`` naming a new owner, the users of an entry's
        ``entitledUsers*`` and an App Token's ``sessionUserId``; merely using a KS does not, unless
        the partner has FEATURE_END_USER_REPORTS (``app.SandboxApp._check_user``).
        """
        with self.lock:
            row = self.user(partner_id, puser_id)
            if row is not None:
                return row
            stamp = int(now)
            self.execute(
                "INSERT INTO kusers(partner_id, puser_id, screen_name, first_name, status, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?)",
                (partner_id, puser_id, puser_id, puser_id, stamp, stamp),
            )
            created = self.user(partner_id, puser_id)
            assert created is not None
            return created

"""The gateway's call recorder: each Kaltura call's outcome, code and duration, per hub, in the database.

Every worker adds to the same rows (one per hub × UTC hour × token slot × ``service.action`` ×
outcome × code), so the status pages show the whole deployment, not one process. Each call costs
one small upsert on a connection of its own, never the request's session: a failed write cannot
leave the request's transaction in a bad state, and is logged (at most once a minute), never
raised. Successes update a token's "last success" at most once a minute per process; failures and
new sessions always. Rows older than :data:`RETENTION` are deleted once an hour per process, by
the indexed ``hour`` column.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from portal.kaltura.calls import CallScope, Outcome
from portal.kaltura.errors import NOT_FOUND_CODES
from portal.kaltura.types import SessionInfo
from portal.models import LATENCY_BOUNDS_MS, LATENCY_BUCKETS, KalturaCallStat, KalturaTokenHealth

logger = logging.getLogger("portal.status")

#: How long call statistics are kept: the 7-day figures plus a day of slack.
RETENTION = timedelta(days=8)
#: Seconds between two writes of one token's "last success" by one process.
SUCCESS_INTERVAL = 60.0
#: Kaltura answers that prove the token works although the call "failed": nothing found (or hidden
#: by entitlement), or a user that already exists. They count as a success of the token.
BENIGN_CODES = frozenset(NOT_FOUND_CODES | {"DUPLICATE_USER_BY_ID"})

_STATS: sa.Table = KalturaCallStat.__table__  # type: ignore[assignment]
_HEALTH: sa.Table = KalturaTokenHealth.__table__  # type: ignore[assignment]


def bucket_of(duration_ms: float) -> int:
    """The histogram bucket of a duration: the first bound it does not exceed, else the last bucket."""
    for index, bound in enumerate(LATENCY_BOUNDS_MS):
        if duration_ms <= bound:
            return index
    return LATENCY_BUCKETS - 1


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _insert(connection: sa.Connection, table: sa.Table) -> Any:
    """An INSERT that can say ON CONFLICT DO UPDATE, in the connection's dialect (SQLite or PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def record_call(
    connection: sa.Connection, hub_id: int, at: datetime, slot: str, call: str, outcome: str, code: str, ms: float
) -> None:
    """Add one call to its aggregate row (created on first use), atomically on both databases."""
    bucket = bucket_of(ms)
    values: dict[str, Any] = {
        "hub_id": hub_id,
        "hour": hour_of(at),
        "slot": slot,
        "call": call[:80],
        "outcome": outcome,
        "code": code[:80],
        "count": 1,
        "total_ms": max(0, round(ms)),
        **{f"h{i}": int(i == bucket) for i in range(LATENCY_BUCKETS)},
    }
    statement = _insert(connection, _STATS).values(**values)
    grow = ["count", "total_ms", *(f"h{i}" for i in range(LATENCY_BUCKETS))]
    statement = statement.on_conflict_do_update(
        index_elements=["hub_id", "hour", "slot", "call", "outcome", "code"],
        set_={name: _STATS.c[name] + statement.excluded[name] for name in grow},
    )
    connection.execute(statement)


def record_token(connection: sa.Connection, scope: CallScope, **changes: Any) -> None:
    """Set some of a saved token's health columns (row created on first use)."""
    assert scope.slot is not None and scope.token_id is not None
    statement = _insert(connection, _HEALTH).values(
        hub_id=scope.hub_id, slot=scope.slot, token_id=scope.token_id[:80], **changes
    )
    statement = statement.on_conflict_do_update(
        index_elements=["hub_id", "slot", "token_id"], set_={name: statement.excluded[name] for name in changes}
    )
    connection.execute(statement)


def prune(connection: sa.Connection, now: datetime, retention: timedelta = RETENTION) -> int:
    """Delete call statistics older than ``retention``; returns how many rows went."""
    result = connection.execute(sa.delete(_STATS).where(_STATS.c.hour < hour_of(now) - retention))
    return int(result.rowcount or 0)


class DatabaseRecorder:
    """A :class:`~portal.kaltura.calls.CallRecorder` writing to the portal's database. Thread-safe."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        retention: timedelta = RETENTION,
        success_interval: float = SUCCESS_INTERVAL,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.retention = retention
        self.success_interval = success_interval
        self._lock = threading.Lock()
        self._successes: dict[tuple[int, str, str], float] = {}
        self._pruned_hour: datetime | None = None
        self._last_warning = 0.0

    def call_finished(self, scope: CallScope, call: str, outcome: Outcome, code: str, duration_ms: float) -> None:
        now = self.clock()
        self._write(
            lambda connection: self._call(connection, scope, call, outcome, code, duration_ms, now), f"call {call}"
        )

    def session_started(self, scope: CallScope, info: SessionInfo) -> None:
        if scope.slot is None or scope.token_id is None:
            return
        now = self.clock()
        expires = datetime.fromtimestamp(info.expiry, UTC) if info.expiry else None
        self._write(
            lambda connection: record_token(connection, scope, session_started_at=now, session_expires_at=expires),
            "session",
        )

    def _call(
        self,
        connection: sa.Connection,
        scope: CallScope,
        call: str,
        outcome: Outcome,
        code: str,
        duration_ms: float,
        now: datetime,
    ) -> None:
        record_call(connection, scope.hub_id, now, scope.slot or "", call, outcome, code, duration_ms)
        if scope.slot is not None and scope.token_id is not None:
            if outcome != "ok" and code not in BENIGN_CODES:
                self._failed(scope)
                record_token(
                    connection, scope, last_failure_at=now, last_failure_call=call[:80], last_failure_code=code
                )
            elif self._success_due(scope):
                record_token(connection, scope, last_success_at=now)
        if self._prune_due(now):
            prune(connection, now, self.retention)

    def _failed(self, scope: CallScope) -> None:
        # The next success is written at once, so "last success" never trails a newer failure.
        with self._lock:
            self._successes.pop((scope.hub_id, scope.slot or "", scope.token_id or ""), None)

    def _success_due(self, scope: CallScope) -> bool:
        key = (scope.hub_id, scope.slot or "", scope.token_id or "")
        moment = time.monotonic()
        with self._lock:
            last = self._successes.get(key)
            if last is not None and moment - last < self.success_interval:
                return False
            self._successes[key] = moment
            return True

    def _prune_due(self, now: datetime) -> bool:
        hour = hour_of(now)
        with self._lock:
            if self._pruned_hour == hour:
                return False
            self._pruned_hour = hour
            return True

    def _write(self, work: Callable[[sa.Connection], None], what: str) -> None:
        try:
            with self.engine.begin() as connection:
                work(connection)
        except Exception as error:  # a lost figure is better than a failed Kaltura call
            moment = time.monotonic()
            if moment - self._last_warning >= 60:
                self._last_warning = moment
                logger.warning("kaltura call statistics: recording a %s failed (%s)", what, type(error).__name__)


def recording_engine(engine: sa.Engine) -> sa.Engine:
    """The engine the recorder writes with: the app's own on PostgreSQL (its pool); on SQLite a
    second engine on the same file with a short busy timeout, so a recorder that meets a long
    write lock gives up quickly instead of holding the Kaltura call for the app's 15 seconds."""
    if engine.dialect.name != "sqlite":
        return engine
    from portal.db import _sqlite_pragmas

    recorder_engine = sa.create_engine(engine.url, connect_args={"timeout": 1.0}, hide_parameters=True)
    sa.event.listen(recorder_engine, "connect", _sqlite_pragmas)
    return recorder_engine

"""The gateway's call recorder: each Kaltura call's outcome, code and duration, per hub, in the database.

Every worker adds to the same rows (one per hub × UTC hour × token slot × ``service.action`` ×
outcome × code, with a count, the total milliseconds and a fixed-bucket latency histogram), so
the status pages show the whole deployment, not one process.

Recording never makes a call wait on the database: the gateway's report goes into an in-memory
queue (a few microseconds), and a writer thread of the process sums what arrived into one upsert
per row and commits it, on a connection of its own (never the request's session, so a failed
write cannot spoil the request's transaction). A failed write is logged (at most once a minute)
and its figures dropped; so are reports beyond :data:`MAX_PENDING` while the database is away.
The queue is flushed when the process exits, and :meth:`DatabaseRecorder.flush` makes what this
process recorded visible at once (the status pages call it before reading). Successes update a
token's "last success" at most once a minute per process (at once after a failure); failures and
new sessions always. Rows older than :data:`RETENTION` are deleted once an hour per process, by
the indexed ``hour`` column.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from portal.kaltura.calls import NOT_FAILURES, CallScope, Outcome
from portal.kaltura.errors import NOT_FOUND_CODES
from portal.kaltura.types import SessionInfo
from portal.models import LATENCY_BOUNDS_MS, LATENCY_BUCKETS, KalturaCallStat, KalturaTokenHealth

logger = logging.getLogger("portal.status")

#: How long call statistics are kept: the 7-day figures plus a day of slack.
RETENTION = timedelta(days=8)
#: Seconds between two writes of one token's "last success" by one process.
SUCCESS_INTERVAL = 60.0
#: How long the writer lets reports gather after the first one before it commits them together.
BATCH_SECONDS = 0.05
#: Reports waiting for the writer beyond which new ones are dropped (the database is away).
MAX_PENDING = 20_000
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
    histogram = [0] * LATENCY_BUCKETS
    histogram[bucket_of(ms)] = 1
    add_calls(connection, (hub_id, hour_of(at), slot, call[:80], outcome, code[:80]), 1, max(0, round(ms)), histogram)


def add_calls(
    connection: sa.Connection,
    key: tuple[int, datetime, str, str, str, str],
    count: int,
    total_ms: int,
    histogram: list[int],
) -> None:
    """Add ``count`` calls (their total milliseconds and histogram) to the row of ``key``:
    ``(hub_id, hour, slot, call, outcome, code)``. One INSERT ... ON CONFLICT DO UPDATE."""
    hub_id, hour, slot, call, outcome, code = key
    values: dict[str, Any] = {
        "hub_id": hub_id,
        "hour": hour,
        "slot": slot,
        "call": call,
        "outcome": outcome,
        "code": code,
        "count": count,
        "total_ms": total_ms,
        **{f"h{i}": histogram[i] for i in range(LATENCY_BUCKETS)},
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


@dataclass
class _Batch:
    """What the writer sums before one commit: call rows and token-health changes."""

    calls: dict[tuple[int, datetime, str, str, str, str], list[Any]]
    tokens: dict[tuple[int, str, str], dict[str, Any]]

    @classmethod
    def empty(cls) -> _Batch:
        return cls({}, {})

    def add_call(self, key: tuple[int, datetime, str, str, str, str], ms: float) -> None:
        row = self.calls.setdefault(key, [0, 0, [0] * LATENCY_BUCKETS])
        row[0] += 1
        row[1] += max(0, round(ms))
        row[2][bucket_of(ms)] += 1

    def set_token(self, scope: CallScope, changes: dict[str, Any]) -> None:
        assert scope.slot is not None and scope.token_id is not None
        self.tokens.setdefault((scope.hub_id, scope.slot, scope.token_id[:80]), {}).update(changes)

    def __bool__(self) -> bool:
        return bool(self.calls or self.tokens)


class DatabaseRecorder:
    """A :class:`~portal.kaltura.calls.CallRecorder` writing to the portal's database from a
    writer thread. Thread-safe; the thread starts with the first report in each process (so a
    recorder built before gunicorn forks works in every worker)."""

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
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending = 0
        self._pid: int | None = None

    # --- what the gateway reports (on the call's thread: no I/O) ------------------------------------

    def call_finished(self, scope: CallScope, call: str, outcome: Outcome, code: str, duration_ms: float) -> None:
        now = self.clock()
        key = (scope.hub_id, hour_of(now), scope.slot or "", call[:80], outcome, code[:80])
        token: dict[str, Any] | None = None
        if scope.slot is not None and scope.token_id is not None:
            if outcome not in NOT_FAILURES and code not in BENIGN_CODES:
                self._failed(scope)
                token = {"last_failure_at": now, "last_failure_call": call[:80], "last_failure_code": code[:80]}
            elif self._success_due(scope):
                token = {"last_success_at": now}
        self._put(("call", key, duration_ms, scope, token))

    def session_started(self, scope: CallScope, info: SessionInfo) -> None:
        if scope.slot is None or scope.token_id is None:
            return
        expires = datetime.fromtimestamp(info.expiry, UTC) if info.expiry else None
        self._put(("token", scope, {"session_started_at": self.clock(), "session_expires_at": expires}))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything this process reported so far is committed (or dropped); False on timeout."""
        if self._pending == 0 or self._pid != os.getpid():
            return True
        done = threading.Event()
        self._queue.put(("flush", done))
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is pending and stop this process's writer thread (tests, a shutting-down app)."""
        if self._pid != os.getpid():
            return
        done = threading.Event()
        self._queue.put(("stop", done))
        done.wait(timeout)
        with self._lock:
            self._pid = None

    # --- the writer -------------------------------------------------------------------------------

    def _put(self, item: tuple[Any, ...]) -> None:
        self._ensure_writer()
        with self._lock:
            if self._pending >= MAX_PENDING:
                self._warn("the queue is full; dropping Kaltura call figures")
                return
            self._pending += 1
        self._queue.put(item)

    def _ensure_writer(self) -> None:
        pid = os.getpid()
        if self._pid == pid:
            return
        with self._lock:
            if self._pid == pid:
                return
            # A new process (first report, or a forked worker): its own queue and thread.
            self._queue = queue.SimpleQueue()
            self._pending = 0
            self._pid = pid
            threading.Thread(target=self._run, name="kaltura-call-recorder", daemon=True).start()
            atexit.register(self.flush)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            batch, waiters = _Batch.empty(), list[threading.Event]()
            stopping = item[0] == "stop"
            if item[0] == "call":
                # Let a burst of calls gather: one commit for many calls, fewer writes to compete with.
                time.sleep(BATCH_SECONDS)
            taken = self._take(item, batch, waiters)
            # Whatever else already waits goes into the same transaction.
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                stopping = stopping or item[0] == "stop"
                taken += self._take(item, batch, waiters)
                if taken >= 1000 or stopping:
                    break
            if batch:
                self._write(batch)
            with self._lock:
                self._pending -= taken
            for waiter in waiters:
                waiter.set()

    def _take(self, item: tuple[Any, ...], batch: _Batch, waiters: list[threading.Event]) -> int:
        kind = item[0]
        if kind in ("flush", "stop"):
            waiters.append(item[1])
            return 0
        if kind == "call":
            _, key, duration_ms, scope, token = item
            batch.add_call(key, duration_ms)
            if token:
                batch.set_token(scope, token)
        else:
            _, scope, changes = item
            batch.set_token(scope, changes)
        return 1

    def _write(self, batch: _Batch) -> None:
        now = self.clock()
        try:
            with self.engine.begin() as connection:
                for key in sorted(batch.calls):  # one order for every worker: no deadlocks between them
                    count, total_ms, histogram = batch.calls[key]
                    add_calls(connection, key, count, total_ms, histogram)
                for (hub_id, slot, token_id), changes in sorted(batch.tokens.items()):
                    record_token(connection, CallScope(hub_id, slot, token_id), **changes)
                if self._prune_due(now):
                    prune(connection, now, self.retention)
        except Exception as error:  # a lost figure is better than a failed Kaltura call
            self._warn(f"recording Kaltura call figures failed ({type(error).__name__})")

    def _warn(self, message: str) -> None:
        moment = time.monotonic()
        if moment - self._last_warning >= 60:
            self._last_warning = moment
            logger.warning("kaltura call statistics: %s", message)

    # --- throttles --------------------------------------------------------------------------------

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
        if self._pruned_hour == hour:
            return False
        self._pruned_hour = hour
        return True


def recording_engine(engine: sa.Engine) -> sa.Engine:
    """The engine the recorder writes with: the app's own on PostgreSQL (its pool); on SQLite a
    second engine on the same file with a shorter busy timeout than the app's 15 seconds, so a
    writer that meets a long write lock drops one batch rather than let the queue grow."""
    if engine.dialect.name != "sqlite":
        return engine
    from portal.db import _sqlite_pragmas

    recorder_engine = sa.create_engine(engine.url, connect_args={"timeout": 5.0}, hide_parameters=True)
    sa.event.listen(recorder_engine, "connect", _sqlite_pragmas)
    return recorder_engine

"""Reading a hub's integration status: token health, call figures, the last live check, the support
dashboard's health at a glance and the diagnostic bundle. No Flask, and no Kaltura call: the
figures are what the gateway recorded (:mod:`portal.status.recording`) and what the last live
check stored; "Check now" and ``portal kaltura check --all`` refresh them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.identity.links import MemberRow, identity_statistics, member_identity_rows
from portal.kaltura.calls import NOT_FAILURES
from portal.kaltura.redaction import redact_text
from portal.models import (
    LATENCY_BOUNDS_MS,
    LATENCY_BUCKETS,
    Hub,
    IdentityState,
    KalturaCallStat,
    KalturaConnection,
    KalturaTokenHealth,
    Plan,
)
from portal.status.recording import BENIGN_CODES

#: Figures older than this are offered a refresh ("Check now").
STALE_AFTER = timedelta(minutes=5)
#: An App Token expiring within this many days is "expiring soon".
EXPIRING_WITHIN = timedelta(days=14)
#: Share of a day's calls that may fail before a hub counts as failing (with at least FAILING_MIN_CALLS).
FAILING_SHARE = 0.2
FAILING_MIN_CALLS = 5
SLOTS = ("client", "server")

#: The health states, most urgent first: the support dashboard sorts and filters by them.
HEALTH = {
    "failing": "Failing",
    "expiring": "Expiring soon",
    "never_tested": "Never tested",
    "not_connected": "Not connected",
    "connected": "Connected",
}
OUTCOMES = {
    "ok": "Succeeded",
    "kaltura_error": "Kaltura error",
    "refused": "Refused an optional call",
    "transport": "Transport failure",
}


# --- the identity section (the identity links of portal.identity.links) ------------------------------

# The status page shows the first members; the Identities page (identity.members) has them all, paged.
IDENTITY_ROWS_SHOWN = 25


def identity_statistics_for(db: Session, hub: Hub) -> dict[str, int]:
    """The hub's identity statistics: ``existed``, ``created``, ``pending``, ``failed``, ``drifted``."""
    return identity_statistics(db, hub)


def identity_members_for(db: Session, hub: Hub) -> tuple[list[dict[str, Any]], int]:
    """The first members with their link (``email``, ``kaltura_user_id``, ``state``, ``verified_at``,
    ``expected_user_id`` when it drifted), and how many members there are in all."""
    rows, total = member_identity_rows(db, hub, page=1, page_size=IDENTITY_ROWS_SHOWN)
    members = [
        {
            "email": row.email,
            "kaltura_user_id": row.linked_id or row.mapped_id or "",
            "state": _state_text(row),
            "verified_at": row.verified_at,
            "expected_user_id": row.mapped_id if row.drifted else None,
        }
        for row in rows
    ]
    return members, total


def _state_text(row: MemberRow) -> str:
    """The link's state as the admin reads it (the member's own page says it to them)."""
    if row.state is None:
        return "Not linked yet (linked on first use)"
    if row.state is IdentityState.PENDING:
        return "Pending: Kaltura creates the user on their first upload"
    if row.state is IdentityState.FAILED:
        return f"Failed ({row.error_code or 'no code'}); retried on next use"
    return {IdentityState.EXISTED: "Existed in Kaltura", IdentityState.CREATED: "Created for them"}[row.state]


# --- call figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallGroup:
    outcome: str
    code: str
    count: int
    average_ms: int

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome)


@dataclass(frozen=True)
class CallFigures:
    """The calls of one hub since a moment, as the gateway measured them."""

    since: datetime
    groups: tuple[CallGroup, ...] = ()
    histogram: tuple[int, ...] = (0,) * LATENCY_BUCKETS
    sessions_minted: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(group.count for group in self.groups)

    def count(self, outcome: str) -> int:
        return sum(group.count for group in self.groups if group.outcome == outcome)

    @property
    def failures(self) -> int:
        """Failed calls that say something is wrong (not "nothing found" answers)."""
        return sum(g.count for g in self.groups if g.outcome not in NOT_FAILURES and g.code not in BENIGN_CODES)

    @property
    def p50_ms(self) -> int | None:
        return percentile(self.histogram, 0.5)

    @property
    def p95_ms(self) -> int | None:
        return percentile(self.histogram, 0.95)

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "total": self.total,
            "succeeded": self.count("ok"),
            "kalturaErrors": self.count("kaltura_error"),
            "transportFailures": self.count("transport"),
            "p50Ms": self.p50_ms,
            "p95Ms": self.p95_ms,
            "sessionsMinted": dict(self.sessions_minted),
            "byOutcomeAndCode": [
                {"outcome": g.outcome, "code": g.code or None, "count": g.count, "averageMs": g.average_ms}
                for g in self.groups
            ],
            "latencyHistogram": [
                {"upToMs": LATENCY_BOUNDS_MS[i] if i < len(LATENCY_BOUNDS_MS) else None, "count": n}
                for i, n in enumerate(self.histogram)
            ],
        }


def percentile(histogram: Sequence[int], q: float) -> int | None:
    """The ``q`` quantile (0-1) in milliseconds from the fixed-bucket histogram, interpolated inside its
    bucket; ``None`` without calls. Past the last bound it answers that bound (a floor)."""
    total = sum(histogram)
    if not total:
        return None
    wanted = q * total
    seen = 0
    for index, count in enumerate(histogram):
        if count and seen + count >= wanted:
            if index >= len(LATENCY_BOUNDS_MS):
                return LATENCY_BOUNDS_MS[-1]
            low = LATENCY_BOUNDS_MS[index - 1] if index else 0
            high = LATENCY_BOUNDS_MS[index]
            return round(low + (high - low) * (wanted - seen) / count)
        seen += count
    return LATENCY_BOUNDS_MS[-1]


def call_figures(db: Session, hub_id: int, since: datetime) -> CallFigures:
    """Every recorded call of the hub in the hours from ``since`` (whole hours), grouped by outcome and code."""
    stats = KalturaCallStat
    hour = since.replace(minute=0, second=0, microsecond=0)
    where = (stats.hub_id == hub_id, stats.hour >= hour)
    grouped = db.execute(
        sa.select(stats.outcome, stats.code, sa.func.sum(stats.count), sa.func.sum(stats.total_ms))
        .where(*where)
        .group_by(stats.outcome, stats.code)
        .order_by(sa.func.sum(stats.count).desc(), stats.outcome, stats.code)
    ).all()
    groups = tuple(
        CallGroup(outcome, code, int(count or 0), round((total or 0) / count) if count else 0)
        for outcome, code, count, total in grouped
    )
    sums = db.execute(
        sa.select(*(sa.func.coalesce(sa.func.sum(getattr(stats, f"h{i}")), 0) for i in range(LATENCY_BUCKETS))).where(
            *where
        )
    ).one()
    minted = db.execute(
        sa.select(stats.slot, sa.func.sum(stats.count))
        .where(*where, stats.call == "appToken.startSession", stats.outcome == "ok")
        .group_by(stats.slot)
    ).all()
    return CallFigures(
        since=hour,
        groups=groups,
        histogram=tuple(int(n) for n in sums),
        sessions_minted={slot or "pasted": int(n or 0) for slot, n in minted},
    )


def recent_errors(db: Session, hub_id: int, since: datetime, limit: int = 20) -> list[dict[str, Any]]:
    """The failed calls of the hub since ``since``, newest hour first: when, which call, which code, how many."""
    stats = KalturaCallStat
    rows = db.scalars(
        sa.select(stats)
        .where(stats.hub_id == hub_id, stats.hour >= since.replace(minute=0, second=0, microsecond=0))
        .where(stats.outcome.not_in(sorted(NOT_FAILURES)))
        .order_by(stats.hour.desc(), stats.count.desc(), stats.call)
        .limit(limit)
    )
    return [
        {
            "hour": row.hour.isoformat(),
            "call": row.call,
            "outcome": row.outcome,
            "code": row.code,
            "count": row.count,
            "token": row.slot or None,
        }
        for row in rows
    ]


# --- token health --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenHealth:
    """A saved token's public summary and how it fared (no secret: the summary never holds one)."""

    slot: str
    info: dict[str, Any]
    health: KalturaTokenHealth | None

    @property
    def expiry(self) -> datetime | None:
        value = self.info.get("expiry")
        return datetime.fromisoformat(value) if value else None

    def expiring(self, now: datetime) -> bool:
        return self.expiry is not None and self.expiry - now <= EXPIRING_WITHIN

    @property
    def failing_now(self) -> bool:
        """The last thing Kaltura said about this token was a failure."""
        h = self.health
        if h is None or h.last_failure_at is None:
            return False
        return h.last_success_at is None or h.last_failure_at > h.last_success_at

    def as_dict(self) -> dict[str, Any]:
        h = self.health
        return {
            "slot": self.slot,
            "id": self.info.get("id"),
            "partnerId": self.info.get("partner_id"),
            "status": self.info.get("status"),
            "sessionType": self.info.get("session_type"),
            "privileges": self.info.get("privileges"),
            "expiry": self.info.get("expiry"),
            "warnings": list(self.info.get("warnings") or []),
            "lastSuccessAt": _iso(h.last_success_at if h else None),
            "lastFailureAt": _iso(h.last_failure_at if h else None),
            "lastFailureCall": h.last_failure_call if h else None,
            "lastFailureCode": h.last_failure_code if h else None,
            "sessionStartedAt": _iso(h.session_started_at if h else None),
            "sessionExpiresAt": _iso(h.session_expires_at if h else None),
        }


def token_health(db: Session, connection: KalturaConnection | None) -> list[TokenHealth]:
    """Each saved token with its recorded health (matched by the token's public id)."""
    if connection is None:
        return []
    rows = db.scalars(sa.select(KalturaTokenHealth).where(KalturaTokenHealth.hub_id == connection.hub_id))
    return _tokens_from(connection, list(rows))


# --- health at a glance ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HubHealth:
    """One hub's integration health, for the support dashboard and the top of the status page."""

    hub: Hub
    connection: KalturaConnection | None
    problems: tuple[str, ...]
    calls_24h: int
    failures_24h: int

    @property
    def state(self) -> str:
        """The most urgent of the problems, or ``connected``."""
        return self.problems[0] if self.problems else "connected"

    @property
    def last_checked_at(self) -> datetime | None:
        return self.connection.last_checked_at if self.connection else None

    @property
    def last_check_verdict(self) -> str | None:
        rows = (self.connection.last_check or []) if self.connection else []
        if not rows:
            return None
        statuses = {row.get("status") for row in rows}
        return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"


def health_of(
    hub: Hub, connection: KalturaConnection | None, tokens: list[TokenHealth], day: tuple[int, int], now: datetime
) -> HubHealth:
    calls, failures = day
    problems: list[str] = []
    complete = bool(connection and connection.is_complete)
    if not complete:
        problems.append("not_connected")
    else:
        assert connection is not None
        rows = connection.last_check or []
        check_failed = any(row.get("status") == "fail" for row in rows)
        calls_failing = calls >= FAILING_MIN_CALLS and failures / calls >= FAILING_SHARE
        if check_failed or calls_failing or any(t.failing_now for t in tokens):
            problems.append("failing")
        if any(t.expiring(now) for t in tokens):
            problems.append("expiring")
        if connection.last_checked_at is None:
            problems.append("never_tested")
    order = list(HEALTH)
    return HubHealth(hub, connection, tuple(sorted(problems, key=order.index)), calls, failures)


def _day_counts(db: Session, since: datetime, hub_ids: Sequence[int] | None = None) -> dict[int, tuple[int, int]]:
    """``{hub_id: (calls, failures)}`` since ``since``, in one query for every hub."""
    stats = KalturaCallStat
    failed = sa.and_(stats.outcome.not_in(sorted(NOT_FAILURES)), stats.code.not_in(sorted(BENIGN_CODES)))
    query = (
        sa.select(
            stats.hub_id,
            sa.func.sum(stats.count),
            sa.func.coalesce(sa.func.sum(sa.case((failed, stats.count), else_=0)), 0),
        )
        .where(stats.hour >= since.replace(minute=0, second=0, microsecond=0))
        .group_by(stats.hub_id)
    )
    if hub_ids is not None:
        query = query.where(stats.hub_id.in_(list(hub_ids)))
    return {hub_id: (int(calls or 0), int(failures or 0)) for hub_id, calls, failures in db.execute(query)}


SORTS = {
    "health": "Health (most urgent first)",
    "name": "Name",
    "plan": "Plan",
    "checked": "Last tested (oldest first)",
    "calls": "Kaltura calls in 24 h (most first)",
}


def dashboard(
    db: Session, *, problem: str | None = None, sort: str = "health", now: datetime | None = None
) -> list[HubHealth]:
    """Every hub with its plan and health; only those with ``problem`` when given; sorted by ``sort``.

    A fixed number of queries whatever the number of hubs (hubs, connections, token health, calls).
    """
    now = now or datetime.now(UTC)
    hubs = list(db.scalars(sa.select(Hub)))
    connections = {c.hub_id: c for c in db.scalars(sa.select(KalturaConnection))}
    health_rows: dict[int, list[KalturaTokenHealth]] = {}
    for row in db.scalars(sa.select(KalturaTokenHealth)):
        health_rows.setdefault(row.hub_id, []).append(row)
    days = _day_counts(db, now - timedelta(hours=24))
    found = []
    for hub in hubs:
        connection = connections.get(hub.id)
        tokens = _tokens_from(connection, health_rows.get(hub.id, []))
        found.append(health_of(hub, connection, tokens, days.get(hub.id, (0, 0)), now))
    if problem:
        found = [h for h in found if problem in h.problems or (problem == "connected" and not h.problems)]
    return sorted(found, key=_sort_key(sort))


def _tokens_from(connection: KalturaConnection | None, rows: list[KalturaTokenHealth]) -> list[TokenHealth]:
    if connection is None:
        return []
    by_key = {(row.slot, row.token_id): row for row in rows}
    tokens = []
    for slot in SLOTS:
        info = connection.token_info(slot)  # type: ignore[arg-type]
        if info is not None:
            tokens.append(TokenHealth(slot, info, by_key.get((slot, str(info.get("id"))))))
    return tokens


def _sort_key(sort: str) -> Any:
    order = list(HEALTH)
    plans = list(Plan)
    oldest = datetime.min.replace(tzinfo=UTC)
    name = lambda h: h.hub.name.lower()  # noqa: E731
    if sort == "name":
        return name
    if sort == "plan":
        return lambda h: (plans.index(h.hub.plan), name(h))
    if sort == "checked":
        return lambda h: (h.last_checked_at or oldest, name(h))
    if sort == "calls":
        return lambda h: (-h.calls_24h, name(h))
    return lambda h: (order.index(h.state), name(h))


# --- one hub's status page and bundle ------------------------------------------------------------


@dataclass(frozen=True)
class HubStatus:
    hub: Hub
    connection: KalturaConnection | None
    health: HubHealth
    tokens: list[TokenHealth]
    day: CallFigures
    week: CallFigures
    identity: dict[str, int]
    identity_members: list[dict[str, Any]]
    members_total: int
    now: datetime

    @property
    def last_check(self) -> list[dict[str, Any]]:
        return list(self.connection.last_check or []) if self.connection else []

    @property
    def four_k(self) -> dict[str, Any] | None:
        return next((row for row in self.last_check if row.get("key") == "four_k"), None)

    @property
    def stale(self) -> bool:
        """No live check yet, or the last one is older than :data:`STALE_AFTER`."""
        checked = self.health.last_checked_at
        return checked is None or self.now - checked > STALE_AFTER


def hub_status(db: Session, hub: Hub, *, now: datetime | None = None) -> HubStatus:
    """Everything the status page shows about ``hub``: read from the database only."""
    now = now or datetime.now(UTC)
    connection = db.scalar(sa.select(KalturaConnection).where(KalturaConnection.hub_id == hub.id))
    tokens = token_health(db, connection)
    day = call_figures(db, hub.id, now - timedelta(hours=24))
    week = call_figures(db, hub.id, now - timedelta(days=7))
    health = health_of(hub, connection, tokens, (day.total, day.failures), now)
    members, members_total = identity_members_for(db, hub)
    return HubStatus(
        hub=hub,
        connection=connection,
        health=health,
        tokens=tokens,
        day=day,
        week=week,
        identity=identity_statistics_for(db, hub),
        identity_members=members,
        members_total=members_total,
        now=now,
    )


def bundle(db: Session, hub: Hub, *, now: datetime | None = None) -> dict[str, Any]:
    """The diagnostic bundle support downloads (and ``portal kaltura diagnostics`` prints).

    Built from named public fields only (token summaries never hold the secret), and every text
    that came from Kaltura passes the redaction filter once more, so a session or token that
    slipped into a message is masked.
    """
    status = hub_status(db, hub, now=now)
    connection = status.connection
    data: dict[str, Any] = {
        "generatedAt": status.now.isoformat(),
        "hub": {"slug": hub.slug, "name": hub.name, "plan": hub.plan.value},
        "connection": {
            "health": status.health.state,
            "problems": list(status.health.problems),
            "serviceUrl": connection.service_url if connection else None,
            "userIdMode": connection.user_id_mode.value if connection else None,
            "customRule": connection.custom_rule if connection else None,
            "lastCheckedAt": _iso(status.health.last_checked_at),
        },
        "tokens": [token.as_dict() for token in status.tokens],
        "lastCheck": [_redacted_row(row) for row in status.last_check],
        "fourK": _redacted_row(status.four_k) if status.four_k else None,
        "calls": {"last24h": status.day.as_dict(), "last7d": status.week.as_dict()},
        "recentErrors": recent_errors(db, hub.id, status.now - timedelta(days=7)),
        "identity": dict(status.identity),
    }
    return data


def _redacted_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: redact_text(value) if isinstance(value, str) else value for key, value in row.items()}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None

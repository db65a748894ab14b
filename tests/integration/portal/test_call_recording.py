"""The gateway records each Kaltura call's outcome, code and duration per hub, against a real sandbox.

Every figure here comes from real HTTP calls to the sandbox process, with faults and latency set
through its control surface; the aggregates are read back from the database the app writes to.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.kaltura import KalturaApiError, KalturaUnavailable
from portal.models import Hub, KalturaCallStat, KalturaConnection, KalturaTokenHealth
from portal.status import services
from portal.status.recording import DatabaseRecorder, hour_of
from tests import picker_support as ps

PAT = "pat@northwind.example"


@pytest.fixture
def connected(app, db, demo, sandbox):  # type: ignore[no-untyped-def]
    ps.connect(app, db, sandbox)
    app.extensions["kaltura_recorder"].flush()
    hub = db.scalar(sa.select(Hub).where(Hub.slug == "northwind"))
    connection = db.scalar(sa.select(KalturaConnection).where(KalturaConnection.hub_id == hub.id))
    return hub, connection


def _flush(app):  # type: ignore[no-untyped-def]
    # The recorder writes from its own thread; the figures are in the database once it has flushed.
    assert app.extensions["kaltura"].recorder.flush()


def _stats(db, hub_id, call=None):  # type: ignore[no-untyped-def]
    db.expire_all()
    query = sa.select(KalturaCallStat).where(KalturaCallStat.hub_id == hub_id)
    if call:
        query = query.where(KalturaCallStat.call == call)
    return list(db.scalars(query))


def _health(db, hub_id, slot):  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(
        sa.select(KalturaTokenHealth).where(KalturaTokenHealth.hub_id == hub_id, KalturaTokenHealth.slot == slot)
    )


def test_connecting_records_the_live_checks_calls_and_the_sessions_minted(app, db, connected):  # type: ignore[no-untyped-def]
    hub, _ = connected
    _flush(app)
    calls = {(row.call, row.outcome): row.count for row in _stats(db, hub.id)}
    # The checks ping, mint a session per token (two calls each), list entries and read the 4K profile.
    assert calls[("system.ping", "ok")] == 1
    assert calls[("session.startWidgetSession", "ok")] == 2
    assert calls[("appToken.startSession", "ok")] == 2
    assert calls[("media.list", "ok")] == 1
    figures = services.call_figures(db, hub.id, datetime.now(UTC) - timedelta(hours=24))
    assert figures.total == sum(calls.values())
    assert figures.sessions_minted == {"pasted": 2}  # the tokens were pasted, not yet saved
    assert figures.p50_ms is not None and figures.p95_ms is not None and figures.p50_ms <= figures.p95_ms


def test_a_successful_call_is_counted_with_its_duration_in_the_histogram(app, db, connected, sandbox):  # type: ignore[no-untyped-def]
    hub, connection = connected
    gateway = app.extensions["kaltura"]
    sandbox.control("latency", seconds=0.3, action="media.list")

    page = gateway.list_media(connection.service_url, connection.sealed_token("client"), PAT)

    assert page.total_count > 0
    _flush(app)
    rows = [row for row in _stats(db, hub.id, "media.list") if row.slot == "client"]
    assert [(row.outcome, row.code, row.count) for row in rows] == [("ok", "", 1)]
    assert rows[0].total_ms >= 300
    # 300 ms falls in the 200-400 ms bucket (h3), or a later one on a slow machine, never an earlier one.
    histogram = rows[0].histogram()
    assert sum(histogram) == 1 and histogram.index(1) >= 3
    assert rows[0].hour == hour_of(datetime.now(UTC))
    health = _health(db, hub.id, "client")
    assert health.last_success_at is not None and health.session_started_at is not None
    assert health.session_expires_at > datetime.now(UTC)


def test_a_kaltura_error_is_counted_with_its_code_and_remembered_on_the_token(app, db, connected, sandbox):  # type: ignore[no-untyped-def]
    hub, connection = connected
    gateway = app.extensions["kaltura"]
    sandbox.control("fault", action="media.list", count=1, kind="api_error", code="SERVICE_FORBIDDEN")

    with pytest.raises(KalturaApiError):
        gateway.list_media(connection.service_url, connection.sealed_token("client"), PAT)

    _flush(app)
    rows = [row for row in _stats(db, hub.id, "media.list") if row.outcome != "ok"]
    assert [(row.outcome, row.code, row.count, row.slot) for row in rows] == [
        ("kaltura_error", "SERVICE_FORBIDDEN", 1, "client")
    ]
    health = _health(db, hub.id, "client")
    assert (health.last_failure_code, health.last_failure_call) == ("SERVICE_FORBIDDEN", "media.list")
    groups = services.call_figures(db, hub.id, datetime.now(UTC) - timedelta(hours=1)).groups
    assert any(g.outcome == "kaltura_error" and g.code == "SERVICE_FORBIDDEN" and g.count == 1 for g in groups)


def test_a_refused_optional_capability_is_counted_but_is_no_failure_of_the_token(app, db, connected, sandbox):  # type: ignore[no-untyped-def]
    # The help article's server token may not read users: user.list is refused, by design. The call
    # figures show it; the token's health does not turn into a failure (the hub is not "failing").
    hub, connection = connected
    gateway = app.extensions["kaltura"]
    sandbox.control("fault", action="user.list", count=1, kind="api_error", code="SERVICE_FORBIDDEN")

    with pytest.raises(KalturaApiError):
        gateway.get_user(connection.service_url, connection.sealed_token("server"), PAT)

    _flush(app)
    rows = [row for row in _stats(db, hub.id, "user.list") if row.outcome != "ok"]
    assert [(row.outcome, row.code, row.count, row.slot) for row in rows] == [
        ("refused", "SERVICE_FORBIDDEN", 1, "server")
    ]
    figures = services.call_figures(db, hub.id, datetime.now(UTC) - timedelta(hours=1))
    assert figures.failures == 0  # (the live checks of connecting made only successful or refused calls)
    health = _health(db, hub.id, "server")
    assert health is None or health.last_failure_code is None

    # Kaltura not answering the same call is a failure of the token's connection all the same.
    sandbox.control("fault", action="user.list", count=3, kind="http_503")
    with pytest.raises(KalturaUnavailable):
        gateway.get_user(connection.service_url, connection.sealed_token("server"), PAT)
    _flush(app)
    assert _health(db, hub.id, "server").last_failure_call == "user.list"


def test_a_transport_failure_is_counted_once_for_the_call_with_its_retries(app, db, connected, sandbox):  # type: ignore[no-untyped-def]
    hub, connection = connected
    gateway = app.extensions["kaltura"]
    gateway.list_media(connection.service_url, connection.sealed_token("client"), PAT)  # a session to reuse
    sandbox.control("fault", action="media.list", count=3, kind="http_503")

    with pytest.raises(KalturaUnavailable):
        gateway.list_media(connection.service_url, connection.sealed_token("client"), PAT)

    _flush(app)
    failed = [row for row in _stats(db, hub.id, "media.list") if row.outcome == "transport"]
    assert [(row.code, row.count) for row in failed] == [("http_status/503", 1)]
    assert _health(db, hub.id, "client").last_failure_code == "http_status/503"
    errors = services.recent_errors(db, hub.id, datetime.now(UTC) - timedelta(hours=1))
    assert {"call": "media.list", "code": "http_status/503", "count": 1} in [
        {k: e[k] for k in ("call", "code", "count")} for e in errors
    ]


def test_two_app_instances_on_one_database_add_to_the_same_rows(app, db, connected, sandbox, database_url, tmp_path):  # type: ignore[no-untyped-def]
    hub, connection = connected
    other = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path / "other"),
            "DATABASE_URL": database_url,
            "KALTURA_SANDBOX_URL": sandbox.url,
            "ENCRYPTION_KEYS": app.config["ENCRYPTION_KEYS"],
            "SECRET_KEY": app.config["SECRET_KEY"],
        }
    )
    try:
        for instance in (app, other, other):
            instance.extensions["kaltura"].count_entries(connection.service_url, connection.sealed_token("client"), PAT)
        _flush(app)
        _flush(other)
    finally:
        other.extensions["kaltura"].close()
        other.extensions["kaltura_recorder"].close()
        other.extensions["db"].kw["bind"].dispose()

    rows = [row for row in _stats(db, hub.id, "media.list") if row.slot == "client"]
    assert [(row.outcome, row.count) for row in rows] == [("ok", 3)]
    assert sum(rows[0].histogram()) == 3


def test_rows_older_than_the_retention_are_pruned_and_newer_ones_kept(app, db, connected, sandbox):  # type: ignore[no-untyped-def]
    hub, connection = connected
    now = datetime.now(UTC)
    for days in (9, 6):
        db.add(
            KalturaCallStat(
                hub_id=hub.id,
                hour=hour_of(now - timedelta(days=days)),
                slot="",
                call=f"old.d{days}",
                outcome="ok",
                code="",
                count=1,
                total_ms=10,
                h0=1,
            )
        )
    db.commit()
    # A new process prunes with its first call (then once an hour).
    recorder = DatabaseRecorder(app.extensions["kaltura_recorder"].engine)
    app.extensions["kaltura"].recorder = recorder
    app.extensions["kaltura"].count_entries(connection.service_url, connection.sealed_token("client"), PAT)
    _flush(app)
    recorder.close()

    calls = {row.call for row in _stats(db, hub.id)}
    assert "old.d9" not in calls and "old.d6" in calls
    week = services.call_figures(db, hub.id, now - timedelta(days=7))
    assert any(g.count >= 1 for g in week.groups)


def test_a_failing_recorder_never_breaks_the_call(app, db, connected, caplog, tmp_path):  # type: ignore[no-untyped-def]
    hub, connection = connected
    before = len(_stats(db, hub.id))
    broken = DatabaseRecorder(sa.create_engine(f"sqlite:///{tmp_path / 'no-tables.sqlite3'}"))
    app.extensions["kaltura"].recorder = broken
    caplog.set_level(logging.WARNING, logger="portal.status")

    count = app.extensions["kaltura"].count_entries(connection.service_url, connection.sealed_token("client"), PAT)

    assert count > 0
    _flush(app)
    # Logged once (then at most once a minute), never raised.
    assert caplog.text.count("kaltura call statistics: recording Kaltura call figures failed (OperationalError)") == 1
    assert len(_stats(db, hub.id)) == before
    broken.close()
    broken.engine.dispose()

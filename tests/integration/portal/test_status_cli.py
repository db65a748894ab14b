"""`portal kaltura diagnostics SLUG` and `portal kaltura check --all` against the sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal.hubs.services import create_hub
from portal.models import Hub, KalturaCallStat, Plan
from portal.status.recording import hour_of
from tests import picker_support as ps


def _hub(db, slug):  # type: ignore[no-untyped-def]
    return db.scalar(sa.select(Hub).where(Hub.slug == slug))


def test_diagnostics_prints_the_bundle_with_figures_from_real_calls(app, db, demo, sandbox):  # type: ignore[no-untyped-def]
    ps.connect(app, db, sandbox)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["kaltura", "diagnostics", "northwind"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"hub", "connection", "tokens", "lastCheck", "fourK", "calls", "recentErrors"}
    assert data["connection"]["serviceUrl"] == sandbox.url
    assert [t["slot"] for t in data["tokens"]] == ["client", "server"]
    assert data["tokens"][0]["id"] == sandbox.credentials["clientAppToken"]["id"]
    assert data["calls"]["last24h"]["succeeded"] >= 6  # the connection's live checks
    assert data["fourK"]["key"] == "four_k"
    assert {row["key"] for row in data["lastCheck"]} >= {"service", "client_session", "server_session", "entries"}
    for secret in (sandbox.credentials["clientAppToken"]["token"], sandbox.credentials["serverAppToken"]["token"]):
        assert secret not in result.output

    unknown = runner.invoke(args=["kaltura", "diagnostics", "nowhere"])
    assert unknown.exit_code != 0 and "No hub has the slug 'nowhere'" in unknown.output


def test_check_all_checks_every_connected_paid_hub_and_prunes_old_figures(app, db, demo, sandbox):  # type: ignore[no-untyped-def]
    ps.connect(app, db, sandbox)
    create_hub(db, name="Empty Hub", slug="empty", plan=Plan.PRO)  # not connected: not checked
    old = KalturaCallStat(
        hub_id=_hub(db, "northwind").id,
        hour=hour_of(datetime.now(UTC) - timedelta(days=30)),
        slot="",
        call="media.list",
        outcome="ok",
        code="",
        count=1,
        total_ms=5,
        h0=1,
    )
    app.extensions["kaltura_recorder"].flush()  # the connection's own calls (and this hour's pruning)
    db.add(old)
    db.commit()
    before = db.scalar(sa.select(sa.func.sum(KalturaCallStat.count)).where(KalturaCallStat.call == "system.ping"))
    runner = app.test_cli_runner()

    result = runner.invoke(args=["kaltura", "check", "--all"])

    assert result.exit_code == 0, result.output
    assert "northwind: passed" in result.output and "empty" not in result.output
    assert "Checked 1 hub(s); pruned 1 old call-statistics row(s)." in result.output
    db.expire_all()
    after = db.scalar(sa.select(sa.func.sum(KalturaCallStat.count)).where(KalturaCallStat.call == "system.ping"))
    assert after == before + 1  # the check's own calls are recorded

    sandbox.control("fault", action="system.ping", count=1, kind="http_500")
    failing = runner.invoke(args=["kaltura", "check", "--all", "--json"])
    assert failing.exit_code == 1
    findings = json.loads(failing.output)["hubs"]["northwind"]["findings"]
    assert findings[0]["code"] == "service" and findings[0]["level"] == "error"


def test_check_needs_a_slug_or_all(app, db, demo):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    neither = runner.invoke(args=["kaltura", "check"])
    both = runner.invoke(args=["kaltura", "check", "northwind", "--all"])
    assert neither.exit_code == 2 and both.exit_code == 2
    assert "Give one hub's slug, or --all." in neither.output

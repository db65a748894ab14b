"""Issue 8, item 2: "Test connection" has one time budget for all of its Kaltura calls.

A Kaltura that answers slowly but validly (every call delayed by the sandbox's latency control)
used to cost the sum of its answers. Now the run stops when its budget is spent and reports the
checks it could not run. Times are asserted only as a bound with generous slack: unbounded, the
run below would take about twenty seconds.
"""

from __future__ import annotations

import time

from kaltura_sandbox.testing import SandboxProcess
from portal.kaltura.diagnostics import CHECK_BUDGET, run_live_checks
from portal.kaltura.gateway import KalturaGateway
from portal.kaltura.tokens import AppToken

USER = "ada@northwind.example"
SLACK = 6.0


def test_a_slow_but_valid_kaltura_costs_at_most_the_budget(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    sandbox.control("latency", seconds=2.0)  # every call: ~10 calls, ~20 s unbounded
    sandbox.control("calls/reset")

    started = time.monotonic()
    rows = run_live_checks(gateway, sandbox.url, client_token, server_token, USER, budget=3.0)
    elapsed = time.monotonic() - started

    assert elapsed < 3.0 + SLACK
    statuses = {row.key: row.status for row in rows}
    assert statuses["service"] == "pass"  # the first answer came in time
    assert "skip" in statuses.values()
    skipped = [row for row in rows if row.status == "skip"]
    assert all("reached its 3-second limit" in row.detail for row in skipped)
    failed = [row for row in rows if row.status == "fail"]
    assert len(failed) == 1 and "time limit" in failed[0].detail
    assert sum(sandbox.calls().values()) < 6  # the run stopped asking


def test_the_budget_leaves_a_fast_kaltura_alone(
    gateway: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken, server_token: AppToken
) -> None:
    rows = run_live_checks(gateway, sandbox.url, client_token, server_token, USER, budget=3.0)

    assert {row.status for row in rows} == {"pass"}


def test_the_default_budget_fits_inside_gunicorns_worker_timeout() -> None:
    from pathlib import Path

    namespace: dict[str, object] = {}
    exec((Path(__file__).parents[3] / "gunicorn.conf.py").read_text(), namespace)

    assert float(namespace["timeout"]) >= CHECK_BUDGET + 15  # type: ignore[arg-type]


def test_a_dripping_server_costs_at_most_the_budget(client_token: AppToken, server_token: AppToken) -> None:
    """Each call's own deadline (20 s here) is longer than the run's budget: the budget cuts it off."""
    from portal.kaltura.client import RetryPolicy, Timeouts
    from portal.kaltura.gateway import GatewaySettings
    from tests.unit.kaltura.fake_kaltura import FakeKaltura, Reply

    with FakeKaltura() as dripping:
        dripping.answer_with(
            lambda seen: Reply(kind="drip", seconds=0.3, body=b'{"objectType": "KalturaAPIException"}')
        )
        settings = GatewaySettings(
            allowed_hosts=[dripping.url], timeouts=Timeouts(connect=2.0, read=20.0), retry=RetryPolicy(attempts=1)
        )
        with KalturaGateway(settings) as gateway:
            started = time.monotonic()
            rows = run_live_checks(gateway, dripping.url, client_token, server_token, USER, budget=2.0)
            elapsed = time.monotonic() - started

    assert elapsed < 2.0 + SLACK
    assert rows[0].key == "service" and rows[0].status == "fail" and "time limit" in rows[0].detail
    assert {row.status for row in rows[1:]} == {"skip"}
    assert all("reached its 2-second limit" in row.detail for row in rows[1:])

"""The control surface's fault rates: a share of calls fails or waits, until cleared."""

from __future__ import annotations

import time

import pytest
import requests

from kaltura_sandbox.testing import SandboxError


def _ping(sandbox) -> requests.Response:  # type: ignore[no-untyped-def]
    response = requests.post(f"{sandbox.url}/api_v3/service/system/action/ping", json={"format": 1}, timeout=30)
    response.close()
    return response


def test_a_rate_fails_about_that_share_of_calls(sandbox_reset):  # type: ignore[no-untyped-def]
    sandbox_reset.control("fault_rate", rate=0.25, kind="http_503", action="system.ping", seed=7)

    statuses = [_ping(sandbox_reset).status_code for _ in range(200)]

    failed = statuses.count(503)
    assert set(statuses) == {200, 503}
    assert 25 <= failed <= 75  # binomial(200, 0.25): 50 ± 4 standard deviations
    report = sandbox_reset.control("fault_rates")
    assert report["hits"] == {"http_503": failed}
    assert report["rules"] == [
        {"rate": 0.25, "kind": "http_503", "action": "system.ping", "code": "INTERNAL_SERVERL_ERROR", "seconds": 30.0}
    ]


def test_the_same_seed_gives_the_same_calls(sandbox_reset):  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(2):
        sandbox_reset.control("fault_rate/clear")
        sandbox_reset.control("fault_rate", rate=0.5, kind="http_500", seed=42)
        runs.append([_ping(sandbox_reset).status_code for _ in range(30)])
    assert runs[0] == runs[1] and 500 in runs[0] and 200 in runs[0]


def test_rules_share_one_draw_and_other_actions_are_untouched(sandbox_reset, api):  # type: ignore[no-untyped-def]
    sandbox_reset.control("fault_rate", rate=1.0, kind="api_error", code="INTERNAL_SERVERL_ERROR", action="system.ping")
    sandbox_reset.control("fault_rate", rate=1.0, kind="http_503", action="system.ping")  # never reached

    answer = api.call("system", "ping")
    assert answer["code"] == "INTERNAL_SERVERL_ERROR" and answer["objectType"] == "KalturaAPIException"
    partner = sandbox_reset.credentials["partnerId"]
    widget = api.call("session", "startWidgetSession", widgetId=f"_{partner}")  # another action answers normally
    assert widget["ks"]


def test_delay_answers_normally_after_waiting(sandbox_reset, api):  # type: ignore[no-untyped-def]
    sandbox_reset.control("fault_rate", rate=1.0, kind="delay", seconds=0.3)
    started = time.monotonic()
    assert api.call("system", "ping") is True
    waited = time.monotonic() - started
    assert waited >= 0.3  # the rule's own wait (a lower bound, not a timing assertion on the machine)


def test_clear_and_reset_remove_the_rules(sandbox_reset):  # type: ignore[no-untyped-def]
    sandbox_reset.control("fault_rate", rate=1.0, kind="http_503")
    assert _ping(sandbox_reset).status_code == 503
    sandbox_reset.control("fault_rate/clear")
    assert _ping(sandbox_reset).status_code == 200
    sandbox_reset.control("fault_rate", rate=1.0, kind="drop")
    sandbox_reset.reset()
    assert _ping(sandbox_reset).status_code == 200
    assert sandbox_reset.calls() == {"system.ping": 1}  # failed calls are counted like the others


@pytest.mark.parametrize(
    "payload",
    [
        {"rate": 1.5, "kind": "http_503"},
        {"rate": 0.1, "kind": "melt"},
        {"rate": 0.1, "kind": "api_error", "code": "NO_SUCH_CODE"},
        {"rate": 0.1, "kind": "delay", "seconds": -1},
        {"kind": "http_503"},
    ],
)
def test_bad_rules_are_refused(sandbox_reset, payload):  # type: ignore[no-untyped-def]
    with pytest.raises(SandboxError) as refused:
        sandbox_reset.control("fault_rate", **payload)
    assert "400" in str(refused.value)
    assert _ping(sandbox_reset).status_code == 200

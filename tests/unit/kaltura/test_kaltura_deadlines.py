"""Issue 8, item 2: one Kaltura call has a total deadline, however slowly a server sends.

A read timeout restarts with every byte, so a server that drips one byte at a time never trips
it. These tests point the client at a loopback server that does exactly that and check that the
call ends at its deadline: the bound is asserted with generous slack (the drip alone would take
a minute), and the server's own record proves the connection was cut off, not finished.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from portal.kaltura.client import KalturaClient, RetryPolicy, Timeouts, time_left, time_limit
from portal.kaltura.errors import KalturaUnavailable
from tests.unit.kaltura.fake_kaltura import FakeKaltura, Reply, json_reply

MakeClient = Callable[..., KalturaClient]
# A valid answer of ~200 bytes sent one byte every 0.3 s: about a minute in all.
SLOW_BODY = json.dumps({"objectType": "KalturaMediaListResponse", "totalCount": 0, "objects": [], "pad": "x" * 120})
SLACK = 5.0  # seconds of slack for a loaded 2-core machine; the unbounded drip is ten times longer


@pytest.mark.parametrize("from_body", [False, True], ids=["dripping-headers", "dripping-body"])
def test_a_dripping_server_is_cut_off_at_the_deadline(
    make_client: MakeClient, fake: FakeKaltura, from_body: bool
) -> None:
    fake.queue(Reply(kind="drip", seconds=0.3, body=SLOW_BODY.encode(), drip_from_body=from_body))
    client = make_client(timeouts=Timeouts(connect=1.0, read=1.0), retry=RetryPolicy(attempts=1))

    started = time.monotonic()
    with pytest.raises(KalturaUnavailable) as raised:
        client.call(fake.url, "media", "list")
    elapsed = time.monotonic() - started

    assert raised.value.reason == "timeout"
    assert "no complete answer within 1 s" in str(raised.value)
    assert elapsed < 1.0 + SLACK
    fake.__exit__()  # let the drip notice the hang-up
    sent, total = fake.drips[0]
    assert sent < total / 2, "the server finished its answer: the call was not cut off"


def test_the_deadline_counts_every_byte_not_each_read(make_client: MakeClient, fake: FakeKaltura) -> None:
    # Each byte arrives well inside the 1-second read timeout, so only a total deadline ends this.
    fake.queue(Reply(kind="drip", seconds=0.2, body=SLOW_BODY.encode()))
    client = make_client(timeouts=Timeouts(connect=1.0, read=1.0), retry=RetryPolicy(attempts=1))

    with pytest.raises(KalturaUnavailable) as raised:
        client.call(fake.url, "media", "list")

    assert raised.value.reason == "timeout"


def test_an_answer_inside_the_deadline_is_unaffected_and_the_connection_is_reused(
    make_client: MakeClient, fake: FakeKaltura
) -> None:
    fake.queue(json_reply({"totalCount": 1, "objects": []}), json_reply({"totalCount": 2, "objects": []}))
    client = make_client(timeouts=Timeouts(connect=1.0, read=2.0))

    assert client.call(fake.url, "media", "list")["totalCount"] == 1
    time.sleep(2.2)  # past the first call's deadline: its timer must not cut the pooled connection
    assert client.call(fake.url, "media", "list")["totalCount"] == 2
    assert fake.connections == 1


def test_retries_stop_at_the_calls_budget(make_client: MakeClient, fake: FakeKaltura) -> None:
    # Three attempts of one second each would take three seconds; the budget allows about one.
    fake.answer_with(lambda seen: Reply(kind="stall", seconds=10))
    client = make_client(
        timeouts=Timeouts(connect=0.5, read=1.0), retry=RetryPolicy(attempts=3, base_delay=0.01, budget=1.2)
    )

    with pytest.raises(KalturaUnavailable) as raised:
        client.call(fake.url, "media", "list")

    assert raised.value.reason == "timeout"
    assert len(fake.requests) <= 2


def test_a_time_limit_bounds_every_call_inside_it(make_client: MakeClient, fake: FakeKaltura) -> None:
    fake.answer_with(lambda seen: Reply(delay=0.7, body=b'{"totalCount": 0, "objects": []}'))
    client = make_client(timeouts=Timeouts(connect=1.0, read=5.0), retry=RetryPolicy(attempts=1))

    answered = 0
    started = time.monotonic()
    with time_limit(1.5), pytest.raises(KalturaUnavailable) as raised:
        for _ in range(10):  # ten calls of 0.7 s: seven seconds without the limit
            client.call(fake.url, "media", "list")
            answered += 1
    elapsed = time.monotonic() - started

    assert raised.value.reason == "timeout"
    assert 1 <= answered <= 2
    assert elapsed < 1.5 + SLACK
    assert time_left() is None  # the limit ends with its block


def test_a_call_after_the_time_limit_is_not_sent(make_client: MakeClient, fake: FakeKaltura) -> None:
    fake.queue(json_reply(True))
    client = make_client()

    with time_limit(0.05):
        time.sleep(0.1)
        with pytest.raises(KalturaUnavailable) as raised:
            client.call(fake.url, "system", "ping")

    assert "ran out" in str(raised.value)
    assert fake.requests == []


def test_nested_time_limits_keep_the_earlier_end() -> None:
    with time_limit(0.5):
        with time_limit(60):
            left = time_left()
            assert left is not None and left <= 0.5
        outer = time_left()
        assert outer is not None and outer <= 0.5

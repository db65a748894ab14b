"""Issue 8, item 4: every outbound refusal is announced, so the web layer can audit it with its request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from portal.kaltura.client import KalturaClient
from portal.kaltura.errors import OutboundBlocked
from portal.kaltura.outbound import OutboundPolicy, blocked
from tests.unit.kaltura.conftest import FakeDns
from tests.unit.kaltura.fake_kaltura import FakeKaltura, Reply


@pytest.fixture
def announced() -> Iterator[list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []

    def receive(_sender: Any, **event: Any) -> None:
        events.append(event)

    blocked.connect(receive)
    yield events
    blocked.disconnect(receive)


@pytest.mark.parametrize(
    ("url", "host", "reason"),
    [
        ("http://www.kaltura.com", "www.kaltura.com", "scheme"),
        ("https://metadata.internal", "metadata.internal", "host_not_allowed"),
        ("https://user:pw@www.kaltura.com", "www.kaltura.com", "userinfo"),
        ("https://www.kaltura.com/" + "a" * 300, "www.kaltura.com", "too_long"),
    ],
)
def test_a_url_the_policy_refuses_is_announced_with_host_and_reason(announced, url, host, reason) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OutboundBlocked):
        OutboundPolicy.from_settings().check_url(url)

    assert announced == [{"stage": "policy", "host": host, "reason": reason}]


def test_a_host_resolving_to_a_private_address_is_announced_after_dns(announced, dns: FakeDns) -> None:  # type: ignore[no-untyped-def]
    dns.answers["tenant.example.org"] = ["10.1.2.3"]
    policy = OutboundPolicy.from_settings(allow_custom_hosts=True)

    with pytest.raises(OutboundBlocked):
        policy.resolve(policy.check_url("https://tenant.example.org"))

    assert announced == [
        {"stage": "address", "host": "tenant.example.org", "reason": "private_address", "address": "10.1.2.3"}
    ]


def test_a_redirect_is_announced(announced, make_client: Callable[..., KalturaClient], fake: FakeKaltura) -> None:  # type: ignore[no-untyped-def]
    fake.queue(Reply(status=302, body=b"", headers={"Location": "http://169.254.169.254/"}))

    with pytest.raises(OutboundBlocked):
        make_client().call(fake.url, "media", "list")

    assert announced == [{"stage": "redirect", "host": "127.0.0.1", "reason": "redirect"}]


def test_an_allowed_url_announces_nothing(announced) -> None:  # type: ignore[no-untyped-def]
    OutboundPolicy.from_settings().check_url("https://www.kaltura.com")
    assert announced == []

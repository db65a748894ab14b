"""SSRF payloads aimed at a real local service (the sandbox) never reach it.

The sandbox counts every request it receives, so "refused before any connection is made" is
checked on the receiving side. The resolver is replaced (a library we don't own) to play the
attacker's DNS; a positive control shows the same setup does reach the sandbox when allowed.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from kaltura_sandbox.testing import SandboxProcess
from portal.kaltura.errors import OutboundBlocked
from portal.kaltura.gateway import GatewaySettings, KalturaGateway
from portal.kaltura.tokens import AppToken
from tests.integration.kaltura.conftest import TEST_RETRY, TEST_TIMEOUTS

_real_getaddrinfo = socket.getaddrinfo


def payloads(port: int) -> dict[str, str]:
    """security.md §2.1, aimed at the sandbox's port on this machine."""
    return {
        "loopback": f"http://127.0.0.1:{port}",
        "loopback-https": f"https://127.0.0.1:{port}",
        "localhost": f"http://localhost:{port}",
        "ipv6-loopback": f"http://[::1]:{port}",
        "ipv4-mapped": f"http://[::ffff:127.0.0.1]:{port}",
        "unspecified": f"http://0.0.0.0:{port}",
        "decimal": f"http://2130706433:{port}",
        "hex": f"http://0x7f000001:{port}",
        "short": f"http://127.1:{port}",
        "trailing-dot": f"http://127.0.0.1.:{port}",
        "userinfo": f"https://www.kaltura.com@127.0.0.1:{port}",
        "saas-name-other-port": f"https://www.kaltura.com:{port}",
        "saas-name-plain-http": "http://www.kaltura.com",
        "suffix-domain": f"https://www.kaltura.com.127.0.0.1.nip.io:{port}",
    }


@pytest.fixture
def saas_only(sandbox: SandboxProcess) -> Iterator[KalturaGateway]:
    """A production-like gateway: SaaS regions only, nothing allowed for the sandbox."""
    with KalturaGateway(GatewaySettings(timeouts=TEST_TIMEOUTS, retry=TEST_RETRY)) as gateway:
        yield gateway


@pytest.fixture
def attacker_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Names the test maps to addresses; everything else resolves normally (IP literals only here)."""
    answers: dict[str, str] = {}

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[name], int(port)))]
        return _real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return answers


def test_every_payload_is_refused_and_the_sandbox_sees_nothing(
    saas_only: KalturaGateway, sandbox: SandboxProcess, client_token: AppToken
) -> None:
    port = int(sandbox.url.rsplit(":", 1)[1])
    sandbox.control("calls/reset")

    refused = {}
    for name, url in payloads(port).items():
        with pytest.raises(OutboundBlocked) as blocked:
            saas_only.start_session(url, client_token)
        refused[name] = blocked.value.reason

    assert sandbox.calls() == {}
    assert set(refused.values()) <= {"scheme", "host_not_allowed", "host_invalid", "userinfo", "port"}


def test_an_allowed_name_that_resolves_to_the_sandbox_is_refused(
    sandbox: SandboxProcess, client_token: AppToken, attacker_dns: dict[str, str]
) -> None:
    port = int(sandbox.url.rsplit(":", 1)[1])
    attacker_dns["kaltura.example.test"] = "127.0.0.1"
    settings = GatewaySettings(allowed_hosts=[f"http://kaltura.example.test:{port}"], timeouts=TEST_TIMEOUTS)
    sandbox.control("calls/reset")

    with KalturaGateway(settings) as gateway, pytest.raises(OutboundBlocked) as blocked:
        gateway.start_session(f"http://kaltura.example.test:{port}", client_token)

    assert blocked.value.reason == "private_address"
    assert sandbox.calls() == {}


def test_positive_control_the_same_name_reaches_the_sandbox_when_the_operator_allows_it(
    sandbox: SandboxProcess, client_token: AppToken, attacker_dns: dict[str, str]
) -> None:
    port = int(sandbox.url.rsplit(":", 1)[1])
    attacker_dns["kaltura.example.test"] = "127.0.0.1"
    settings = GatewaySettings(
        allowed_hosts=[f"http://kaltura.example.test:{port}"],
        private_hosts=["kaltura.example.test"],
        timeouts=TEST_TIMEOUTS,
    )
    sandbox.control("calls/reset")

    with KalturaGateway(settings) as gateway:
        gateway.start_session(f"http://kaltura.example.test:{port}", client_token)

    assert sandbox.calls() == {"session.startwidgetsession": 1, "apptoken.startsession": 1}

"""Fixtures for the Kaltura gateway's unit tests: a scripted local server and a resolver we control."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from portal.kaltura.client import KalturaClient, RetryPolicy, Timeouts
from portal.kaltura.outbound import OutboundPolicy
from tests.unit.kaltura.fake_kaltura import FakeKaltura

_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture
def fake() -> Iterator[FakeKaltura]:
    with FakeKaltura() as server:
        yield server


class FakeDns:
    """Answers chosen names with chosen addresses; IP literals go to the real resolver.

    ``lookups`` records every name that was resolved through it, in order.
    """

    def __init__(self) -> None:
        self.answers: dict[str, list[str] | Callable[[], list[str]]] = {}
        self.lookups: list[str] = []

    def __call__(  # the parameters keep getaddrinfo's names
        self, host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.lookups.append(name)
        if name in self.answers:
            answer = self.answers[name]
            addresses = answer() if callable(answer) else answer
            results = []
            for address in addresses:
                fam = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, int(port), 0, 0) if fam == socket.AF_INET6 else (address, int(port))
                results.append((fam, socket.SOCK_STREAM, 6, "", sockaddr))
            return results
        try:
            import ipaddress

            ipaddress.ip_address(name)
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (fake resolver)") from None
        return _real_getaddrinfo(host, port, family, type, proto, flags)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    """Replace :func:`socket.getaddrinfo` (a library we don't own) with a resolver the test controls."""
    resolver = FakeDns()
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver


class SleepRecorder:
    """Stands in for ``time.sleep``: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_client(fake: FakeKaltura, sleeps: SleepRecorder) -> Iterator[Callable[..., KalturaClient]]:
    """A client allowed to talk plain http to the scripted server (as development allows the sandbox)."""
    made: list[KalturaClient] = []

    def build(**kwargs: Any) -> KalturaClient:
        policy = OutboundPolicy.from_settings(allowed_hosts=[fake.url])
        kwargs.setdefault("timeouts", Timeouts(connect=2.0, read=2.0, upload_read=4.0))
        kwargs.setdefault("retry", RetryPolicy(attempts=3, base_delay=0.1, max_delay=1.0))
        client = KalturaClient(policy, sleep=sleeps, rng=lambda: 0.5, **kwargs)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every outgoing ``socket.connect``; refuse (without sending anything) any non-loopback one.

    Tests use it to prove that no connection was attempted, and as a guard that a test can never
    reach an address outside this machine.
    """
    import ipaddress

    attempts: list[tuple[str, int]] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        host, port = str(address[0]), int(address[1])
        attempts.append((host, port))
        if not ipaddress.ip_address(host.split("%")[0]).is_loopback:
            raise ConnectionRefusedError(f"test guard: refused a connection to {host}")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts

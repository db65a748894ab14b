"""Fixtures for gateway tests against a real sandbox process over HTTP.

The portal allows plain http to the sandbox's 127.0.0.1 port explicitly, the way development
configures it (an operator allow-list entry ``http://127.0.0.1:PORT``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from kaltura_sandbox.testing import SandboxProcess
from portal.kaltura.client import RetryPolicy, Timeouts
from portal.kaltura.gateway import GatewaySettings, KalturaGateway
from portal.kaltura.tokens import AppToken, Role, parse_app_token

#: Short enough to keep fault-injection tests quick, long enough for a loaded 2-core machine.
TEST_TIMEOUTS = Timeouts(connect=2.0, read=3.0, upload_read=10.0)
TEST_RETRY = RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2, budget=30.0)


@pytest.fixture
def sandbox(kaltura_sandbox: SandboxProcess) -> SandboxProcess:
    """The sandbox reset to the demo seed, with no faults, latency or counters."""
    kaltura_sandbox.reset()
    return kaltura_sandbox


def settings_for(sandbox: SandboxProcess, **changes: Any) -> GatewaySettings:
    settings = GatewaySettings(allowed_hosts=["saas", sandbox.url], timeouts=TEST_TIMEOUTS, retry=TEST_RETRY)
    return replace(settings, **changes)


@pytest.fixture
def gateway(sandbox: SandboxProcess) -> Iterator[KalturaGateway]:
    with KalturaGateway(settings_for(sandbox)) as made:
        yield made


def _token(sandbox: SandboxProcess, name: str, role: Role) -> AppToken:
    pasted = json.dumps(sandbox.credentials[name])
    token, findings = parse_app_token(pasted, role, now=datetime.now(UTC))
    assert token is not None, findings
    return token


@pytest.fixture
def client_token(sandbox: SandboxProcess) -> AppToken:
    """The sandbox's demo client App Token, parsed as an admin would paste it."""
    return _token(sandbox, "clientAppToken", "client")


@pytest.fixture
def server_token(sandbox: SandboxProcess) -> AppToken:
    return _token(sandbox, "serverAppToken", "server")

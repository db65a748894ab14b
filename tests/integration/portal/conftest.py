"""The portal talking to a real Kaltura sandbox over HTTP."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def sandbox(kaltura_sandbox):
    """The session's sandbox, reset to the demo seed (no faults, no latency, fresh counters)."""
    kaltura_sandbox.reset()
    return kaltura_sandbox


@pytest.fixture
def app_settings(sandbox):
    # The sandbox is the operator-allowed development host; a short timeout keeps fault tests quick.
    return {"KALTURA_SANDBOX_URL": sandbox.url, "KALTURA_TIMEOUT": 3.0}


@pytest.fixture
def pasted(sandbox):
    """The two App Tokens as an admin pastes them: pretty-printed appToken.add responses."""
    return {
        "client": json.dumps(sandbox.credentials["clientAppToken"], indent=2),
        "server": json.dumps(sandbox.credentials["serverAppToken"], indent=2),
    }

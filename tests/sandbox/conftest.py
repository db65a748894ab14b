"""Fixtures for tests that talk to a real sandbox process over HTTP.

``sandbox`` (session scope) starts ``python -m kaltura_sandbox serve --seed demo
--enable-control --conversion-delay 0`` on a free port and yields a
``kaltura_sandbox.testing.SandboxProcess`` (``.url``, ``.credentials``, ``.control(path, **json)``,
``.calls()``). ``sandbox_reset`` resets it to the demo seed before the test (and clears faults,
latency and counters), so tests that change state do not leak into each other. ``api`` is a small
JSON-format client (``JsonApi``) with session helpers.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import requests

from kaltura_sandbox.testing import SandboxProcess


@pytest.fixture(scope="session")
def sandbox(kaltura_sandbox: SandboxProcess) -> SandboxProcess:
    """The run's one sandbox process (``kaltura_sandbox`` in ``tests/conftest.py``)."""
    return kaltura_sandbox


@pytest.fixture
def sandbox_reset(sandbox: SandboxProcess) -> SandboxProcess:
    """The session sandbox, reset to the demo seed for this test."""
    sandbox.reset()
    return sandbox


class JsonApi:
    """A tiny JSON-format (``format=1``) Kaltura client over ``requests``, for assertions on the
    exact wire shapes. ``call`` returns the decoded JSON (a result or an error object)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def post(self, service: str, action: str, **params: Any) -> requests.Response:
        """POST a JSON body to ``/api_v3/service/S/action/A`` (``format=1`` unless given)."""
        body = {"format": 1, **params}
        response = requests.post(f"{self.url}/api_v3/service/{service}/action/{action}", json=body, timeout=60)
        response.close()
        return response

    def call(self, service: str, action: str, **params: Any) -> Any:
        """The decoded JSON answer of one action."""
        response = self.post(service, action, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def ok(self, service: str, action: str, **params: Any) -> Any:
        """Like ``call``, but fail the test when the answer is an API error."""
        result = self.call(service, action, **params)
        assert not is_error(result), result
        return result

    def error(self, service: str, action: str, **params: Any) -> dict:
        """Like ``call``, but the answer must be an API error; returns it."""
        result = self.call(service, action, **params)
        assert is_error(result), result
        return result

    # -- sessions --------------------------------------------------------------------------------

    def admin_ks(self, credentials: dict, user_id: str = "", privileges: str = "") -> str:
        """An ADMIN KS from ``session.start`` with the admin secret."""
        return self.ok(
            "session",
            "start",
            secret=credentials["adminSecret"],
            type=2,
            partnerId=credentials["partnerId"],
            userId=user_id,
            privileges=privileges,
        )

    def widget_ks(self, partner_id: int) -> str:
        """An anonymous widget KS for ``_<partnerId>``."""
        return self.ok("session", "startWidgetSession", widgetId=f"_{partner_id}")["ks"]

    def app_token_session(self, token: dict, partner_id: int, **params: Any) -> dict:
        """The ``KalturaSessionInfo`` of ``appToken.startSession`` done the documented way."""
        widget = self.widget_ks(partner_id)
        digest = hashlib.new(token["hashType"].lower(), (widget + token["token"]).encode())
        return self.ok("appToken", "startSession", ks=widget, id=token["id"], tokenHash=digest.hexdigest(), **params)


def is_error(result: Any) -> bool:
    """Whether a JSON answer is a ``KalturaAPIException``."""
    return isinstance(result, dict) and result.get("objectType") == "KalturaAPIException"


@pytest.fixture
def creds(sandbox_reset: SandboxProcess) -> dict:
    """The demo credentials of a freshly reset sandbox."""
    return sandbox_reset.credentials


@pytest.fixture
def admin(api: JsonApi, creds: dict) -> str:
    """An ADMIN KS of the demo partner (test modules that need entitlement off override it)."""
    return api.admin_ks(creds)


@pytest.fixture(scope="session")
def api(sandbox: SandboxProcess) -> JsonApi:
    """A JSON-format client of the session sandbox."""
    return JsonApi(sandbox.url)

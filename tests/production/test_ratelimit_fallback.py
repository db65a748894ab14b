"""Rate limits while their Redis is away: counted in each process until it is back, never a 500."""

from __future__ import annotations

import pytest

from tests.helpers import csrf_token


@pytest.fixture
def app_settings():  # type: ignore[no-untyped-def]
    return {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}  # nothing listens on port 1


def test_sign_in_limits_still_hold_when_redis_is_away(client, demo):  # type: ignore[no-untyped-def]
    statuses = []
    for _ in range(6):
        token = csrf_token(client, "/sign-in")
        answer = client.post(
            "/sign-in", data={"email": "ada@northwind.example", "password": "wrong", "csrf_token": token}
        )
        statuses.append(answer.status_code)

    assert statuses == [422] * 5 + [429]


def test_signing_in_works_when_redis_is_away(client, demo):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/sign-in")
    answer = client.post(
        "/sign-in", data={"email": "ada@northwind.example", "password": "demo-password", "csrf_token": token}
    )
    assert answer.status_code == 303
    assert client.get("/account").status_code == 200

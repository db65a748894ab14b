"""Fixtures for the production profile: a real Redis (``TEST_REDIS_URL``, by default DB 15 of the
machine's Redis) with a key prefix of its own per test, so runs sharing a Redis never meet."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from kaltura_sandbox.testing import SandboxProcess

DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL") or DEFAULT_REDIS


@pytest.fixture(scope="session")
def redis_client():  # type: ignore[no-untyped-def]
    """A client of the test Redis; the tests that need one are skipped, with the reason, without it."""
    import redis

    client = redis.Redis.from_url(redis_url(), socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {redis_url()} ({type(error).__name__}): set TEST_REDIS_URL; CI starts one")
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_client) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A key prefix used by this test only; its keys are deleted afterwards."""
    prefix = f"test:{secrets.token_hex(6)}:"
    yield prefix
    for key in redis_client.scan_iter(match=prefix + "*", count=500):
        redis_client.delete(key)


@pytest.fixture
def sandbox(kaltura_sandbox: SandboxProcess) -> SandboxProcess:
    """The run's sandbox, reset to the demo seed (no faults, latency or counters)."""
    kaltura_sandbox.reset()
    return kaltura_sandbox

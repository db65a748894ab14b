"""The Kaltura session cache shared by every worker through Redis (PORTAL_REDIS_URL).

Each ``KalturaGateway`` here stands for one gunicorn worker: its own HTTP pool and memory, and the
same Redis. The sandbox's call counters say who minted: ``session.startwidgetsession`` is the
first of the two minting calls.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from kaltura_sandbox.testing import SandboxProcess
from portal.kaltura import AppToken, GatewaySettings, KalturaGateway, parse_app_token
from portal.kaltura.client import RetryPolicy, Timeouts
from portal.kaltura.sessions import RedisSessionStore, shared_cache_key
from portal.secrets import Keyring
from tests.production.conftest import redis_url

USER = "pat@northwind.example"
MINT = "session.startwidgetsession"
SECRET_KEY = "s" * 48


def keyring(name: str = "k1") -> Keyring:
    return Keyring.parse(f"{name}:" + base64.urlsafe_b64encode(os.urandom(32)).decode())


@pytest.fixture
def token(sandbox: SandboxProcess) -> AppToken:
    parsed, findings = parse_app_token(
        json.dumps(sandbox.credentials["clientAppToken"]), "client", now=datetime.now(UTC)
    )
    assert parsed is not None, findings
    return parsed


@pytest.fixture
def ring() -> Keyring:
    return keyring()


@pytest.fixture
def worker(sandbox: SandboxProcess, redis_prefix: str, ring: Keyring) -> Iterator:  # type: ignore[type-arg]
    """``worker()`` makes a gateway that shares sessions through the test's Redis prefix."""
    made: list[KalturaGateway] = []

    def make(keys: Keyring | None = None, url: str | None = None, secret_key: str = SECRET_KEY) -> KalturaGateway:
        store = RedisSessionStore.from_url(url or redis_url(), keys or ring, prefix=redis_prefix)
        gateway = KalturaGateway(
            GatewaySettings(
                allowed_hosts=[sandbox.url],
                timeouts=Timeouts(connect=2.0, read=5.0),
                retry=RetryPolicy(attempts=1),
            ),
            shared_sessions=store,
            cache_key=shared_cache_key(secret_key),
        )
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()


def test_a_session_minted_by_one_worker_is_used_by_another(sandbox, token, worker):  # type: ignore[no-untyped-def]
    first, second = worker(), worker()

    first.list_media(sandbox.url, token, USER)
    assert sandbox.calls().get(MINT) == 1
    sandbox.control("calls/reset")

    page = second.list_media(sandbox.url, token, USER)

    assert page.entries
    assert sandbox.calls() == {"media.list": 1}  # no minting: the first worker's session


def test_redis_holds_no_usable_session(sandbox, token, worker, redis_client, redis_prefix):  # type: ignore[no-untyped-def]
    gateway = worker()
    ks = gateway.start_session(sandbox.url, token, USER).ks

    keys = list(redis_client.scan_iter(match=redis_prefix + "*"))
    assert len(keys) == 1
    key, value = keys[0].decode(), redis_client.get(keys[0])
    assert ks.encode() not in value and ks[:24].encode() not in value
    assert b"djJ8" not in value  # no KS prefix (base64 of "v2|")
    for secret in (token.token, token.id, USER):
        assert secret not in key and secret.encode() not in value
    assert value.startswith(b"v1:k1:")  # the keyring's AES-GCM format
    assert 0 < redis_client.pttl(keys[0]) <= 2 * 3600 * 1000  # Redis drops it when it stops being fresh


def test_a_value_moved_to_another_key_does_not_decrypt(sandbox, token, worker, redis_client, redis_prefix):  # type: ignore[no-untyped-def]
    gateway = worker()
    gateway.start_session(sandbox.url, token, USER)
    (stored,) = list(redis_client.scan_iter(match=redis_prefix + "*"))
    other_key = gateway.sessions.cache.key_for(sandbox.url, token, "someone.else@northwind.example", None)
    redis_client.set(redis_prefix + other_key, redis_client.get(stored))
    sandbox.control("calls/reset")

    info = worker().start_session(sandbox.url, token, "someone.else@northwind.example")

    assert info.user_id == "someone.else@northwind.example"
    assert sandbox.calls().get(MINT) == 1  # the copied value was refused and a session minted


def test_after_the_key_that_sealed_it_is_removed_a_worker_mints_anew(sandbox, token, worker):  # type: ignore[no-untyped-def]
    worker(keys=keyring("old")).list_media(sandbox.url, token, USER)
    sandbox.control("calls/reset")

    worker(keys=keyring("new")).list_media(sandbox.url, token, USER)

    assert sandbox.calls().get(MINT) == 1 and sandbox.calls().get("media.list") == 1


def test_workers_with_another_secret_key_do_not_share(sandbox, token, worker):  # type: ignore[no-untyped-def]
    worker().list_media(sandbox.url, token, USER)
    sandbox.control("calls/reset")

    worker(secret_key="t" * 48).list_media(sandbox.url, token, USER)

    assert sandbox.calls().get(MINT) == 1


def test_workers_starting_cold_together_mint_once(sandbox, token, worker):  # type: ignore[no-untyped-def]
    sandbox.control("latency", seconds=0.2, action="apptoken.startsession")  # minting takes a while
    gateways = [worker() for _ in range(3)]
    errors: list[BaseException] = []
    start = threading.Barrier(9)

    def browse(gateway: KalturaGateway) -> None:
        try:
            start.wait()
            gateway.list_media(sandbox.url, token, USER)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=browse, args=(g,)) for g in gateways for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    calls = sandbox.calls()
    assert calls.get(MINT) == 1 and calls.get("apptoken.startsession") == 1
    assert calls.get("media.list") == 9


def test_a_session_kaltura_rejects_is_replaced_once_for_every_worker(sandbox, token, worker):  # type: ignore[no-untyped-def]
    first, second = worker(), worker()
    first.list_media(sandbox.url, token, USER)
    second.list_media(sandbox.url, token, USER)
    sandbox.control("expire_sessions")
    sandbox.control("calls/reset")

    first.list_media(sandbox.url, token, USER)  # INVALID_KS: mints a new one and shares it
    second.list_media(sandbox.url, token, USER)  # INVALID_KS: finds the first worker's new one

    calls = sandbox.calls()
    assert calls.get(MINT) == 1
    assert calls.get("media.list") == 4


def test_without_redis_each_worker_keeps_its_own_sessions(sandbox, token, worker):  # type: ignore[no-untyped-def]
    unreachable = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    first, second = worker(url=unreachable), worker(url=unreachable)

    first.list_media(sandbox.url, token, USER)
    first.list_media(sandbox.url, token, USER)
    second.list_media(sandbox.url, token, USER)

    calls = sandbox.calls()
    assert calls.get("media.list") == 3
    assert calls.get(MINT) == 2  # one per process, each then reused: Redis being away fails nothing

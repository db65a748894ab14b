"""KS minting and caching against a scripted server that checks the token hash like Kaltura does."""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Iterator

import pytest

from portal.kaltura.client import KalturaClient
from portal.kaltura.errors import InvalidSession, KalturaApiError
from portal.kaltura.outbound import OutboundPolicy
from portal.kaltura.sessions import SessionCache, SessionManager, mint_session
from portal.kaltura.tokens import AppToken
from portal.kaltura.types import Privileges, SessionInfo, SessionType
from tests.unit.kaltura.fake_kaltura import FakeKaltura, Reply, Seen, json_reply

SECRET = "5f0c1e2d3a4b5c6d7e8f901a2b3c4d5e"
TOKEN = AppToken(
    id="0_k3v9x2ab",
    token=SECRET,
    partner_id=1234567,
    hash_type="SHA256",
    privileges=Privileges.parse("list:*,enableentitlement"),
)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class AppTokenServer:
    """Answers the two minting calls, checking ``tokenHash`` over the request's own ``ks`` (reference §2.3.2)."""

    def __init__(self, clock: Clock, lifetime: int = 1000) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.serial = itertools.count(1)
        self.minted: list[str] = []

    def __call__(self, seen: Seen) -> Reply:
        body = seen.json()
        if seen.path.endswith("/session/action/startWidgetSession"):
            return json_reply(
                {
                    "partnerId": 1234567,
                    "ks": f"djJ8widget{next(self.serial)}",
                    "userId": 0,
                    "objectType": "KalturaStartWidgetSessionResponse",
                }
            )
        if seen.path.endswith("/appToken/action/startSession"):
            expected = hashlib.sha256((body["ks"] + SECRET).encode()).hexdigest()
            if body.get("tokenHash") != expected:
                return json_reply(
                    {
                        "code": "INVALID_APP_TOKEN_HASH",
                        "message": "Invalid application token hash",
                        "objectType": "KalturaAPIException",
                        "args": [],
                    }
                )
            ks = f"djJ8user{next(self.serial)}"
            self.minted.append(ks)
            return json_reply(
                {
                    "ks": ks,
                    "sessionType": body.get("type", 0),
                    "partnerId": 1234567,
                    "userId": body.get("userId", ""),
                    "expiry": int(self.clock.now) + self.lifetime,
                    "privileges": "sessionid:0_k3v9x2ab,apptoken:0_k3v9x2ab,list:*,enableentitlement",
                    "objectType": "KalturaSessionInfo",
                }
            )
        return Reply(status=404, body=b"unknown")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(fake: FakeKaltura, clock: Clock) -> AppTokenServer:
    handler = AppTokenServer(clock)
    fake.answer_with(handler)
    return handler


@pytest.fixture
def client(fake: FakeKaltura) -> Iterator[KalturaClient]:
    with KalturaClient(OutboundPolicy.from_settings(allowed_hosts=[fake.url])) as made:
        yield made


@pytest.fixture
def manager(client: KalturaClient, clock: Clock) -> SessionManager:
    return SessionManager(client, SessionCache(clock=clock))


def minting_calls(fake: FakeKaltura) -> list[str]:
    return [seen.path.rsplit("/service/", 1)[1] for seen in fake.requests]


def test_minting_uses_the_widget_session_for_the_hash_and_the_call(
    client: KalturaClient, fake: FakeKaltura, server: AppTokenServer
) -> None:
    info = mint_session(client, fake.url, TOKEN, "alice@example.com", session_type=SessionType.USER, expiry=600)

    widget, start = fake.requests
    assert widget.json()["widgetId"] == "_1234567"
    assert "ks" not in widget.json()
    sent = start.json()
    assert sent["ks"] == "djJ8widget1"
    assert sent["tokenHash"] == hashlib.sha256(("djJ8widget1" + SECRET).encode()).hexdigest()
    assert sent["id"] == "0_k3v9x2ab" and sent["userId"] == "alice@example.com"
    assert sent["type"] == 0 and sent["expiry"] == 600
    assert info.ks == server.minted[0]
    assert info.user_id == "alice@example.com" and info.partner_id == 1234567
    assert info.session_type is SessionType.USER
    assert info.privileges.has("enableentitlement") and info.privileges.value("apptoken") == "0_k3v9x2ab"


def test_a_wrong_secret_fails_with_kalturas_code(
    client: KalturaClient, fake: FakeKaltura, server: AppTokenServer
) -> None:
    wrong = AppToken(id=TOKEN.id, token="0" * 32, partner_id=TOKEN.partner_id, hash_type="SHA256")

    with pytest.raises(KalturaApiError) as raised:
        mint_session(client, fake.url, wrong)

    assert raised.value.code == "INVALID_APP_TOKEN_HASH"


def test_session_info_repr_hides_the_ks(client: KalturaClient, fake: FakeKaltura, server: AppTokenServer) -> None:
    info = mint_session(client, fake.url, TOKEN)

    assert info.ks not in repr(info) and info.ks not in str(info)


def test_sessions_are_cached_until_most_of_their_lifetime_is_used(
    manager: SessionManager, fake: FakeKaltura, server: AppTokenServer, clock: Clock
) -> None:
    target = manager.client.policy.check_url(fake.url)
    first = manager.session(target, TOKEN, "alice")
    clock.now += 790  # 79% of the 1000 s lifetime
    again = manager.session(target, TOKEN, "alice")
    clock.now += 20  # 81%
    renewed = manager.session(target, TOKEN, "alice")

    assert again.ks == first.ks
    assert renewed.ks != first.ks
    assert len(fake.requests) == 4  # two mints of two calls each


def test_each_user_token_and_type_gets_its_own_session(
    manager: SessionManager, fake: FakeKaltura, server: AppTokenServer
) -> None:
    target = manager.client.policy.check_url(fake.url)
    replaced = AppToken(id=TOKEN.id, token=SECRET, partner_id=TOKEN.partner_id, hash_type="SHA256", description="x")

    a = manager.session(target, TOKEN, "alice")
    b = manager.session(target, TOKEN, "bob")
    c = manager.session(target, TOKEN, "alice", SessionType.ADMIN)
    d = manager.session(target, replaced, "alice")  # same id and secret: same session

    assert len({a.ks, b.ks, c.ks}) == 3
    assert d.ks == a.ks


def test_cache_keys_never_contain_the_token_and_change_with_it() -> None:
    cache = SessionCache()
    other = AppToken(id=TOKEN.id, token="f" * 32, partner_id=TOKEN.partner_id, hash_type="SHA256")

    key = cache.key_for("https://www.kaltura.com", TOKEN, "alice", 0)

    assert SECRET not in key and TOKEN.id not in key
    assert key != cache.key_for("https://www.kaltura.com", other, "alice", 0)
    assert key != SessionCache().key_for("https://www.kaltura.com", TOKEN, "alice", 0)  # per-process key


def test_invalid_ks_drops_the_session_and_retries_once(
    manager: SessionManager, fake: FakeKaltura, server: AppTokenServer
) -> None:
    target = manager.client.policy.check_url(fake.url)
    seen_ks: list[str] = []

    def operation(ks: str) -> str:
        seen_ks.append(ks)
        if len(seen_ks) == 1:
            raise InvalidSession("INVALID_KS", 'Invalid KS "EXPIRED"', service="media", action="list")
        return "listed"

    assert manager.run(target, TOKEN, "alice", None, operation) == "listed"
    assert len(seen_ks) == 2 and seen_ks[0] != seen_ks[1]
    assert manager.session(target, TOKEN, "alice").ks == seen_ks[1]  # the new one is cached


def test_a_second_invalid_ks_is_raised(manager: SessionManager, fake: FakeKaltura, server: AppTokenServer) -> None:
    target = manager.client.policy.check_url(fake.url)
    attempts: list[str] = []

    def operation(ks: str) -> None:
        attempts.append(ks)
        raise InvalidSession("INVALID_KS", "revoked")

    with pytest.raises(InvalidSession):
        manager.run(target, TOKEN, "alice", None, operation)
    assert len(attempts) == 2


def test_other_errors_are_not_retried(manager: SessionManager, fake: FakeKaltura, server: AppTokenServer) -> None:
    target = manager.client.policy.check_url(fake.url)
    attempts: list[str] = []

    def operation(ks: str) -> None:
        attempts.append(ks)
        raise KalturaApiError("SERVICE_FORBIDDEN", "no")

    with pytest.raises(KalturaApiError):
        manager.run(target, TOKEN, "alice", None, operation)
    assert len(attempts) == 1


def test_concurrent_requests_for_one_user_mint_once(
    manager: SessionManager, fake: FakeKaltura, server: AppTokenServer
) -> None:
    target = manager.client.policy.check_url(fake.url)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(manager.session(target, TOKEN, "alice").ks)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 1 and len(results) == 8
    assert len(fake.requests) == 2


def test_discard_only_removes_the_session_it_names(clock: Clock) -> None:
    cache = SessionCache(clock=clock)
    old = SessionInfo("djJ8old", 1, "a", SessionType.USER, int(clock.now) + 100, Privileges())
    new = SessionInfo("djJ8new", 1, "a", SessionType.USER, int(clock.now) + 100, Privileges())
    cache.put("k", new, clock.now)

    cache.discard("k", old.ks)  # a late INVALID_KS for an older session must not drop the newer one
    assert cache.get("k") == new
    cache.discard("k", new.ks)
    assert cache.get("k") is None


def test_sessions_without_a_future_expiry_are_not_cached(clock: Clock) -> None:
    cache = SessionCache(clock=clock)
    cache.put("past", SessionInfo("djJ8a", 1, "a", 0, int(clock.now) - 1, Privileges()), clock.now)
    cache.put("none", SessionInfo("djJ8b", 1, "a", 0, None, Privileges()), clock.now)

    assert len(cache) == 0


def test_the_cache_is_bounded(clock: Clock) -> None:
    cache = SessionCache(clock=clock, max_entries=3)
    for i in range(5):
        cache.put(str(i), SessionInfo(f"djJ8{i}", 1, "a", 0, int(clock.now) + 100, Privileges()), clock.now)

    assert len(cache) == 3
    assert cache.get("0") is None and cache.get("4") is not None


def test_a_minting_failure_is_not_cached(
    manager: SessionManager, fake: FakeKaltura, server: AppTokenServer, clock: Clock
) -> None:
    target = manager.client.policy.check_url(fake.url)
    fake.queue(
        json_reply(
            {
                "code": "APP_TOKEN_NOT_ACTIVE",
                "message": "not active",
                "objectType": "KalturaAPIException",
                "args": {"ID": "0_k3v9x2ab"},
            }
        )
    )

    with pytest.raises(KalturaApiError):
        manager.session(target, TOKEN, "alice")
    assert manager.session(target, TOKEN, "alice").ks == server.minted[0]

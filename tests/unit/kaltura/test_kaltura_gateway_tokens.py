"""The gateway with saved tokens: it unseals them itself, and caps what it asks Kaltura for."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from portal.kaltura.gateway import MAX_PAGE_SIZE, GatewaySettings, KalturaGateway
from portal.kaltura.sessions import SessionCache
from portal.kaltura.tokens import AppToken
from portal.kaltura.types import Privileges, SessionInfo
from portal.kaltura.vault import SealedToken, TokenVault
from portal.secrets import DecryptionError, Keyring, generate_key
from tests.unit.kaltura.fake_kaltura import FakeKaltura, Reply, Seen, json_reply

SECRET = "5f0c1e2d3a4b5c6d7e8f901a2b3c4d5e"
TOKEN = AppToken(
    id="0_k3v9x2ab",
    token=SECRET,
    partner_id=1234567,
    hash_type="SHA256",
    privileges=Privileges.parse("list:*,enableentitlement"),
)


def kaltura(seen: Seen) -> Reply:
    """Mints sessions (checking the hash over the widget KS, as Kaltura does) and lists nothing."""
    body = seen.json()
    if seen.path.endswith("/startWidgetSession"):
        return json_reply({"partnerId": 1234567, "ks": "djJ8widget", "objectType": "KalturaStartWidgetSessionResponse"})
    if seen.path.endswith("/appToken/action/startSession"):
        if body["tokenHash"] != hashlib.sha256(("djJ8widget" + SECRET).encode()).hexdigest():
            return json_reply({"code": "INVALID_APP_TOKEN_HASH", "message": "x", "objectType": "KalturaAPIException"})
        return json_reply(
            {"ks": "djJ8user", "sessionType": 0, "partnerId": 1234567, "userId": body.get("userId") or "",
             "expiry": 4_000_000_000, "privileges": "list:*", "objectType": "KalturaSessionInfo"}
        )  # fmt: skip
    return json_reply({"objects": [], "totalCount": 0, "objectType": "KalturaMediaListResponse"})


@pytest.fixture
def vault() -> TokenVault:
    return TokenVault(Keyring.parse(f"k1:{generate_key()}"))


@pytest.fixture
def gateway(fake: FakeKaltura, vault: TokenVault) -> Iterator[KalturaGateway]:
    fake.answer_with(kaltura)
    with KalturaGateway(GatewaySettings(allowed_hosts=[fake.url]), vault=vault) as made:
        yield made


def test_a_saved_token_is_unsealed_inside_the_gateway_for_the_call(
    gateway: KalturaGateway, fake: FakeKaltura, vault: TokenVault
) -> None:
    saved = SealedToken(7, "client", vault.seal(TOKEN, 7, "client"), TOKEN.id, TOKEN.partner_id)

    info = gateway.start_session(fake.url, saved, "pat@example.com")

    assert info.user_id == "pat@example.com"  # the hash matched: the gateway used the real secret
    assert all(SECRET not in seen.body.decode() for seen in fake.requests)  # and never sent it


def test_a_saved_token_in_the_wrong_slot_is_refused_before_any_call(
    gateway: KalturaGateway, fake: FakeKaltura, vault: TokenVault
) -> None:
    moved = SealedToken(7, "server", vault.seal(TOKEN, 7, "client"), TOKEN.id, TOKEN.partner_id)

    with pytest.raises(DecryptionError, match="another hub or slot"):
        gateway.count_entries(fake.url, moved)
    assert fake.requests == []


def test_a_gateway_without_a_vault_cannot_use_saved_tokens(fake: FakeKaltura, vault: TokenVault) -> None:
    saved = SealedToken(7, "client", vault.seal(TOKEN, 7, "client"), TOKEN.id, TOKEN.partner_id)

    with KalturaGateway(GatewaySettings(allowed_hosts=[fake.url])) as bare, pytest.raises(RuntimeError, match="vault"):
        bare.start_session(fake.url, saved)


def test_the_diagnostic_gateway_keeps_the_vault(gateway: KalturaGateway, vault: TokenVault) -> None:
    with gateway.single_attempt() as quick:
        assert quick.vault is vault


@pytest.mark.parametrize(
    ("asked", "sent"), [(10_000, MAX_PAGE_SIZE), (501, MAX_PAGE_SIZE), (500, 500), (0, 1), (-5, 1)]
)
def test_the_page_size_sent_to_kaltura_is_capped(
    gateway: KalturaGateway, fake: FakeKaltura, asked: int, sent: int
) -> None:
    gateway.list_media(fake.url, TOKEN, "pat@example.com", page_size=asked)

    listing = [seen.json() for seen in fake.requests if seen.path.endswith("/media/action/list")]
    assert [body["pager"]["pageSize"] for body in listing] == [sent]


def test_a_cached_session_is_stale_exactly_at_its_fresh_until_time() -> None:
    now = [1000.0]
    cache = SessionCache(lifetime_fraction=0.5, clock=lambda: now[0])
    info = SessionInfo("djJ8x", 1, "pat", 0, 1100, Privileges())
    cache.put("key", info, minted_at=1000.0)  # fresh until 1000 + 0.5 * 100 = 1050

    now[0] = 1049.999
    assert cache.get("key") is info
    now[0] = 1050.0
    assert cache.get("key") is None

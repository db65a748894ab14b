"""The token vault: sealed App Tokens are bound to their hub and slot, and only the vault opens them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from portal.kaltura.tokens import AppToken
from portal.kaltura.types import Privileges, SessionType
from portal.kaltura.vault import SealedToken, Slot, TokenVault, rotate
from portal.secrets import DecryptionError, Keyring, generate_key

CLIENT = AppToken(
    id="0_client01",
    token="5f0c1e2d3a4b5c6d7e8f901a2b3c4d5e",
    partner_id=1234567,
    hash_type="SHA256",
    privileges=Privileges.parse("list:*,enableentitlement,privacycontext:ctx"),
    session_type=SessionType.USER,
    session_duration=86400,
    expiry=datetime(2030, 1, 1, tzinfo=UTC),
    status=2,
    description="client",
)
SERVER = AppToken(
    id="0_server01",
    token="0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    partner_id=1234567,
    hash_type="SHA256",
    privileges=Privileges.parse("setrole:5,disableentitlement"),
)


@pytest.fixture
def vault() -> TokenVault:
    return TokenVault(Keyring.parse(f"k1:{generate_key()}"))


def sealed(vault: TokenVault, token: AppToken, hub_id: int, slot: Slot) -> SealedToken:
    return SealedToken(hub_id, slot, vault.seal(token, hub_id, slot), token.id, token.partner_id)


def test_a_sealed_token_unseals_to_the_same_token(vault: TokenVault) -> None:
    assert vault.unseal(sealed(vault, CLIENT, 7, "client")) == CLIENT


def test_the_ciphertext_holds_neither_the_secret_nor_the_id(vault: TokenVault) -> None:
    ciphertext = vault.seal(CLIENT, 7, "client")

    assert CLIENT.token not in ciphertext and CLIENT.id not in ciphertext
    assert ciphertext.startswith("v1:k1:")


def test_a_server_token_moved_into_the_client_slot_does_not_decrypt(vault: TokenVault) -> None:
    server_ciphertext = vault.seal(SERVER, 7, "server")
    moved = SealedToken(7, "client", server_ciphertext, SERVER.id, SERVER.partner_id)

    with pytest.raises(DecryptionError, match="another hub or slot"):
        vault.unseal(moved)
    with pytest.raises(DecryptionError):
        vault.verify(moved)


def test_a_token_moved_to_another_hub_does_not_decrypt(vault: TokenVault) -> None:
    moved = SealedToken(8, "client", vault.seal(CLIENT, 7, "client"), CLIENT.id, CLIENT.partner_id)

    with pytest.raises(DecryptionError):
        vault.unseal(moved)


def test_verify_proves_a_token_still_decrypts_without_returning_it(vault: TokenVault) -> None:
    assert vault.verify(sealed(vault, CLIENT, 7, "client")) is None


def test_a_sealed_token_never_shows_its_ciphertext(vault: TokenVault) -> None:
    token = sealed(vault, CLIENT, 7, "client")

    assert token.ciphertext not in repr(token)
    assert "0_client01" in repr(token)


@dataclass
class Row:
    """Stands in for a KalturaConnection: sealed tokens by slot."""

    hub_id: int
    ciphertexts: dict[Slot, str] = field(default_factory=dict)

    def sealed_token(self, slot: Slot) -> SealedToken | None:
        text = self.ciphertexts.get(slot)
        return SealedToken(self.hub_id, slot, text, "0_x", 1) if text else None

    def replace_ciphertext(self, slot: Slot, ciphertext: str) -> None:
        self.ciphertexts[slot] = ciphertext


def test_rotation_moves_every_token_to_the_primary_key_and_keeps_it_readable() -> None:
    old, new = generate_key(), generate_key()
    before = TokenVault(Keyring.parse(f"k1:{old}"))
    rows = [
        Row(1, {"client": before.seal(CLIENT, 1, "client"), "server": before.seal(SERVER, 1, "server")}),
        Row(2, {"client": before.seal(CLIENT, 2, "client")}),
    ]
    rotating = TokenVault(Keyring.parse(f"k2:{new},k1:{old}"))

    done = rotate(rotating, rows)

    assert [(r.rotated, r.current) for r in done] == [(("client", "server"), 0), (("client",), 0)]
    after = TokenVault(Keyring.parse(f"k2:{new}"))
    server, client = rows[0].sealed_token("server"), rows[1].sealed_token("client")
    assert server is not None and client is not None
    assert after.unseal(server) == SERVER and after.unseal(client) == CLIENT
    again = rotate(rotating, rows)
    assert [(r.rotated, r.current) for r in again] == [((), 2), ((), 1)]


def test_rotation_stops_at_a_token_that_does_not_belong_to_its_row(vault: TokenVault) -> None:
    rows = [Row(1, {"client": vault.seal(CLIENT, 1, "client")}), Row(2, {"client": vault.seal(CLIENT, 1, "client")})]

    with pytest.raises(DecryptionError):
        rotate(vault, rows)

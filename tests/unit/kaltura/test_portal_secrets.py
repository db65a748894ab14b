"""Secrets at rest (issue 4, item 7): AES-256-GCM bound to hub and slot, with key rotation."""

from __future__ import annotations

import base64
import pickle

import pytest

from portal.secrets import DecryptionError, Keyring, KeyringError, Secret, generate_key

TOKEN = '{"id":"0_k3v9x2ab","token":"5f0c1e2d3a4b5c6d7e8f901a2b3c4d5e"}'


@pytest.fixture
def k1() -> str:
    return generate_key()


@pytest.fixture
def k2() -> str:
    return generate_key()


def test_round_trip(k1: str) -> None:
    ring = Keyring.parse(f"k1:{k1}")

    stored = ring.encrypt(TOKEN, hub_id=7, slot="client_token")

    assert ring.decrypt(stored, 7, "client_token").reveal() == TOKEN
    version, key_id, nonce, _ciphertext = stored.split(":")
    assert (version, key_id) == ("v1", "k1")
    assert len(base64.urlsafe_b64decode(nonce + "==")) == 12
    assert "5f0c1e2d" not in stored and "0_k3v9x2ab" not in stored


def test_each_encryption_uses_a_fresh_nonce(k1: str) -> None:
    ring = Keyring.parse(f"k1:{k1}")

    assert ring.encrypt(TOKEN, 7, "client_token") != ring.encrypt(TOKEN, 7, "client_token")


@pytest.mark.parametrize(("hub", "slot"), [(8, "client_token"), (7, "server_token"), ("7x", "client_token")])
def test_a_value_moved_to_another_hub_or_slot_does_not_decrypt(k1: str, hub: int | str, slot: str) -> None:
    ring = Keyring.parse(f"k1:{k1}")
    stored = ring.encrypt(TOKEN, 7, "client_token")

    with pytest.raises(DecryptionError, match="another hub or slot"):
        ring.decrypt(stored, hub, slot)


@pytest.mark.parametrize("part", [2, 3])
def test_tampering_is_detected(k1: str, part: int) -> None:
    ring = Keyring.parse(f"k1:{k1}")
    pieces = ring.encrypt(TOKEN, 7, "client_token").split(":")
    raw = bytearray(base64.urlsafe_b64decode(pieces[part] + "=" * (-len(pieces[part]) % 4)))
    raw[0] ^= 0x01
    pieces[part] = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")

    with pytest.raises(DecryptionError):
        ring.decrypt(":".join(pieces), 7, "client_token")


@pytest.mark.parametrize("stored", ["", "plaintext", "v2:k1:a:b", "v1:k1:!!!:???", "v1:k1:AAAA:AAAA", "v1:k1"])
def test_malformed_values_are_refused_clearly(k1: str, stored: str) -> None:
    with pytest.raises(DecryptionError):
        Keyring.parse(f"k1:{k1}").decrypt(stored, 7, "client_token")


def test_rotation_reencrypts_under_the_new_key_and_survives_removing_the_old_one(k1: str, k2: str) -> None:
    old_ring = Keyring.parse(f"k1:{k1}")
    rows = {
        (hub, slot): old_ring.encrypt(f"{TOKEN}-{hub}-{slot}", hub, slot)
        for hub in (1, 2)
        for slot in ("client_token", "server_token")
    }
    rotating = Keyring.parse(f"k2:{k2},k1:{k1}")

    rotated = {key: rotating.rotate(value, *key) for key, value in rows.items()}
    new_ring = Keyring.parse(f"k2:{k2}")

    for (hub, slot), value in rotated.items():
        assert new_ring.key_id_of(value) == "k2"
        assert new_ring.decrypt(value, hub, slot).reveal() == f"{TOKEN}-{hub}-{slot}"
    with pytest.raises(DecryptionError, match="'k1'"):
        new_ring.decrypt(rows[(1, "client_token")], 1, "client_token")


def test_rotation_is_idempotent(k1: str, k2: str) -> None:
    ring = Keyring.parse(f"k2:{k2},k1:{k1}")
    once = ring.rotate(Keyring.parse(f"k1:{k1}").encrypt(TOKEN, 3, "server_token"), 3, "server_token")

    assert ring.rotate(once, 3, "server_token") == once
    assert not ring.needs_rotation(once)


def test_rotation_refuses_a_value_from_another_hub(k1: str, k2: str) -> None:
    ring = Keyring.parse(f"k2:{k2},k1:{k1}")
    stored = ring.encrypt(TOKEN, 3, "server_token")

    with pytest.raises(DecryptionError):
        ring.rotate(stored, 4, "server_token")


def test_keyring_accepts_standard_and_url_safe_base64() -> None:
    raw = bytes(range(250, 256)) + bytes(26)
    standard = base64.b64encode(raw).decode()
    urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")

    ring = Keyring.parse(f"a:{standard}, b:{urlsafe}")

    assert ring.keys["a"] == ring.keys["b"] == raw
    assert ring.primary == "a"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("k1", "key_id:base64key"),
        ("k1:", "key_id:base64key"),
        ("k1:c2hvcnQ=", "32 bytes"),
        ("k1:%%%%", "not valid base64"),
        ("bad id:" + "A" * 43, "Key id"),
    ],
)
def test_bad_keyrings_are_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(KeyringError, match=message):
        Keyring.parse(text)


def test_duplicate_key_ids_are_refused(k1: str, k2: str) -> None:
    with pytest.raises(KeyringError, match="twice"):
        Keyring.parse(f"k1:{k1},k1:{k2}")


def test_keyring_and_secret_never_show_key_material_or_plaintext(k1: str) -> None:
    ring = Keyring.parse(f"k1:{k1}")
    secret = ring.decrypt(ring.encrypt(TOKEN, 1, "client_token"), 1, "client_token")

    assert k1 not in repr(ring)
    assert TOKEN not in repr(secret) and TOKEN not in str(secret) and TOKEN not in f"{secret}"
    assert "REDACTED" in repr(secret)
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_secret_equality_compares_values() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert bool(Secret("")) is False


def test_generated_keys_are_distinct_32_byte_keys() -> None:
    keys = {generate_key() for _ in range(20)}

    assert len(keys) == 20
    assert all(len(base64.urlsafe_b64decode(key)) == 32 for key in keys)


@pytest.mark.parametrize(("hub", "slot"), [("1:2", "client"), (1, "client:token"), (1, "")])
def test_binding_parts_cannot_be_ambiguous(k1: str, hub: int | str, slot: str) -> None:
    with pytest.raises(ValueError):
        Keyring.parse(f"k1:{k1}").encrypt(TOKEN, hub, slot)

"""Encryption of hub secrets at rest (the App Tokens): AES-256-GCM, bound to the hub and slot.

The keys come from configuration as a keyring, ``"k2:<base64 key>,k1:<base64 key>"``: the first
key is the primary one that encrypts; every key decrypts. A stored value looks like
``v1:{key_id}:{nonce}:{ciphertext}`` (URL-safe base64), so each row says which key it needs.

The ciphertext is authenticated together with ``hub:{hub_id}:{slot}`` (GCM associated data): a
value copied into another hub's row, or into another slot of the same hub, does not decrypt. Nor
does a tampered value. Both raise :class:`DecryptionError` with a message that says which.

Rotation: put a new key first, run :meth:`Keyring.rotate` over every row (it re-encrypts under the
primary key, and returns the value unchanged when it already uses it, so it is idempotent), then
remove the old key. Plaintext comes back wrapped in :class:`Secret`, whose ``repr``/``str`` never
show it. No Flask here: the CLI and services call this module directly.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_BINDING_PART = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class SecretsError(Exception):
    """Base class for keyring and encryption problems."""


class KeyringError(SecretsError):
    """The configured keyring is malformed; the message says what to fix (never the key)."""


class DecryptionError(SecretsError):
    """A stored value cannot be decrypted: wrong hub or slot, tampered, or its key is gone."""


class Secret:
    """A decrypted secret. ``repr()`` and ``str()`` are redacted; call :meth:`reveal` to use it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The plaintext. Use it only to hand it to the Kaltura gateway."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('[REDACTED]')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("Secret values are not picklable")


def generate_key() -> str:
    """A new random 256-bit key, URL-safe base64, ready for a keyring entry."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    """Strict base64, standard or URL-safe alphabet, padding optional."""
    padded = text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
    return base64.b64decode(padded.encode(), altchars=b"-_", validate=True)


def _aad(hub_id: int | str, slot: str) -> bytes:
    hub, slot = str(hub_id), str(slot)
    if not _BINDING_PART.match(hub) or not _BINDING_PART.match(slot):
        raise ValueError("hub_id and slot must be short identifiers (letters, digits, _ . -)")
    return f"hub:{hub}:{slot}".encode()


@dataclass(frozen=True)
class _Stored:
    key_id: str
    nonce: bytes
    ciphertext: bytes

    @classmethod
    def parse(cls, value: str) -> _Stored:
        parts = value.split(":") if isinstance(value, str) else []
        if len(parts) != 4 or parts[0] != VERSION:
            raise DecryptionError("The stored secret is not in the v1:{key_id}:{nonce}:{ciphertext} format.")
        try:
            nonce, ciphertext = _b64decode(parts[2]), _b64decode(parts[3])
        except (binascii.Error, ValueError) as error:
            raise DecryptionError("The stored secret is not valid base64; it was changed or truncated.") from error
        if len(nonce) != NONCE_BYTES or len(ciphertext) < 16:
            raise DecryptionError("The stored secret is truncated or was changed.")
        return cls(parts[1], nonce, ciphertext)


@dataclass(frozen=True)
class Keyring:
    """Named AES-256 keys with one primary. ``repr()`` shows key ids only."""

    keys: Mapping[str, bytes] = field(repr=False)
    primary: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("The keyring has no keys.")
        if self.primary not in self.keys:
            raise KeyringError(f"The primary key id {self.primary!r} is not in the keyring.")
        for key_id, key in self.keys.items():
            if not _KEY_ID.match(key_id):
                raise KeyringError(f"Key id {key_id!r} must be 1-32 letters, digits, _ or -.")
            if len(key) != KEY_BYTES:
                raise KeyringError(f"Key {key_id!r} must be {KEY_BYTES} bytes (it is {len(key)}).")

    def __repr__(self) -> str:
        return f"Keyring(primary={self.primary!r}, key_ids={sorted(self.keys)!r})"

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """Parse ``"k2:<base64>,k1:<base64>"``; the first entry is the primary key.

        Standard and URL-safe base64 are both accepted. Raises :class:`KeyringError` naming the
        entry (by id or position, never by key material) that is wrong.
        """
        if not isinstance(text, str) or not text.strip():
            raise KeyringError("The encryption keyring is empty: set it to 'key_id:base64key' (see generate_key()).")
        keys: dict[str, bytes] = {}
        for position, entry in enumerate(text.split(","), 1):
            key_id, sep, encoded = entry.strip().partition(":")
            if not sep or not key_id or not encoded:
                raise KeyringError(f"Keyring entry {position} must look like 'key_id:base64key'.")
            if key_id in keys:
                raise KeyringError(f"Key id {key_id!r} appears twice in the keyring.")
            try:
                keys[key_id] = _b64decode(encoded.strip())
            except (binascii.Error, ValueError) as error:
                raise KeyringError(f"Key {key_id!r} is not valid base64.") from error
        return cls(keys, next(iter(keys)))

    def encrypt(self, plaintext: str | Secret, hub_id: int | str, slot: str) -> str:
        """Encrypt under the primary key, bound to (hub, slot): ``v1:{key_id}:{nonce}:{ciphertext}``."""
        value = plaintext.reveal() if isinstance(plaintext, Secret) else plaintext
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(self.keys[self.primary]).encrypt(nonce, value.encode(), _aad(hub_id, slot))
        return f"{VERSION}:{self.primary}:{_b64encode(nonce)}:{_b64encode(ciphertext)}"

    def decrypt(self, stored: str, hub_id: int | str, slot: str) -> Secret:
        """Decrypt a value stored for (hub, slot). Raises :class:`DecryptionError` saying why it cannot."""
        parsed = _Stored.parse(stored)
        key = self.keys.get(parsed.key_id)
        if key is None:
            raise DecryptionError(
                f"The stored secret needs key {parsed.key_id!r}, which is not in the keyring "
                "(was it removed before rotating every row?)."
            )
        try:
            plaintext = AESGCM(key).decrypt(parsed.nonce, parsed.ciphertext, _aad(hub_id, slot))
        except InvalidTag as error:
            raise DecryptionError(
                f"The stored secret does not decrypt for hub {hub_id}, slot {slot!r}: it belongs "
                "to another hub or slot, or it was changed."
            ) from error
        return Secret(plaintext.decode())

    def key_id_of(self, stored: str) -> str:
        """Which key a stored value was encrypted with."""
        return _Stored.parse(stored).key_id

    def needs_rotation(self, stored: str) -> bool:
        """Whether ``stored`` uses a key other than the primary one."""
        return self.key_id_of(stored) != self.primary

    def rotate(self, stored: str, hub_id: int | str, slot: str) -> str:
        """Re-encrypt under the primary key; a value already under it is returned unchanged."""
        if not self.needs_rotation(stored):
            self.decrypt(stored, hub_id, slot)  # still prove it belongs here before calling it done
            return stored
        return self.encrypt(self.decrypt(stored, hub_id, slot), hub_id, slot)

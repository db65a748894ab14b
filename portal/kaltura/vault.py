"""App Tokens at rest: sealed (encrypted, bound to their hub and slot) and unsealed only in the gateway.

The portal stores what :meth:`TokenVault.seal` returns. To use a saved token it hands the gateway a
:class:`SealedToken` (the ciphertext plus the token's public id and partner), and the gateway asks
its vault to unseal it for the one call that needs it: the plaintext secret exists nowhere else
(DESIGN §3.5). Services only seal, check that a saved token still decrypts (:meth:`verify`), and
rotate keys (:func:`rotate`), none of which hands plaintext back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

from portal.kaltura.tokens import AppToken
from portal.kaltura.types import Privileges, SessionType
from portal.secrets import DecryptionError, Keyring, SecretsError

Slot = Literal["client", "server"]
SLOTS: tuple[Slot, ...] = ("client", "server")


@dataclass(frozen=True)
class SealedToken:
    """A saved App Token: its ciphertext, bound to ``(hub_id, slot)``, and its public id and partner.

    Gateway methods accept it wherever they accept an :class:`AppToken` and unseal it inside.
    """

    hub_id: int
    slot: Slot
    ciphertext: str = field(repr=False)
    id: str
    partner_id: int


class SealedSlots(Protocol):
    """A row that keeps sealed tokens by slot (``KalturaConnection``): what key rotation works on."""

    hub_id: int

    def sealed_token(self, slot: Slot) -> SealedToken | None: ...

    def replace_ciphertext(self, slot: Slot, ciphertext: str) -> None: ...


@dataclass(frozen=True)
class Rotation:
    """What rotating one row did: the slots re-encrypted, and how many already used the primary key."""

    row: SealedSlots
    rotated: tuple[Slot, ...]
    current: int


class TokenVault:
    """Seals and unseals App Tokens with the portal's keyring (``PORTAL_ENCRYPTION_KEYS``)."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def __repr__(self) -> str:
        return f"TokenVault({self.keyring!r})"

    def seal(self, token: AppToken, hub_id: int, slot: Slot) -> str:
        """Encrypt the whole token (secret and metadata) for this hub's slot."""
        return self.keyring.encrypt(json.dumps(_as_dict(token), sort_keys=True), hub_id, _slot_name(slot))

    def unseal(self, sealed: SealedToken) -> AppToken:
        """The token sealed for its hub's slot; :class:`DecryptionError` if it was moved or changed.

        Only the gateway calls this, for the call that needs the secret.
        """
        data = json.loads(self.keyring.decrypt(sealed.ciphertext, sealed.hub_id, _slot_name(sealed.slot)).reveal())
        return _from_dict(data)

    def verify(self, sealed: SealedToken) -> None:
        """Prove that ``sealed`` still decrypts for its hub and slot (:class:`DecryptionError` if not)."""
        self.keyring.decrypt(sealed.ciphertext, sealed.hub_id, _slot_name(sealed.slot))

    def needs_rotation(self, ciphertext: str) -> bool:
        return self.keyring.needs_rotation(ciphertext)

    def rotate(self, ciphertext: str, hub_id: int, slot: Slot) -> str:
        """Re-encrypt under the primary key (unchanged when it already is, after proving it decrypts)."""
        return self.keyring.rotate(ciphertext, hub_id, _slot_name(slot))


def rotate(vault: TokenVault, rows: Iterable[SealedSlots]) -> list[Rotation]:
    """Re-encrypt every sealed token of ``rows`` under the primary key, in memory.

    Raises :class:`SecretsError` at the first token that does not decrypt, before the caller
    commits anything: either every token moves to the new key or none does.
    """
    done = []
    for row in rows:
        rotated: list[Slot] = []
        current = 0
        for slot in SLOTS:
            sealed = row.sealed_token(slot)
            if sealed is None:
                continue
            if vault.needs_rotation(sealed.ciphertext):
                row.replace_ciphertext(slot, vault.rotate(sealed.ciphertext, row.hub_id, slot))
                rotated.append(slot)
            else:
                vault.verify(sealed)  # still proves it belongs to this row
                current += 1
        done.append(Rotation(row, tuple(rotated), current))
    return done


def _slot_name(slot: Slot) -> str:
    return f"kaltura_{slot}_token"


def _as_dict(token: AppToken) -> dict[str, object]:
    return {
        "id": token.id,
        "token": token.token,
        "partnerId": token.partner_id,
        "hashType": token.hash_type,
        "sessionPrivileges": str(token.privileges),
        "sessionType": int(token.session_type) if token.session_type is not None else None,
        "sessionUserId": token.session_user_id,
        "sessionDuration": token.session_duration,
        "expiry": int(token.expiry.timestamp()) if token.expiry else None,
        "status": token.status,
        "description": token.description,
    }


def _from_dict(data: dict[str, object]) -> AppToken:
    # Rebuilt as stored, without re-validating: a token saved months ago may have expired since,
    # and the gateway should then get Kaltura's own answer (APP_TOKEN_EXPIRED), not a parse error.
    expiry = _int(data.get("expiry"))
    session_type = _int(data.get("sessionType"))
    return AppToken(
        id=str(data["id"]),
        token=str(data["token"]),
        partner_id=_int(data["partnerId"]) or 0,
        hash_type=str(data["hashType"]),
        privileges=Privileges.parse(data.get("sessionPrivileges") or ""),
        session_type=SessionType(session_type) if session_type is not None else None,
        session_user_id=_str(data.get("sessionUserId")),
        session_duration=_int(data.get("sessionDuration")),
        expiry=datetime.fromtimestamp(expiry, UTC) if expiry is not None else None,
        status=_int(data.get("status")),
        description=_str(data.get("description")),
    )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["SLOTS", "DecryptionError", "Rotation", "SealedToken", "SecretsError", "Slot", "TokenVault", "rotate"]

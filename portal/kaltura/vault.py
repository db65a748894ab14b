"""App Tokens at rest: sealed (encrypted, bound to their hub and slot) and unsealed only here.

The portal stores what :meth:`TokenVault.seal` returns and hands it back to :meth:`unseal` when it
needs to call Kaltura, so the plaintext token exists only inside the gateway, for one call path.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal

from portal.kaltura.tokens import AppToken
from portal.kaltura.types import Privileges, SessionType
from portal.secrets import DecryptionError, Keyring

Slot = Literal["client", "server"]


class TokenVault:
    """Seals and unseals App Tokens with the portal's keyring (``PORTAL_ENCRYPTION_KEYS``)."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def __repr__(self) -> str:
        return f"TokenVault({self.keyring!r})"

    def seal(self, token: AppToken, hub_id: int, slot: Slot) -> str:
        """Encrypt the whole token (secret and metadata) for this hub's slot."""
        return self.keyring.encrypt(json.dumps(_as_dict(token), sort_keys=True), hub_id, _slot_name(slot))

    def unseal(self, sealed: str, hub_id: int, slot: Slot) -> AppToken:
        """The token sealed for this hub's slot; :class:`DecryptionError` if it was moved or changed."""
        data = json.loads(self.keyring.decrypt(sealed, hub_id, _slot_name(slot)).reveal())
        return _from_dict(data)

    def needs_rotation(self, sealed: str) -> bool:
        return self.keyring.needs_rotation(sealed)

    def rotate(self, sealed: str, hub_id: int, slot: Slot) -> str:
        """Re-encrypt under the primary key (unchanged when it already is)."""
        return self.keyring.rotate(sealed, hub_id, _slot_name(slot))


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
    expiry = data.get("expiry")
    session_type = data.get("sessionType")
    return AppToken(
        id=str(data["id"]),
        token=str(data["token"]),
        partner_id=int(data["partnerId"]),  # type: ignore[call-overload]
        hash_type=str(data["hashType"]),
        privileges=Privileges.parse(data.get("sessionPrivileges") or ""),
        session_type=SessionType(int(session_type)) if session_type is not None else None,  # type: ignore[call-overload]
        session_user_id=data.get("sessionUserId"),  # type: ignore[arg-type]
        session_duration=data.get("sessionDuration"),  # type: ignore[arg-type]
        expiry=datetime.fromtimestamp(int(expiry), UTC) if expiry is not None else None,  # type: ignore[call-overload]
        status=data.get("status"),  # type: ignore[arg-type]
        description=data.get("description"),  # type: ignore[arg-type]
    )


__all__ = ["DecryptionError", "Slot", "TokenVault"]

"""Kaltura Sessions (KS): generation and validation of KS v1 and v2 (reference §3).

* **v2** (``djJ8...``): ``v2|{partnerId}|`` + AES-128-CBC(key = SHA1(adminSecret)[:16], IV = 16 zero
  bytes, zero padding) of ``SHA1(random16 + fields) + random16 + fields``, where ``fields`` is the
  URL-encoded map of privileges plus ``_e`` (valid until), ``_t`` (type), ``_u`` (user), ``_m``, ``_d``;
  the whole is base64 with ``+/`` replaced by ``-_``.
* **v1**: base64 of ``sha1hex(adminSecret + info) + "|" + info``, ``info`` being
  ``partnerId;partnerId;validUntil;type;rand;userId;privileges;masterPartnerId;additionalData``.

Both are signed and checked with the partner's **admin** secret for every session type, so a KS
made by the official client's ``generateSession``/``generateSessionV2`` validates here. Every
failure is ``INVALID_KS`` with the message patterns of reference §3.5.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import urllib.parse
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .context import Session, format_privileges, parse_privileges
from .errors import ApiError
from .store import Partner, Store

RANDOM_SIZE = 16
SHA1_SIZE = 20
BLOCK = 16

#: Names KS v2 reserves for its own fields (everything else in the field map is a privilege).
FIELD_EXPIRY, FIELD_TYPE, FIELD_USER, FIELD_MASTER, FIELD_ADDITIONAL = "_e", "_t", "_u", "_m", "_d"


class KsDecodeError(Exception):
    """The string is not a KS this partner signed."""


@dataclass(frozen=True)
class KsFields:
    """The content of a decoded KS, before the expiry/revocation checks."""

    version: int
    partner_id: int
    user_id: str
    type: int
    valid_until: int
    privileges: dict[str, list[str]]
    master_partner_id: int | None = None
    additional_data: str | None = None

    def to_session(self) -> Session:
        """The ``Session`` object handlers see."""
        return Session(
            partner_id=self.partner_id,
            user_id=self.user_id,
            type=self.type,
            privileges={k: list(v) for k, v in self.privileges.items()},
            expiry=self.valid_until,
            version=self.version,
            master_partner_id=self.master_partner_id,
            additional_data=self.additional_data,
        )


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


def _aes_key(secret: str) -> bytes:
    return hashlib.sha1(secret.encode("utf-8")).digest()[:16]


def _aes(secret: str, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(_aes_key(secret)), modes.CBC(b"\0" * BLOCK))
    worker = cipher.encryptor() if encrypt else cipher.decryptor()
    return worker.update(data) + worker.finalize()


def _v2_field_map(
    privileges: dict[str, list[str]],
    valid_until: int,
    ks_type: int,
    user_id: str,
    master_partner_id: int | None,
    additional_data: str | None,
) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for name, values in privileges.items():
        if name == "*":
            fields.append(("all", "*"))
        else:
            fields.append((name, "/".join(values)))
    fields += [(FIELD_EXPIRY, str(valid_until)), (FIELD_TYPE, str(ks_type)), (FIELD_USER, user_id)]
    if master_partner_id is not None:
        fields.append((FIELD_MASTER, str(master_partner_id)))
    if additional_data is not None:
        fields.append((FIELD_ADDITIONAL, additional_data))
    return fields


def generate_v2(
    partner: Partner,
    user_id: str,
    ks_type: int,
    valid_until: int,
    privileges: str | dict[str, list[str]] = "",
    master_partner_id: int | None = None,
    additional_data: str | None = None,
) -> str:
    """A KS v2 string signed with the partner's (first) admin secret."""
    privs = parse_privileges(privileges) if isinstance(privileges, str) else privileges
    field_map = _v2_field_map(privs, valid_until, ks_type, user_id, master_partner_id, additional_data)
    fields = urllib.parse.urlencode(field_map).encode("utf-8")
    body = os.urandom(RANDOM_SIZE) + fields
    body = hashlib.sha1(body).digest() + body
    if len(body) % BLOCK:
        body += b"\0" * (BLOCK - len(body) % BLOCK)
    encrypted = _aes(partner.admin_secrets()[0], body, encrypt=True)
    raw = f"v2|{partner.id}|".encode() + encrypted
    return base64.b64encode(raw).decode("ascii").replace("+", "-").replace("/", "_")


def generate_v1(
    partner: Partner,
    user_id: str,
    ks_type: int,
    valid_until: int,
    privileges: str | dict[str, list[str]] = "",
    master_partner_id: int | None = None,
    additional_data: str | None = None,
) -> str:
    """A KS v1 string signed with the partner's (first) admin secret."""
    privs = privileges if isinstance(privileges, str) else format_privileges(privileges)
    rand = int.from_bytes(os.urandom(2), "big")
    info = ";".join(
        [
            str(partner.id),
            str(partner.id),
            str(valid_until),
            str(ks_type),
            str(rand),
            user_id,
            privs,
            "" if master_partner_id is None else str(master_partner_id),
            additional_data or "",
        ]
    ).encode("utf-8")
    signature = hashlib.sha1(partner.admin_secrets()[0].encode("utf-8") + info)
    return base64.b64encode(signature.hexdigest().encode("ascii") + b"|" + info).decode("ascii")


def generate(
    partner: Partner, user_id: str, ks_type: int, valid_until: int, privileges: str | dict[str, list[str]] = ""
) -> str:
    """A KS in the partner's configured version (``ks_version``: 1 or 2)."""
    maker = generate_v1 if partner.ks_version == 1 else generate_v2
    return maker(partner, user_id, ks_type, valid_until, privileges)


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------


def _b64decode(ks: str) -> bytes:
    text = ks.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KsDecodeError("not base64") from exc


def partner_id_of(ks: str) -> int | None:
    """The partner id a KS claims (without checking its signature), or None if unreadable."""
    try:
        raw = _b64decode(ks)
    except KsDecodeError:
        return None
    if raw.startswith(b"v2|"):
        parts = raw.split(b"|", 2)
        text = parts[1] if len(parts) == 3 else b""
    else:
        _, _, info = raw.partition(b"|")
        text = info.split(b";", 1)[0]
    try:
        return int(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None


def _int_field(text: str | None, default: int = 0) -> int:
    try:
        return int(text) if text not in (None, "") else default
    except ValueError:
        return default


def _decode_v2(raw: bytes, partner: Partner) -> KsFields:
    parts = raw.split(b"|", 2)
    if len(parts) != 3 or not parts[2] or len(parts[2]) % BLOCK:
        raise KsDecodeError("bad v2 layout")
    for secret in partner.admin_secrets():
        plain = _aes(secret, parts[2], encrypt=False).rstrip(b"\0")
        digest, body = plain[:SHA1_SIZE], plain[SHA1_SIZE:]
        if len(body) >= RANDOM_SIZE and hmac.compare_digest(
            digest,
            hashlib.sha1(body).digest(),
        ):
            return _v2_fields(body[RANDOM_SIZE:], partner.id)
    raise KsDecodeError("v2 signature")


def _v2_fields(fields: bytes, partner_id: int) -> KsFields:
    try:
        pairs = urllib.parse.parse_qsl(fields.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        raise KsDecodeError("v2 fields") from exc
    values = dict(pairs)
    privileges: dict[str, list[str]] = {}
    for name, value in pairs:
        if name.startswith("_"):
            continue
        if name == "all" and value == "*":
            privileges["*"] = []
            continue
        privileges[name] = [v for v in value.split("/") if v] if value else []
    master = values.get(FIELD_MASTER)
    return KsFields(
        version=2,
        partner_id=partner_id,
        user_id=values.get(FIELD_USER, ""),
        type=_int_field(values.get(FIELD_TYPE)),
        valid_until=_int_field(values.get(FIELD_EXPIRY)),
        privileges=privileges,
        master_partner_id=_int_field(master) if master else None,
        additional_data=values.get(FIELD_ADDITIONAL),
    )


def _decode_v1(raw: bytes, partner: Partner) -> KsFields:
    signature, sep, info = raw.partition(b"|")
    if not sep:
        raise KsDecodeError("bad v1 layout")
    for secret in partner.admin_secrets():
        expected = hashlib.sha1(secret.encode("utf-8") + info).hexdigest()
        if hmac.compare_digest(expected.encode("ascii"), signature.lower()):
            break
    else:
        raise KsDecodeError("v1 signature")
    try:
        parts = info.decode("utf-8").split(";")
    except UnicodeDecodeError as exc:
        raise KsDecodeError("v1 info") from exc
    if len(parts) < 3:
        raise KsDecodeError("v1 fields")
    parts += [""] * (9 - len(parts))
    return KsFields(
        version=1,
        partner_id=partner.id,
        user_id=parts[5],
        type=_int_field(parts[3]),
        valid_until=_int_field(parts[2]),
        privileges=parse_privileges(parts[6]),
        master_partner_id=_int_field(parts[7]) if parts[7] else None,
        additional_data=parts[8] or None,
    )


def decode(ks: str, store: Store) -> KsFields:
    """Decode and verify the signature of a KS (v1 or v2) against its partner's admin secrets."""
    partner = store.partner(partner_id_of(ks))
    if partner is None:
        raise KsDecodeError("unknown partner")
    raw = _b64decode(ks)
    return _decode_v2(raw, partner) if raw.startswith(b"v2|") else _decode_v1(raw, partner)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def invalid_ks(ksid: str, code: int = -1, desc: str = "INVALID_STR") -> ApiError:
    """``INVALID_KS`` with Kaltura's argument pattern (reference §3.5)."""
    return ApiError("INVALID_KS", KSID=ksid, ERR_CODE=str(code), ERR_DESC=desc)


def validate(ks: str, store: Store, now: float) -> Session:
    """The session of a KS, or ``INVALID_KS``: undecodable/forged, expired, or revoked."""
    try:
        fields = decode(ks, store)
    except KsDecodeError as exc:
        raise invalid_ks(ks) from exc
    if fields.valid_until <= now:
        raise invalid_ks("EXPIRED")
    if is_revoked(store, fields, ks):
        raise invalid_ks("LOGOUT")
    return fields.to_session()


def _digest_id(ks: str) -> str:
    return "ks:" + hashlib.sha256(ks.encode("utf-8")).hexdigest()


def is_revoked(store: Store, fields: KsFields, ks: str) -> bool:
    """Whether the KS was logged out (``session.end``) or its ``sessionid`` was invalidated
    (e.g. its App Token was deleted)."""
    session_ids = [*(fields.privileges.get("sessionid") or []), _digest_id(ks)]
    marks = ",".join("?" for _ in session_ids)
    found = store.scalar(
        f"SELECT 1 FROM revoked_sessions WHERE partner_id = ? AND session_id IN ({marks})",
        (fields.partner_id, *session_ids),
    )
    return found is not None


def revoke_ks(store: Store, partner_id: int, ks: str) -> None:
    """Invalidate one KS string (``session.end``)."""
    revoke_session_id(store, partner_id, _digest_id(ks))


def revoke_session_id(store: Store, partner_id: int, session_id: str) -> None:
    """Invalidate every KS carrying ``sessionid:<session_id>``."""
    store.execute(
        "INSERT OR IGNORE INTO revoked_sessions(partner_id, session_id) VALUES (?, ?)",
        (partner_id, session_id),
    )

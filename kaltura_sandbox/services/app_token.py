"""``appToken`` service: ``add``, ``get``, ``list``, ``update``, ``delete``, ``startSession``
(reference §2.3).

``startSession`` follows ``AppTokenService::startSessionAction``: look the token up, check it is
active, check ``tokenHash = hex(hash(hashType, ks + token))`` over the request's own KS, compute
the expiry, let the token's session type and user id override the request, merge privileges, and
sign the new KS with the partner's admin secret.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
from typing import Any

from .. import ks as kslib
from .. import params as P
from .. import registry
from ..context import SESSION_USER, Call, Session, parse_privileges
from ..errors import ApiError
from ..registry import action
from .session import SESSION_TYPES, check_privileges, session_info

HASH_TYPES = ("SHA1", "MD5", "SHA256", "SHA512")
STATUS_DISABLED, STATUS_ACTIVE, STATUS_DELETED = 1, 2, 3
STATUSES = (STATUS_DISABLED, STATUS_ACTIVE, STATUS_DELETED)
#: ``kuser::PUSER_ID_REGEXP``: the characters a partner user id may contain.
PUSER_ID_RE = re.compile(r"^[A-Za-z0-9,!#$%&'*+?^_`{|}~.@-]{1,320}$")
ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"

#: Every ``PRIVILEGE_*`` name of ``kSessionBase``: a caller of startSession cannot add these
#: unless the token itself carries the privilege with the value ``*``.
RESERVED_PRIVILEGES = frozenset(
    [
        "edit",
        "sview",
        "list",
        "download",
        "downloadasset",
        "editplaylist",
        "sviewplaylist",
        "actionslimit",
        "setrole",
        "restrictingrole",
        "limitentry",
        "iprestrict",
        "urirestrict",
        "enableentitlement",
        "disableentitlement",
        "disableentitlementforentry",
        "disableentitlementforplaylist",
        "privacycontext",
        "enablecategorymoderation",
        "reftime",
        "sessionkey",
        "preview",
        "sessionid",
        "jobtype",
        "apptoken",
        "enablechangeaccount",
        "edituser",
        "enablecaptionmoderation",
        "editadmintags",
        "restrictexplicitliveview",
        "virtualeventid",
        "searchcontext",
        "disablesessiontypecheck",
    ]
)


def new_token_id() -> str:
    """An id shaped like Kaltura's: ``0_`` + 8 characters of ``[0-9a-z]``."""
    return "0_" + "".join(secrets.choice(ID_ALPHABET) for _ in range(8))


def token_hash(hash_type: str, ks: str, token: str) -> str:
    """The ``tokenHash`` a client must send: lowercase hex of ``hash(hashType, ks + token)``."""
    return hashlib.new(hash_type.lower(), (ks + token).encode("utf-8")).hexdigest()


def token_object(row: sqlite3.Row) -> dict:
    """A ``KalturaAppToken`` (fields in the server's declaration order)."""
    return {
        "objectType": "KalturaAppToken",
        "relatedObjects": None,
        "id": row["id"],
        "token": row["token"],
        "partnerId": row["partner_id"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "status": row["status"],
        "expiry": row["expiry"],
        "sessionType": row["session_type"],
        "sessionUserId": row["session_user_id"],
        "sessionDuration": row["session_duration"],
        "sessionPrivileges": row["session_privileges"],
        "hashType": row["hash_type"] or "SHA1",
        "description": row["description"],
    }


# ---------------------------------------------------------------------------------------------
# storage
# ---------------------------------------------------------------------------------------------


def find_token(call: Call, token_id: str) -> sqlite3.Row:
    """The partner's non-deleted token, or ``APP_TOKEN_ID_NOT_FOUND``."""
    row = call.store.query_one(
        "SELECT * FROM app_tokens WHERE id = ? AND partner_id = ? AND status != ?",
        (token_id, call.require_partner(), STATUS_DELETED),
    )
    if row is None:
        raise ApiError("APP_TOKEN_ID_NOT_FOUND", ID=token_id)
    return row


def insert_token(
    store: Any, partner_id: int, values: dict, now: float, token_id: str | None = None, token: str | None = None
) -> str:
    """Store a new ACTIVE token; ``values`` holds the writable columns. Returns its id."""
    token_id = token_id or new_token_id()
    stamp = int(now)
    store.execute(
        "INSERT INTO app_tokens(id, partner_id, token, status, expiry, session_type, "
        "session_user_id, session_duration, session_privileges, hash_type, description, "
        "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            token_id,
            partner_id,
            token or os.urandom(16).hex(),
            STATUS_ACTIVE,
            values.get("expiry"),
            values.get("session_type"),
            values.get("session_user_id"),
            values.get("session_duration"),
            values.get("session_privileges"),
            values.get("hash_type") or "SHA1",
            values.get("description"),
            stamp,
            stamp,
        ),
    )
    return token_id


_COLUMNS = {
    "expiry": "expiry",
    "sessionType": "session_type",
    "sessionUserId": "session_user_id",
    "sessionDuration": "session_duration",
    "sessionPrivileges": "session_privileges",
    "hashType": "hash_type",
    "description": "description",
    "status": "status",
}


def _writable_values(call: Call, obj: dict, *, allow_status: bool) -> dict:
    """Coerce and validate the writable ``KalturaAppToken`` properties present in ``obj``."""
    values: dict[str, Any] = {}
    now = call.now()
    for name, column in _COLUMNS.items():
        if name not in obj or (name == "status" and not allow_status):
            continue
        raw = obj[name]
        if name == "expiry":
            values[column] = P.coerce_time(raw, name, now)
        elif name == "sessionType":
            values[column] = P.coerce_enum(raw, name, SESSION_TYPES, "KalturaSessionType")
        elif name == "status":
            values[column] = P.coerce_enum(raw, name, (STATUS_DISABLED, STATUS_ACTIVE), "KalturaAppTokenStatus")
        elif name == "sessionDuration":
            values[column] = P.coerce_int(raw, name)
        elif name == "hashType":
            values[column] = P.coerce_str_enum(raw, name, HASH_TYPES, "KalturaAppTokenHashType")
        else:
            values[column] = P.coerce_str(raw, name)
    user_id = values.get("session_user_id")
    if user_id is not None:
        _ensure_session_user(call, user_id)
    if values.get("session_privileges"):
        check_privileges(call.store, call.require_partner(), values["session_privileges"])
    return values


def _ensure_session_user(call: Call, user_id: str) -> None:
    """Kaltura creates the token's user if missing; an invalid id is ``INVALID_FIELD_VALUE``."""
    partner_id = call.require_partner()
    if call.store.user(partner_id, user_id) is not None:
        return
    if not PUSER_ID_RE.match(user_id):
        raise ApiError("INVALID_FIELD_VALUE", FIELD_NAME="sessionUserId")
    call.store.ensure_user(partner_id, user_id, call.now())


# ---------------------------------------------------------------------------------------------
# actions
# ---------------------------------------------------------------------------------------------


# Permissions: deployment/permissions/service.appToken.ini (add).
@action("appToken", "add", permissions=(registry.APP_TOKEN_ADD,))
def add(call: Call) -> dict:
    """Create an App Token; ``hashType`` defaults to SHA1, ``sessionDuration`` to the partner's
    KS max expiry."""
    obj = call.obj("appToken", required=True, type_name="KalturaAppToken")
    partner = call.store.partner(call.require_partner())
    assert partner is not None
    values = _writable_values(call, obj, allow_status=False)
    if values.get("session_duration") is None:
        values["session_duration"] = partner.ks_max_expiry
    token_id = insert_token(call.store, partner.id, values, call.now())
    return token_object(find_token(call, token_id))


# Permissions: deployment/permissions/service.appToken.ini (get).
@action("appToken", "get", permissions=(registry.APP_TOKEN_BASE, registry.KMC_READ_ONLY))
def get(call: Call) -> dict:
    """One App Token by id."""
    return token_object(find_token(call, call.str("id", required=True)))


# Permissions: deployment/permissions/service.appToken.ini (list).
@action("appToken", "list", permissions=(registry.APP_TOKEN_BASE, registry.KMC_READ_ONLY))
def list_tokens(call: Call) -> dict:
    """The partner's App Tokens (deleted ones hidden), newest first, paged."""
    flt = call.obj("filter", type_name="KalturaAppTokenFilter")
    size, index = P.pager_values(call.params.get("pager"))
    where, args = ["partner_id = ?", "status != ?"], [call.require_partner(), STATUS_DELETED]
    _token_filter(call, flt, where, args)
    sql_where = " AND ".join(where)
    total = call.store.scalar(f"SELECT COUNT(*) FROM app_tokens WHERE {sql_where}", args)
    order = "created_at ASC, id ASC" if flt.get("orderBy") == "+createdAt" else "created_at DESC, id DESC"
    rows = call.store.query(
        f"SELECT * FROM app_tokens WHERE {sql_where} ORDER BY {order} LIMIT ? OFFSET ?",
        (*args, size, (index - 1) * size),
    )
    return {
        "objectType": "KalturaAppTokenListResponse",
        "relatedObjects": None,
        "objects": [token_object(row) for row in rows],
        "totalCount": total,
    }


def _token_filter(call: Call, flt: dict, where: list[str], args: list) -> None:
    now = call.now()
    if flt.get("idEqual") is not None:
        where.append("id = ?")
        args.append(P.coerce_str(flt["idEqual"], "idEqual"))
    if flt.get("idIn"):
        ids = [i.strip() for i in str(flt["idIn"]).split(",") if i.strip()]
        where.append(f"id IN ({','.join('?' for _ in ids)})")
        args.extend(ids)
    if flt.get("statusEqual") is not None:
        where.append("status = ?")
        args.append(P.coerce_enum(flt["statusEqual"], "statusEqual", STATUSES, "KalturaAppTokenStatus"))
    if flt.get("sessionUserIdEqual") is not None:
        where.append("session_user_id = ?")
        args.append(P.coerce_str(flt["sessionUserIdEqual"], "sessionUserIdEqual"))
    for name, op in (("createdAtGreaterThanOrEqual", ">="), ("createdAtLessThanOrEqual", "<=")):
        if flt.get(name) is not None:
            where.append(f"created_at {op} ?")
            args.append(P.coerce_time(flt[name], name, now))


# Permissions: deployment/permissions/service.appToken.ini (update).
@action("appToken", "update", permissions=(registry.APP_TOKEN_UPDATE,))
def update(call: Call) -> dict:
    """Change the properties sent (only those); ``status`` 1/2 disables/enables the token."""
    token_id = call.str("id", required=True)
    row = find_token(call, token_id)
    obj = call.obj("appToken", required=True, type_name="KalturaAppToken")
    values = _writable_values(call, obj, allow_status=True)
    if values:
        assignments = ", ".join(f"{column} = ?" for column in values)
        call.store.execute(
            f"UPDATE app_tokens SET {assignments}, updated_at = ? WHERE id = ?",
            (*values.values(), int(call.now()), row["id"]),
        )
    return token_object(find_token(call, token_id))


# Permissions: deployment/permissions/service.appToken.ini (delete).
@action("appToken", "delete", permissions=(registry.APP_TOKEN_DELETE,))
def delete(call: Call) -> None:
    """Delete a token and invalidate every KS minted from it (``INVALID_KS "LOGOUT"``)."""
    row = find_token(call, call.str("id", required=True))
    call.store.execute(
        "UPDATE app_tokens SET status = ?, updated_at = ? WHERE id = ?",
        (STATUS_DELETED, int(call.now()), row["id"]),
    )
    kslib.revoke_session_id(call.store, row["partner_id"], row["id"])


# Permissions: deployment/permissions/service.appToken.ini (startsession).
@action("appToken", "startSession", permissions=(registry.BASE_USER_SESSION, registry.WIDGET_SESSION))
def start_session(call: Call) -> dict:
    """A KS minted from an App Token by a caller that proves it knows the token."""
    token_id = call.str("id", required=True)
    sent_hash = call.str("tokenHash", required=True)
    user_id = call.str("userId")
    requested_type = call.enum("type", SESSION_TYPES, "KalturaSessionType")
    requested_expiry = call.int("expiry")
    requested_privileges = call.str("sessionPrivileges")
    row = find_token(call, token_id)
    if row["status"] != STATUS_ACTIVE:
        raise ApiError("APP_TOKEN_NOT_ACTIVE", ID=token_id)
    if token_hash(row["hash_type"] or "SHA1", call.ks or "", row["token"]) != sent_hash:
        raise ApiError("INVALID_APP_TOKEN_HASH")
    now = int(call.now())
    lifetime = _lifetime(row, requested_expiry, now)
    ks_type = (
        row["session_type"]
        if row["session_type"] is not None
        else (requested_type if requested_type is not None else SESSION_USER)
    )
    if row["session_user_id"] is not None:
        user_id = row["session_user_id"]
    privileges = merge_privileges(row["id"], row["session_privileges"], requested_privileges)
    partner = call.store.partner(row["partner_id"])
    assert partner is not None
    valid_until = now + lifetime
    ks = kslib.generate(partner, user_id or "", ks_type, valid_until, privileges)
    session = Session(partner.id, user_id or "", ks_type, privileges, valid_until)
    return session_info(ks, session)


def _lifetime(row: sqlite3.Row, requested: int | None, now: int) -> int:
    """``min(requested or tokenExpiry, tokenExpiry)`` where tokenExpiry also respects the token's
    own ``expiry``; a token past its expiry gives ``APP_TOKEN_EXPIRED``."""
    token_expiry = row["session_duration"] or 0
    if row["expiry"] is not None:
        token_expiry = min(token_expiry, row["expiry"] - now)
        if token_expiry < 0:
            raise ApiError("APP_TOKEN_EXPIRED", ID=row["id"])
    if not requested:
        requested = token_expiry
    return min(requested, token_expiry)


def merge_privileges(token_id: str, token_privileges: str | None, requested: str | None) -> dict[str, list[str]]:
    """``sessionid`` and ``apptoken``, then the token's privileges, then the requested ones that
    are neither server-reserved nor already on the token, unless the token has them as ``*`` (the
    requested value then replaces ``*``). Anything else requested is silently dropped."""
    merged: dict[str, list[str]] = {"sessionid": [token_id], "apptoken": [token_id]}
    from_token = parse_privileges(token_privileges)
    for name, values in from_token.items():
        merged[name] = list(values)
    for name, values in parse_privileges(requested).items():
        if (from_token.get(name) == ["*"] and values) or (name not in RESERVED_PRIVILEGES and name not in from_token):
            merged[name] = list(values)
    return merged

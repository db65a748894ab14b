"""``user`` service: ``get``, ``add``, ``list`` (reference §7).

* ``user.get(userId)``: empty means the KS user; a non-ADMIN session asking for someone else gets
  ``CANNOT_RETRIEVE_ANOTHER_USER_USING_NON_ADMIN_SESSION`` (Kaltura checks the KS type, not the
  role); an unknown or deleted user is ``INVALID_USER_ID`` ("Invalid user id", no arguments).
* ``user.add(user)`` (role permission ``USER_ADD``): id checked against Kaltura's user-id pattern,
  ``DUPLICATE_USER_BY_ID``, ``DUPLICATE_USER_BY_LOGIN_ID`` for a login email already in use,
  ``USER_ROLE_NOT_FOUND``; defaults screenName = id and firstName = id.
* ``user.list(filter, pager)`` (``USER_READ``): deleted users hidden unless asked for.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .. import params as P
from ..context import Call
from ..errors import ApiError
from ..registry import action
from .app_token import PUSER_ID_RE

USER_BLOCKED, USER_ACTIVE, USER_DELETED = 0, 1, 2
USER_STATUSES = (USER_BLOCKED, USER_ACTIVE, USER_DELETED)
USER_TYPES = (0, 1, 2)

_ORDER_BY = {
    "+createdAt": "created_at ASC, puser_id ASC",
    "-createdAt": "created_at DESC, puser_id DESC",
    "+updatedAt": "updated_at ASC, puser_id ASC",
    "-updatedAt": "updated_at DESC, puser_id DESC",
    "+id": "puser_id ASC",
    "-id": "puser_id DESC",
}


def user_object(store: Any, row: sqlite3.Row) -> dict:
    """A ``KalturaUser`` (declaration order: ``KalturaBaseUser`` fields, then ``KalturaUser``)."""
    first, last = row["first_name"], row["last_name"]
    full_name = " ".join(part for part in (first, last) if part) or None
    role_ids = row["role_ids"] or None
    return {
        "objectType": "KalturaUser",
        "relatedObjects": None,
        "id": row["puser_id"],
        "partnerId": row["partner_id"],
        "screenName": row["screen_name"],
        "fullName": full_name,
        "email": row["email"],
        "description": row["description"],
        "tags": row["tags"],
        "status": row["status"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "partnerData": row["partner_data"],
        "storageSize": 0,
        "type": row["user_type"],
        "isAdmin": bool(row["is_admin"]),
        "roleIds": role_ids,
        "roleNames": _role_names(store, row["partner_id"], role_ids),
        "firstName": first,
        "lastName": last,
        "loginEnabled": bool(row["login_enabled"]),
        "externalId": row["external_id"],
    }


def _role_names(store: Any, partner_id: int, role_ids: str | None) -> str | None:
    if not role_ids:
        return None
    roles = [store.role(partner_id, ref) for ref in role_ids.split(",") if ref]
    return ",".join(role.name for role in roles if role) or None


@action("user", "get")
def get(call: Call) -> dict:
    """A user by id (empty = the KS user)."""
    session = call.session
    assert session is not None
    user_id = call.str("userId") or session.user_id
    if not session.is_admin and user_id != session.user_id:
        raise ApiError("CANNOT_RETRIEVE_ANOTHER_USER_USING_NON_ADMIN_SESSION", USER_ID=user_id)
    row = call.store.user(session.partner_id, user_id)
    if row is None or row["status"] == USER_DELETED:
        raise ApiError("INVALID_USER_ID")
    return user_object(call.store, row)


@action("user", "add", admin_only=True, permission="USER_ADD")
def add(call: Call) -> dict:
    """Create a partner user (see the module docstring for the rules and errors)."""
    partner_id = call.require_partner()
    obj = call.obj("user", required=True, type_name="KalturaUser")
    user_id = P.coerce_str(obj.get("id"), "id")
    external_id = P.coerce_str(obj.get("externalId"), "externalId")
    if user_id and external_id:
        raise ApiError("ID_AND_EXTERNAL_ID_ARE_MUTUALLY_EXCLUSIVE")
    user_id = user_id or external_id
    if user_id is None:
        raise ApiError("PROPERTY_VALIDATION_CANNOT_BE_NULL", PROP_NAME="id")
    if not PUSER_ID_RE.match(user_id):
        raise ApiError("INVALID_FIELD_VALUE", FIELD_NAME="id")
    values = _user_values(call, obj, partner_id)
    with call.store.tx():
        existing = call.store.user(partner_id, user_id)
        if existing is not None and existing["status"] != USER_DELETED:
            raise ApiError("DUPLICATE_USER_BY_ID", UID=user_id)
        if values["login_enabled"]:
            _check_login_email(call, partner_id, values["email"])
        _write_user(call, partner_id, user_id, external_id, values, replace=existing is not None)
    row = call.store.user(partner_id, user_id)
    assert row is not None
    return user_object(call.store, row)


def _user_values(call: Call, obj: dict, partner_id: int) -> dict:
    """The coerced writable properties of a ``KalturaUser`` for ``add``."""
    text = {
        name: P.coerce_str(obj.get(name), name)
        for name in (
            "screenName",
            "email",
            "description",
            "tags",
            "partnerData",
            "firstName",
            "lastName",
            "fullName",
            "roleIds",
            "password",
        )
    }
    status = P.coerce_enum(obj.get("status"), "status", USER_STATUSES, "KalturaUserStatus")
    user_type = P.coerce_enum(obj.get("type"), "type", USER_TYPES, "KalturaUserType")
    is_admin = bool(P.coerce_bool(obj.get("isAdmin"), "isAdmin"))
    if text["roleIds"]:
        for ref in text["roleIds"].split(","):
            if ref.strip() and call.store.role(partner_id, ref.strip()) is None:
                raise ApiError("USER_ROLE_NOT_FOUND")
    first, last = text["firstName"], text["lastName"]
    if first is None and last is None and text["fullName"]:
        first, _, rest = text["fullName"].partition(" ")
        last = rest or None
    # Login data (what ``loginEnabled`` reports) exists only with a password or isAdmin.
    login_enabled = bool(text["password"]) or is_admin
    if login_enabled and not text["email"]:
        raise ApiError("PROPERTY_VALIDATION_CANNOT_BE_NULL", PROP_NAME="email")
    return {
        "screen_name": text["screenName"],
        "first_name": first,
        "last_name": last,
        "email": text["email"],
        "description": text["description"],
        "tags": text["tags"],
        "partner_data": text["partnerData"],
        "role_ids": text["roleIds"],
        "status": USER_ACTIVE if status is None else status,
        "user_type": user_type or 0,
        "is_admin": int(is_admin),
        "login_enabled": int(login_enabled),
    }


def _check_login_email(call: Call, partner_id: int, email: str) -> None:
    taken = call.store.scalar(
        "SELECT 1 FROM kusers WHERE partner_id = ? AND login_enabled = 1 AND lower(email) = lower(?) AND status != ?",
        (partner_id, email, USER_DELETED),
    )
    if taken:
        raise ApiError("DUPLICATE_USER_BY_LOGIN_ID", EMAIL=email)


def _write_user(
    call: Call, partner_id: int, user_id: str, external_id: str | None, values: dict, *, replace: bool
) -> None:
    stamp = int(call.now())
    if replace:
        call.store.execute("DELETE FROM kusers WHERE partner_id = ? AND puser_id = ?", (partner_id, user_id))
    first = values["first_name"]
    if first is None and values["last_name"] is None:
        first = user_id
    call.store.execute(
        "INSERT INTO kusers(partner_id, puser_id, screen_name, first_name, last_name, email, "
        "description, tags, partner_data, status, user_type, is_admin, role_ids, login_enabled, "
        "external_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            partner_id,
            user_id,
            values["screen_name"] or user_id,
            first,
            values["last_name"],
            values["email"],
            values["description"],
            values["tags"],
            values["partner_data"],
            values["status"],
            values["user_type"],
            values["is_admin"],
            values["role_ids"],
            values["login_enabled"],
            external_id,
            stamp,
            stamp,
        ),
    )


@action("user", "list", admin_only=True, permission="USER_READ")
def list_users(call: Call) -> dict:
    """The partner's users matching the filter, paged (deleted users hidden by default)."""
    partner_id = call.require_partner()
    flt = call.obj("filter", type_name="KalturaUserFilter")
    size, index = P.pager_values(call.params.get("pager"))
    where, args = _user_filter(flt, partner_id)
    order = _ORDER_BY.get(str(flt.get("orderBy") or ""), "created_at ASC, puser_id ASC")
    sql_where = " AND ".join(where)
    total = call.store.scalar(f"SELECT COUNT(*) FROM kusers WHERE {sql_where}", args)
    rows = call.store.query(
        f"SELECT * FROM kusers WHERE {sql_where} ORDER BY {order} LIMIT ? OFFSET ?",
        (*args, size, (index - 1) * size),
    )
    return {
        "objectType": "KalturaUserListResponse",
        "relatedObjects": None,
        "objects": [user_object(call.store, row) for row in rows],
        "totalCount": total,
    }


def _split(value: Any, name: str) -> list[str]:
    return [v.strip() for v in (P.coerce_str(value, name) or "").split(",") if v.strip()]


def _user_filter(flt: dict, partner_id: int) -> tuple[list[str], list[Any]]:
    where: list[str] = ["partner_id = ?"]
    args: list[Any] = [partner_id]
    if flt.get("idEqual") is not None:
        where.append("puser_id = ?")
        args.append(P.coerce_str(flt["idEqual"], "idEqual"))
    if flt.get("idIn") is not None:
        ids = _split(flt["idIn"], "idIn")
        where.append(f"puser_id IN ({','.join('?' for _ in ids) or 'NULL'})")
        args.extend(ids)
    if flt.get("emailLike") is not None:
        where.append("email LIKE ?")
        args.append(f"%{P.coerce_str(flt['emailLike'], 'emailLike')}%")
    if flt.get("screenNameLike") is not None:
        where.append("screen_name LIKE ?")
        args.append(f"%{P.coerce_str(flt['screenNameLike'], 'screenNameLike')}%")
    if flt.get("firstNameOrLastNameStartsWith") is not None:
        prefix = P.coerce_str(flt["firstNameOrLastNameStartsWith"], "firstNameOrLastNameStartsWith")
        where.append("(first_name LIKE ? OR last_name LIKE ?)")
        args.extend([f"{prefix}%", f"{prefix}%"])
    statuses = _statuses(flt)
    where.append(f"status IN ({','.join('?' for _ in statuses) or 'NULL'})")
    args.extend(statuses)
    return where, args


def _statuses(flt: dict) -> list[int]:
    if flt.get("statusEqual") is not None:
        return [P.coerce_enum(flt["statusEqual"], "statusEqual", USER_STATUSES, "KalturaUserStatus")]
    if flt.get("statusIn") is not None:
        return [
            P.coerce_enum(v, "statusIn", USER_STATUSES, "KalturaUserStatus")
            for v in _split(flt["statusIn"], "statusIn")
        ]
    return [USER_BLOCKED, USER_ACTIVE]

"""``user`` service: ``get``, ``add``, ``update``, ``delete``, ``list`` (reference §7;
``api_v3/services/UserService.php``, ``alpha/lib/model/kuserPeer.php``).

Who may call what is decided by the role's permissions (``deployment/permissions/service.user.ini``,
checked in ``app.SandboxApp._authorize``): ``user.get`` needs ADMIN_BASE or
BASE_USER_SESSION_PERMISSION (so a plain USER session may read itself), ``user.list`` ADMIN_BASE,
``user.add`` ADMIN_USER_ADD, ``user.update`` ADMIN_USER_UPDATE, ``user.delete`` ADMIN_USER_DELETE.

* ``user.get(userId)``: empty means the KS user; a non-ADMIN session asking for someone else gets
  ``CANNOT_RETRIEVE_ANOTHER_USER_USING_NON_ADMIN_SESSION`` (Kaltura checks the KS type, not the
  role); an unknown or deleted user is ``INVALID_USER_ID`` ("Invalid user id", no arguments) -
  including the KS user itself while nothing has created it yet.
* ``user.add(user)``: id checked against Kaltura's user-id pattern (a missing id fails it too:
  ``INVALID_FIELD_VALUE`` ``id``), ``DUPLICATE_USER_BY_ID``, ``DUPLICATE_USER_BY_LOGIN_ID`` for a
  login email already in use, ``USER_ROLE_NOT_FOUND``, ``ONLY_ONE_ROLE_PER_USER_ALLOWED``;
  ``isAdmin`` without ``roleIds`` gets the partner's administrator role; defaults screenName = id
  and firstName = id.
* ``user.update(userId, user)``: only the properties sent change; insert-only ones
  (``password``, ``externalId``, ``isGuest``, ``isAccountOwner``, ``loginEnabled``) are
  ``PROPERTY_VALIDATION_NOT_UPDATABLE``; a missing user is ``INVALID_USER_ID``.
* ``user.delete(userId)``: the user becomes DELETED (2) and is returned; afterwards it is not found.
* ``user.list(filter, pager)``: deleted users hidden unless asked for.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .. import media_store as ms
from .. import params as P
from .. import registry
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


# Permissions: deployment/permissions/service.user.ini (get).
@action(
    "user",
    "get",
    permissions=(registry.ADMIN_BASE, registry.KMC_READ_ONLY, registry.BASE_USER_SESSION, registry.WIDGET_SESSION),
)
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


# Permissions: deployment/permissions/service.user.ini (add).
@action("user", "add", permissions=(registry.ADMIN_USER_ADD,))
def add(call: Call) -> dict:
    """Create a partner user (see the module docstring for the rules and errors)."""
    partner_id = call.require_partner()
    obj = call.obj("user", required=True, type_name="KalturaUser")
    user_id = P.coerce_str(obj.get("id"), "id")
    external_id = P.coerce_str(obj.get("externalId"), "externalId")
    if (user_id or "").strip() and (external_id or "").strip():
        raise ApiError("ID_AND_EXTERNAL_ID_ARE_MUTUALLY_EXCLUSIVE")
    user_id = external_id or user_id
    # UserService::addAction L42: a missing id fails the user-id pattern like a malformed one.
    if user_id is None or not PUSER_ID_RE.match(user_id):
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
    role_ids = _valid_role_ids(call, partner_id, text["roleIds"])
    if role_ids is None and is_admin:
        # kuserPeer::addUser L482-486: an admin user without a role gets the partner admin role.
        admin_role = call.store.role(partner_id, "PARTNER_ADMIN_ROLE")
        role_ids = str(admin_role.id) if admin_role is not None else None
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
        "role_ids": role_ids,
        "status": USER_ACTIVE if status is None else status,
        "user_type": user_type or 0,
        "is_admin": int(is_admin),
        "login_enabled": int(login_enabled),
    }


def _valid_role_ids(call: Call, partner_id: int, text: str | None) -> str | None:
    """``roleIds`` as stored, after ``UserRolePeer::testValidRolesForUser``'s checks."""
    refs = [ref.strip() for ref in (text or "").split(",") if ref.strip()]
    if not refs:
        return None
    if len(refs) > 1:
        raise ApiError("ONLY_ONE_ROLE_PER_USER_ALLOWED")
    role = call.store.role(partner_id, refs[0])
    if role is None:
        raise ApiError("USER_ROLE_NOT_FOUND")
    return str(role.id)


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


#: ``KalturaUser`` properties ``user.update`` may change, and their columns.
UPDATABLE_TEXT = {
    "screenName": "screen_name",
    "email": "email",
    "description": "description",
    "tags": "tags",
    "partnerData": "partner_data",
    "firstName": "first_name",
    "lastName": "last_name",
}
#: Insert-only properties: sending one to ``update`` is ``PROPERTY_VALIDATION_NOT_UPDATABLE``
#: (``KalturaObject::validateForUpdate``, which names the property ``KalturaUser::<name>``).
INSERT_ONLY = ("password", "externalId", "isGuest", "isAccountOwner", "loginEnabled")
#: Read-only properties: also ``PROPERTY_VALIDATION_NOT_UPDATABLE`` when sent.
READ_ONLY = (
    "partnerId",
    "createdAt",
    "updatedAt",
    "storageSize",
    "lastLoginTime",
    "statusUpdatedAt",
    "deletedAt",
    "roleNames",
    "encryptedSeed",
)


def existing_user(call: Call, user_id: str | None) -> sqlite3.Row:
    """A user that is not deleted, else ``INVALID_USER_ID`` (``kuserPeer::getKuserByPartnerAndUid``)."""
    row = call.store.user(call.require_partner(), user_id or "")
    if row is None or row["status"] == USER_DELETED:
        raise ApiError("INVALID_USER_ID")
    return row


# Permissions: deployment/permissions/service.user.ini (update).
@action("user", "update", permissions=(registry.ADMIN_USER_UPDATE,))
def update(call: Call) -> dict:
    """Change the properties sent in ``user`` (``UserService::updateAction``)."""
    partner_id = call.require_partner()
    row = existing_user(call, call.str("userId", required=True))
    obj = call.obj("user", required=True, type_name="KalturaUser")
    changes = _update_changes(call, row, obj)
    if changes:
        changes["updated_at"] = int(call.now())
        assignments = ", ".join(f"{column} = ?" for column in changes)
        with call.store.tx() as conn:
            conn.execute(
                f"UPDATE kusers SET {assignments} WHERE partner_id = ? AND puser_id = ?",
                (*changes.values(), partner_id, row["puser_id"]),
            )
            if {"first_name", "last_name", "screen_name"} & set(changes):
                # The entry index holds the owner's names (freeText searches them).
                ms.reindex_owner(conn, partner_id, row["puser_id"])
    updated = call.store.user(partner_id, row["puser_id"])
    assert updated is not None
    return user_object(call.store, updated)


def _update_changes(call: Call, row: sqlite3.Row, obj: dict) -> dict[str, Any]:
    """Validated column changes of a ``user.update`` (only what was sent and differs)."""
    sent = {k: v for k, v in obj.items() if k != "objectType" and v is not None}
    for name in (*INSERT_ONLY, *READ_ONLY):
        if name in sent:
            raise ApiError("PROPERTY_VALIDATION_NOT_UPDATABLE", PROP_NAME=f"KalturaUser::{name}")
    if "id" in sent and P.coerce_str(sent["id"], "id") != row["puser_id"]:
        # Renaming a user is not modelled (README "Known deviations").
        raise ApiError("PROPERTY_VALIDATION_NOT_UPDATABLE", PROP_NAME="KalturaUser::id")
    changes: dict[str, Any] = {}
    for name, column in UPDATABLE_TEXT.items():
        if name in sent:
            changes[column] = P.coerce_str(sent[name], name)
    if "status" in sent:
        changes["status"] = P.coerce_enum(sent["status"], "status", (USER_BLOCKED, USER_ACTIVE), "KalturaUserStatus")
    if "isAdmin" in sent:
        is_admin = bool(P.coerce_bool(sent["isAdmin"], "isAdmin"))
        if row["is_admin"] and not is_admin:
            raise ApiError("CANNOT_SET_ROOT_ADMIN_AS_NO_ADMIN")
        changes["is_admin"] = int(is_admin)
    if "roleIds" in sent:
        role_ids = _valid_role_ids(call, row["partner_id"], P.coerce_str(sent["roleIds"], "roleIds"))
        session = call.session
        caller = "" if session is None or session.is_anonymous else session.user_id
        if role_ids != row["role_ids"] and caller == row["puser_id"]:
            raise ApiError("CANNOT_CHANGE_OWN_ROLE")
        changes["role_ids"] = role_ids
    return {column: value for column, value in changes.items() if row[column] != value}


# Permissions: deployment/permissions/service.user.ini (delete).
@action("user", "delete", permissions=(registry.ADMIN_USER_DELETE,))
def delete(call: Call) -> dict:
    """Mark the user DELETED and return it (``UserService::deleteAction``)."""
    partner_id = call.require_partner()
    row = existing_user(call, call.str("userId", required=True))
    call.store.execute(
        "UPDATE kusers SET status = ?, updated_at = ? WHERE partner_id = ? AND puser_id = ?",
        (USER_DELETED, int(call.now()), partner_id, row["puser_id"]),
    )
    deleted = call.store.user(partner_id, row["puser_id"])
    assert deleted is not None
    return user_object(call.store, deleted)


# Permissions: deployment/permissions/service.user.ini (list).
@action(
    "user",
    "list",
    permissions=(
        registry.ADMIN_BASE,
        registry.ACCOUNT_BASE,
        registry.EP_BASE,
        registry.CAPTURE_DEVICE,
        registry.WEBCAST_PRODUCER,
    ),
)
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
        return [P.coerce_enum(flt["statusEqual"], "statusEqual", USER_STATUSES, "KalturaUserStatus") or 0]
    if flt.get("statusIn") is not None:
        return [
            P.coerce_enum(v, "statusIn", USER_STATUSES, "KalturaUserStatus") or 0
            for v in _split(flt["statusIn"], "statusIn")
        ]
    return [USER_BLOCKED, USER_ACTIVE]

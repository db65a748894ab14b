"""The demo account: partner, roles, privacy context, App Tokens, Kaltura users, then media.

Everything is deterministic (same ids, secrets and tokens on every run), so the ``credentials``
command prints the same JSON whether or not a server is running.

* Partner ``4815162`` with entitlement on, KS v2, 24 h KS max expiry, 4K flavors enabled, and
  FEATURE_END_USER_REPORTS off (using a KS does not create its user; ``POST /__control/partner
  {"end_user_reports": true}`` turns it on).
* Privacy context ``hubportal`` (carried by the media seed's categories).
* Roles with Kaltura's own permission names (``deployment/permissions/*.ini``): the partner's
  ``Publisher Administrator`` (``*``: every permission; ADMIN sessions and ``isAdmin`` users), the
  ``Basic User Session Role`` (``BASE_USER_SESSION_PERMISSION``: USER sessions without a role), the
  ``Widget Session Role`` (``WIDGET_SESSION_PERMISSION``), and ``Hub Portal Server``
  (``ADMIN_BASE``: read users, ``ADMIN_USER_ADD``: add users, ``TRANSCODING_BASE``: read
  conversion profiles and flavor params).
* Three App Tokens (SHA256, USER sessions, no ``sessionUserId``): the client token
  (``enableentitlement,privacycontext:hubportal,list:*``), the server token
  (``disableentitlement,setrole:<Hub Portal Server>``), and the server token exactly as the help
  article's recipe makes it (the client token's privileges with ``disableentitlement`` in place of
  ``enableentitlement`` and no role): a USER session that lists every entry but may neither add
  nor read other users.
* Kaltura users, among them ``pat@northwind.example`` (a demo portal participant).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from . import registry, serialize
from .services.app_token import ID_ALPHABET, insert_token, token_object
from .store import SCHEMA_VERSION, Store

DEMO_PARTNER_ID = 4815162
DEMO_PARTNER_NAME = "Northwind Media (sandbox)"
DEMO_PRIVACY_CONTEXT = "hubportal"
#: 2026-01-01T00:00:00Z: the creation time of the account objects, fixed for determinism.
DEMO_EPOCH = 1767225600
DEFAULT_ENTRIES = 300

ROLE_ADMIN_ID = 4815001
ROLE_USER_ID = 4815002
ROLE_SERVER_ID = 4815003
ROLE_WIDGET_ID = 4815004
#: What the portal's server token may do (``service.user.ini``: user.get/list need ADMIN_BASE,
#: user.add ADMIN_USER_ADD; ``service.conversionprofile.ini``/``service.flavorparams.ini``:
#: TRANSCODING_BASE).
SERVER_ROLE_PERMISSIONS = (registry.ADMIN_BASE, registry.ADMIN_USER_ADD, registry.TRANSCODING_BASE)
#: (id, name, system name, permissions): the partner's roles (``03.UserRole.ini`` gives Kaltura's
#: defaults the same system names and permissions).
DEMO_ROLES: tuple[tuple[int, str, str, str], ...] = (
    (ROLE_ADMIN_ID, "Publisher Administrator", "PARTNER_ADMIN_ROLE", registry.ALL_PERMISSIONS),
    (ROLE_USER_ID, "Basic User Session Role", "BASE_USER_SESSION_ROLE", registry.BASE_USER_SESSION),
    (ROLE_SERVER_ID, "Hub Portal Server", "HUB_PORTAL_SERVER", ",".join(SERVER_ROLE_PERMISSIONS)),
    (ROLE_WIDGET_ID, "Widget Session Role", "WIDGET_SESSION_ROLE", registry.WIDGET_SESSION),
)

CLIENT_TOKEN_PRIVILEGES = f"enableentitlement,privacycontext:{DEMO_PRIVACY_CONTEXT},list:*"
SERVER_TOKEN_PRIVILEGES = f"disableentitlement,setrole:{ROLE_SERVER_ID}"
#: The help article's server token: "Modify the sessionPrivilege part [of the client token's
#: recommended privileges] with disableentitlement" - no role, so Kaltura gives its USER sessions
#: BASE_USER_SESSION_PERMISSION only (reference §7).
ARTICLE_SERVER_TOKEN_PRIVILEGES = f"disableentitlement,privacycontext:{DEMO_PRIVACY_CONTEXT},list:*"

#: (user id, first name, last name, email, role id or None)
DEMO_USERS: tuple[tuple[str, str, str, str, int | None], ...] = (
    ("pat@northwind.example", "Pat", "Quinn", "pat@northwind.example", None),
    ("jordan.lee", "Jordan", "Lee", "jordan.lee@northwind.example", None),
    ("maria.garcia", "Maria", "Garcia", "maria.garcia@northwind.example", None),
    ("kaltura.admin", "Kaltura", "Admin", "kaltura.admin@northwind.example", ROLE_ADMIN_ID),
    ("sam.okafor", "Sam", "Okafor", "sam.okafor@northwind.example", None),
    ("priya.nair", "Priya", "Nair", "priya.nair@northwind.example", None),
    ("li.wei", "Li", "Wei", "li.wei@northwind.example", None),
    ("alex.morgan", "Alex", "Morgan", "alex.morgan@northwind.example", None),
    ("chris.taylor", "Chris", "Taylor", "chris.taylor@northwind.example", None),
)


def _derived_hex(label: str, length: int = 32) -> str:
    """A deterministic lowercase hex string (demo secrets are fixed, not random)."""
    return hashlib.sha256(f"kaltura-sandbox:{DEMO_PARTNER_ID}:{label}".encode()).hexdigest()[:length]


def _derived_id(label: str) -> str:
    """A deterministic id shaped like Kaltura's (``0_`` + 8 of ``[0-9a-z]``)."""
    digest = hashlib.sha256(f"kaltura-sandbox:{DEMO_PARTNER_ID}:{label}".encode()).digest()
    return "0_" + "".join(ID_ALPHABET[b % len(ID_ALPHABET)] for b in digest[:8])


DEMO_ADMIN_SECRET = _derived_hex("admin-secret")
DEMO_USER_SECRET = _derived_hex("user-secret")
CLIENT_TOKEN_ID = _derived_id("client-app-token")
SERVER_TOKEN_ID = _derived_id("server-app-token")
ARTICLE_SERVER_TOKEN_ID = _derived_id("article-server-app-token")
#: ``credentials`` keys and the tokens they name, with their privileges and descriptions.
DEMO_TOKENS: tuple[tuple[str, str, str, str], ...] = (
    ("clientAppToken", CLIENT_TOKEN_ID, CLIENT_TOKEN_PRIVILEGES, "Hub portal: browser sessions (picker)"),
    ("serverAppToken", SERVER_TOKEN_ID, SERVER_TOKEN_PRIVILEGES, "Hub portal: server-side calls"),
    (
        "articleServerAppToken",
        ARTICLE_SERVER_TOKEN_ID,
        ARTICLE_SERVER_TOKEN_PRIVILEGES,
        "Hub portal: server token as the help article makes it (no role)",
    ),
)


def seed_account(store: Store) -> None:
    """Create the demo partner, its roles and its App Tokens."""
    with store.tx():
        # FEATURE_END_USER_REPORTS (end_user_reports) is off, as on a partner that never asked for it.
        store.execute(
            "INSERT INTO partners(id, name, admin_secret, secret, status, entitlement_enabled, "
            "ks_version, ks_max_expiry, has_4k, default_privacy_context, end_user_reports, created_at) "
            "VALUES (?, ?, ?, ?, 1, 1, 2, 86400, 1, NULL, 0, ?)",
            (DEMO_PARTNER_ID, DEMO_PARTNER_NAME, DEMO_ADMIN_SECRET, DEMO_USER_SECRET, DEMO_EPOCH),
        )
        for role_id, name, system_name, permissions in DEMO_ROLES:
            store.execute(
                "INSERT INTO roles(id, partner_id, name, system_name, permissions, is_admin_role) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (role_id, DEMO_PARTNER_ID, name, system_name, permissions, int(role_id == ROLE_ADMIN_ID)),
            )
        for _, token_id, privileges, description in DEMO_TOKENS:
            values = {
                "session_type": 0,
                "session_duration": 86400,
                "session_privileges": privileges,
                "hash_type": "SHA256",
                "description": description,
            }
            insert_token(
                store, DEMO_PARTNER_ID, values, DEMO_EPOCH, token_id=token_id, token=_derived_hex(f"token:{token_id}")
            )
        store.set_meta("demo_privacy_context", DEMO_PRIVACY_CONTEXT)


def seed_users(store: Store) -> list[str]:
    """Create the demo Kaltura users; returns their ids."""
    with store.tx():
        for user_id, first, last, email, role_id in DEMO_USERS:
            store.execute(
                "INSERT INTO kusers(partner_id, puser_id, screen_name, first_name, last_name, "
                "email, status, is_admin, role_ids, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                (
                    DEMO_PARTNER_ID,
                    user_id,
                    f"{first} {last}",
                    first,
                    last,
                    email,
                    int(role_id == ROLE_ADMIN_ID),
                    None if role_id is None else str(role_id),
                    DEMO_EPOCH,
                    DEMO_EPOCH,
                ),
            )
    return [user[0] for user in DEMO_USERS]


def seed_demo(store: Store, entries: int, now: float) -> None:
    """The full demo: account, users, then the media engineer's categories and entries."""
    from . import media_seed

    seed_account(store)
    user_ids = seed_users(store)
    seeder = getattr(media_seed, "seed_media", None)
    if seeder is not None:
        seeder(store, DEMO_PARTNER_ID, DEMO_PRIVACY_CONTEXT, user_ids, entries, now)
    store.set_meta("seeded", "demo")


def seed(store: Store, kind: str, entries: int | None, now: float) -> None:
    """Seed ``demo`` (everything) or ``none`` (the account and its App Tokens only)."""
    store.set_meta("schema_version", SCHEMA_VERSION)
    if kind == "demo":
        seed_demo(store, DEFAULT_ENTRIES if entries is None else entries, now)
    else:
        seed_account(store)
        store.set_meta("seeded", "none")


def _as_json_object(obj: dict) -> dict:
    """An API object exactly as the JSON format renders it (nulls omitted, objectType last)."""
    return json.loads(serialize.to_json(obj))


def credentials(store: Store) -> dict[str, Any]:
    """What a portal admin pastes: partner id, admin secret, and the App Tokens as
    ``appToken.add`` returns them (JSON format): ``clientAppToken``, ``serverAppToken`` (with a
    role that may add and read users) and ``articleServerAppToken`` (the help article's recipe)."""
    partner = store.partner(DEMO_PARTNER_ID)
    if partner is None:
        raise LookupError("the demo partner does not exist in this store")
    tokens = {}
    for key, token_id, _, _ in DEMO_TOKENS:
        row = store.query_one("SELECT * FROM app_tokens WHERE id = ?", (token_id,))
        if row is None:
            raise LookupError(f"the demo App Token {key} does not exist in this store")
        tokens[key] = _as_json_object(token_object(row))
    return {"partnerId": partner.id, "adminSecret": partner.admin_secret, **tokens}

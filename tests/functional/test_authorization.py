"""Every route × every kind of user → the expected status, and refused requests change nothing.

A route this table doesn't know fails the test: new routes must be added here.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.accounts.services import create_user
from portal.hubs.services import add_member
from portal.models import Hub, Membership, Role, User
from tests.helpers import CSRF, sign_in, snapshot

ROLES = ("anonymous", "outsider", "participant", "admin", "support")
USERS = {
    "outsider": "otto@riverside.example",  # a participant of another hub
    "participant": "sam@northwind.example",
    "admin": "ada@northwind.example",
    "support": "sue@support.example",
}

# endpoint -> method -> (form data, {role: status}); anonymous users are sent to sign in (302).
# A Kaltura "service" nobody listens on: connection refused at once, no network needed.
CLOSED_PORT = "http://127.0.0.1:9"

SIGNED_IN = {"anonymous": 302, "outsider": 200, "participant": 200, "admin": 200, "support": 200}
HUB_PAGE = {"anonymous": 302, "outsider": 404, "participant": 200, "admin": 200, "support": 200}
SETTINGS_PAGE = {"anonymous": 302, "outsider": 404, "participant": 403, "admin": 200, "support": 200}
ADMIN_ACTION = {"anonymous": 302, "outsider": 404, "participant": 403, "admin": 303, "support": 403}
SUPPORT_ACTION = {"anonymous": 302, "outsider": 404, "participant": 403, "admin": 403, "support": 303}

MATRIX = {
    "main.health": {"GET": (None, dict.fromkeys(ROLES, 200))},
    "accounts.login": {
        "GET": (None, {"anonymous": 200, "outsider": 302, "participant": 302, "admin": 302, "support": 302}),
        "POST": (
            {"email": "ada@northwind.example", "password": "not-the-password"},
            {"anonymous": 422, "outsider": 302, "participant": 302, "admin": 302, "support": 302},
        ),
    },
    "accounts.logout": {"POST": ({}, {**dict.fromkeys(ROLES, 303), "anonymous": 302})},
    "accounts.account": {"GET": (None, SIGNED_IN)},
    "hubs.index": {"GET": (None, SIGNED_IN)},
    "hubs.show": {"GET": (None, HUB_PAGE)},
    "hubs.settings": {"GET": (None, SETTINGS_PAGE), "POST": ({"name": "Renamed Hub"}, ADMIN_ACTION)},
    "hubs.plan": {"POST": ({"plan": "enterprise"}, SUPPORT_ACTION)},
    "hubs.members": {
        "GET": (None, SETTINGS_PAGE),
        "POST": ({"email": "nina@northwind.example", "role": "participant"}, ADMIN_ACTION),
    },
    "hubs.member_role": {"POST": ({"role": "admin"}, ADMIN_ACTION)},
    "hubs.member_remove": {"POST": ({}, ADMIN_ACTION)},
    "integrations.kaltura": {
        "GET": (None, SETTINGS_PAGE),
        # Saving needs a live Kaltura; here it is unreachable, so the admin's save is refused (422).
        "POST": ({"service_url": CLOSED_PORT, "user_id_mode": "email"}, {**ADMIN_ACTION, "admin": 422}),
    },
    "integrations.kaltura_test": {"POST": ({}, {**SETTINGS_PAGE, "admin": 422, "support": 422})},
    "integrations.kaltura_remove": {
        "GET": (None, {**ADMIN_ACTION, "admin": 200}),
        "POST": ({}, ADMIN_ACTION),
    },
    "integrations.kaltura_rule": {"POST": ({"custom_rule": "{local}"}, SUPPORT_ACTION)},
    # The picker (issue 11). Launching needs a launch token, not a sign-in: without one, everyone is
    # refused alike. The picker's own routes accept only a Bearer header, so a signed-in cookie
    # gets 401 for every role.
    "embed.launch": {"POST": ({}, dict.fromkeys(ROLES, 403))},
    "embed.launch_help": {"GET": (None, dict.fromkeys(ROLES, 400))},
    "embed.media": {"GET": (None, dict.fromkeys(ROLES, 401))},
    "embed.preview": {"GET": (None, dict.fromkeys(ROLES, 401))},
    "embed.import_items": {"POST": ({"entry_id": "0_abcd1234"}, dict.fromkeys(ROLES, 401))},
    "embedding.settings": {"GET": (None, SETTINGS_PAGE)},
    "embedding.add_origin": {"POST": ({"origin": "https://other.example.org"}, ADMIN_ACTION)},
    "embedding.remove_origin": {"POST": ({"origin": "https://lms.example.org"}, ADMIN_ACTION)},
    # A new secret is shown in the answer itself (200), never after a redirect.
    "embedding.new_secret": {"POST": ({}, {**ADMIN_ACTION, "admin": 200})},
    "embedding.revoke_previous": {"POST": ({}, ADMIN_ACTION)},
    "embedding.set_jwks": {"POST": ({"jwks_url": ""}, ADMIN_ACTION)},
    "embedding.set_auto_add": {"POST": ({"auto_add": "y"}, ADMIN_ACTION)},
    "library.index": {"GET": (None, HUB_PAGE)},
    "library.item": {"GET": (None, HUB_PAGE)},
    # Members open the picker; support reads the library but is not a member.
    "library.launch": {"POST": ({}, {**HUB_PAGE, "support": 403})},
}
#: Refusals that still write an audit event (and nothing else): a refused launch is a security event.
AUDITED_REFUSALS = {"embed.launch"}
IGNORED = {"static"}  # files, no data


@pytest.fixture
def app_settings():  # type: ignore[no-untyped-def]
    return {"KALTURA_SANDBOX_URL": CLOSED_PORT}


def _connect_without_network(app, db, hub):  # type: ignore[no-untyped-def]
    """A saved connection, written directly (the real save path needs a live Kaltura)."""
    from portal.kaltura import parse_app_token
    from portal.models import KalturaConnection

    vault = app.extensions["kaltura_vault"]
    connection = KalturaConnection(hub_id=hub.id, service_url=CLOSED_PORT)
    for slot, privileges in (
        ("client", "list:*,enableentitlement,privacycontext:ctx"),
        ("server", "disableentitlement"),
    ):
        token, findings = parse_app_token(
            json.dumps(
                {
                    "id": f"0_{slot}0001",
                    "token": ("a" if slot == "client" else "b") * 32,
                    "partnerId": 4815162,
                    "status": 2,
                    "hashType": "SHA256",
                    "sessionPrivileges": privileges,
                    "objectType": "KalturaAppToken",
                }
            ),
            slot,
        )
        assert token is not None, findings
        setattr(connection, f"{slot}_token_sealed", vault.seal(token, hub.id, slot))
        setattr(connection, f"{slot}_token_info", token.public_summary())
    db.add(connection)
    db.commit()


@pytest.fixture
def world(app, db, demo):  # type: ignore[no-untyped-def]
    create_user(db, email=USERS["outsider"], display_name="Otto Outsider", password="demo-password")
    riverside = db.scalar(sa.select(Hub).where(Hub.slug == "riverside"))
    add_member(db, hub=riverside, email=USERS["outsider"], role=Role.PARTICIPANT, actor=None)
    northwind = db.scalar(sa.select(Hub).where(Hub.slug == "northwind"))
    sam = db.scalar(sa.select(User).where(User.email == USERS["participant"]))
    target = db.scalar(sa.select(Membership).where(Membership.hub_id == northwind.id, Membership.user_id == sam.id))
    _connect_without_network(app, db, northwind)
    from portal.embed import services as embed_services
    from portal.models import LibraryItem, LibraryMediaType

    embed_services.add_origin(db, hub=northwind, origin="https://lms.example.org", actor=None)
    item = LibraryItem(
        hub_id=northwind.id,
        entry_id="0_abcd1234",
        media_type=LibraryMediaType.IMAGE,
        name="Harbour photo",
        is_360=False,
    )
    db.add(item)
    db.commit()
    return {
        "slug": "northwind",
        "membership_id": target.id,
        "slot": "client",
        "entry_id": "0_abcd1234",
        "item_id": item.id,
    }


def _cases():
    for endpoint, methods in MATRIX.items():
        for method, (data, expected) in methods.items():
            for role in ROLES:
                yield pytest.param(endpoint, method, data, role, expected[role], id=f"{endpoint}-{method}-{role}")


def test_matrix_covers_every_route(app):  # type: ignore[no-untyped-def]
    routes = {
        (rule.endpoint, method) for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    known = {(endpoint, method) for endpoint, methods in MATRIX.items() for method in methods}
    unknown = {route for route in routes if route[0] not in IGNORED} - known
    assert not unknown, f"add these routes to the authorization matrix: {sorted(unknown)}"
    assert not known - routes, f"the matrix lists routes that no longer exist: {sorted(known - routes)}"


@pytest.mark.parametrize(("endpoint", "method", "data", "role", "expected"), list(_cases()))
def test_route_answers_each_role_as_expected(app, client, db, world, endpoint, method, data, role, expected):  # type: ignore[no-untyped-def]
    if role != "anonymous":
        sign_in(client, USERS[role])
    with app.test_request_context():
        from flask import url_for

        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        url = url_for(endpoint, **{arg: world[arg] for arg in rule.arguments})
    before = snapshot(db)
    if method == "GET":
        response = client.get(url)
    else:
        # A real token, so the check is about who may act, not about CSRF.
        token = CSRF.search(client.get("/sign-in" if role == "anonymous" else "/account").text)
        response = client.post(url, data={**data, "csrf_token": token.group(1) if token else ""})
    assert response.status_code == expected, response.text[:500]
    if endpoint in AUDITED_REFUSALS:
        after = snapshot(db)
        assert {name for name in after if after[name] != before[name]} <= {"audit_events"}
    elif expected in (302, 401, 403, 404) or (endpoint == "accounts.login" and expected == 422):
        assert snapshot(db) == before, "a refused request changed the database"

"""Every route × every kind of user × plain and HTMX requests → the expected status; refusals change nothing.

A route this table doesn't know fails the test: new routes must be added here. Refused requests
leave every table as it was, except the audit log, which gains exactly the row that says so
(``access.denied`` for a 403/404 on a hub route). Ids from another hub (memberships, invitations)
and both App Token slots are covered too.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.accounts.services import create_user
from portal.hubs.services import add_member
from portal.models import AuditEvent, Hub, Invitation, Membership, Role, User
from tests.helpers import CSRF, sign_in, snapshot

ROLES = ("anonymous", "outsider", "other_admin", "participant", "admin", "support")
USERS = {
    "outsider": "otto@riverside.example",  # a participant of another hub
    "other_admin": "rita@riverside.example",  # the admin of another hub
    "participant": "sam@northwind.example",
    "admin": "ada@northwind.example",
    "support": "sue@support.example",
}

# A Kaltura "service" nobody listens on: connection refused at once, no network needed.
CLOSED_PORT = "http://127.0.0.1:9"

# endpoint -> method -> (form data, {role: status}); anonymous users are sent to sign in (302).
SIGNED_IN = {"anonymous": 302, "outsider": 200, "other_admin": 200, "participant": 200, "admin": 200, "support": 200}
HUB_PAGE = {**SIGNED_IN, "outsider": 404, "other_admin": 404}
SETTINGS_PAGE = {**HUB_PAGE, "participant": 403}
ADMIN_ACTION = {**SETTINGS_PAGE, "admin": 303, "support": 403}
SUPPORT_ACTION = {**SETTINGS_PAGE, "admin": 403, "support": 303}
SUPPORT_PAGE = {**SIGNED_IN, "outsider": 403, "other_admin": 403, "participant": 403, "admin": 403}
# The world's invitation to Riverside is addressed to the participant: only they can answer it.
INVITEE_ACTION = {**dict.fromkeys(ROLES, 409), "anonymous": 302, "participant": 303}

MATRIX = {
    "main.health": {"GET": (None, dict.fromkeys(ROLES, 200))},
    "accounts.login": {
        "GET": (None, {**dict.fromkeys(ROLES, 302), "anonymous": 200}),
        "POST": (
            {"email": "ada@northwind.example", "password": "not-the-password"},
            {**dict.fromkeys(ROLES, 302), "anonymous": 422},
        ),
    },
    "accounts.logout": {"POST": ({}, {**dict.fromkeys(ROLES, 303), "anonymous": 302})},
    "accounts.account": {"GET": (None, SIGNED_IN)},
    "accounts.invitation_accept": {"POST": ({}, INVITEE_ACTION)},
    "accounts.invitation_decline": {"POST": ({}, INVITEE_ACTION)},
    # Account → Integrations → (hub): the hub's members only (support staff are not members of it).
    "accounts.integration": {"GET": (None, {**HUB_PAGE, "support": 404})},
    "hubs.index": {"GET": (None, SIGNED_IN)},
    "hubs.show": {"GET": (None, HUB_PAGE)},
    "hubs.settings": {"GET": (None, SETTINGS_PAGE), "POST": ({"name": "Renamed Hub"}, ADMIN_ACTION)},
    "hubs.plan": {"POST": ({"plan": "enterprise"}, SUPPORT_ACTION)},
    "hubs.members": {
        "GET": (None, SETTINGS_PAGE),
        "POST": ({"email": "newcomer@elsewhere.example", "role": "participant"}, ADMIN_ACTION),
    },
    "hubs.member_role": {"POST": ({"role": "admin"}, ADMIN_ACTION)},
    "hubs.member_remove": {"POST": ({}, ADMIN_ACTION)},
    "hubs.invitation_cancel": {"POST": ({}, ADMIN_ACTION)},
    "audit.index": {"GET": (None, SUPPORT_PAGE)},
    "audit.hub": {"GET": (None, SETTINGS_PAGE)},
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
    # Uploads (issue 12): picker routes too, Bearer only. Which member's upload an id names is
    # checked after that (tests/integration/portal/test_uploads_sandbox.py: another member gets 404).
    "embed.upload_check": {"POST": ({"file_name": "a.jpg", "file_size": "10"}, dict.fromkeys(ROLES, 401))},
    "embed.upload_prepare": {"POST": ({"file_name": "a.jpg", "file_size": "10"}, dict.fromkeys(ROLES, 401))},
    "embed.uploads": {"GET": (None, dict.fromkeys(ROLES, 401))},
    "embed.upload_session": {"POST": ({}, dict.fromkeys(ROLES, 401))},
    "embed.upload_finish": {"POST": ({}, dict.fromkeys(ROLES, 401))},
    "embed.upload_cancel": {"POST": ({}, dict.fromkeys(ROLES, 401))},
    "embedding.settings": {"GET": (None, SETTINGS_PAGE)},
    "embedding.add_origin": {"POST": ({"origin": "https://other.example.org"}, ADMIN_ACTION)},
    "embedding.remove_origin": {"POST": ({"origin": "https://lms.example.org"}, ADMIN_ACTION)},
    # A new secret is shown in the answer itself (200), never after a redirect.
    "embedding.new_secret": {"POST": ({}, {**ADMIN_ACTION, "admin": 200})},
    "embedding.revoke_previous": {"POST": ({}, ADMIN_ACTION)},
    "embedding.set_jwks": {"POST": ({"jwks_url": ""}, ADMIN_ACTION)},
    "embedding.set_auto_add": {"POST": ({"auto_add": "y"}, ADMIN_ACTION)},
    # Identities (issue 10): the mapping preview and the member table for admins and support; moving a
    # drifted member is the admin's (Kaltura is unreachable here, so the move is refused with a 502 and
    # the link stays); changing a person's email is support's.
    "identity.preview": {"GET": (None, SETTINGS_PAGE)},
    "identity.members": {"GET": (None, SETTINGS_PAGE)},
    "identity.move": {
        "GET": (None, {**ADMIN_ACTION, "admin": 200}),
        "POST": ({}, {**ADMIN_ACTION, "admin": 502}),
    },
    "identity.change_user_email": {
        "GET": (None, SUPPORT_PAGE),
        "POST": ({"email": "sam.new@northwind.example"}, {**SUPPORT_PAGE, "support": 303}),
    },
    "embedding.set_upload_limit": {"POST": ({"upload_max_mb": "2048"}, ADMIN_ACTION)},
    # Integration status (issue 10): admins and support read it; "Check now" runs the live checks on
    # the saved connection (unreachable here: the check runs and reports failing rows, 200); the
    # diagnostic bundle and the dashboard are for support staff.
    "status.hub": {"GET": (None, SETTINGS_PAGE)},
    "status.check": {"POST": ({}, {**SETTINGS_PAGE, "admin": 200, "support": 200})},
    "status.bundle": {"GET": (None, {**SETTINGS_PAGE, "admin": 403})},
    "status.support": {"GET": (None, SUPPORT_PAGE)},
    "library.index": {"GET": (None, HUB_PAGE)},
    "library.item": {"GET": (None, HUB_PAGE)},
    # Members open the picker; support reads the library but is not a member.
    "library.launch": {"POST": ({}, {**HUB_PAGE, "support": 403})},
}
IGNORED = {"static"}  # files, no data

# What an HTMX request (HX-Request: true, not boosted) gets instead, where it differs.
HTMX_ANONYMOUS = 401  # with HX-Redirect to the sign-in page, not a redirect the XHR would follow
HTMX_SUCCESS = {
    # These swap a fresh panel in place instead of redirecting.
    "hubs.members": 200,
    "hubs.member_role": 200,
    "hubs.member_remove": 200,
    "hubs.invitation_cancel": 200,
    "accounts.invitation_accept": 200,
    "accounts.invitation_decline": 200,
    # These answer HX-Location (see portal.htmx.see_other): htmx loads the next page as a navigation.
    "integrations.kaltura": 200,
    "integrations.kaltura_remove": 200,
    "integrations.kaltura_rule": 200,
    "identity.change_user_email": 200,
}


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


def _hub(db, slug):  # type: ignore[no-untyped-def]
    return db.scalar(sa.select(Hub).where(Hub.slug == slug))


def _membership(db, slug, email):  # type: ignore[no-untyped-def]
    return db.scalar(
        sa.select(Membership).join(Membership.user).join(Membership.hub).where(Hub.slug == slug, User.email == email)
    )


@pytest.fixture
def world(app, db, demo):  # type: ignore[no-untyped-def]
    create_user(db, email=USERS["outsider"], display_name="Otto Outsider", password="demo-password")
    northwind, riverside = _hub(db, "northwind"), _hub(db, "riverside")
    add_member(db, hub=riverside, email=USERS["outsider"], role=Role.PARTICIPANT, actor=None)
    ada = db.scalar(sa.select(User).where(User.email == USERS["admin"]))
    rita = db.scalar(sa.select(User).where(User.email == USERS["other_admin"]))
    own_invitation = Invitation(hub=northwind, email="nina@northwind.example", role=Role.PARTICIPANT, invited_by=ada)
    # Addressed to the participant: the one person who may accept or decline it.
    for_participant = Invitation(hub=riverside, email=USERS["participant"], role=Role.PARTICIPANT, invited_by=rita)
    foreign_invitation = Invitation(hub=riverside, email="nina@northwind.example", role=Role.ADMIN, invited_by=rita)
    db.add_all([own_invitation, for_participant, foreign_invitation])
    db.commit()
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
    # The participant's Kaltura link keeps an id the mapping no longer gives them (drift): a move is possible.
    from portal.models import IdentityState, KalturaIdentity

    sam = db.scalar(sa.select(User).where(User.email == USERS["participant"]))
    db.add(
        KalturaIdentity(
            hub_id=northwind.id,
            user_id=sam.id,
            kaltura_user_id="sam.before@northwind.example",
            state=IdentityState.EXISTED,
            email="sam.before@northwind.example",
        )
    )
    db.commit()
    return {
        "slug": "northwind",
        "membership_id": _membership(db, "northwind", USERS["participant"]).id,
        "invitation_id": own_invitation.id,
        "participant_invitation_id": for_participant.id,
        "foreign_membership_id": _membership(db, "riverside", USERS["outsider"]).id,
        "foreign_invitation_id": foreign_invitation.id,
        "slot": "client",
        "entry_id": "0_abcd1234",
        "item_id": item.id,
        "user_id": sam.id,
        "upload_id": "0" * 32,
    }


def _cases():
    for endpoint, methods in MATRIX.items():
        for method, (data, expected) in methods.items():
            for role in ROLES:
                for htmx in (False, True):
                    status = expected[role]
                    if htmx and status == 302 and role == "anonymous":
                        status = HTMX_ANONYMOUS
                    elif htmx and status == 303 and endpoint in HTMX_SUCCESS:
                        status = HTMX_SUCCESS[endpoint]
                    variant = "htmx" if htmx else "plain"
                    yield pytest.param(
                        endpoint, method, data, role, htmx, status, id=f"{endpoint}-{method}-{role}-{variant}"
                    )


def test_matrix_covers_every_route(app):  # type: ignore[no-untyped-def]
    routes = {
        (rule.endpoint, method) for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    known = {(endpoint, method) for endpoint, methods in MATRIX.items() for method in methods}
    unknown = {route for route in routes if route[0] not in IGNORED} - known
    assert not unknown, f"add these routes to the authorization matrix: {sorted(unknown)}"
    assert not known - routes, f"the matrix lists routes that no longer exist: {sorted(known - routes)}"


def _url(app, endpoint, world, **overrides):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        from flask import url_for

        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        args = {arg: overrides.get(arg, world.get(arg)) for arg in rule.arguments}
        if endpoint.startswith("accounts.invitation_"):
            args["invitation_id"] = overrides.get("invitation_id", world["participant_invitation_id"])
        if "slot" in rule.arguments and "slot" not in overrides:
            args["slot"] = "client"
        return url_for(endpoint, **args)


def _send(client, method, url, data, role, htmx):  # type: ignore[no-untyped-def]
    headers = {"HX-Request": "true", "HX-Current-URL": "http://localhost/"} if htmx else {}
    if method == "GET":
        return client.get(url, headers=headers)
    # A real token, so the check is about who may act, not about CSRF.
    token = CSRF.search(client.get("/sign-in" if role == "anonymous" else "/account").text)
    return client.post(url, data={**data, "csrf_token": token.group(1) if token else ""}, headers=headers)


def _without_audit(rows):  # type: ignore[no-untyped-def]
    return {table: content for table, content in rows.items() if table != "audit_events"}


def _new_events(db, after):  # type: ignore[no-untyped-def]
    db.expire_all()
    return list(db.scalars(sa.select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id)))


@pytest.mark.parametrize(("endpoint", "method", "data", "role", "htmx", "expected"), list(_cases()))
def test_route_answers_each_role_as_expected(app, client, db, world, endpoint, method, data, role, htmx, expected):  # type: ignore[no-untyped-def]
    if role != "anonymous":
        sign_in(client, USERS[role])
    url = _url(app, endpoint, world)
    before = snapshot(db)
    last_event = db.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0

    response = _send(client, method, url, data, role, htmx)

    assert response.status_code == expected, response.text[:500]
    if expected == 401 and not endpoint.startswith("embed."):
        # A signed-out HTMX request is sent to sign in; the picker's bearer routes have no sign-in.
        assert response.headers["HX-Redirect"].startswith("/sign-in?next=")
    events = _new_events(db, last_event)
    if expected in (302, 401, 403, 404, 409) or (endpoint == "accounts.login" and expected == 422):
        assert _without_audit(snapshot(db)) == _without_audit(before), "a refused request changed the database"
    if expected in (403, 404) and "slug" in url:
        assert [(e.action, e.actor_email, e.details["status"]) for e in events] == [
            ("access.denied", USERS[role], expected)
        ]
        assert events[0].hub_id == _hub(db, "northwind").id and events[0].request_id == response.headers["X-Request-Id"]
    elif expected in (302, 401, 409):
        assert events == []


@pytest.mark.parametrize("slot", ["client", "server"])
@pytest.mark.parametrize("role", ROLES)
def test_both_token_slots_are_guarded_alike(app, client, db, world, role, slot):  # type: ignore[no-untyped-def]
    if role != "anonymous":
        sign_in(client, USERS[role])
    url = _url(app, "integrations.kaltura_remove", world, slot=slot)
    before = _without_audit(snapshot(db))

    response = _send(client, "POST", url, {}, role, htmx=False)

    assert response.status_code == ADMIN_ACTION[role]
    connection_after = snapshot(db)["kaltura_connections"]
    if ADMIN_ACTION[role] == 303:
        assert f"Removed the {slot} token" in client.get(response.headers["Location"]).text
        assert connection_after != before["kaltura_connections"]
    else:
        assert _without_audit(snapshot(db)) == before


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(
    ("endpoint", "data"),
    [("hubs.member_role", {"role": "admin"}), ("hubs.member_remove", {})],
)
def test_another_hubs_membership_id_is_never_acted_on(app, client, db, world, endpoint, data, htmx):  # type: ignore[no-untyped-def]
    """The admin of Northwind posts a Riverside membership id under Northwind's URL."""
    sign_in(client, USERS["admin"])
    url = _url(app, endpoint, world, membership_id=world["foreign_membership_id"])
    before = snapshot(db)

    response = _send(client, "POST", url, data, "admin", htmx)

    assert response.status_code == 409
    assert "That member is no longer in this hub" in response.text
    assert snapshot(db) == before


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_another_hubs_invitation_id_is_never_cancelled(app, client, db, world, htmx):  # type: ignore[no-untyped-def]
    sign_in(client, USERS["admin"])
    url = _url(app, "hubs.invitation_cancel", world, invitation_id=world["foreign_invitation_id"])
    before = snapshot(db)

    response = _send(client, "POST", url, {}, "admin", htmx)

    assert response.status_code == 409
    assert "no longer open" in response.text
    assert snapshot(db) == before


def test_the_other_hubs_admin_cannot_reach_this_hubs_memberships_through_their_own_hub(app, client, db, world):  # type: ignore[no-untyped-def]
    """Rita (Riverside's admin) posts a Northwind membership id under Riverside's URL."""
    sign_in(client, USERS["other_admin"])
    url = _url(app, "hubs.member_remove", world, slug="riverside")
    before = snapshot(db)

    response = _send(client, "POST", url, {}, "other_admin", htmx=True)

    assert response.status_code == 409
    assert snapshot(db) == before

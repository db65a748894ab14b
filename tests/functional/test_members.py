"""The Members tab: add, change roles, remove; as HTMX fragments and as plain forms."""

from __future__ import annotations

import sqlalchemy as sa

from portal.models import AuditEvent, Hub, Membership, Role, User
from tests.helpers import csrf_token, snapshot

MEMBERS = "/hubs/northwind/settings/members"
HX = {"HX-Request": "true", "HX-Target": "members-panel"}


def _membership(db, email):  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(sa.select(Membership).join(User).join(Hub).where(User.email == email, Hub.slug == "northwind"))


def test_htmx_add_returns_the_refreshed_panel_fragment(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    response = client.post(
        MEMBERS, data={"email": "Nina@Northwind.example", "role": "participant", "csrf_token": token}, headers=HX
    )
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="members-panel"' in response.text
    assert "Added Nina Newcomer as participant." in response.text
    assert "nina@northwind.example" in response.text
    assert "HX-Request" in response.headers["Vary"]
    assert _membership(db, "nina@northwind.example").role is Role.PARTICIPANT
    event = db.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "member.add").order_by(AuditEvent.id.desc()).limit(1)
    )
    assert event.details == {"email": "nina@northwind.example", "role": "participant"} and event.request_id


def test_plain_form_add_redirects_and_flashes(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    response = client.post(MEMBERS, data={"email": "nina@northwind.example", "role": "admin", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == MEMBERS
    page = client.get(MEMBERS)
    assert "Added Nina Newcomer as hub admin." in page.text
    assert _membership(db, "nina@northwind.example").role is Role.ADMIN


def test_add_errors_name_the_problem_and_keep_the_input(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    before = snapshot(db)
    cases = {
        "not-an-email": "is not a valid email address",
        "ghost@northwind.example": "No portal account uses ghost@northwind.example",
        "pat@northwind.example": (
            "Pat Participant (pat@northwind.example) is already a member of this hub, as participant."
        ),
        "": "Enter the email address of the person to add.",
    }
    for email, message in cases.items():
        response = client.post(MEMBERS, data={"email": email, "role": "participant", "csrf_token": token}, headers=HX)
        assert response.status_code == 422, email
        assert message in response.text.replace("&#34;", '"').replace("&#39;", "'"), email
        assert f'value="{email}"' in response.text or not email
    assert snapshot(db) == before


def test_change_role_and_remove(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    sam = _membership(db, "sam@northwind.example")
    response = client.post(f"{MEMBERS}/{sam.id}/role", data={"role": "admin", "csrf_token": token}, headers=HX)
    assert response.status_code == 200 and "Sam Sample is now hub admin." in response.text
    assert _membership(db, "sam@northwind.example").role is Role.ADMIN
    response = client.post(f"{MEMBERS}/{sam.id}/remove", data={"csrf_token": token}, headers=HX)
    assert response.status_code == 200 and "Removed Sam Sample from the hub." in response.text
    assert _membership(db, "sam@northwind.example") is None
    assert db.scalar(sa.select(User.id).where(User.email == "sam@northwind.example")) is not None


def test_the_only_admin_cannot_be_demoted_or_removed(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    ada = _membership(db, "ada@northwind.example")
    before = snapshot(db)
    for path, data in ((f"{MEMBERS}/{ada.id}/role", {"role": "participant"}), (f"{MEMBERS}/{ada.id}/remove", {})):
        response = client.post(path, data={**data, "csrf_token": token}, headers=HX)
        assert response.status_code == 409
        assert "only admin" in response.text and "Make someone else an admin first." in response.text
    assert snapshot(db) == before


def test_membership_of_another_hub_cannot_be_touched(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    rita = db.scalar(sa.select(Membership).join(User).where(User.email == "rita@riverside.example"))
    before = snapshot(db)
    response = client.post(f"{MEMBERS}/{rita.id}/remove", data={"csrf_token": token}, headers=HX)
    assert response.status_code == 409 and "no longer in this hub" in response.text
    assert snapshot(db) == before


def test_support_sees_members_read_only(signed_in):  # type: ignore[no-untyped-def]
    page = signed_in("sue@support.example").get(MEMBERS)
    assert page.status_code == 200
    assert "read-only" in page.text
    assert "Add member" not in page.text and "Remove" not in page.text
    assert "ada@northwind.example" in page.text


def test_support_changes_the_plan_but_admin_cannot(app, signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, "/hubs/northwind/settings")
    assert (
        client.post("/hubs/northwind/settings/plan", data={"plan": "enterprise", "csrf_token": token}).status_code
        == 403
    )
    support = app.test_client()
    from tests.helpers import sign_in

    sign_in(support, "sue@support.example")
    token = csrf_token(support, "/hubs/northwind/settings")
    response = support.post("/hubs/northwind/settings/plan", data={"plan": "enterprise", "csrf_token": token})
    assert response.status_code == 303
    assert "now on the Enterprise plan" in support.get("/hubs/northwind/settings").text
    db.expire_all()
    assert db.scalar(sa.select(Hub.plan).where(Hub.slug == "northwind")).value == "enterprise"


def test_rename_validates_length(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, "/hubs/northwind/settings")
    response = client.post("/hubs/northwind/settings", data={"name": "x", "csrf_token": token})
    assert response.status_code == 422 and "The hub name needs 2 to 120 characters." in response.text
    response = client.post("/hubs/northwind/settings", data={"name": "  Northwind   Pictures ", "csrf_token": token})
    assert response.status_code == 303
    db.expire_all()
    assert db.scalar(sa.select(Hub.name).where(Hub.slug == "northwind")) == "Northwind Pictures"

"""The Members tab: add, change roles, remove; as HTMX fragments and as plain forms."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa

from portal.models import AuditEvent, Hub, Invitation, Membership, Role, User
from tests.helpers import csrf_token, snapshot

MEMBERS = "/hubs/northwind/settings/members"
HX = {"HX-Request": "true", "HX-Target": "members-panel"}


def _membership(db, email):  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(sa.select(Membership).join(User).join(Hub).where(User.email == email, Hub.slug == "northwind"))


def _invitation(db, email, slug="northwind"):  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(sa.select(Invitation).join(Invitation.hub).where(Invitation.email == email, Hub.slug == slug))


def test_htmx_invite_returns_the_refreshed_panel_fragment(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    response = client.post(
        MEMBERS, data={"email": "Nina@Northwind.example", "role": "participant", "csrf_token": token}, headers=HX
    )
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="members-panel"' in response.text
    assert "Invited nina@northwind.example as participant." in response.text
    assert 'id="invitation-' in response.text and "Cancel invitation" in response.text
    assert "HX-Request" in response.headers["Vary"]
    assert _membership(db, "nina@northwind.example") is None  # not a member until she accepts
    assert _invitation(db, "nina@northwind.example").role is Role.PARTICIPANT
    event = db.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "member.invite").order_by(AuditEvent.id.desc()).limit(1)
    )
    assert event.details == {"email": "nina@northwind.example", "role": "participant"}
    assert event.request_id == response.headers["X-Request-Id"]


def test_plain_form_invite_redirects_and_flashes(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    response = client.post(MEMBERS, data={"email": "nina@northwind.example", "role": "admin", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == MEMBERS
    page = client.get(MEMBERS)
    assert "Invited nina@northwind.example as hub admin." in page.text
    assert _invitation(db, "nina@northwind.example").role is Role.ADMIN


def test_an_unknown_email_gets_the_same_answer_as_an_account(signed_in, db):  # type: ignore[no-untyped-def]
    """The Members tab must not tell an admin whether an address has a portal account."""
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    answers = []
    for email in ("nina@northwind.example", "ghost@northwind.example"):
        response = client.post(MEMBERS, data={"email": email, "role": "participant", "csrf_token": token}, headers=HX)
        answers.append((response.status_code, response.text.replace(email, "EMAIL")))
    (status_a, text_a), (status_b, text_b) = answers
    assert status_a == status_b == 200
    notice = re.compile(r'<p class="flash flash-success"[^>]*>(.*?)</p>', re.S)
    assert notice.search(text_a).group(1) == notice.search(text_b).group(1)
    assert "No portal account" not in text_b


def test_another_hubs_admin_and_support_are_invited_not_added(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    for email in ("rita@riverside.example", "sue@support.example"):
        response = client.post(MEMBERS, data={"email": email, "role": "admin", "csrf_token": token}, headers=HX)
        assert response.status_code == 200
        assert _membership(db, email) is None
        assert _invitation(db, email) is not None


def test_the_invited_person_sees_accepts_and_joins(app, signed_in, db):  # type: ignore[no-untyped-def]
    admin = signed_in("ada@northwind.example")
    admin.post(
        MEMBERS, data={"email": "rita@riverside.example", "role": "admin", "csrf_token": csrf_token(admin, MEMBERS)}
    )
    rita = app.test_client()
    token = csrf_token(rita, "/sign-in")
    signed = rita.post(
        "/sign-in", data={"email": "rita@riverside.example", "password": "demo-password", "csrf_token": token}
    )
    assert "You have 1 invitation to join a hub" in rita.get(signed.headers["Location"]).text
    account = rita.get("/account")
    assert "Northwind Studios</strong> invites you to join as hub admin" in account.text
    invitation = _invitation(db, "rita@riverside.example")

    response = rita.post(
        f"/account/invitations/{invitation.id}/accept",
        data={"csrf_token": csrf_token(rita, "/account")},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200 and "You joined Northwind Studios as hub admin." in response.text
    assert _membership(db, "rita@riverside.example").role is Role.ADMIN
    assert _invitation(db, "rita@riverside.example") is None
    joined = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "member.join"))
    assert joined.actor_email == "rita@riverside.example" and joined.details["invited_by"] == "ada@northwind.example"


def test_an_invitation_made_before_the_account_exists_is_shown_once_it_does(app, signed_in, db):  # type: ignore[no-untyped-def]
    from portal.accounts.services import create_user

    admin = signed_in("ada@northwind.example")
    admin.post(
        MEMBERS,
        data={"email": "later@elsewhere.example", "role": "participant", "csrf_token": csrf_token(admin, MEMBERS)},
    )
    create_user(db, email="Later@Elsewhere.example", display_name="Lee Later", password="demo-password")
    later = app.test_client()
    from tests.helpers import sign_in

    sign_in(later, "later@elsewhere.example")
    assert "Northwind Studios</strong> invites you to join as participant" in later.get("/account").text


def test_declining_removes_the_invitation_and_joins_nothing(app, signed_in, db):  # type: ignore[no-untyped-def]
    admin = signed_in("ada@northwind.example")
    admin.post(
        MEMBERS,
        data={"email": "nina@northwind.example", "role": "participant", "csrf_token": csrf_token(admin, MEMBERS)},
    )
    nina = app.test_client()
    from tests.helpers import sign_in

    sign_in(nina, "nina@northwind.example")
    invitation = _invitation(db, "nina@northwind.example")
    response = nina.post(
        f"/account/invitations/{invitation.id}/decline", data={"csrf_token": csrf_token(nina, "/account")}
    )
    assert response.status_code == 303
    assert "You declined the invitation to Northwind Studios." in nina.get("/account").text
    assert _invitation(db, "nina@northwind.example") is None and _membership(db, "nina@northwind.example") is None


def test_nobody_else_can_answer_an_invitation(app, signed_in, db):  # type: ignore[no-untyped-def]
    admin = signed_in("ada@northwind.example")
    admin.post(
        MEMBERS, data={"email": "nina@northwind.example", "role": "admin", "csrf_token": csrf_token(admin, MEMBERS)}
    )
    invitation = _invitation(db, "nina@northwind.example")
    sam = app.test_client()
    from tests.helpers import sign_in

    sign_in(sam, "sam@northwind.example")
    before = snapshot(db)
    response = sam.post(
        f"/account/invitations/{invitation.id}/accept", data={"csrf_token": csrf_token(sam, "/account")}
    )
    assert response.status_code == 409 and "no longer open" in response.text
    assert snapshot(db) == before


def test_cancelling_an_invitation(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    client.post(MEMBERS, data={"email": "nina@northwind.example", "role": "admin", "csrf_token": token})
    invitation = _invitation(db, "nina@northwind.example")
    response = client.post(f"{MEMBERS}/invitations/{invitation.id}/cancel", data={"csrf_token": token}, headers=HX)
    assert response.status_code == 200 and "Cancelled the invitation for nina@northwind.example." in response.text
    assert _invitation(db, "nina@northwind.example") is None


def test_add_errors_name_the_problem_and_keep_the_input(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    client.post(MEMBERS, data={"email": "nina@northwind.example", "role": "participant", "csrf_token": token})
    before = snapshot(db)
    cases = {
        "not-an-email": "“not-an-email” has no @: enter the whole address, not only the name.",
        "pat@": "“pat@” has nothing after the @.",
        "@northwind.example": "has nothing before the @",
        "pat@northwind": "has no complete domain after the @",
        "pat northwind@example.com": "contains a space",
        "pat@northwind.example": (
            "Pat Participant (pat@northwind.example) is already a member of this hub, as participant."
        ),
        "nina@northwind.example": "nina@northwind.example is already invited, as participant.",
        "": "Enter the email address of the person to add.",
    }
    for email, message in cases.items():
        response = client.post(MEMBERS, data={"email": email, "role": "participant", "csrf_token": token}, headers=HX)
        assert response.status_code == 422, email
        text = html.unescape(response.text)
        assert message in text, (email, text[:2000])
        assert "There must be something" not in text  # the validation library's words never reach the page
        assert f'value="{email}"' in text or not email
        assert 'data-autofocus aria-invalid="true"' in response.text or 'aria-invalid="true"' in response.text
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
    assert "Invite" not in page.text and "Remove" not in page.text
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


def _row(text, membership_id):  # type: ignore[no-untyped-def]
    match = re.search(rf'<tr id="member-{membership_id}".*?</tr>', text, re.S)
    assert match, f"no row for membership {membership_id}"
    return match.group(0)


def test_changing_to_the_same_role_says_nothing_changed(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    sam = _membership(db, "sam@northwind.example")
    before = snapshot(db)
    response = client.post(f"{MEMBERS}/{sam.id}/role", data={"role": "participant", "csrf_token": token}, headers=HX)
    assert response.status_code == 200
    assert "Sam Sample already is participant; nothing changed." in response.text
    assert "is now" not in response.text
    assert snapshot(db) == before  # no audit row either: nothing happened


def test_a_members_error_appears_on_their_row_with_the_focus_there(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    ada = _membership(db, "ada@northwind.example")
    response = client.post(f"{MEMBERS}/{ada.id}/role", data={"role": "participant", "csrf_token": token}, headers=HX)
    assert response.status_code == 409
    row = _row(response.text, ada.id)
    assert "You cannot change the role of the hub&#39;s only admin." in row
    assert f'id="role-{ada.id}-error"' in row and f'aria-describedby="role-{ada.id}-error"' in row
    assert re.search(rf'<select name="role" id="role-{ada.id}"[^>]*data-autofocus', row)
    panel_top = response.text.split("<table", 1)[0]
    assert "only admin" not in panel_top  # not at the top of the panel


def test_an_invalid_role_is_a_row_error_too(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    sam = _membership(db, "sam@northwind.example")
    response = client.post(f"{MEMBERS}/{sam.id}/role", data={"role": "owner", "csrf_token": token}, headers=HX)
    assert response.status_code == 422
    assert "Choose a role from the list." in _row(response.text, sam.id)


def test_focus_after_each_member_action_is_named_in_the_fragment(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, MEMBERS)
    invited = client.post(
        MEMBERS, data={"email": "nina@northwind.example", "role": "participant", "csrf_token": token}, headers=HX
    )
    assert re.search(r'<input[^>]*data-autofocus[^>]*id="email"', invited.text)
    assert 'value="nina@northwind.example"' not in invited.text  # a fresh field for the next person
    assert "data-announce" in invited.text
    sam = _membership(db, "sam@northwind.example")
    changed = client.post(f"{MEMBERS}/{sam.id}/role", data={"role": "admin", "csrf_token": token}, headers=HX)
    assert re.search(rf'<select name="role" id="role-{sam.id}"[^>]*data-autofocus', changed.text)
    removed = client.post(f"{MEMBERS}/{sam.id}/remove", data={"csrf_token": token}, headers=HX)
    assert re.search(r'<h2 id="members-heading" tabindex="-1" data-autofocus', removed.text)
    assert removed.text.count("data-autofocus") == 1


def test_hub_names_that_are_only_spaces_or_invisible_are_refused(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("ada@northwind.example")
    token = csrf_token(client, "/hubs/northwind/settings")
    before = snapshot(db)
    for name, message in (
        ("      ", "Enter a name for the hub."),
        ("\u200b\u200b\u200b", "it has no visible characters"),
        ("\x00\x00", "NUL character (U+0000)"),
        ("Evil\u202ename", "text-direction control (U+202E)"),
    ):
        response = client.post("/hubs/northwind/settings", data={"name": name, "csrf_token": token})
        assert response.status_code == 422, name
        assert message in html.unescape(response.text), name
    assert snapshot(db) == before

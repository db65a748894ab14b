"""Identity drift (issue 10, item 3) and the mapping preview (item 4) against the sandbox: a link keeps
its id when the mapping would now give another; admins see and move; support changes emails; admins
and support preview a mode or rule before saving it."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from portal.identity.links import identity_drift, identity_statistics, member_identity_rows
from portal.models import AuditEvent, IdentityState, KalturaConnection, User, UserIdMode
from tests import identity_support as ids
from tests.helpers import csrf_token, sign_in

MEMBERS = "/hubs/northwind/settings/integrations/kaltura/identities"
PREVIEW = "/hubs/northwind/settings/integrations/kaltura/mapping-preview"


@pytest.fixture
def linked(app, db, demo, sandbox):
    """Northwind connected, and every member linked once (as their first use would)."""
    ids.connect(app, db, sandbox)
    client = app.test_client()
    for email in ("ada@northwind.example", "pat@northwind.example", "sam@northwind.example"):
        sign_in(client, email)
        assert client.get("/account/integrations/northwind").status_code == 200
        client = app.test_client()
    return ids.hub(db)


def _client(app, email):
    client = app.test_client()
    sign_in(client, email)
    return client


def _set_mode(db, mode: UserIdMode) -> None:
    connection = db.scalar(sa.select(KalturaConnection))
    connection.user_id_mode = mode
    db.commit()


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_a_changed_mapping_keeps_each_link_and_shows_the_drift(app, db, sandbox, linked):
    _set_mode(db, UserIdMode.EMAIL_PREFIX)
    drifts = {d.email: (d.linked_id, d.mapped_id) for d in identity_drift(db, linked)}
    assert drifts == {
        "ada@northwind.example": ("ada@northwind.example", "ada"),
        "pat@northwind.example": ("pat@northwind.example", "pat"),
        "sam@northwind.example": ("sam@northwind.example", "sam"),
    }
    assert identity_statistics(db, linked) == {"existed": 1, "created": 2, "pending": 0, "failed": 0, "drifted": 3}
    rows, total = member_identity_rows(db, linked, problem="drifted")
    assert total == 3 and all(row.drifted for row in rows)
    # The member's own page still uses the old id, and says why.
    page = _client(app, "pat@northwind.example").get("/account/integrations/northwind").text
    assert "<code>pat@northwind.example</code>" in page
    assert "would now give you the Kaltura id 'pat'" in html.unescape(page)

    admin_page = _client(app, "ada@northwind.example").get(MEMBERS).text
    assert "3 drifted" in admin_page and "Move to the new id" in admin_page
    support_page = _client(app, "sue@support.example").get(MEMBERS).text
    assert "3 drifted" in support_page and "Move to the new id" not in support_page  # support reads only
    assert "Change email" in support_page and "Change email" not in admin_page


def test_the_admin_moves_a_drifted_member_after_a_confirmation(app, db, sandbox, linked):
    _set_mode(db, UserIdMode.EMAIL_PREFIX)
    sam = ids.user(db, "sam@northwind.example")
    admin = _client(app, "ada@northwind.example")
    url = f"{MEMBERS}/{sam.id}/move"
    confirmation = _text(admin.get(url).text)
    assert "Move sam@northwind.example to a new Kaltura id?" in confirmation
    assert "media owned in Kaltura by sam@northwind.example stays owned by that Kaltura user" in confirmation
    assert "Nothing in Kaltura is moved or deleted" in confirmation
    assert ids.link(db, "northwind", "sam@northwind.example").kaltura_user_id == "sam@northwind.example"  # not yet

    moved = admin.post(url, data={"csrf_token": csrf_token(admin, url)})
    assert moved.status_code == 303
    link = ids.link(db, "northwind", "sam@northwind.example")
    assert (link.kaltura_user_id, link.state) == ("sam", IdentityState.CREATED)
    assert ids.kaltura_user(sandbox, "sam")["lastName"] == "Sample"
    assert ids.kaltura_user(sandbox, "sam@northwind.example") is not None  # the old user and its media stay
    [event] = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "identity.moved")).all()
    assert (
        event.details["old_kaltura_user_id"] == "sam@northwind.example" and event.actor_email == "ada@northwind.example"
    )
    assert admin.get(url).status_code == 404  # nothing left to move


def test_a_move_kaltura_refuses_leaves_the_link_as_it_was(app, db, sandbox, linked):
    _set_mode(db, UserIdMode.EMAIL_PREFIX)
    sam = ids.user(db, "sam@northwind.example")
    admin = _client(app, "ada@northwind.example")
    url = f"{MEMBERS}/{sam.id}/move"
    sandbox.control("fault", action="user.add", code="INTERNAL_DATABASE_ERROR", count=1)
    refused = admin.post(url, data={"csrf_token": csrf_token(admin, url)})
    assert refused.status_code == 502
    assert "was not moved" in html.unescape(refused.text) and "INTERNAL_DATABASE_ERROR" in refused.text
    assert ids.link(db, "northwind", "sam@northwind.example").kaltura_user_id == "sam@northwind.example"
    assert not db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "identity.moved")).all()


def test_support_changes_an_email_and_the_link_drifts(app, db, sandbox, linked):
    pat = ids.user(db, "pat@northwind.example")
    support = _client(app, "sue@support.example")
    url = f"/support/users/{pat.id}/email"
    changed = support.post(url, data={"csrf_token": csrf_token(support, url), "email": " Patricia@Northwind.example "})
    assert changed.status_code == 303
    db.expire_all()
    assert ids.user(db, "patricia@northwind.example") is not None
    [event] = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.email_change")).all()
    assert (event.details["old_email"], event.details["new_email"]) == (
        "pat@northwind.example",
        "patricia@northwind.example",
    )
    assert event.actor_email == "sue@support.example"
    [drift] = identity_drift(db, linked)
    assert (drift.email, drift.linked_id, drift.mapped_id) == (
        "patricia@northwind.example",
        "pat@northwind.example",
        "patricia@northwind.example",
    )
    # Pat signs in with the new address and keeps the old Kaltura id.
    page = _client(app, "patricia@northwind.example").get("/account/integrations/northwind").text
    assert "<code>pat@northwind.example</code>" in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("sam@northwind.example", "Another portal account already uses sam@northwind.example"),
        ("pat@northwind.example", "is already this account's email"),
        ("pat at northwind", "contains a space"),
        ("", "Enter the new email address."),
    ],
)
def test_support_gets_a_clear_error_and_nothing_changes(app, db, demo, typed, message):
    pat = ids.user(db, "pat@northwind.example")
    support = _client(app, "sue@support.example")
    url = f"/support/users/{pat.id}/email"
    answer = support.post(
        url, data={"csrf_token": csrf_token(support, url), "email": typed}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 422
    assert message in html.unescape(answer.text) and 'id="email-form-section"' in answer.text
    assert "<html" not in answer.text  # the form section only
    db.expire_all()
    assert ids.user(db, "pat@northwind.example") is not None
    assert not db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.email_change")).all()


def test_the_preview_shows_ids_existence_and_collisions_before_saving(app, db, sandbox, linked):
    # Two members whose prefixes collide, and one whose prefix Kaltura would refuse under a rule.
    ids.new_member(db, "northwind", "pat@elsewhere.example", "Pat Elsewhere")
    admin = _client(app, "ada@northwind.example")
    fragment = admin.get(PREVIEW, query_string={"user_id_mode": "email_prefix"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<section class="card" id="mapping-preview"')
    text = _text(fragment.text)
    assert "4 members: 1 Kaltura id shared by several members , every id is one Kaltura accepts" in text
    rows = {
        re.sub(r"<[^>]+>", "", m.group(1)).strip(): _text(m.group(0))
        for m in re.finditer(r"<tr class=\"[^\"]*\">\s*<td>([^<]+)<br>.*?</tr>", fragment.text, re.S)
    }
    assert "Shares this id with pat@northwind.example" in rows["pat@elsewhere.example"]
    assert "Will be created" in rows["pat@northwind.example"]  # Kaltura has no user "pat"
    assert "Shares this id with pat@elsewhere.example" in rows["pat@northwind.example"]
    assert "Will be created" in rows["sam@northwind.example"]
    assert "linked today to sam@northwind.example" in rows["sam@northwind.example"]
    # The saved mode is unchanged: previewing saves nothing.
    db.expire_all()
    assert db.scalar(sa.select(KalturaConnection)).user_id_mode is UserIdMode.EMAIL

    full = admin.get(PREVIEW, query_string={"user_id_mode": "email"}).text
    assert "<html" in full and "no collisions" in _text(full)
    pat_row = re.search(r"<td>pat@northwind.example<br>.*?</tr>", full, re.S)
    assert pat_row and "Exists" in pat_row.group(0)  # pat@northwind.example is a Kaltura user


def test_support_previews_a_rule_and_a_bad_rule_is_a_field_message(app, db, sandbox, linked):
    support = _client(app, "sue@support.example")
    good = support.get(PREVIEW, query_string={"user_id_mode": "custom", "custom_rule": "{local}.hub"}).text
    assert "<code>pat.hub</code>" in good and "<code>{local}.hub</code>" in good
    bad = support.get(PREVIEW, query_string={"user_id_mode": "custom", "custom_rule": "{local} hub"})
    assert bad.status_code == 422 and "which Kaltura does not accept as a user id" in html.unescape(bad.text)
    # Admins preview the saved rule only (support writes rules): a rule they type is ignored.
    admin = _client(app, "ada@northwind.example")
    ignored = admin.get(PREVIEW, query_string={"user_id_mode": "custom", "custom_rule": "{local}.hub"})
    assert ignored.status_code == 422 and "Enter the custom rule to preview" in html.unescape(ignored.text)


def test_the_preview_says_when_the_server_token_may_not_read_users(app, db, harbour, sandbox):
    ids.connect(app, db, sandbox, slug="harbour", server="articleServerAppToken")
    page = _client(app, "ada@northwind.example").get(
        "/hubs/harbour/settings/integrations/kaltura/mapping-preview", query_string={"user_id_mode": "email"}
    )
    text = _text(page.text)
    assert "The server token may not read Kaltura users (SERVICE_FORBIDDEN)" in text
    assert "not asked" in text and "Exists" not in text


def test_the_preview_pages_a_large_hub(app, db, sandbox, linked):
    for number in range(30):
        ids.new_member(db, "northwind", f"member{number:02d}@northwind.example", f"Member {number}")
    admin = _client(app, "ada@northwind.example")
    first = admin.get(PREVIEW, headers={"HX-Request": "true"}).text
    assert "Page 1 of 2" in first and first.count("<tr class=") == 25
    second = admin.get(PREVIEW, query_string={"page": 2}, headers={"HX-Request": "true"}).text
    assert "Page 2 of 2" in second and second.count("<tr class=") == 8
    assert db.scalar(sa.select(sa.func.count()).select_from(User)) >= 33

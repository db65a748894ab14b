"""Provisioning members' Kaltura users against the real sandbox over HTTP (issue 10, items 1-2):
existing, created with names, the article's token → pending → created by the first upload, the
duplicate answer, failures that leave nothing half-linked, the audit trail, and the picker's use."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.embed.picker import kaltura_user_for
from portal.identity.links import ProvisioningFailed, ensure_link, identity_statistics
from portal.models import AuditEvent, IdentityState, KalturaIdentity
from tests import identity_support as ids


@pytest.fixture
def gateway(app):
    return app.extensions["kaltura"]


@pytest.fixture
def northwind(app, db, demo, sandbox):
    ids.connect(app, db, sandbox)
    return ids.hub(db)


def _events(db, action):
    db.expire_all()
    return db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_an_existing_kaltura_user_is_used_as_it_is(db, gateway, sandbox, northwind):
    pat = ids.user(db, "pat@northwind.example")
    sandbox.control("calls/reset")
    link = ensure_link(db, gateway, northwind, pat)
    assert (link.kaltura_user_id, link.state) == ("pat@northwind.example", IdentityState.EXISTED)
    assert link.email == "pat@northwind.example" and link.verified_at is not None
    assert "user.add" not in sandbox.calls()
    assert ids.kaltura_user(sandbox, "pat@northwind.example")["firstName"] == "Pat"  # untouched
    [event] = _events(db, "identity.linked")
    assert event.details["state"] == "existed" and event.details["kaltura_user_id"] == "pat@northwind.example"
    # Linked: the next use costs no Kaltura call at all.
    sandbox.control("calls/reset")
    assert ensure_link(db, gateway, northwind, pat).id == link.id
    assert sum(sandbox.calls().values()) == 0


def test_a_missing_user_is_created_with_names_no_password_and_not_admin(db, gateway, sandbox, northwind):
    sam = ids.user(db, "sam@northwind.example")
    assert ids.kaltura_user(sandbox, "sam@northwind.example") is None
    link = ensure_link(db, gateway, northwind, sam)
    assert link.state is IdentityState.CREATED
    made = ids.kaltura_user(sandbox, "sam@northwind.example")
    assert (made["firstName"], made["lastName"], made["email"]) == ("Sam", "Sample", "sam@northwind.example")
    assert made["isAdmin"] is False and made["loginEnabled"] is False
    [event] = _events(db, "identity.linked")
    assert event.details["state"] == "created" and event.actor_email == "sam@northwind.example"


def test_a_duplicate_answer_means_the_user_exists(db, gateway, sandbox, northwind, monkeypatch):
    """Someone creates the user between our lookup and our user.add: Kaltura's duplicate answer → existed."""
    sam = ids.user(db, "sam@northwind.example")
    real_get = gateway.get_user

    def late_lookup(url, token, user_id):
        found = real_get(url, token, user_id)
        ids.kaltura_api(
            sandbox, "user", "add", ks=ids.admin_ks(sandbox), user={"objectType": "KalturaUser", "id": user_id}
        )
        return found

    monkeypatch.setattr(gateway, "get_user", late_lookup)
    link = ensure_link(db, gateway, northwind, sam)
    assert link.state is IdentityState.EXISTED
    assert ids.kaltura_user(sandbox, "sam@northwind.example")["firstName"] == "sam@northwind.example"  # theirs


def test_the_article_token_leaves_a_new_member_pending_until_the_first_upload_creates_them(
    app, db, gateway, sandbox, demo
):
    ids.connect(app, db, sandbox, server="articleServerAppToken")
    hub = ids.hub(db)
    sam, pat = ids.user(db, "sam@northwind.example"), ids.user(db, "pat@northwind.example")

    # An existing user is still found: the member's own session may read itself.
    assert ensure_link(db, gateway, hub, pat).state is IdentityState.EXISTED

    link = ensure_link(db, gateway, hub, sam)
    assert (link.state, link.error_code) == (IdentityState.PENDING, "SERVICE_FORBIDDEN")
    assert ids.kaltura_user(sandbox, "sam@northwind.example") is None  # nobody was created
    # The member can browse meanwhile: the picker gets the id.
    with app.app_context():
        assert kaltura_user_for(db, hub, sam) == "sam@northwind.example"

    ids.upload_as(sandbox, "sam@northwind.example")
    assert ids.kaltura_user(sandbox, "sam@northwind.example") is not None  # Kaltura made it

    verified = ensure_link(db, gateway, hub, sam, verify=True)
    assert (verified.state, verified.error_code) == (IdentityState.CREATED, None)
    [event] = _events(db, "identity.verified")
    assert (event.details["previous_state"], event.details["state"]) == ("pending", "created")
    assert identity_statistics(db, hub) == {"existed": 1, "created": 1, "pending": 0, "failed": 0, "drifted": 0}


def test_a_kaltura_failure_saves_a_failed_link_only_and_the_next_use_retries(db, gateway, sandbox, northwind):
    sam = ids.user(db, "sam@northwind.example")
    sandbox.control("fault", action="user.add", code="INTERNAL_DATABASE_ERROR", count=1)
    with pytest.raises(ProvisioningFailed) as failed:
        ensure_link(db, gateway, northwind, sam)
    assert "support" in failed.value.message and "INTERNAL_DATABASE_ERROR" in failed.value.message
    link = ids.link(db, "northwind", "sam@northwind.example")
    assert (link.state, link.error_code, link.verified_at) == (IdentityState.FAILED, "INTERNAL_DATABASE_ERROR", None)
    assert ids.kaltura_user(sandbox, "sam@northwind.example") is None
    [event] = _events(db, "identity.failed")
    assert event.details["kaltura_code"] == "INTERNAL_DATABASE_ERROR"
    # Retried once the short back-off is over (or when the member's page verifies).
    retried = ensure_link(db, gateway, northwind, sam, verify=True)
    assert retried.state is IdentityState.CREATED and retried.id == link.id


def test_the_picker_shows_the_member_a_problem_when_kaltura_refuses(app, db, gateway, sandbox, northwind):
    from tests import picker_support as ps

    embedding = ps.embed(app, db)
    client = app.test_client()
    sandbox.control("fault", action="user.add", code="INTERNAL_DATABASE_ERROR", count=1)
    response = ps.launch(client, ps.token(embedding, email="sam@northwind.example"))
    assert "Your Kaltura user could not be set up" in response.text
    assert "contact support" in response.text and "INTERNAL_DATABASE_ERROR" in response.text
    assert ids.link(db, "northwind", "sam@northwind.example").state is IdentityState.FAILED


def test_opening_the_picker_links_the_member_once(app, db, sandbox, northwind):
    from tests import picker_support as ps

    embedding = ps.embed(app, db)
    client = app.test_client()
    response = ps.launch(client, ps.token(embedding, email="sam@northwind.example"))
    assert response.status_code == 200
    assert ids.link(db, "northwind", "sam@northwind.example").state is IdentityState.CREATED
    assert ids.kaltura_user(sandbox, "sam@northwind.example")["lastName"] == "Sample"
    count = db.scalar(sa.select(sa.func.count()).select_from(KalturaIdentity))
    assert count == 1


def test_no_secret_in_any_identity_audit_row(db, gateway, sandbox, northwind):
    for email in ("pat@northwind.example", "sam@northwind.example"):
        ensure_link(db, gateway, northwind, ids.user(db, email))
    credentials = sandbox.credentials
    secrets = [credentials[k]["token"] for k in ("clientAppToken", "serverAppToken", "articleServerAppToken")]
    rows = json.dumps([e.details for e in _events(db, "identity.linked")])
    assert rows.count("kaltura_user_id") == 2
    assert not any(secret in rows for secret in [*secrets, credentials["adminSecret"]])


def test_an_id_kaltura_would_refuse_is_never_sent_and_the_member_is_told_why(db, gateway, sandbox, northwind):
    from portal.models import KalturaConnection, UserIdMode

    connection = db.scalar(sa.select(KalturaConnection))
    connection.user_id_mode, connection.custom_rule = UserIdMode.CUSTOM, "{local} hub"  # saved before checks existed
    db.commit()
    sandbox.control("calls/reset")
    with pytest.raises(ProvisioningFailed) as failed:
        ensure_link(db, gateway, northwind, ids.user(db, "sam@northwind.example"))
    assert "user-id mapping" in failed.value.message and failed.value.code == "INVALID_USER_ID_FORMAT"
    assert "user.add" not in sandbox.calls() and "user.list" not in sandbox.calls()
    link = ids.link(db, "northwind", "sam@northwind.example")
    assert (link.state, link.kaltura_user_id) == (IdentityState.FAILED, "sam hub")

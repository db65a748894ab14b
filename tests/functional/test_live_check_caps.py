"""Issue 8, item 2: live Kaltura checks running at once are capped per user and per hub."""

from __future__ import annotations

import sqlalchemy as sa

from portal.concurrency import live_check_slots
from portal.models import AuditEvent, Hub, User
from tests.helpers import csrf_token, sign_in

TEST = "/hubs/northwind/settings/integrations/kaltura/test"


def _ids(db):  # type: ignore[no-untyped-def]
    hub = db.scalar(sa.select(Hub.id).where(Hub.slug == "northwind"))
    users = dict(db.execute(sa.select(User.email, User.id)).all())
    return hub, users


def _test(client):  # type: ignore[no-untyped-def]
    return client.post(TEST, data={"csrf_token": csrf_token(client, "/account")}, headers={"HX-Request": "true"})


def test_a_second_test_by_the_same_user_waits_for_the_first(app, client, db, demo):  # type: ignore[no-untyped-def]
    hub, users = _ids(db)
    sign_in(client, "ada@northwind.example")
    with app.app_context(), live_check_slots(hub, users["ada@northwind.example"]):
        response = _test(client)
    assert response.status_code == 429
    assert "Your previous connection test is still running" in response.text
    # In place: the form section comes back with what was typed, not an error page.
    assert 'id="kaltura-form-section"' in response.text and 'id="error-body"' not in response.text
    assert int(response.headers["Retry-After"]) > 0
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "security.rate_limited"))
    assert event.details["scope"] == "live-check-user" and event.hub_id == hub
    assert _test(client).status_code != 429  # the slot is free again once the first test ends


def test_the_hub_allows_two_tests_at_once_from_different_people(app, client, db, demo):  # type: ignore[no-untyped-def]
    hub, users = _ids(db)
    sign_in(client, "sue@support.example")
    with app.app_context(), live_check_slots(hub, users["ada@northwind.example"]):
        assert _test(client).status_code != 429  # one running: support may still test
        with live_check_slots(hub, users["pat@northwind.example"]):
            busy = _test(client)
    assert busy.status_code == 429 and "Another connection test of this hub is running" in busy.text


def test_a_refused_test_holds_no_slot(app, client, db, demo):  # type: ignore[no-untyped-def]
    hub, users = _ids(db)
    sign_in(client, "ada@northwind.example")
    with app.app_context():
        with live_check_slots(hub, users["ada@northwind.example"]):
            assert _test(client).status_code == 429
        from portal.extensions import limiter

        assert limiter.storage.get(f"portal-live-checks:hub:{hub}") == 0
        assert limiter.storage.get(f"portal-live-checks:user:{users['ada@northwind.example']}") == 0

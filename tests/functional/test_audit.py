"""Issue 8, item 4: the audit trail - every kind of event, who may read it, the page and the command.

Denials and CSRF refusals are checked on every route by the authorization matrix and
tests/functional/test_csrf.py; sign-ins and sign-outs by tests/functional/test_accounts.py.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.models import AuditEvent, Hub
from tests.functional.test_authorization import _connect_without_network
from tests.helpers import csrf_token, sign_in

KALTURA = "/hubs/northwind/settings/integrations/kaltura"


def _events(db, action=None):  # type: ignore[no-untyped-def]
    db.expire_all()
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.scalars(query))


def _hub_id(db, slug):  # type: ignore[no-untyped-def]
    return db.scalar(sa.select(Hub.id).where(Hub.slug == slug))


# --- events --------------------------------------------------------------------------------------


def test_a_rate_limit_refusal_is_audited_with_the_attempted_email(database_url, tmp_path, demo, db):  # type: ignore[no-untyped-def]
    app = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": database_url,
            "LOGIN_LIMIT_PER_ACCOUNT": "1 per 5 minutes",
        }
    )
    client = app.test_client()
    address = {"REMOTE_ADDR": "198.51.100.40"}
    for _ in range(2):
        token = csrf_token(client, "/sign-in")
        response = client.post(
            "/sign-in",
            data={"email": "Ada@Northwind.example", "password": "wrong-password", "csrf_token": token},
            environ_base=address,
        )
    assert response.status_code == 429
    (event,) = _events(db, "security.rate_limited")
    assert event.actor_email == "ada@northwind.example" and event.actor_id is None
    assert event.client_address == "198.51.100.40" and event.request_id == response.headers["X-Request-Id"]
    assert event.details["scope"] == "sign-in-account" and event.details["route"] == "accounts.login"
    assert "wrong-password" not in json.dumps(event.details)
    app.extensions["db"].kw["bind"].dispose()


@pytest.fixture
def custom_hosts():  # type: ignore[no-untyped-def]
    return {"KALTURA_CUSTOM_HOSTS": True}


@pytest.fixture
def app_settings(custom_hosts):  # type: ignore[no-untyped-def]
    return custom_hosts


def _save(client, url):  # type: ignore[no-untyped-def]
    token = csrf_token(client, KALTURA)
    return client.post(
        KALTURA,
        data={"service_url": "custom", "custom_service_url": url, "user_id_mode": "email", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "198.51.100.50"},
    )


def test_a_service_url_refused_by_the_policy_is_audited_with_host_and_reason(app, client, db, demo):  # type: ignore[no-untyped-def]
    sign_in(client, "ada@northwind.example")

    response = _save(client, "https://metadata.internal:8443")

    assert response.status_code == 422
    (event,) = _events(db, "security.outbound_blocked")
    assert event.details["stage"] == "policy" and event.details["host"] == "metadata.internal"
    assert event.details["reason"] == "host_not_allowed"
    assert event.hub_id == _hub_id(db, "northwind") and event.actor_email == "ada@northwind.example"
    assert event.client_address == "198.51.100.50" and event.request_id == response.headers["X-Request-Id"]


def test_a_host_that_resolves_to_a_private_address_is_audited_after_dns(app, client, db, demo):  # type: ignore[no-untyped-def]
    """A custom host passes the URL policy, then resolves to loopback: blocked before connecting."""
    northwind = db.get(Hub, _hub_id(db, "northwind"))
    _connect_without_network(app, db, northwind)  # saved tokens, so the save goes on to test the connection
    sign_in(client, "ada@northwind.example")

    response = _save(client, "https://localhost")

    assert response.status_code == 422
    blocked = [e for e in _events(db, "security.outbound_blocked") if e.details["stage"] == "address"]
    assert blocked, [e.details for e in _events(db)]
    event = blocked[0]
    assert event.details["host"] == "localhost" and event.details["reason"] == "private_address"
    assert event.details["address"] in ("127.0.0.1", "::1")
    assert event.hub_id == _hub_id(db, "northwind") and event.actor_email == "ada@northwind.example"
    assert event.request_id == response.headers["X-Request-Id"]


def test_changes_carry_the_request_id_and_address_without_the_view_passing_them(client, db, demo):  # type: ignore[no-untyped-def]
    sign_in(client, "ada@northwind.example")
    token = csrf_token(client, "/hubs/northwind/settings")
    response = client.post(
        "/hubs/northwind/settings",
        data={"name": "Northwind Pictures", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "198.51.100.60"},
    )
    (event,) = _events(db, "hub.rename")
    assert event.request_id == response.headers["X-Request-Id"] and event.client_address == "198.51.100.60"
    assert event.details == {"old": "Northwind Studios", "new": "Northwind Pictures"}


def test_cli_actions_name_the_operator(app, db, demo):  # type: ignore[no-untyped-def]
    from portal.cli.common import operating_system_user

    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-hub", "film-club", "Film Club", "--actor", "Sue@Support.example"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["set-plan", "film-club", "pro"])
    assert result.exit_code == 0, result.output

    created, planned = _events(db, "hub.create")[-1], _events(db, "hub.plan")[-1]
    assert created.source == planned.source == "cli"
    assert created.operator == planned.operator == operating_system_user()
    assert created.actor_email == "sue@support.example" and created.actor_id is not None  # an account uses it
    assert planned.actor_email is None and planned.actor_id is None  # no --actor: the OS user alone
    assert created.request_id.startswith("cli-") and created.client_address is None


def test_an_actor_without_an_account_is_still_named(app, db, demo):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(
        args=["set-plan", "riverside", "pro"], env={"PORTAL_ACTOR": "ops@example.org"}
    )
    assert result.exit_code == 0, result.output
    event = _events(db, "hub.plan")[-1]
    assert event.actor_email == "ops@example.org" and event.actor_id is None


def test_a_detail_named_like_a_secret_is_refused(db):  # type: ignore[no-untyped-def]
    from portal import audit

    with pytest.raises(ValueError, match="would record a secret"):
        audit.record(db, action="kaltura.save", actor=None, token="0_abc:secret")
    db.rollback()


# --- reading the log ------------------------------------------------------------------------------


@pytest.fixture
def history(app, db, demo):  # type: ignore[no-untyped-def]
    """Events in both hubs and outside any hub, on two days."""
    from portal import audit

    northwind, riverside = _hub_id(db, "northwind"), _hub_id(db, "riverside")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    rows = [
        AuditEvent(
            action="auth.sign_in_failed", actor_email="mallory@evil.example", details={"reason": "unknown_account"}
        ),
        AuditEvent(action="hub.rename", actor_email="ada@northwind.example", hub_id=northwind, created_at=yesterday),
        AuditEvent(action="member.invite", actor_email="ada@northwind.example", hub_id=northwind),
        AuditEvent(
            action="hub.rename", actor_email="rita@riverside.example", hub_id=riverside, details={"new": "RIVER"}
        ),
    ]
    db.add_all(rows)
    db.commit()
    assert audit  # rows are written as the portal would; the service only reads
    return rows


def _listed(text):  # type: ignore[no-untyped-def]
    return re.findall(r'<span class="muted">([a-z_]+\.[a-z_]+)</span>', text)


def test_support_reads_every_event_and_filters(client, history):  # type: ignore[no-untyped-def]
    sign_in(client, "sue@support.example")
    everything = client.get("/audit")
    assert everything.status_code == 200
    assert "mallory@evil.example" in everything.text and "RIVER" in everything.text
    assert "Riverside Club" in everything.text and "No hub" in everything.text

    by_actor = client.get("/audit?actor=ADA@north")
    assert set(_listed(by_actor.text)) == {"hub.rename", "member.invite"}
    assert "rita@riverside.example" not in by_actor.text

    today = datetime.now(UTC).date().isoformat()
    by_day = client.get(f"/audit?actor=ada&since={today}&until={today}")
    assert _listed(by_day.text) == ["member.invite"]

    by_action = client.get("/audit?action=auth.sign_in_failed")
    assert "mallory@evil.example" in by_action.text and "ada@northwind.example" not in by_action.text


def test_support_filters_by_hub(client, db, history):  # type: ignore[no-untyped-def]
    sign_in(client, "sue@support.example")
    riverside = client.get(f"/audit?hub={_hub_id(db, 'riverside')}")
    assert "rita@riverside.example" in riverside.text and "ada@northwind.example" not in riverside.text


def test_an_admin_reads_only_their_hubs_events(client, history):  # type: ignore[no-untyped-def]
    sign_in(client, "ada@northwind.example")
    page = client.get("/hubs/northwind/settings/audit")
    assert page.status_code == 200
    assert set(_listed(page.text)) >= {"hub.rename", "member.invite"}
    assert "rita@riverside.example" not in page.text and "mallory@evil.example" not in page.text
    assert client.get("/hubs/riverside/settings/audit").status_code == 404
    assert client.get("/audit").status_code == 403


def test_a_bad_filter_is_a_field_error_and_the_rest_still_applies(client, history):  # type: ignore[no-untyped-def]
    sign_in(client, "sue@support.example")
    response = client.get("/audit?since=yesterday&action=auth.sign_in_failed")
    assert response.status_code == 422
    assert "Enter a date like 2026-05-31." in response.text
    assert "mallory@evil.example" in response.text and "rita@riverside.example" not in response.text


def test_the_log_is_paged_newest_first(client, db, demo):  # type: ignore[no-untyped-def]
    db.add_all(AuditEvent(action="hub.rename", actor_email=f"n{i}@x.example", details={"n": i}) for i in range(120))
    db.commit()
    sign_in(client, "sue@support.example")
    first = client.get("/audit?actor=x.example")
    assert "Showing 1–50 of 120" in first.text and "Page 1 of 3" in first.text
    assert first.text.index("n119@x.example") < first.text.index("n70@x.example")
    assert "n69@x.example" not in first.text
    third = client.get("/audit?actor=x.example&page=3")
    assert "Showing 101–120 of 120" in third.text and "n0@x.example" in third.text
    assert 'rel="prev"' in third.text and "actor=x.example" in third.text.split('rel="prev"')[0].rsplit("href=", 1)[1]


def test_the_htmx_filter_returns_only_the_log_block(client, history):  # type: ignore[no-untyped-def]
    sign_in(client, "sue@support.example")
    response = client.get("/audit?actor=rita", headers={"HX-Request": "true"})
    assert "<html" not in response.text and 'id="audit-log"' in response.text


def test_portal_audit_list(app, db, history):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "list", "--hub", "northwind", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert listed["total"] >= 2 and {e["hub"] for e in listed["events"]} == {"northwind"}
    assert listed["events"][0]["action"] == "member.invite"  # newest first

    text = runner.invoke(args=["audit", "list", "--action", "auth.sign_in_failed"])
    assert "mallory@evil.example" in text.output and "Page 1 of 1 (1 event)" in text.output
    assert runner.invoke(args=["audit", "list", "--hub", "nowhere"]).exit_code != 0


def test_anonymous_refusals_cannot_fill_the_audit_table(database_url, tmp_path, demo, db):  # type: ignore[no-untyped-def]
    app = create_app(
        {"ENV": "testing", "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": database_url, "AUDIT_ANONYMOUS_BUDGET": 3}
    )
    client = app.test_client()
    for _ in range(6):
        assert (
            client.post(
                "/sign-in", data={"email": "x@example.com"}, environ_base={"REMOTE_ADDR": "203.0.113.9"}
            ).status_code
            == 400
        )
    assert len(_events(db, "security.csrf_failed")) == 3
    # Another address, and anyone signed in, are still recorded.
    client.post("/sign-in", data={}, environ_base={"REMOTE_ADDR": "203.0.113.10"})
    assert len(_events(db, "security.csrf_failed")) == 4
    app.extensions["db"].kw["bind"].dispose()

"""The Kaltura status page, its "Check now", the diagnostic bundle and the support dashboard, per role.

Figures are arranged in the database as the gateway's recorder writes them (the recording itself
is tested against the sandbox in tests/integration/portal/test_call_recording.py); the pages must
show them without calling Kaltura.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.hubs.services import create_hub
from portal.kaltura.calls import CallScope
from portal.models import Hub, IdentityState, KalturaConnection, KalturaIdentity, Plan, User
from portal.status.recording import record_call, record_token
from tests.functional.test_authorization import CLOSED_PORT, _connect_without_network
from tests.helpers import csrf_token, sign_in

ADMIN, SUPPORT, PARTICIPANT = "ada@northwind.example", "sue@support.example", "sam@northwind.example"


@pytest.fixture
def app_settings():  # type: ignore[no-untyped-def]
    return {"KALTURA_SANDBOX_URL": CLOSED_PORT}


def _hub(db, slug):  # type: ignore[no-untyped-def]
    return db.scalar(sa.select(Hub).where(Hub.slug == slug))


def _record(app, hub_id, calls, *, slot="client", token_id="0_client0001", at=None, tokens=True):  # type: ignore[no-untyped-def]
    """Write calls as the recorder does: ``calls`` is a list of (call, outcome, code, ms)."""
    at = at or datetime.now(UTC)
    with app.extensions["db"].kw["bind"].begin() as connection:
        for call, outcome, code, ms in calls:
            record_call(connection, hub_id, at, slot, call, outcome, code, ms)
        if not tokens:
            return
        scope = CallScope(hub_id, slot, token_id)
        record_token(
            connection,
            scope,
            last_success_at=at - timedelta(minutes=5),
            session_started_at=at,
            session_expires_at=at + timedelta(hours=2),
        )
        record_token(
            connection, scope, last_failure_at=at, last_failure_call="media.list", last_failure_code="SERVICE_FORBIDDEN"
        )


@pytest.fixture
def northwind(app, db, demo):  # type: ignore[no-untyped-def]
    hub = _hub(db, "northwind")
    _connect_without_network(app, db, hub)
    connection = db.scalar(sa.select(KalturaConnection).where(KalturaConnection.hub_id == hub.id))
    connection.last_check = [
        {
            "key": "service",
            "status": "pass",
            "title": "Kaltura answers at the service URL",
            "detail": "A Kaltura API answered.",
            "code": None,
            "what_to_do": None,
        },
        {
            "key": "four_k",
            "status": "warn",
            "title": "The account produces 4K flavors",
            "detail": "4K support could not be verified: SERVICE_FORBIDDEN.",
            "code": "SERVICE_FORBIDDEN",
            "what_to_do": "ask",
        },
    ]
    connection.last_checked_at = datetime.now(UTC) - timedelta(hours=1)
    db.commit()
    calls = [("media.list", "ok", "", 120)] * 8 + [("media.list", "kaltura_error", "SERVICE_FORBIDDEN", 40)] * 2
    calls += [("appToken.startSession", "ok", "", 30)] * 3 + [("media.list", "transport", "timeout", 3000)]
    _record(app, hub.id, calls)
    # Six days ago: in the 7-day figures, not the 24-hour ones.
    _record(app, hub.id, [("media.list", "ok", "", 90)] * 5, at=datetime.now(UTC) - timedelta(days=6), tokens=False)
    return hub


def test_the_admin_sees_token_health_calls_latency_sessions_and_the_4k_result(client, northwind):  # type: ignore[no-untyped-def]
    sign_in(client, ADMIN)
    page = client.get("/hubs/northwind/settings/integrations/kaltura/status")
    assert page.status_code == 200
    text = page.text
    assert "Last 24 hours: 14 calls" in text and "Last 7 days: 19 calls" in text
    day = text.split('id="calls-24h"')[1].split("</table>")[0]
    assert re.search(r"Kaltura error</td>\s*<td><code>SERVICE_FORBIDDEN</code></td>\s*<td>2</td>", day)
    assert re.search(r"Transport failure</td>\s*<td><code>timeout</code></td>\s*<td>1</td>", day)
    assert re.search(r"Succeeded</td>\s*<td><span class=\"muted\">—</span></td>\s*<td>11</td>", day)
    assert "Latency p50</dt><dd>" in text and "Sessions minted</dt><dd>3 with the client token" in text
    token_row = text.split('id="token-client"')[1].split("</tr>")[0]
    assert "0_client0001" in token_row and "SERVICE_FORBIDDEN" in token_row and "in media.list" in token_row
    assert "expires in 1 hour" in token_row or "expires in 2 hours" in token_row
    assert "4K support could not be verified" in text.split('id="four-k"')[1]
    assert 'id="check-now"' in text
    assert "diagnostic bundle" not in text  # support downloads it
    assert 'data-identity="pending">0</dd>' in text  # nobody linked yet: the section counts zero
    assert "older than a few minutes" in text  # the last check is an hour old


def test_support_reads_the_same_page_with_the_bundle_link_and_participants_are_refused(client, northwind):  # type: ignore[no-untyped-def]
    sign_in(client, SUPPORT)
    text = client.get("/hubs/northwind/settings/integrations/kaltura/status").text
    assert "Last 24 hours: 14 calls" in text and "read-only" in text
    assert "/hubs/northwind/settings/integrations/kaltura/status/bundle.json" in text
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(client, PARTICIPANT)
    refused = client.get("/hubs/northwind/settings/integrations/kaltura/status")
    assert refused.status_code == 403 and "14 calls" not in refused.text


def test_the_hubs_audit_log_is_on_the_status_page_filterable_and_paged(client, db, northwind):  # type: ignore[no-untyped-def]
    from portal import audit

    for n in range(55):
        audit.record(db, action="hub.rename", actor=None, hub=northwind, name=f"Name {n}")
    audit.record(db, action="kaltura.save", actor=None, hub=northwind)
    db.commit()
    sign_in(client, ADMIN)
    url = "/hubs/northwind/settings/integrations/kaltura/status"
    first = client.get(url).text
    assert "Page 1 of 2" in first
    filtered = client.get(url, query_string={"action": "kaltura.save"}, headers={"HX-Request": "true"})
    assert filtered.status_code == 200
    assert filtered.text.lstrip().startswith('<section class="card audit-log"')  # only the log is swapped
    assert "Kaltura connection saved" in filtered.text and "Name 3" not in filtered.text
    bad = client.get(url, query_string={"since": "yesterday"})
    assert bad.status_code == 422


def test_the_identity_section_counts_the_hubs_links_and_shows_drift(client, db, northwind):  # type: ignore[no-untyped-def]
    # Pat existed in Kaltura, Sam is pending, Ada was linked under an older address (drifted): the
    # section counts them from the links and the member table names the drift.
    members = {u.email: u for u in db.scalars(sa.select(User).where(User.email.like("%@northwind.example")))}
    links = {
        "pat@northwind.example": ("pat@northwind.example", IdentityState.EXISTED),
        "sam@northwind.example": ("sam@northwind.example", IdentityState.PENDING),
        "ada@northwind.example": ("ada.old@northwind.example", IdentityState.CREATED),
    }
    for email, (kaltura_id, state) in links.items():
        db.add(
            KalturaIdentity(hub=northwind, user=members[email], kaltura_user_id=kaltura_id, state=state, email=email)
        )
    db.commit()
    sign_in(client, ADMIN)

    page = client.get("/hubs/northwind/settings/integrations/kaltura/status").text
    section = page.split('id="identity-statistics"')[1].split("</section>")[0]

    expected = {"existed": 1, "created": 1, "pending": 1, "failed": 0, "drifted": 1}
    for key, value in expected.items():
        assert f'data-identity="{key}">{value}</dd>' in section
    ada_row = section.split("<code>ada.old@northwind.example</code>")[1].split("</tr>")[0]
    assert "the mapping now gives <code>ada@northwind.example</code>" in ada_row
    assert (
        "Pending: Kaltura creates the user on their first upload"
        in section.split("<code>sam@northwind.example</code>")[1]
    )
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(client, SUPPORT)
    bundle = json.loads(client.get("/hubs/northwind/settings/integrations/kaltura/status/bundle.json").text)
    assert bundle["identity"] == expected


def test_check_now_runs_the_live_checks_and_swaps_fresh_figures(client, db, northwind):  # type: ignore[no-untyped-def]
    sign_in(client, ADMIN)
    url = "/hubs/northwind/settings/integrations/kaltura/status"
    token = csrf_token(client, url)
    answer = client.post(url + "/check", data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div id="status-figures">')
    # The saved service is unreachable here, so the fresh check fails and says so.
    assert "Checked just now" in answer.text and "Could not connect to Kaltura" in answer.text
    assert "Failing" in answer.text
    db.expire_all()
    connection = db.scalar(sa.select(KalturaConnection).where(KalturaConnection.hub_id == northwind.id))
    assert datetime.now(UTC) - connection.last_checked_at < timedelta(minutes=1)


def test_check_now_is_rate_limited_like_the_live_checks(app, client, northwind):  # type: ignore[no-untyped-def]
    app.config["KALTURA_TEST_LIMIT"] = "1 per minute"
    sign_in(client, SUPPORT)
    url = "/hubs/northwind/settings/integrations/kaltura/status"
    token = csrf_token(client, url)
    assert client.post(url + "/check", data={"csrf_token": token}).status_code == 200
    refused = client.post(url + "/check", data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Wait" in refused.text and "then check again" in refused.text


def test_the_bundle_is_a_json_attachment_with_every_section(client, northwind):  # type: ignore[no-untyped-def]
    sign_in(client, SUPPORT)
    response = client.get("/hubs/northwind/settings/integrations/kaltura/status/bundle.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert re.fullmatch(
        r'attachment; filename="kaltura-diagnostics-northwind-\d{8}T\d{4}Z\.json"',
        response.headers["Content-Disposition"],
    )
    data = json.loads(response.text)
    assert data["hub"] == {"slug": "northwind", "name": "Northwind Studios", "plan": "pro"}
    assert data["connection"]["serviceUrl"] == CLOSED_PORT and "failing" in data["connection"]["problems"]
    assert [t["id"] for t in data["tokens"]] == ["0_client0001", "0_server0001"]
    assert data["tokens"][0]["lastFailureCode"] == "SERVICE_FORBIDDEN"
    assert data["calls"]["last24h"]["total"] == 14 and data["calls"]["last7d"]["total"] == 19
    assert data["calls"]["last24h"]["sessionsMinted"] == {"client": 3}
    assert [row["key"] for row in data["lastCheck"]] == ["service", "four_k"]
    assert {(e["call"], e["code"]) for e in data["recentErrors"]} == {
        ("media.list", "SERVICE_FORBIDDEN"),
        ("media.list", "timeout"),
    }
    assert data["identity"] == {"existed": 0, "created": 0, "pending": 0, "failed": 0, "drifted": 0}


def _dashboard_world(app, db):  # type: ignore[no-untyped-def]
    """Five more hubs, one in each state."""
    for slug, name, plan in (
        ("alpha", "Alpha Academy", Plan.ENTERPRISE),
        ("bravo", "Bravo Books", Plan.PRO),
        ("charlie", "Charlie Choir", Plan.PRO),
    ):
        create_hub(db, name=name, slug=slug, plan=plan)
    for slug in ("alpha", "bravo", "charlie"):
        _connect_without_network(app, db, _hub(db, slug))
    now = datetime.now(UTC)
    alpha = db.scalar(sa.select(KalturaConnection).join(Hub).where(Hub.slug == "alpha"))
    alpha.last_check = [{"key": "service", "status": "pass", "title": "t", "detail": "d"}]
    alpha.last_checked_at = now  # healthy
    bravo = db.scalar(sa.select(KalturaConnection).join(Hub).where(Hub.slug == "bravo"))
    bravo.last_check = [{"key": "service", "status": "pass", "title": "t", "detail": "d"}]
    bravo.last_checked_at = now - timedelta(days=2)
    bravo.client_token_info = {**bravo.client_token_info, "expiry": (now + timedelta(days=3)).isoformat()}
    db.commit()  # charlie: connected but never tested
    _record(app, _hub(db, "alpha").id, [("media.list", "ok", "", 50)] * 7, tokens=False)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_the_support_dashboard_filters_by_problem(app, client, db, northwind, htmx):  # type: ignore[no-untyped-def]
    _dashboard_world(app, db)
    sign_in(client, SUPPORT)
    headers = {"HX-Request": "true"} if htmx else {}

    def hubs(**params):  # type: ignore[no-untyped-def]
        response = client.get("/support", query_string=params, headers=headers)
        assert response.status_code == 200
        return re.findall(r'data-hub="([^"]+)" data-health="([^"]+)"', response.text)

    assert dict(hubs()) == {
        "northwind": "failing",
        "bravo": "expiring",
        "charlie": "never_tested",
        "riverside": "not_connected",
        "alpha": "connected",
    }
    assert hubs(problem="failing") == [("northwind", "failing")]
    assert hubs(problem="expiring") == [("bravo", "expiring")]
    assert hubs(problem="never_tested") == [("charlie", "never_tested")]
    assert hubs(problem="not_connected") == [("riverside", "not_connected")]
    assert hubs(problem="connected") == [("alpha", "connected")]


def test_the_support_dashboard_sorts_and_refuses_unknown_choices(app, client, db, northwind):  # type: ignore[no-untyped-def]
    _dashboard_world(app, db)
    sign_in(client, SUPPORT)

    def order(**params):  # type: ignore[no-untyped-def]
        return re.findall(r'data-hub="([^"]+)"', client.get("/support", query_string=params).text)

    assert order() == ["northwind", "bravo", "charlie", "riverside", "alpha"]  # most urgent first
    assert order(sort="name") == ["alpha", "bravo", "charlie", "northwind", "riverside"]
    assert order(sort="plan") == ["riverside", "bravo", "charlie", "northwind", "alpha"]
    assert order(sort="calls") == ["northwind", "alpha", "bravo", "charlie", "riverside"]
    assert order(sort="checked")[:2] == ["charlie", "riverside"]  # never tested first
    page = client.get("/support")
    assert 'href="/hubs/northwind/settings/integrations/kaltura/status"' in page.text
    assert f'href="/audit?hub={_hub(db, "northwind").id}"' in page.text
    bad = client.get("/support", query_string={"problem": "haunted", "sort": "mood"})
    assert bad.status_code == 422
    assert "Choose one of the health states in the list." in bad.text
    assert "Choose one of the sort orders in the list." in bad.text


def test_the_support_dashboard_is_for_support_staff_only(client, demo):  # type: ignore[no-untyped-def]
    sign_in(client, ADMIN)
    refused = client.get("/support")
    assert refused.status_code == 403 and "for support staff" in refused.text

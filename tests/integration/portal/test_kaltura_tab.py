"""Hub settings → Kaltura, end to end: the portal validates, tests live against the sandbox, saves."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa

from portal.models import AuditEvent, Hub, KalturaConnection, Plan
from tests.helpers import csrf_token, sign_in, snapshot

TAB = "/hubs/northwind/settings/integrations/kaltura"
HX = {"HX-Request": "true", "HX-Target": "kaltura-form-section"}


def _form(client, sandbox, pasted, **changes):
    data = {
        "csrf_token": csrf_token(client, TAB),
        "service_url": sandbox.url,
        "client_token": pasted["client"],
        "server_token": pasted["server"],
        "user_id_mode": "email",
    }
    data.update(changes)
    return data


@pytest.fixture
def admin(signed_in):
    return signed_in("ada@northwind.example")


def _connection(db):
    db.expire_all()
    return db.scalar(sa.select(KalturaConnection).join(Hub).where(Hub.slug == "northwind"))


def test_test_connection_shows_passing_rows_without_saving(admin, db, sandbox, pasted):
    response = admin.post(f"{TAB}/test", data=_form(admin, sandbox, pasted), headers=HX)
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="kaltura-form-section"' in response.text
    for title in (
        "Kaltura answers at the service URL",
        "The client token starts a session",
        "The server token starts a session",
        "Both tokens belong to the same Kaltura account",
        "can list",
        "4K",
    ):
        assert title in response.text
    assert "All checks passed." in response.text
    assert response.text.count('class="badge badge-ok">pass') >= 7
    assert _connection(db) is None


def test_save_stores_sealed_tokens_and_shows_only_a_summary(admin, db, sandbox, pasted):
    secret = sandbox.credentials["clientAppToken"]["token"]
    response = admin.post(TAB, data=_form(admin, sandbox, pasted))
    assert response.status_code == 303
    page = admin.get(TAB)
    assert "Connected" in page.text
    assert sandbox.credentials["clientAppToken"]["id"] in page.text and "SHA256" in page.text
    assert "privacycontext:hubportal" in page.text and "never expires" in page.text
    assert secret not in page.text
    connection = _connection(db)
    assert connection.client_token_sealed.startswith("v1:") and secret not in connection.client_token_sealed
    assert connection.client_token_info["id"] == sandbox.credentials["clientAppToken"]["id"]
    assert connection.last_check and all(row["status"] in ("pass", "warn") for row in connection.last_check)
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "kaltura.save"))
    assert event.details["client_token_id"] == sandbox.credentials["clientAppToken"]["id"]
    assert secret not in json.dumps(event.details)


def test_saved_tokens_can_be_kept_while_changing_the_mode(admin, db, sandbox, pasted):
    admin.post(TAB, data=_form(admin, sandbox, pasted))
    response = admin.post(
        TAB, data=_form(admin, sandbox, pasted, client_token="", server_token="", user_id_mode="email_prefix")
    )
    assert response.status_code == 303
    assert _connection(db).user_id_mode.value == "email_prefix"
    assert "you are <code>ada</code>" in admin.get(TAB).text


@pytest.mark.parametrize(
    ("changes", "field_text"),
    [
        ({"client_token": '{"id": "0_abc",\n "token": }'}, "line 2"),
        ({"client_token": "not json at all"}, "not valid JSON"),
        ({"server_token": "__client__"}, "pasted into both fields"),
        ({"client_token": "__server__", "server_token": "__client__"}, "in each other's fields"),
        ({"client_token": ""}, "Paste the client App Token"),
    ],
)
def test_bad_tokens_are_field_errors_and_nothing_is_saved(admin, db, sandbox, pasted, changes, field_text):
    swap = {"__client__": pasted["client"], "__server__": pasted["server"]}
    changes = {key: swap.get(value, value) for key, value in changes.items()}
    before = snapshot(db)
    response = admin.post(TAB, data=_form(admin, sandbox, pasted, **changes))
    assert response.status_code == 422
    assert field_text in response.text.replace("&#39;", "'")
    assert 'id="client_token-errors"' in response.text or 'id="server_token-errors"' in response.text
    assert "Nothing was saved" in response.text or "Not saved" in response.text
    assert (
        f'<option selected value="{sandbox.url}"' in response.text or f'value="{sandbox.url}" selected' in response.text
    )
    assert snapshot(db) == before


def test_a_host_outside_the_allow_list_is_refused_before_any_request(database_url, tmp_path, demo, sandbox, pasted):
    from portal import create_app

    app = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": database_url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "KALTURA_SANDBOX_URL": sandbox.url,
            "KALTURA_CUSTOM_HOSTS": True,
        }
    )
    client = app.test_client()
    sign_in(client, "ada@northwind.example")
    sandbox.control("calls/reset")
    for url in ("http://169.254.169.254/", "https://www.kaltura.com@evil.example", "https://10.0.0.5"):
        response = client.post(TAB, data=_form(client, sandbox, pasted, service_url="custom", custom_service_url=url))
        assert response.status_code == 422, url
        assert 'id="custom_service_url-errors"' in response.text, url
    assert sum(sandbox.calls().values()) == 0
    app.extensions["kaltura"].close()
    app.extensions["db"].kw["bind"].dispose()


def test_kaltura_down_is_a_failing_row_not_an_error_page(admin, db, sandbox, pasted):
    sandbox.control("fault", action="session.startWidgetSession", count=20, kind="http_503")
    response = admin.post(TAB, data=_form(admin, sandbox, pasted))
    assert response.status_code == 422
    assert "badge-bad" in response.text and "Not saved" in response.text
    assert _connection(db) is None


def test_kaltura_error_code_is_named_with_what_to_do(admin, sandbox, pasted):
    sandbox.control("fault", action="appToken.startSession", count=20, kind="api_error", code="APP_TOKEN_ID_NOT_FOUND")
    response = admin.post(f"{TAB}/test", data=_form(admin, sandbox, pasted), headers=HX)
    assert response.status_code == 422
    assert "APP_TOKEN_ID_NOT_FOUND" in response.text and "What to do:" in response.text


def test_free_plan_explains_and_accepts_nothing(signed_in, db, sandbox, pasted):
    hub = db.scalar(sa.select(Hub).where(Hub.slug == "northwind"))
    hub.plan = Plan.FREE
    db.commit()
    admin = signed_in("ada@northwind.example")
    page = admin.get(TAB)
    assert "needs a paid plan" in page.text and "Client App Token" not in page.text
    before = snapshot(db, except_tables={"audit_events"})  # the refusal itself is audited
    token = csrf_token(admin, "/account")  # the free-plan tab has no form at all
    response = admin.post(
        TAB,
        data={
            "csrf_token": token,
            "service_url": sandbox.url,
            "client_token": pasted["client"],
            "server_token": pasted["server"],
        },
    )
    assert response.status_code == 403 and "paid plan" in response.text
    assert snapshot(db, except_tables={"audit_events"}) == before


def test_support_reads_tests_and_sets_the_rule_but_cannot_save(app, admin, db, sandbox, pasted):
    admin.post(TAB, data=_form(admin, sandbox, pasted))
    support = app.test_client()
    sign_in(support, "sue@support.example")
    page = support.get(TAB)
    assert page.status_code == 200 and "Connected" in page.text and "Custom user-id rule" in page.text
    assert "Test and save" not in page.text
    assert support.post(TAB, data=_form(support, sandbox, pasted)).status_code == 403
    tested = support.post(f"{TAB}/test", data={"csrf_token": csrf_token(support, TAB)}, headers=HX)
    assert tested.status_code == 200 and "All checks passed." in tested.text
    bad = support.post(f"{TAB}/user-id-rule", data={"csrf_token": csrf_token(support, TAB), "custom_rule": "{nope}"})
    assert bad.status_code == 422 and "Unknown placeholder {nope}" in bad.text
    shared = support.post(
        f"{TAB}/user-id-rule", data={"csrf_token": csrf_token(support, TAB), "custom_rule": "{domain}"}
    )
    assert shared.status_code == 422 and "would share the Kaltura user id &#39;northwind.example&#39;" in shared.text
    good = support.post(
        f"{TAB}/user-id-rule", data={"csrf_token": csrf_token(support, TAB), "custom_rule": "{local}.hub"}
    )
    assert good.status_code == 303
    assert _connection(db).user_id_mode.value == "custom"
    assert "you are <code>ada.hub</code>" in admin.get(TAB).text


def test_remove_asks_first_then_removes(admin, db, sandbox, pasted):
    admin.post(TAB, data=_form(admin, sandbox, pasted))
    confirm = admin.get(f"{TAB}/client/remove")
    assert confirm.status_code == 200 and "What stops working" in confirm.text
    assert _connection(db).client_token_sealed is not None
    response = admin.post(f"{TAB}/client/remove", data={"csrf_token": csrf_token(admin, f"{TAB}/client/remove")})
    assert response.status_code == 303
    connection = _connection(db)
    assert connection.client_token_sealed is None and connection.server_token_sealed is not None
    assert "Incomplete" in admin.get(TAB).text


def test_a_ciphertext_moved_to_another_hub_does_not_decrypt(app, admin, db, sandbox, pasted):
    admin.post(TAB, data=_form(admin, sandbox, pasted))
    northwind = _connection(db)
    riverside = db.scalar(sa.select(Hub).where(Hub.slug == "riverside"))
    riverside.plan = Plan.PRO
    db.add(
        KalturaConnection(
            hub_id=riverside.id,
            service_url=sandbox.url,
            client_token_sealed=northwind.client_token_sealed,
            client_token_info=northwind.client_token_info,
            server_token_sealed=northwind.server_token_sealed,
            server_token_info=northwind.server_token_info,
        )
    )
    db.commit()
    rita = app.test_client()
    sign_in(rita, "rita@riverside.example")
    path = "/hubs/riverside/settings/integrations/kaltura"
    response = rita.post(
        f"{path}/test", data={"csrf_token": csrf_token(rita, path), "service_url": sandbox.url}, headers=HX
    )
    assert response.status_code == 422
    assert "cannot be decrypted" in response.text


def test_no_copy_of_a_saved_token_anywhere(app, admin, db, sandbox, pasted, caplog, database_url):
    """Canary: after saving, the token is in no page, fragment, log line or database byte."""
    caplog.set_level(logging.DEBUG)
    secrets = [sandbox.credentials[name]["token"] for name in ("clientAppToken", "serverAppToken")]
    assert admin.post(TAB, data=_form(admin, sandbox, pasted)).status_code == 303
    support = app.test_client()
    sign_in(support, "sue@support.example")
    seen = []
    for client in (admin, support):
        for path in (
            "/",
            "/account",
            "/hubs/northwind",
            "/hubs/northwind/settings",
            "/hubs/northwind/settings/members",
            TAB,
            f"{TAB}/client/remove",
            f"{TAB}/server/remove",
        ):
            seen.append(client.get(path).text)
        seen.append(client.post(f"{TAB}/test", data={"csrf_token": csrf_token(client, TAB)}, headers=HX).text)
        seen.append(client.post(f"{TAB}/test", data={"csrf_token": csrf_token(client, TAB)}).text)
    seen.append(admin.post(TAB, data=_form(admin, sandbox, pasted, client_token="", server_token="broken")).text)
    dump = json.dumps(snapshot(db, telemetry=True))
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        for name in (path, f"{path}-wal"):  # committed rows may still sit in the write-ahead log
            try:
                with open(name, "rb") as handle:
                    dump += handle.read().decode("latin-1")
            except FileNotFoundError:
                pass
    logs = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    for secret in secrets:
        assert not any(secret in text for text in seen), "a page shows a saved token"
        assert secret not in dump, "the database holds a token in clear"
        assert secret not in logs, "a log line holds a token"


@pytest.mark.parametrize("action", ["system.ping", "appToken.startSession", "media.list"])
def test_a_stalled_kaltura_gives_a_failing_row_not_a_hung_page(admin, db, sandbox, pasted, action):
    # The app waits 3 s for Kaltura (app_settings); the sandbox stalls this action for longer.
    sandbox.control("fault", action=action, count=50, kind="stall", seconds=8)
    form = _form(admin, sandbox, pasted)
    sandbox.control("calls/reset")
    response = admin.post(f"{TAB}/test", data=form, headers=HX)
    assert response.status_code == 422
    assert sandbox.calls()[action.lower()] == 1, "a stalled call was retried: the page would wait several timeouts"
    text = response.text.lower()
    assert "badge-bad" in text and ("did not answer" in text or "timed out" in text or "time" in text)
    assert _connection(db) is None


def test_email_prefix_is_refused_when_two_members_would_share_a_kaltura_user(admin, db, sandbox, pasted):
    from portal.accounts.services import create_user
    from portal.hubs.services import add_member
    from portal.models import Role

    create_user(db, email="ada@riverside.example", display_name="Ada Other", password="long-enough-pw")
    hub = db.scalar(sa.select(Hub).where(Hub.slug == "northwind"))
    add_member(db, hub=hub, email="ada@riverside.example", role=Role.PARTICIPANT, actor=None)
    before = snapshot(db)
    response = admin.post(TAB, data=_form(admin, sandbox, pasted, user_id_mode="email_prefix"))
    assert response.status_code == 422
    assert (
        "ada@northwind.example and ada@riverside.example would share the Kaltura user id &#39;ada&#39;" in response.text
    )
    assert snapshot(db) == before
    assert admin.post(TAB, data=_form(admin, sandbox, pasted, user_id_mode="email")).status_code == 303


def test_adding_a_member_whose_prefix_clashes_is_refused(admin, db, sandbox, pasted):
    from portal.accounts.services import create_user

    assert admin.post(TAB, data=_form(admin, sandbox, pasted, user_id_mode="email_prefix")).status_code == 303
    create_user(db, email="pat@elsewhere.example", display_name="Pat Elsewhere", password="long-enough-pw")
    members = "/hubs/northwind/settings/members"
    before = snapshot(db)
    response = admin.post(
        members,
        data={"csrf_token": csrf_token(admin, members), "email": "pat@elsewhere.example", "role": "participant"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "same Kaltura user id &#39;pat&#39; as pat@northwind.example" in response.text
    assert snapshot(db) == before


def test_pasting_both_tokens_replaces_saved_ones_that_no_longer_decrypt(admin, db, sandbox, pasted):
    assert admin.post(TAB, data=_form(admin, sandbox, pasted)).status_code == 303
    connection = _connection(db)
    damaged = connection.client_token_sealed[:-6] + "AAAAAA"
    connection.client_token_sealed = damaged
    db.commit()
    page = admin.post(f"{TAB}/test", data=_form(admin, sandbox, pasted, client_token="", server_token=""), headers=HX)
    assert page.status_code == 422 and "cannot be decrypted" in page.text
    assert admin.post(TAB, data=_form(admin, sandbox, pasted)).status_code == 303
    repaired = _connection(db).client_token_sealed
    assert repaired != damaged
    assert (
        "cannot be decrypted"
        not in admin.post(
            f"{TAB}/test", data=_form(admin, sandbox, pasted, client_token="", server_token=""), headers=HX
        ).text
    )


def test_admin_cannot_leave_a_custom_rule_that_support_set(app, admin, db, sandbox, pasted):
    assert admin.post(TAB, data=_form(admin, sandbox, pasted)).status_code == 303
    support = app.test_client()
    sign_in(support, "sue@support.example")
    rule = support.post(
        f"{TAB}/user-id-rule", data={"csrf_token": csrf_token(support, TAB), "custom_rule": "{local}.hub"}
    )
    assert rule.status_code == 303
    before = snapshot(db)
    response = admin.post(
        TAB, data=_form(admin, sandbox, pasted, client_token="", server_token="", user_id_mode="email")
    )
    assert response.status_code == 422 and "contact support to change it" in response.text
    assert snapshot(db) == before

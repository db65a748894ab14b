"""The Kaltura tab as admins and support really use it (issue 9): swaps in place, warnings that outlive
saving, support's test, rate limits that keep the form, and the mistakes admins make when pasting."""

from __future__ import annotations

import json
import re

import pytest
import requests
import sqlalchemy as sa

from portal.models import AuditEvent, Hub, KalturaConnection, Plan
from tests.helpers import csrf_token, sign_in, snapshot

TAB = "/hubs/northwind/settings/integrations/kaltura"
HX = {"HX-Request": "true", "HX-Target": "kaltura-form-section"}


@pytest.fixture
def admin(signed_in):
    return signed_in("ada@northwind.example")


@pytest.fixture
def support(app, demo):
    client = app.test_client()
    sign_in(client, "sue@support.example")
    return client


def form(client, sandbox, pasted, **changes):
    data = {
        "csrf_token": csrf_token(client, TAB),
        "service_url": sandbox.url,
        "client_token": pasted["client"],
        "server_token": pasted["server"],
        "user_id_mode": "email",
    }
    data.update(changes)
    return data


def connection(db):
    db.expire_all()
    return db.scalar(sa.select(KalturaConnection).join(Hub).where(Hub.slug == "northwind"))


def tag(html, name, element_id):
    """The opening tag of the element ``name`` with id ``element_id`` (attributes in any order)."""
    match = re.search(rf'<{name}\b[^>]*\bid="{element_id}"[^>]*>', html)
    assert match, f"no <{name} id={element_id}>"
    return match.group(0)


def kaltura_api(sandbox, service, action, **params):
    """Call the sandbox as a Kaltura admin would (JSON format); returns the result."""
    answer = requests.post(
        f"{sandbox.url}/api_v3/service/{service}/action/{action}",
        json={"format": 1, **params},
        timeout=10,
    ).json()
    assert not (isinstance(answer, dict) and answer.get("objectType") == "KalturaAPIException"), answer
    return answer


def admin_ks(sandbox):
    credentials = sandbox.credentials
    return kaltura_api(
        sandbox, "session", "start", secret=credentials["adminSecret"], partnerId=credentials["partnerId"], type=2
    )


def new_app_token(sandbox, **fields):
    """An App Token made with appToken.add in the sandbox, as the admin pastes its response."""
    token = {"objectType": "KalturaAppToken", "hashType": "SHA256", "sessionType": 0, **fields}
    return json.dumps(kaltura_api(sandbox, "appToken", "add", ks=admin_ks(sandbox), appToken=token), indent=2)


def kaltura_user_ids(sandbox):
    listing = kaltura_api(
        sandbox,
        "user",
        "list",
        ks=admin_ks(sandbox),
        pager={"objectType": "KalturaFilterPager", "pageSize": 500},
    )
    return {user["id"] for user in listing["objects"]}


# --- "Test and save" swaps the form section, with a summary and the focus on the first mistake ---


def test_test_and_save_with_a_mistake_swaps_only_the_form_section(admin, db, sandbox, pasted):
    before = snapshot(db)

    response = admin.post(TAB, data=form(admin, sandbox, pasted, client_token="0_abcd1234"), headers=HX)

    assert response.status_code == 422
    assert "<html" not in response.text and response.text.lstrip().startswith(
        '<section class="card" id="kaltura-form-section"'
    )
    summary = re.search(r'<div class="error-summary".*?</div>', response.text, re.S)
    assert summary and "Not saved: 1 problem to fix" in summary.group(0)
    assert 'href="#client_token" data-focus-field' in summary.group(0)
    assert "data-autofocus" in tag(response.text, "textarea", "client_token")
    assert response.text.count("only the token&#39;s id") == 2  # under the field, and its link in the summary
    assert snapshot(db) == before


def test_test_and_save_success_navigates_to_the_tab_with_the_flash(admin, db, sandbox, pasted):
    response = admin.post(TAB, data=form(admin, sandbox, pasted), headers=HX)

    assert response.status_code == 200 and response.headers["HX-Location"] == TAB
    assert connection(db).is_complete
    page = admin.get(TAB, headers={"HX-Request": "true"})  # what htmx then loads
    assert "Saved. The connection test passed" in page.text
    assert re.search(r'<div class="flashes" id="flashes" tabindex="-1" data-announce data-autofocus>', page.text)


def test_each_result_is_announced_once_and_the_result_heading_takes_the_focus(admin, sandbox, pasted):
    response = admin.post(f"{TAB}/test", data=form(admin, sandbox, pasted), headers=HX)

    assert response.status_code == 200
    assert response.text.count("data-announce") == 1
    assert re.search(
        r'<h3 id="kaltura-result" tabindex="-1" data-autofocus data-announce>Live checks against Kaltura:\s+all passed',
        response.text,
    )
    assert "aria-live" not in response.text  # the live region sits outside swapped content (base.html)


# --- paste mistakes on the page: each finding once, no raw codes -----------------------------------


def test_swapped_tokens_are_said_once_with_a_swap_button_that_works(admin, db, sandbox, pasted):
    swapped = form(admin, sandbox, pasted, client_token=pasted["server"], server_token=pasted["client"])

    response = admin.post(f"{TAB}/test", data=swapped, headers=HX)

    assert response.status_code == 422
    assert response.text.count("in each other&#39;s fields") == 2  # under the field and in the summary
    assert "Create the client token" not in response.text and "tokens_swapped" not in response.text
    assert 'name="swap_tokens"' in response.text
    fixed = admin.post(f"{TAB}/test", data={**swapped, "swap_tokens": "1"}, headers=HX)
    assert fixed.status_code == 200 and "all passed" in fixed.text
    client_area = re.search(r'<textarea[^>]*id="client_token"[^>]*>(.*?)</textarea>', fixed.text, re.S)
    assert client_area and sandbox.credentials["clientAppToken"]["id"] in client_area.group(1)
    assert 'name="swap_tokens"' not in fixed.text
    assert connection(db) is None


def test_curly_quotes_and_a_trailing_comma_are_accepted_and_said_so(admin, sandbox, pasted):
    curly = (pasted["client"][:-2] + ",\n}").replace('"', "\u201c")

    response = admin.post(f"{TAB}/test", data=form(admin, sandbox, pasted, client_token=curly), headers=HX)

    assert response.status_code == 200 and "all passed" in response.text
    assert "curly quotes" in response.text and "comma just before a closing" in response.text
    assert "curly_quotes_accepted" not in response.text  # no raw codes


def test_duplicate_keys_are_refused_naming_the_key(admin, sandbox, pasted):
    doubled = pasted["client"][:-2] + ',\n  "token": "00000000000000000000000000000000"\n}'

    response = admin.post(f"{TAB}/test", data=form(admin, sandbox, pasted, client_token=doubled), headers=HX)

    assert response.status_code == 422
    assert "the key &#34;token&#34; twice" in response.text or 'the key "token" twice' in response.text


def test_a_description_with_a_lone_surrogate_is_cleaned_so_the_tab_keeps_working(
    app, admin, support, db, sandbox, pasted
):
    token = json.loads(pasted["client"])
    text = json.dumps({**token, "description": "picker"})[:-1] + ', "notes": 1}'
    text = text.replace('"picker"', '"pick\\ud800er"')  # the JSON escape an admin's paste can carry

    saved = admin.post(TAB, data=form(admin, sandbox, pasted, client_token=text))

    assert saved.status_code == 303
    assert connection(db).client_token_info["description"] == "picker"
    for client in (admin, support):
        page = client.get(TAB)
        assert page.status_code == 200 and "picker" in page.text


# --- warnings survive saving ---------------------------------------------------------------------


def test_a_warning_shows_in_the_flash_and_stays_on_the_card_until_the_token_is_replaced(admin, db, sandbox, pasted):
    sha1 = new_app_token(
        sandbox, hashType="SHA1", sessionPrivileges="enableentitlement,privacycontext:hubportal,list:*"
    )

    saved = admin.post(TAB, data=form(admin, sandbox, pasted, client_token=sha1))
    assert saved.status_code == 303
    page = admin.get(TAB)
    assert "Saved. The connection test passed" in page.text
    assert 'class="flash flash-warning">Warning: The App Token uses SHA1' in page.text
    card = re.search(r'<article class="token-card" id="client-token-summary">.*?</article>', admin.get(TAB).text, re.S)
    assert card and "uses SHA1, a weak hash" in card.group(0)

    kept = admin.post(TAB, data=form(admin, sandbox, pasted, client_token="", server_token=""))
    assert kept.status_code == 303
    card = re.search(r'id="client-token-summary">.*?</article>', admin.get(TAB).text, re.S)
    assert card and "uses SHA1, a weak hash" in card.group(0)

    assert admin.post(TAB, data=form(admin, sandbox, pasted)).status_code == 303
    card = re.search(r'id="client-token-summary">.*?</article>', admin.get(TAB).text, re.S)
    assert card and "weak hash" not in card.group(0)


# --- support's test ----------------------------------------------------------------------------------


def test_supports_test_creates_no_kaltura_user_and_is_recorded(admin, support, db, sandbox, pasted):
    assert admin.post(TAB, data=form(admin, sandbox, pasted)).status_code == 303
    first = connection(db).last_checked_at
    assert "sue@support.example" not in kaltura_user_ids(sandbox)

    tested = support.post(f"{TAB}/test", data={"csrf_token": csrf_token(support, TAB)}, headers=HX)

    assert tested.status_code == 200 and "all passed" in tested.text
    assert "as an anonymous user" in tested.text
    assert "sue@support.example" not in kaltura_user_ids(sandbox)
    assert connection(db).last_checked_at > first
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "kaltura.test"))
    assert event is not None and event.details["result"] == "pass"


def test_a_failing_saved_connection_test_is_recorded_with_its_result(admin, support, db, sandbox, pasted):
    assert admin.post(TAB, data=form(admin, sandbox, pasted)).status_code == 303
    sandbox.control("fault", action="appToken.startSession", count=20, kind="api_error", code="APP_TOKEN_NOT_ACTIVE")

    tested = support.post(f"{TAB}/test", data={"csrf_token": csrf_token(support, TAB)}, headers=HX)

    assert tested.status_code == 422
    page = support.get(TAB).text
    assert re.search(
        r"Last tested</dt><dd>\s*<time[^>]*>[^<]+</time> ·\s*<span class=\"text-bad\">\d checks? failed", page
    )
    assert "APP_TOKEN_NOT_ACTIVE" in json.dumps(connection(db).last_check)


def test_support_posting_pasted_tokens_to_the_test_is_refused(admin, support, db, sandbox, pasted):
    assert admin.post(TAB, data=form(admin, sandbox, pasted)).status_code == 303
    sandbox.control("calls/reset")
    before = snapshot(db, except_tables={"audit_events"})
    audited = db.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "access.denied"))

    for data in (
        {"client_token": pasted["client"]},
        {"server_token": pasted["server"]},
        {"service_url": "https://www.kaltura.com"},
    ):
        response = support.post(f"{TAB}/test", data={"csrf_token": csrf_token(support, TAB), **data}, headers=HX)
        assert response.status_code == 403, data
        assert "Support staff test the saved connection only" in response.text
    assert sum(sandbox.calls().values()) == 0
    # Nothing changed but the three refusals, each audited.
    assert snapshot(db, except_tables={"audit_events"}) == before
    db.expire_all()
    denied = db.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "access.denied"))
    assert denied == audited + 3


def test_with_both_tokens_removed_the_tab_says_not_connected(admin, support, db, sandbox, pasted):
    assert admin.post(TAB, data=form(admin, sandbox, pasted)).status_code == 303
    for slot in ("client", "server"):
        path = f"{TAB}/{slot}/remove"
        assert admin.post(path, data={"csrf_token": csrf_token(admin, path)}).status_code == 303

    page = support.get(TAB).text
    assert '<span class="badge">Not connected</span>' in page
    assert "Last tested" not in page and "Test the saved connection" not in page
    sandbox.control("calls/reset")
    tested = support.post(f"{TAB}/test", data={"csrf_token": csrf_token(support, TAB)}, headers=HX)
    assert tested.status_code == 422 and "nothing to test" in tested.text
    assert sum(sandbox.calls().values()) == 0


# --- limits and refusals ------------------------------------------------------------------------------


class TestRateLimit:
    @pytest.fixture
    def app_settings(self, sandbox):
        return {"KALTURA_SANDBOX_URL": sandbox.url, "KALTURA_TIMEOUT": 3.0, "KALTURA_TEST_LIMIT": "2 per minute"}

    @pytest.mark.parametrize("path", [f"{TAB}/test", TAB])
    def test_too_many_tests_get_their_own_message_in_place_and_keep_the_pasted_tokens(
        self, admin, sandbox, pasted, path
    ):
        data = form(admin, sandbox, pasted)
        for _ in range(2):
            assert admin.post(f"{TAB}/test", data=data, headers=HX).status_code == 200
        sandbox.control("calls/reset")

        limited = admin.post(path, data=data, headers=HX)

        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        assert "<html" not in limited.text and 'id="kaltura-form-section"' in limited.text
        assert "many connection tests in the last minute" in limited.text and "sign-in" not in limited.text
        assert 'id="kaltura-limit" tabindex="-1" data-autofocus data-announce' in limited.text
        area = re.search(r'<textarea[^>]*id="client_token"[^>]*>(.*?)</textarea>', limited.text, re.S)
        assert area and sandbox.credentials["clientAppToken"]["id"] in area.group(1)
        assert sum(sandbox.calls().values()) == 0


def test_a_free_plan_admin_cannot_run_a_live_test(admin, db, sandbox, pasted):
    hub = db.scalar(sa.select(Hub).where(Hub.slug == "northwind"))
    hub.plan = Plan.FREE
    db.commit()
    data = {"csrf_token": csrf_token(admin, "/account"), "service_url": sandbox.url, "client_token": pasted["client"]}
    sandbox.control("calls/reset")

    response = admin.post(f"{TAB}/test", data=data, headers=HX)

    assert response.status_code == 403
    assert "needs a paid plan (Pro or Enterprise). Contact support to upgrade this hub." in response.text
    assert sum(sandbox.calls().values()) == 0


def test_an_unknown_user_id_mode_is_a_field_error_not_a_crash(admin, db, sandbox, pasted):
    sandbox.control("calls/reset")

    for path in (f"{TAB}/test", TAB):
        response = admin.post(path, data=form(admin, sandbox, pasted, user_id_mode="bogus"), headers=HX)
        assert response.status_code == 422, path
        assert 'id="user_id_mode-errors"' in response.text
        assert "data-autofocus" in tag(response.text, "input", "user_id_mode-0")
    assert sum(sandbox.calls().values()) == 0
    assert connection(db) is None


def test_a_custom_rule_with_a_stray_brace_is_a_field_error(admin, support, db, sandbox, pasted):
    assert admin.post(TAB, data=form(admin, sandbox, pasted)).status_code == 303
    before = snapshot(db)

    for rule in ("{local}{", "{local}}", "{email.__class__}"):
        response = support.post(
            f"{TAB}/user-id-rule", data={"csrf_token": csrf_token(support, TAB), "custom_rule": rule}
        )
        assert response.status_code == 422, rule
        assert 'id="custom_rule-errors"' in response.text
    assert snapshot(db) == before


def test_saved_tokens_are_unsealed_only_inside_the_gateway(app, admin, support, db, sandbox, pasted, monkeypatch):
    import inspect

    from portal.kaltura.vault import TokenVault

    assert admin.post(TAB, data=form(admin, sandbox, pasted)).status_code == 303
    callers = []
    real = TokenVault.unseal

    def watched(self, sealed):
        frame = inspect.stack()[1]
        callers.append(f"{frame.frame.f_globals['__name__']}.{frame.function}")
        return real(self, sealed)

    monkeypatch.setattr(TokenVault, "unseal", watched)
    support.post(f"{TAB}/test", data={"csrf_token": csrf_token(support, TAB)}, headers=HX)  # both saved
    admin.post(f"{TAB}/test", data=form(admin, sandbox, pasted, client_token=""), headers=HX)  # one saved
    assert admin.post(TAB, data=form(admin, sandbox, pasted, client_token="", server_token="")).status_code == 303
    assert app.test_cli_runner().invoke(args=["kaltura", "check", "northwind"]).exit_code == 0

    assert callers and set(callers) == {"portal.kaltura.gateway._unsealed"}

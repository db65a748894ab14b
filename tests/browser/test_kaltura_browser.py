"""The demo admin connects the hub to Kaltura in a real browser."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.test_members_browser import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings(kaltura_sandbox):
    kaltura_sandbox.reset()
    return {"KALTURA_SANDBOX_URL": kaltura_sandbox.url}


def test_admin_pastes_tokens_tests_saves_and_sees_the_masked_summary(
    page, live_portal, demo, kaltura_sandbox, tmp_path
):
    # Given the tokens exactly as the sandbox's credentials command prints them
    printed = subprocess.run(
        [sys.executable, "-m", "kaltura_sandbox", "credentials"], capture_output=True, text=True, check=True
    )
    credentials = json.loads(printed.stdout)
    client_json = json.dumps(credentials["clientAppToken"], indent=2)
    server_json = json.dumps(credentials["serverAppToken"], indent=2)

    # When the admin opens the Kaltura tab and pastes them
    sign_in(page, live_portal, "ada@northwind.example")
    page.goto(f"{live_portal}/hubs/northwind/settings/integrations/kaltura")
    expect(page.get_by_text("Not connected", exact=True)).to_be_visible()
    page.get_by_label("Kaltura region").select_option(kaltura_sandbox.url)
    page.get_by_label("Client App Token").fill(client_json)
    page.get_by_label("Server App Token").fill(server_json)
    page.evaluate("window.__sameDocument = true")

    # And runs the test: the rows appear in place
    page.get_by_role("button", name="Test connection").click()
    checks = page.locator("#kaltura-checks")
    expect(checks).to_contain_text("Live checks against Kaltura")
    expect(checks).to_contain_text("The client token starts a session")
    expect(checks).to_contain_text("All checks passed.")
    assert page.evaluate("window.__sameDocument") is True
    assert checks.locator(".badge-ok").count() >= 7
    page.screenshot(path=str(tmp_path / "kaltura-tested.png"), full_page=True)

    # Then saves, and sees the summary without the secret
    page.get_by_role("button", name="Test and save").click()
    expect(page.locator("#flashes")).to_contain_text("Saved. The connection test passed")
    summary = page.locator("#client-token-summary")
    expect(summary).to_contain_text(credentials["clientAppToken"]["id"])
    expect(summary).to_contain_text("SHA256")
    expect(summary).to_contain_text("never expires")
    expect(page.locator("#server-token-summary")).to_contain_text(credentials["serverAppToken"]["id"])
    expect(page.get_by_label("Client App Token")).to_have_value("")
    html = page.content()
    for name in ("clientAppToken", "serverAppToken"):
        assert credentials[name]["token"] not in html
    page.screenshot(path=str(tmp_path / "kaltura-saved.png"), full_page=True)


# --- focus, announcements and failures after each swap (issue 9, items 1, 2 and 12) ----------------

TAB = "/hubs/northwind/settings/integrations/kaltura"


@pytest.fixture
def tokens(kaltura_sandbox):
    credentials = kaltura_sandbox.credentials
    return {
        "client": json.dumps(credentials["clientAppToken"], indent=2),
        "server": json.dumps(credentials["serverAppToken"], indent=2),
        "client_id": credentials["clientAppToken"]["id"],
    }


@pytest.fixture
def tab(page, live_portal, demo, kaltura_sandbox):
    sign_in(page, live_portal, "ada@northwind.example")
    page.goto(f"{live_portal}{TAB}")
    page.get_by_label("Kaltura region").select_option(kaltura_sandbox.url)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    return page


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_a_mistake_focuses_the_first_invalid_field_and_the_summary_links_to_each_field(tab, tokens):
    # Given a token id alone in the client field and nothing in the server field
    tab.get_by_label("Client App Token").fill("0_abcd1234")

    # When the admin tests the connection
    tab.get_by_role("button", name="Test connection").click()

    # Then the section is swapped in place, the first invalid field has the focus, the summary is read out
    summary = tab.locator("#error-summary")
    expect(summary).to_contain_text("2 problems to fix before the test can run")
    expect(tab.locator("#client_token-errors")).to_contain_text("only the token's id")
    expect(tab.locator("#client_token")).to_be_focused()
    expect(tab.locator("#announcer")).to_have_text("2 problems to fix before the test can run")
    assert tab.evaluate("window.__sameDocument") is True
    # And each summary link moves the focus to its field
    summary.get_by_role("link", name=re.compile("^Server App Token:")).click()
    expect(tab.locator("#server_token")).to_be_focused()
    summary.get_by_role("link", name=re.compile("^Client App Token:")).click()
    expect(tab.locator("#client_token")).to_be_focused()


def test_test_and_save_with_a_mistake_swaps_the_form_section_not_the_page(tab, tokens):
    tab.get_by_label("Client App Token").fill(tokens["client"])
    tab.get_by_label("Server App Token").fill("client.appToken.add(appToken)")
    tab.locator("#server_token").scroll_into_view_if_needed()

    tab.get_by_role("button", name="Test and save").click()

    expect(tab.locator("#error-summary")).to_contain_text("Not saved: 1 problem to fix")
    expect(tab.locator("#server_token-errors")).to_contain_text("program code")
    expect(tab.locator("#server_token")).to_be_focused()
    expect(tab.get_by_label("Client App Token")).to_have_value(tokens["client"])  # what was typed is kept
    assert tab.evaluate("window.__sameDocument") is True
    assert tab.evaluate("window.scrollY") > 0  # the viewport stays where the admin was working


def test_a_passing_test_focuses_and_announces_the_result_heading(tab, tokens):
    tab.get_by_label("Client App Token").fill(tokens["client"])
    tab.get_by_label("Server App Token").fill(tokens["server"])

    tab.get_by_role("button", name="Test connection").click()

    heading = tab.locator("#kaltura-result")
    expect(heading).to_have_text(re.compile(r"Live checks against Kaltura:\s+all passed"))
    expect(heading).to_be_focused()
    expect(tab.locator("#announcer")).to_have_text("Live checks against Kaltura: all passed")


def test_the_swap_button_puts_each_token_in_its_field(tab, tokens):
    tab.get_by_label("Client App Token").fill(tokens["server"])
    tab.get_by_label("Server App Token").fill(tokens["client"])
    tab.get_by_role("button", name="Test connection").click()
    expect(tab.locator("#client_token-errors")).to_contain_text("in each other's fields")
    expect(tab.get_by_text("in each other's fields")).to_have_count(2)  # under the field, and in the summary

    tab.get_by_role("button", name="Swap the two fields").click()

    expect(tab.locator("#kaltura-result")).to_contain_text("all passed")
    expect(tab.get_by_label("Client App Token")).to_have_value(tokens["client"])
    expect(tab.get_by_label("Server App Token")).to_have_value(tokens["server"])
    expect(tab.get_by_role("button", name="Swap the two fields")).to_have_count(0)
    assert tab.evaluate("window.__sameDocument") is True


def test_saving_lands_on_the_flash_without_a_reload(tab, tokens):
    tab.get_by_label("Client App Token").fill(tokens["client"])
    tab.get_by_label("Server App Token").fill(tokens["server"])

    tab.get_by_role("button", name="Test and save").click()

    flash = tab.locator("#flashes")
    expect(flash).to_contain_text("Saved. The connection test passed")
    expect(flash).to_be_focused()
    expect(tab.locator("#announcer")).to_contain_text("Saved.")
    expect(tab.locator("#client-token-summary")).to_contain_text(tokens["client_id"])
    assert tab.evaluate("window.__sameDocument") is True
    assert tab.url.endswith(TAB)


def test_buttons_are_disabled_while_their_request_runs(tab, tokens):
    held = []
    tab.route("**/integrations/kaltura/test", lambda route: held.append(route))
    tab.get_by_label("Client App Token").fill(tokens["client"])

    tab.get_by_role("button", name="Test connection").click()

    expect(tab.get_by_role("button", name="Test connection")).to_be_disabled()
    expect(tab.get_by_role("button", name="Test and save")).to_be_disabled()
    held[0].continue_()
    expect(tab.locator("#error-summary")).to_be_visible()
    expect(tab.get_by_role("button", name="Test and save")).to_be_enabled()


@pytest.mark.parametrize(
    ("failure", "says"),
    [
        ("500", re.compile(r"could not complete that request \(error 500\).*quote reference req-abc-123")),
        ("network", re.compile("could not be reached")),
    ],
)
def test_a_failed_request_shows_the_banner_and_keeps_the_form(tab, tokens, failure, says):
    def fail(route):
        if failure == "network":
            route.abort("connectionrefused")
        else:
            route.fulfill(status=500, body="<p>boom</p>", headers={"X-Request-Id": "req-abc-123"})

    tab.route("**/integrations/kaltura/test", fail)
    tab.get_by_label("Client App Token").fill(tokens["client"])

    tab.get_by_role("button", name="Test connection").click()

    banner = tab.locator("#request-error")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(says)
    expect(banner).to_be_focused()
    expect(tab.get_by_label("Client App Token")).to_have_value(tokens["client"])  # nothing swapped away
    expect(tab.get_by_role("button", name="Test connection")).to_be_enabled()
    # Dismissing it, or the next request, hides it again.
    banner.get_by_role("button", name="Dismiss").click()
    expect(banner).to_be_hidden()


def test_a_refusal_card_replaces_only_the_section_and_is_read_out(tab, tokens, app):
    import sqlalchemy as sa

    from portal.models import Hub, Plan

    session = app.extensions["db"]()
    session.scalar(sa.select(Hub).where(Hub.slug == "northwind")).plan = Plan.FREE  # downgraded meanwhile
    session.commit()
    session.close()

    tab.get_by_role("button", name="Test connection").click()

    card = tab.locator("#error-body")
    expect(card).to_contain_text("needs a paid plan")
    expect(card.get_by_role("heading")).to_be_focused()
    expect(tab.locator("#announcer")).to_contain_text("needs a paid plan")
    expect(tab.locator("#kaltura-status")).to_be_visible()  # the rest of the page is untouched
    assert tab.evaluate("window.__sameDocument") is True

"""The demo admin connects the hub to Kaltura in a real browser."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.test_members_browser import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings(kaltura_sandbox):  # type: ignore[no-untyped-def]
    kaltura_sandbox.reset()
    return {"KALTURA_SANDBOX_URL": kaltura_sandbox.url}


def test_admin_pastes_tokens_tests_saves_and_sees_the_masked_summary(
    page, live_portal, demo, kaltura_sandbox, tmp_path
):  # type: ignore[no-untyped-def]
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
    expect(page.get_by_text("Saved. The connection test passed")).to_be_visible()
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

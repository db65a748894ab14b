"""A participant's Account → Integrations page in Chromium: from the Account page to their hub's Kaltura
status, for a member whose user existed and for one who is pending (the article's server token)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import identity_support as ids
from tests.browser.test_members_browser import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings(kaltura_sandbox):  # type: ignore[no-untyped-def]
    kaltura_sandbox.reset()
    return {"KALTURA_SANDBOX_URL": kaltura_sandbox.url}


@pytest.fixture
def connected(app, db, harbour, kaltura_sandbox):  # type: ignore[no-untyped-def]
    ids.connect(app, db, kaltura_sandbox)
    ids.connect(app, db, kaltura_sandbox, slug="harbour", server="articleServerAppToken")


def test_a_participant_finds_their_kaltura_user_from_the_account_page(page, live_portal, connected):  # type: ignore[no-untyped-def]
    # Given Pat, who already has a Kaltura user, signed in
    sign_in(page, live_portal, "pat@northwind.example")

    # When she opens Account and follows her hub's integration link
    page.get_by_role("link", name="Account", exact=True).click()
    expect(page.get_by_role("heading", name="Your hubs")).to_be_visible()
    page.get_by_role("link", name="Integration status in Northwind Studios").click()

    # Then her Kaltura user id, that it existed, and what she owns and can use are shown
    expect(page.get_by_role("heading", name="Kaltura in Northwind Studios")).to_be_visible()
    expect(page.locator("#integration-badge")).to_have_text("On")
    expect(page.locator("#kaltura-user-id")).to_have_text("pat@northwind.example")
    expect(page.locator("#identity-state")).to_contain_text("already existed")
    expect(page.locator("#owned-count")).to_have_text(re.compile(r"^[1-9][\d,]*$"))
    expect(page.locator("#usable-count")).to_have_text(re.compile(r"^[1-9][\d,]*$"))
    expect(page.locator("#checked-at time")).to_be_visible()
    assert page.console_errors == []


def test_a_pending_participant_is_told_what_happens_and_can_go_back(page, live_portal, connected):  # type: ignore[no-untyped-def]
    sign_in(page, live_portal, "hana@harbour.example")
    page.goto(f"{live_portal}/account")
    page.get_by_role("link", name="Integration status in Harbour Lab").click()
    expect(page.locator("#identity-state")).to_have_text("Your Kaltura user will be created on your first upload.")
    problem = page.locator("#integration-problem")
    expect(problem).to_contain_text("Kaltura will create your user the first time you upload")
    expect(problem).to_contain_text("What to do: Nothing: upload as usual.")
    expect(page.locator("#admin-advice")).to_have_count(0)
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Account").click()
    expect(page).to_have_url(f"{live_portal}/account")
    assert page.console_errors == []

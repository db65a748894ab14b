"""The support dashboard in Chromium: filter by problem and sort without a reload, with the URL kept
shareable, then on to a hub's status page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.hubs.services import create_hub
from portal.models import Hub, KalturaConnection, Plan
from tests.browser.test_members_browser import sign_in
from tests.functional.test_authorization import CLOSED_PORT, _connect_without_network

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings():  # type: ignore[no-untyped-def]
    # The hubs' saved service: nothing listens there, so "Check now" runs and fails at once.
    return {"KALTURA_SANDBOX_URL": CLOSED_PORT}


def _arrange(app, db):  # type: ignore[no-untyped-def]
    create_hub(db, name="Alpha Academy", slug="alpha", plan=Plan.ENTERPRISE)
    for slug in ("northwind", "alpha"):
        _connect_without_network(app, db, db.scalar(sa.select(Hub).where(Hub.slug == slug)))
    for slug, status in (("northwind", "fail"), ("alpha", "pass")):
        connection = db.scalar(sa.select(KalturaConnection).join(Hub).where(Hub.slug == slug))
        connection.last_check = [{"key": "service", "status": status, "title": "Kaltura answers", "detail": "d"}]
        connection.last_checked_at = datetime.now(UTC)
    db.commit()


def rows(page):  # type: ignore[no-untyped-def]
    return page.locator("#hub-table tbody tr")


def test_support_filters_and_sorts_the_dashboard_in_place_then_opens_a_status_page(page, live_portal, app, db, demo):  # type: ignore[no-untyped-def]
    # Given three hubs: Northwind failing, Alpha healthy, Riverside not connected
    _arrange(app, db)
    sign_in(page, live_portal, "sue@support.example")

    # When support opens the dashboard from the top bar
    page.get_by_role("link", name="Support", exact=True).click()
    expect(page.get_by_role("heading", name="Support dashboard")).to_be_visible()
    expect(rows(page)).to_have_count(3)
    expect(rows(page).first).to_have_attribute("data-hub", "northwind")  # most urgent first
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    # And shows only the failing hubs
    page.get_by_label("Show").select_option("failing")

    # Then the table is swapped in place, the URL says what is shown
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Northwind Studios")
    expect(page).to_have_url(re.compile(r"/support\?problem=failing"))
    assert page.evaluate("window.__sameDocument") is True

    # When she clears the filter and sorts by name with the column header
    page.get_by_role("link", name="Clear").click()
    expect(rows(page)).to_have_count(3)
    page.locator("a[data-sort=name]").click()
    expect(page.locator("#hub-table th[aria-sort]")).to_contain_text("Hub")
    expect(rows(page).nth(0)).to_have_attribute("data-hub", "alpha")
    expect(rows(page).nth(1)).to_have_attribute("data-hub", "northwind")
    expect(rows(page).nth(2)).to_have_attribute("data-hub", "riverside")
    expect(page).to_have_url(re.compile(r"sort=name"))

    # And opens Northwind's status page from its row
    rows(page).nth(1).get_by_role("link", name="Status").click()
    expect(page.get_by_role("heading", name="Kaltura integration status")).to_be_visible()
    expect(page.locator("#status-figures [data-health]")).to_have_text("Failing")
    expect(page.get_by_role("link", name="Download the diagnostic bundle (JSON)")).to_be_visible()

    # And "Check now" runs the live checks and swaps fresh figures in, without a reload
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Check now").click()
    expect(page.locator("#status-notice")).to_have_text("Checked just now: the figures below are fresh.")
    expect(page.locator("#status-notice")).to_be_focused()
    expect(page.locator("#last-check")).to_contain_text("Could not connect to Kaltura")
    assert page.evaluate("window.__sameDocument") is True
    assert page.console_errors == []


def test_a_keyboard_user_keeps_the_focus_on_the_filter_that_swapped_the_table(page, live_portal, app, db, demo):  # type: ignore[no-untyped-def]
    # The filter submits itself on change and the swap replaces the form: the focus must come back to
    # the same select (not fall to <body>, sending the next Tab to the top of the page).
    _arrange(app, db)
    sign_in(page, live_portal, "sue@support.example")
    page.goto(live_portal + "/support")
    page.get_by_label("Show").focus()

    page.keyboard.press("ArrowDown")  # "Every hub" -> the next problem, swapped in place

    expect(page).to_have_url(re.compile(r"/support\?problem="))
    expect(page.get_by_label("Show")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Sort by")).to_be_focused()

"""The demo admin adds a member in a real browser; the list updates without a page reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My hubs")).to_be_visible()


def test_admin_adds_a_member_without_a_reload_then_signs_out(page, live_portal, demo, tmp_path):  # type: ignore[no-untyped-def]
    # Given the demo admin signed in, on the Members tab of her hub
    sign_in(page, live_portal, "ada@northwind.example")
    page.get_by_role("link", name="Northwind Studios").click()
    page.get_by_role("link", name="Hub settings").click()
    page.get_by_role("link", name="Members").click()
    expect(page.locator("#member-list tbody tr")).to_have_count(3)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    # When she adds Nina as a participant
    page.get_by_label("Email").fill("nina@northwind.example")
    page.get_by_role("button", name="Add member").click()

    # Then the list shows Nina, the page was not reloaded, and the form is empty again
    expect(page.locator("#member-list")).to_contain_text("nina@northwind.example")
    expect(page.locator("#member-list tbody tr")).to_have_count(4)
    expect(page.locator("#members-panel")).to_contain_text("Added Nina Newcomer as participant.")
    # The page's one live region (outside the swapped panel) reads the notice out.
    expect(page.get_by_role("status")).to_have_text("Added Nina Newcomer as participant.")
    assert page.evaluate("window.__sameDocument") is True
    expect(page.get_by_label("Email")).to_have_value("")

    # And a mistake shows a field error in place
    page.get_by_label("Email").fill("nina@northwind.example")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("#email-errors")).to_contain_text("already a member of this hub")
    assert page.evaluate("window.__sameDocument") is True
    page.screenshot(path=str(tmp_path / "members.png"), full_page=True)

    # When she signs out, she is back at the sign-in page and hub pages need signing in again
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{live_portal}/hubs/northwind/settings/members")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    # The 422 of the deliberate mistake is the only failed load the browser reports.
    assert [e for e in page.console_errors if "422" not in e] == []

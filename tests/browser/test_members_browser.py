"""The Members tab in Chromium: inviting without a reload, where the focus goes after each swap, phones.

Focus is checked the way a keyboard or screen-reader user meets it: which element is
``document.activeElement`` once the swap has settled, and what the page's live region says.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM_ARGS  # noqa: F401  (the same browser set-up)

pytestmark = pytest.mark.browser

MEMBERS = "/hubs/northwind/settings/members"


def sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile(r"(My|All) hubs"))).to_be_visible()


def focused(page) -> str:  # type: ignore[no-untyped-def]
    """The focused element, as ``tag#id`` (what a test can compare)."""
    return page.evaluate("() => document.activeElement.tagName.toLowerCase() + '#' + document.activeElement.id")


def member_row(page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("#member-list tr", has_text=name)


def test_admin_invites_without_a_reload_with_focus_back_in_the_email_field(page, live_portal, demo, tmp_path):  # type: ignore[no-untyped-def]
    # Given the demo admin signed in, on the Members tab of her hub
    sign_in(page, live_portal, "ada@northwind.example")
    page.get_by_role("link", name="Northwind Studios").click()
    page.get_by_role("link", name="Hub settings").click()
    page.get_by_role("link", name="Members").click()
    expect(page.locator("#member-list tbody tr")).to_have_count(3)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    # When she invites Nina as a participant
    page.get_by_label("Email").fill("nina@northwind.example")
    page.get_by_role("button", name="Invite").click()

    # Then Nina is listed as invited, the page was not reloaded, and the empty email field has the focus
    expect(page.locator(".invitation-list")).to_contain_text("nina@northwind.example")
    expect(page.locator("#member-list tbody tr")).to_have_count(3)  # a member only once she accepts
    expect(page.get_by_role("status")).to_contain_text("Invited nina@northwind.example as participant.")
    assert page.evaluate("window.__sameDocument") is True
    expect(page.get_by_label("Email")).to_have_value("")
    expect(page.get_by_label("Email")).to_be_focused()

    # And a mistake shows a field error in place, with the focus on the field
    page.get_by_label("Email").fill("pat@")
    page.keyboard.press("Enter")
    expect(page.locator("#email-errors")).to_contain_text("“pat@” has nothing after the @.")
    expect(page.get_by_label("Email")).to_be_focused()
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("window.__sameDocument") is True
    page.screenshot(path=str(tmp_path / "members.png"), full_page=True)

    # When she signs out, hub pages need signing in again
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{live_portal}{MEMBERS}")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    # The 422 of the deliberate mistake is the only failed load the browser reports.
    assert [e for e in page.console_errors if "422" not in e] == []


def test_focus_after_changing_a_role_and_after_a_refused_change(page, live_portal, demo):  # type: ignore[no-untyped-def]
    sign_in(page, live_portal, "ada@northwind.example")
    page.goto(f"{live_portal}{MEMBERS}")

    # Changing Sam's role keeps the focus on Sam's role control, and the change is read out
    sam = member_row(page, "Sam Sample")
    sam.get_by_label("Role of Sam Sample").select_option("admin")
    sam.get_by_role("button", name="Change role of Sam Sample").click()
    expect(page.get_by_role("status")).to_have_text("Sam Sample is now hub admin.")
    expect(page.get_by_label("Role of Sam Sample")).to_be_focused()

    # "Change" without changing says so
    member_row(page, "Sam Sample").get_by_role("button", name="Change role of Sam Sample").click()
    expect(page.get_by_role("status")).to_have_text("Sam Sample already is hub admin; nothing changed.")
    expect(page.get_by_label("Role of Sam Sample")).to_be_focused()

    # Back to participant, then Ada tries to demote herself, the only admin: the error is on her row
    member_row(page, "Sam Sample").get_by_label("Role of Sam Sample").select_option("participant")
    member_row(page, "Sam Sample").get_by_role("button", name="Change role of Sam Sample").click()
    expect(page.get_by_role("status")).to_have_text("Sam Sample is now participant.")
    ada = member_row(page, "Ada Admin")
    ada.get_by_label("Role of Ada Admin").select_option("participant")
    ada.get_by_role("button", name="Change role of Ada Admin").click()
    expect(member_row(page, "Ada Admin").get_by_role("alert")).to_contain_text("hub's only admin")
    expect(page.get_by_label("Role of Ada Admin")).to_be_focused()
    expect(page.get_by_label("Role of Ada Admin")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#members-panel > .flash-error")).to_have_count(0)  # not at the top of the panel


def test_focus_after_removing_a_member_goes_to_the_list_heading(page, live_portal, demo):  # type: ignore[no-untyped-def]
    sign_in(page, live_portal, "ada@northwind.example")
    page.goto(f"{live_portal}{MEMBERS}")
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm asks first

    member_row(page, "Sam Sample").get_by_role("button", name="Remove Sam Sample").click()

    expect(page.locator("#member-list tbody tr")).to_have_count(2)
    expect(page.get_by_role("status")).to_have_text("Removed Sam Sample from the hub.")
    expect(page.get_by_role("heading", name=re.compile("^Members"))).to_be_focused()
    assert focused(page) == "h2#members-heading"


def test_the_invited_person_accepts_on_their_account_page(page, live_portal, demo, browser):  # type: ignore[no-untyped-def]
    sign_in(page, live_portal, "ada@northwind.example")
    page.goto(f"{live_portal}{MEMBERS}")
    page.get_by_label("Email").fill("rita@riverside.example")
    page.get_by_label("Role", exact=True).select_option("admin")
    page.get_by_role("button", name="Invite").click()
    expect(page.locator(".invitation-list")).to_contain_text("rita@riverside.example")

    context = browser.new_context(viewport={"width": 1280, "height": 860})
    rita = context.new_page()
    sign_in(rita, live_portal, "rita@riverside.example")
    expect(rita.get_by_text("You have 1 invitation to join a hub.")).to_be_visible()
    rita.get_by_role("link", name="Answer it on your Account page").click()
    rita.get_by_role("button", name="Accept the invitation to Northwind Studios").click()
    expect(rita.get_by_role("status")).to_have_text("You joined Northwind Studios as hub admin.")
    expect(rita.locator("#invitations-panel")).to_contain_text("Northwind Studios")
    context.close()

    page.reload()
    expect(page.locator("#member-list")).to_contain_text("rita@riverside.example")
    expect(page.locator(".invitation-list")).to_have_count(0)


PAGES_AT_390 = [
    ("ada@northwind.example", MEMBERS),
    ("ada@northwind.example", "/"),
    ("ada@northwind.example", "/hubs/northwind"),
    ("ada@northwind.example", "/hubs/northwind/settings"),
    ("ada@northwind.example", "/hubs/northwind/settings/audit"),
    ("ada@northwind.example", "/account"),
    ("sue@support.example", "/"),
    ("sue@support.example", "/audit"),
    ("sue@support.example", MEMBERS),
    ("sue@support.example", "/hubs/nowhere"),
    ("nina@northwind.example", "/account"),
]


def test_at_390_px_members_are_cards_and_no_page_scrolls_sideways(browser, live_portal, demo, tmp_path):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    for path in ("/sign-in", "/no-such-page"):
        page.goto(f"{live_portal}{path}")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, path
    signed_in_as = None
    for email, path in PAGES_AT_390:
        if email != signed_in_as:
            context.clear_cookies()
            sign_in(page, live_portal, email)
            signed_in_as = email
        page.goto(f"{live_portal}{path}")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"{path} as {email} is {width} px wide at a 390 px viewport"

    # The Members tab as its admin: each member is a card, and every action is on screen
    context.clear_cookies()
    sign_in(page, live_portal, "ada@northwind.example")
    page.goto(f"{live_portal}{MEMBERS}")
    page.screenshot(path=str(tmp_path / "members-390.png"), full_page=True)
    rows = page.locator("#member-list tbody tr")
    expect(rows).to_have_count(3)
    for index in range(3):
        assert rows.nth(index).evaluate("row => getComputedStyle(row).display") == "block"
    for button in page.get_by_role("button", name=re.compile("^(Remove|Change)")).all():
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    # and they still work there: remove Sam from his card
    page.on("dialog", lambda dialog: dialog.accept())
    member_row(page, "Sam Sample").get_by_role("button", name="Remove Sam Sample").click()
    expect(rows).to_have_count(2)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    context.close()

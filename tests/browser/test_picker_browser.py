"""The picker in Chromium on a real cross-site setup: the host application (the demo host) on
``127.0.0.1``, the portal on ``localhost``, Kaltura the sandbox process (../shared/TESTING.md)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from demo_host import create_host_app
from portal.embed import services as embed_services
from portal.kaltura.media import MediaQuery
from portal.kaltura.types import MediaType
from portal.models import AuditEvent, LibraryItem
from tests import picker_support as ps

pytestmark = pytest.mark.browser


class _Server:
    """A WSGI app on a free loopback port, in a thread of this process."""

    def __init__(self, app, host: str = "127.0.0.1") -> None:  # type: ignore[no-untyped-def]
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()


class SlowSearches:
    """Middleware: answers the picker's search for ``q`` (exactly) only after ``delay`` seconds, so a
    test can show that an older, slower answer never replaces a newer one."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.slow: dict[str, float] = {}
        self.searches: list[str] = []

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        if environ["PATH_INFO"] == "/embed/picker/media":
            q = parse_qs(environ.get("QUERY_STRING", "")).get("q", [""])[0]
            self.searches.append(q)
            if q in self.slow:
                time.sleep(self.slow[q])
        return self.app(environ, start_response)


@pytest.fixture
def sandbox(kaltura_sandbox):  # type: ignore[no-untyped-def]
    kaltura_sandbox.reset()
    return kaltura_sandbox


@pytest.fixture
def app_settings(sandbox):  # type: ignore[no-untyped-def]
    return {"KALTURA_SANDBOX_URL": sandbox.url, "KALTURA_TIMEOUT": 5.0}


@pytest.fixture
def slow(app):  # type: ignore[no-untyped-def]
    return SlowSearches(app.wsgi_app)


@pytest.fixture
def portal(app, slow) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The portal as browsers reach it from the host: on ``localhost`` (another site than 127.0.0.1)."""
    app.wsgi_app = slow
    server = _Server(app, host="localhost")
    yield server.url
    server.stop()


@pytest.fixture
def setup(app, db, demo, sandbox, portal):  # type: ignore[no-untyped-def]
    """The hub connected to the sandbox, a launch secret, and the demo host allowed to embed it."""
    ps.connect(app, db, sandbox)
    target = ps.hub(db)
    created = embed_services.new_secret(
        db, hub=target, keyring=app.extensions["kaltura_vault"].keyring, actor=None, grace=timedelta(hours=1)
    )
    hosts = []

    def host(allowed: bool = True) -> str:
        server = _Server(create_host_app(portal_url=portal, hub="northwind", secret=created.secret, kid=created.kid))
        hosts.append(server)
        if allowed:
            embed_services.add_origin(db, hub=target, origin=server.url, actor=None)
        return server.url

    yield host
    for server in hosts:
        server.stop()


@pytest.fixture
def cookies_set(page):  # type: ignore[no-untyped-def]
    """Every Set-Cookie header the browser receives from the portal's picker routes."""
    seen: list[str] = []

    def check(response):  # type: ignore[no-untyped-def]
        if "/embed/picker" in response.url and "set-cookie" in response.all_headers():
            seen.append(response.url)

    page.on("response", check)
    return seen


def _open(page, host_url: str):  # type: ignore[no-untyped-def]
    page.goto(host_url)
    frame = page.frame_locator("#kaltura-picker")
    frame.get_by_role("listbox", name="Kaltura media").wait_for(timeout=20000)
    frame.locator("#picker[data-ready]").wait_for(timeout=20000)  # the scripts have wired the page
    return frame


def _options(frame):  # type: ignore[no-untyped-def]
    return frame.get_by_role("listbox", name="Kaltura media").get_by_role("option")


def _summary(frame) -> str:  # type: ignore[no-untyped-def]
    return frame.locator("#picker-summary").inner_text()


def _wait_summary(frame, text: str) -> None:  # type: ignore[no-untyped-def]
    try:
        frame.locator("#picker-summary", has_text=text).wait_for(timeout=15000)
    except Exception:
        raise AssertionError(f"the summary says {_summary(frame)!r}, not {text!r}") from None


def test_the_picker_launches_cross_site_and_sets_no_cookie(page, setup, portal, cookies_set):  # type: ignore[no-untyped-def]
    frame = _open(page, setup())

    assert _options(frame).count() == 24
    assert "1–24 of" in _summary(frame)
    picker = page.frame(name="kaltura-picker")
    assert picker.url.startswith(portal)  # really the other site
    assert picker.evaluate("document.cookie") == ""
    assert page.context.cookies() == []
    assert cookies_set == []
    # The accessibility contract integrators rely on.
    assert frame.get_by_role("searchbox", name="Search Kaltura media").count() == 1
    listbox = frame.get_by_role("listbox", name="Kaltura media")
    assert listbox.get_attribute("aria-multiselectable") == "true"
    first = _options(frame).first
    name = first.locator(".media-name").inner_text()
    assert first.get_attribute("aria-selected") == "false"
    assert frame.get_by_role("option", name=name).first.count() == 1  # the accessible name starts with it
    assert frame.get_by_role("navigation", name="Pages").count() == 1
    assert frame.get_by_role("button", name="Add to library").is_disabled()
    assert page.console_errors == []


def test_search_as_you_type_with_an_older_slower_answer_never_winning(page, setup, slow):  # type: ignore[no-untyped-def]
    frame = _open(page, setup())
    slow.slow["har"] = 2.5  # the first search will answer last
    box = frame.get_by_role("searchbox", name="Search Kaltura media")

    box.press_sequentially("har", delay=30)
    deadline = time.monotonic() + 10
    while "har" not in slow.searches and time.monotonic() < deadline:
        time.sleep(0.05)  # after the 300 ms pause "har" is sent, and stalls in the portal
    assert "har" in slow.searches
    box.press_sequentially("bour", delay=30)  # within 300 ms per key: one more search only
    _wait_summary(frame, "for “harbour”")
    time.sleep(2.6)  # the stale "har" answer has had time to arrive

    assert "for “harbour”" in _summary(frame)
    names = [n.lower() for n in _options(frame).locator(".media-name").all_inner_texts()]
    assert names and all("harbour" in n for n in names)
    # Debounced: seven keystrokes, not seven searches ("har", then "harbour"; a loaded machine may
    # let a pause slip in between keys).
    assert slow.searches[-1] == "harbour" and len(slow.searches) <= 4
    assert box.input_value() == "harbour"


def test_filter_sort_and_page(app, page, sandbox, setup):  # type: ignore[no-untyped-def]
    frame = _open(page, setup())

    with page.expect_response(lambda r: "/embed/picker/media?" in r.url and "type=image" in r.url):
        frame.get_by_label("Type").select_option("image")
    page.wait_for_timeout(100)  # the swap follows the response
    metas = frame.locator(".media-meta").all_inner_texts()
    assert metas and all(m.startswith("Image") for m in metas)

    with page.expect_response(lambda r: "/embed/picker/media?" in r.url and "sort=name" in r.url):
        frame.get_by_label("Sort").select_option("name")
    page.wait_for_timeout(100)
    shown = [o.get_attribute("data-entry-id") for o in _options(frame).all()]
    query = MediaQuery(order_by="+name", media_types=(MediaType.IMAGE,))
    assert shown == [e.id for e in ps.direct(app, sandbox, "pat@northwind.example", query).entries]

    frame.get_by_role("navigation", name="Pages").get_by_role("link", name="2", exact=True).click()
    _wait_summary(frame, "25–")
    assert frame.get_by_label("Type").input_value() == "image"  # the controls keep their state
    assert frame.get_by_label("Sort").input_value() == "name"
    focused = frame.locator(":focus")
    assert focused.get_attribute("role") == "option"  # paging moves the focus to the first result


def test_keyboard_selection(page, setup):  # type: ignore[no-untyped-def]
    frame = _open(page, setup())
    options = _options(frame)
    options.first.focus()

    page.keyboard.press("ArrowRight")
    assert options.nth(1).evaluate("el => el === document.activeElement")
    page.keyboard.press("Space")
    assert options.nth(1).get_attribute("aria-selected") == "true"
    columns = frame.locator("#picker-listbox").evaluate(
        "box => { const o = box.querySelectorAll('[role=option]'); let n = 0;"
        " while (n < o.length && o[n].offsetTop === o[0].offsetTop) n++; return n; }"
    )
    page.keyboard.press("ArrowDown")
    assert options.nth(1 + columns).evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    assert options.nth(1 + columns).get_attribute("aria-selected") == "true"
    assert frame.get_by_role("button", name="Add 2 items to library").is_enabled()
    page.keyboard.press("Enter")  # toggles off again
    assert options.nth(1 + columns).get_attribute("aria-selected") == "false"
    page.keyboard.press("Home")
    page.keyboard.press("Space")
    assert frame.locator("#tray-count").inner_text() == "2"

    page.keyboard.press("Escape")

    assert frame.locator('[role="option"][aria-selected="true"]').count() == 0
    assert frame.locator("#tray-count").inner_text() == "0"
    assert frame.get_by_role("button", name="Add to library").is_disabled()


def test_multi_select_import_reaches_the_host_from_the_right_origin(page, db, setup, portal):  # type: ignore[no-untyped-def]
    host = setup()
    frame = _open(page, host)
    options = _options(frame)
    picked = [options.nth(i).get_attribute("data-entry-id") for i in (0, 3, 5)]
    for i in (0, 3, 5):
        options.nth(i).click()
    # The selection survives a page change.
    frame.get_by_role("navigation", name="Pages").get_by_role("link", name="2", exact=True).click()
    _wait_summary(frame, "25–48")
    _options(frame).first.click()
    picked.append(_options(frame).first.get_attribute("data-entry-id"))
    assert frame.locator("#tray-list li").count() == 4

    frame.get_by_role("button", name="Add 4 items to library").click()

    page.locator("#received li").nth(3).wait_for(timeout=15000)
    received = page.locator("#received li")
    assert [received.nth(i).get_attribute("data-entry-id") for i in range(4)] == picked
    assert {received.nth(i).get_attribute("data-origin") for i in range(4)} == {portal}
    db.expire_all()
    assert [i.entry_id for i in db.scalars(sa.select(LibraryItem).order_by(LibraryItem.id))] == picked
    assert frame.locator("#tray-count").inner_text() == "0"
    assert "Added 4 items to the library." in frame.locator("#picker-import-result").inner_text()


def test_a_host_not_in_the_list_cannot_frame_the_picker(page, db, setup, portal):  # type: ignore[no-untyped-def]
    stranger = setup(allowed=False)
    page.goto(stranger)
    page.wait_for_timeout(2500)

    frame = page.frame(name="kaltura-picker")
    assert frame is not None
    assert not frame.url.startswith(portal)  # Chromium blocked it (frame-ancestors 'none'): an error page
    assert frame.locator('[role="listbox"]').count() == 0
    db.expire_all()
    refusal = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "embed.launch_refused"))
    assert refusal is not None and "not in the hub's allowed origins" in refusal.details["detail"]
    assert refusal.details["request_origin"] == stranger


def test_the_media_library_opens_the_picker_through_the_same_launch(page, db, setup, portal):  # type: ignore[no-untyped-def]
    setup()
    failed: list[str] = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    page.goto(f"{portal}/sign-in")
    page.get_by_label("Email").fill("pat@northwind.example")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="My hubs").wait_for()
    page.goto(f"{portal}/hubs/northwind/library")

    page.get_by_role("button", name="From Kaltura").click()
    frame = page.frame_locator("#kaltura-picker")
    frame.get_by_role("listbox", name="Kaltura media").wait_for(timeout=20000)
    frame.locator("#picker[data-ready]").wait_for(timeout=20000)
    first = frame.get_by_role("listbox", name="Kaltura media").get_by_role("option").first
    name = first.locator(".media-name").inner_text()
    first.click()
    frame.get_by_role("button", name="Add 1 item to library").click()

    page.locator("#library-items .media-name", has_text=name).wait_for(timeout=15000)
    assert page.locator("#library-count .count").inner_text() == "1"
    launch = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "embed.launch"))
    assert launch.details["origin"] == portal  # the portal itself is the host here
    assert [url for url in failed if url.startswith(portal)] == []
    # The preview may try a flavor file the sandbox's seeded entries do not have (Kaltura's 404,
    # handled by hiding the player); nothing else may fail.
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []

"""postMessage between the picker and its host (reference/security.md §7.8), in Chromium on the real
cross-site setup: the host page (the demo host, which follows docs/embedding.md) accepts a message
only from the portal's origin, from its own picker iframe, and with the documented shape."""

from __future__ import annotations

import pytest

from tests import picker_support as ps
from tests.browser.test_picker_browser import _open, app_settings, portal, sandbox, setup, slow  # noqa: F401

pytestmark = pytest.mark.browser


def _message(entry_id: str, **changes: object) -> dict[str, object]:
    message: dict[str, object] = {
        "type": "kaltura-hub-portal:picked",
        "version": 1,
        "hub": "northwind",
        "items": [{"entryId": entry_id, "name": "Forged", "mediaType": "video", "is360": False, "libraryItemId": 1}],
    }
    message.update(changes)
    return message


POST = "message => window.parent.postMessage(message, '*')"
SECOND_FRAME = """({action, token}) => {
  const frame = document.createElement("iframe");
  frame.name = frame.id = "second-frame";
  document.body.appendChild(frame);
  const form = document.createElement("form");
  form.method = "post"; form.action = action; form.target = "second-frame";
  const input = document.createElement("input");
  input.type = "hidden"; input.name = "launch_token"; input.value = token;
  form.appendChild(input); document.body.appendChild(form); form.submit();
}"""


def test_the_host_ignores_messages_from_anyone_but_its_picker(page, setup, portal):  # noqa: F811  # type: ignore[no-untyped-def]
    host = setup()
    _open(page, host)
    picker = page.frame(name="kaltura-picker")
    assert picker is not None and picker.url.startswith(portal)

    # The host page itself (another origin, another window): a script injected into the host.
    page.evaluate("message => window.postMessage(message, '*')", _message("from_the_host"))
    # Another frame on the portal's own origin (a refused launch, which the portal lets this host
    # frame so it can explain itself): the right origin, but not the picker's window.
    forged = ps.sign("not-the-hub-secret", {"hub": "northwind", "email": "pat@northwind.example", "origin": host})
    page.evaluate(SECOND_FRAME, {"action": f"{portal}/embed/picker", "token": forged})
    page.frame_locator("#second-frame").locator("#picker-refused").wait_for(timeout=10000)
    second = page.frame(name="second-frame")
    assert second is not None and second.url.startswith(portal)
    second.evaluate(POST, _message("from_another_portal_frame"))
    # The picker iframe itself, but a message that is not the documented shape.
    picker.evaluate(POST, _message("wrong_version", version=2))
    picker.evaluate(POST, _message("bad_items", items=[{"entryId": "x", "mediaType": "executable"}]))
    picker.evaluate(POST, {"type": "something-else", "items": []})
    # And the one that counts: from the picker iframe, on the portal's origin, well formed.
    picker.evaluate(POST, _message("the_real_one"))

    page.locator("#received li").first.wait_for(timeout=10000)
    received = page.locator("#received li")
    assert received.count() == 1
    assert received.first.get_attribute("data-entry-id") == "the_real_one"
    assert received.first.get_attribute("data-origin") == portal

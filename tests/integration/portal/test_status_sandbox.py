"""The status pages against a real sandbox: viewing costs no Kaltura call, "Check now" does and shows it."""

from __future__ import annotations

import re

from tests import picker_support as ps
from tests.helpers import csrf_token, sign_in

STATUS = "/hubs/northwind/settings/integrations/kaltura/status"


def _figure(text: str, caption: str) -> int:
    match = re.search(caption + r": (\d+) calls?", text)
    assert match, caption
    return int(match.group(1))


def test_viewing_costs_no_kaltura_call_and_check_now_refreshes_the_figures(app, client, db, demo, sandbox):  # type: ignore[no-untyped-def]
    ps.connect(app, db, sandbox)
    sign_in(client, "sue@support.example")
    sandbox.control("calls/reset")

    first = client.get(STATUS).text
    client.get("/support")
    client.get(STATUS + "/bundle.json")
    client.get(STATUS, query_string={"action": "kaltura.save"}, headers={"HX-Request": "true"})

    assert sum(sandbox.calls().values()) == 0  # not one Kaltura call to show any of it
    before = _figure(first, "Last 24 hours")

    fresh = client.post(
        STATUS + "/check", data={"csrf_token": csrf_token(client, STATUS)}, headers={"HX-Request": "true"}
    )

    assert fresh.status_code == 200 and "Checked just now" in fresh.text
    made = sum(sandbox.calls().values())
    assert made >= 6
    assert _figure(fresh.text, "Last 24 hours") == before + made  # every call the check made is counted
    assert 'data-health="connected"' in fresh.text
    assert "makes 4K flavors" in fresh.text.split('id="four-k"')[1]
    # The check minted a fresh session with each saved token; connecting minted two with the pasted ones.
    assert re.search(
        r"Sessions minted</dt><dd>1 with the client token, 2 while testing pasted tokens, 1 with the server token",
        fresh.text,
    )

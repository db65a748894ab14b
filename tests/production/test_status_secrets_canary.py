"""Secrets canary over integration status (issue 10): after real traffic to the sandbox (a connection,
listing, an expired session re-minted, Kaltura errors and transport failures), no status page,
"Check now" fragment, support dashboard, diagnostic bundle, ``portal kaltura diagnostics`` or
``check --all`` output, and no row of the statistics tables holds an App Token secret, a sealed
token, or a Kaltura session (KS)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.kaltura import KalturaUnavailable
from portal.models import Hub, KalturaCallStat, KalturaConnection, KalturaTokenHealth
from tests import picker_support as ps
from tests.helpers import csrf_token, sign_in

PAT = "pat@northwind.example"
STATUS = "/hubs/northwind/settings/integrations/kaltura/status"


@pytest.fixture
def app_settings(sandbox):  # type: ignore[no-untyped-def]
    return {"KALTURA_SANDBOX_URL": sandbox.url, "KALTURA_TIMEOUT": 3.0}


def test_no_secret_on_any_status_page_in_the_bundle_the_cli_or_the_statistics(app, client, db, demo, sandbox):  # type: ignore[no-untyped-def]
    ps.connect(app, db, sandbox)
    hub = db.scalar(sa.select(Hub).where(Hub.slug == "northwind"))
    connection = db.scalar(sa.select(KalturaConnection).where(KalturaConnection.hub_id == hub.id))
    gateway = app.extensions["kaltura"]
    listing = gateway.start_session(connection.service_url, connection.sealed_token("client"), PAT, session_type=0)
    gateway.list_media(connection.service_url, connection.sealed_token("client"), PAT)
    sandbox.control("expire_sessions")  # Kaltura answers INVALID_KS, echoing the session it refused
    gateway.list_media(connection.service_url, connection.sealed_token("client"), PAT)
    sandbox.control("fault", action="media.list", count=3, kind="http_503")
    with pytest.raises(KalturaUnavailable):
        gateway.list_media(connection.service_url, connection.sealed_token("client"), PAT)

    app.extensions["kaltura_recorder"].flush()
    outputs: dict[str, str] = {}
    sign_in(client, "ada@northwind.example")
    outputs["admin status page"] = client.get(STATUS).text
    outputs["check now"] = client.post(
        STATUS + "/check", data={"csrf_token": csrf_token(client, STATUS)}, headers={"HX-Request": "true"}
    ).text
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(client, "sue@support.example")
    outputs["support status page"] = client.get(STATUS).text
    outputs["support dashboard"] = client.get("/support").text
    outputs["bundle"] = client.get(STATUS + "/bundle.json").text
    runner = app.test_cli_runner()
    outputs["cli diagnostics"] = runner.invoke(args=["kaltura", "diagnostics", "northwind"]).output
    outputs["cli check --all"] = runner.invoke(args=["kaltura", "check", "--all", "--json"]).output

    bundle = json.loads(outputs["bundle"])
    assert bundle["calls"]["last24h"]["total"] > 0  # real traffic was recorded
    assert any(e["code"] == "INVALID_KS" for e in bundle["recentErrors"])
    assert any(e["code"] == "http_status/503" for e in bundle["recentErrors"])
    assert connection.client_token_info["id"] in outputs["admin status page"]  # public token ids are shown

    db.expire_all()
    statistics = json.dumps(
        [[str(v) for v in row] for row in db.execute(sa.select(KalturaCallStat.__table__))]
        + [[str(v) for v in row] for row in db.execute(sa.select(KalturaTokenHealth.__table__))]
    )
    canaries = {
        "client App Token": sandbox.credentials["clientAppToken"]["token"],
        "server App Token": sandbox.credentials["serverAppToken"]["token"],
        "sealed client token": connection.client_token_sealed,
        "sealed server token": connection.server_token_sealed,
        "KS": listing.ks,
        "end of the KS": listing.ks[-40:],
    }
    for name, secret in canaries.items():
        assert secret not in statistics, f"the statistics tables hold the {name}"
        for where, text in outputs.items():
            assert text, f"{where} is empty"
            assert secret not in text, f"the {where} shows the {name}"

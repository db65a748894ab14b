"""`portal kaltura identity SLUG EMAIL [--json]` against the sandbox."""

from __future__ import annotations

import json

from portal.models import IdentityState
from tests import identity_support as ids


def test_identity_prints_the_link_provisioning_it_first(app, db, demo, sandbox):
    ids.connect(app, db, sandbox)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["kaltura", "identity", "northwind", "Sam@Northwind.example", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert set(record) == {"hub", "email", "kalturaUserId", "state", "linkedAt", "verifiedAt"}
    assert record["hub"] == "northwind" and record["email"] == "sam@northwind.example"
    assert (record["kalturaUserId"], record["state"]) == ("sam@northwind.example", "created")
    assert ids.kaltura_user(sandbox, "sam@northwind.example") is not None
    link = ids.link(db, "northwind", "sam@northwind.example")
    assert record["linkedAt"] == link.linked_at.isoformat()

    again = runner.invoke(args=["kaltura", "identity", "northwind", "sam@northwind.example"])
    assert again.exit_code == 0 and "created" in again.output and "kalturaUserId" in again.output
    assert ids.link(db, "northwind", "sam@northwind.example").state is IdentityState.CREATED


def test_identity_refuses_a_non_member_an_unknown_hub_and_an_unconnected_hub(app, db, demo, sandbox):
    ids.connect(app, db, sandbox)
    runner = app.test_cli_runner()
    outsider = runner.invoke(args=["kaltura", "identity", "northwind", "rita@riverside.example"])
    assert outsider.exit_code != 0 and "rita@riverside.example is not a member of the hub Northwind Studios" in (
        outsider.output
    )
    stranger = runner.invoke(args=["kaltura", "identity", "northwind", "nobody@nowhere.example"])
    assert stranger.exit_code != 0 and "not a member" in stranger.output
    unknown = runner.invoke(args=["kaltura", "identity", "atlantis", "pat@northwind.example"])
    assert unknown.exit_code != 0 and "No hub has the slug 'atlantis'" in unknown.output
    unconnected = runner.invoke(args=["kaltura", "identity", "riverside", "pat@northwind.example", "--json"])
    assert unconnected.exit_code != 0 and "not connected to Kaltura" in unconnected.output
    assert ids.link(db, "riverside", "pat@northwind.example") is None


def test_identity_reports_pending_for_the_article_token(app, db, harbour, sandbox):
    ids.connect(app, db, sandbox, slug="harbour", server="articleServerAppToken")
    result = app.test_cli_runner().invoke(args=["kaltura", "identity", "harbour", "hana@harbour.example", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["state"] == "pending"
    secrets = [sandbox.credentials[k]["token"] for k in ("clientAppToken", "articleServerAppToken")]
    assert not any(secret in result.output for secret in secrets)

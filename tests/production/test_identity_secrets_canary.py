"""Secrets canary over the identity pages (issue 10): after members are linked (existed, created,
pending), their account pages, the member table, the mapping preview, a move confirmation, support's
email page and `portal kaltura identity` are viewed, no page, fragment, command output, database byte
or log line holds an App Token, the admin secret or a Kaltura session (KS) the portal used."""

from __future__ import annotations

import json
import logging

import pytest

from portal.kaltura import parse_app_token
from portal.models import KalturaConnection, UserIdMode
from tests import identity_support as ids
from tests.helpers import sign_in
from tests.production.test_secrets_canary import _database_bytes


@pytest.fixture
def app_settings(sandbox):  # type: ignore[no-untyped-def]
    return {"KALTURA_SANDBOX_URL": sandbox.url, "LOG_LEVEL": "DEBUG"}


def test_no_secret_on_identity_pages_outputs_database_or_logs(app, db, harbour, sandbox, caplog, database_url):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    ids.connect(app, db, sandbox)
    ids.connect(app, db, sandbox, slug="harbour", server="articleServerAppToken")
    pages: list[str] = []

    def visit(email: str, *urls: str, htmx: bool = False) -> None:
        client = app.test_client()
        sign_in(client, email)
        for url in urls:
            response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
            assert response.status_code in (200, 404), (url, response.status_code)
            pages.append(response.text)

    visit("pat@northwind.example", "/account", "/account/integrations/northwind")
    visit("sam@northwind.example", "/account/integrations/northwind")
    visit("hana@harbour.example", "/account/integrations/harbour")
    visit("ada@northwind.example", "/account", "/account/integrations/northwind", "/account/integrations/harbour")
    kaltura_tab = "/hubs/{}/settings/integrations/kaltura"
    for slug in ("northwind", "harbour"):
        base = kaltura_tab.format(slug)
        visit("ada@northwind.example", base, f"{base}/identities", f"{base}/mapping-preview")
        visit("ada@northwind.example", f"{base}/mapping-preview?user_id_mode=email_prefix", htmx=True)
        visit(
            "sue@support.example",
            f"{base}/identities",
            f"{base}/mapping-preview?user_id_mode=custom&custom_rule={{local}}.x",
        )
    # Drift, so that a move confirmation exists to be viewed.
    connection = db.query(KalturaConnection).filter_by(hub_id=ids.hub(db).id).one()
    connection.user_id_mode = UserIdMode.EMAIL_PREFIX
    db.commit()
    sam = ids.user(db, "sam@northwind.example")
    visit("ada@northwind.example", f"{kaltura_tab.format('northwind')}/identities/{sam.id}/move")
    visit("sue@support.example", f"/support/users/{sam.id}/email")
    runner = app.test_cli_runner()
    for slug, email in (("northwind", "pat@northwind.example"), ("harbour", "ada@northwind.example")):
        result = runner.invoke(args=["kaltura", "identity", slug, email, "--json"])
        assert result.exit_code == 0, result.output
        pages.append(result.output)

    gateway = app.extensions["kaltura"]
    sessions = []
    for key, user in (
        ("clientAppToken", "pat@northwind.example"),
        ("serverAppToken", None),
        ("articleServerAppToken", None),
    ):
        token, _ = parse_app_token(json.dumps(sandbox.credentials[key]), "server" if user is None else "client")
        sessions.append(gateway.start_session(sandbox.url, token, user).ks)  # the cached sessions the pages used
    canaries = {
        "client App Token": sandbox.credentials["clientAppToken"]["token"],
        "server App Token": sandbox.credentials["serverAppToken"]["token"],
        "article server App Token": sandbox.credentials["articleServerAppToken"]["token"],
        "admin secret": sandbox.credentials["adminSecret"],
        **{f"KS {number}": ks for number, ks in enumerate(sessions)},
    }
    dump = _database_bytes(database_url, db)
    logs = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert "kaltura session minted" in logs and "user.add" in logs  # the logs were captured at all
    assert any("will be created on your first upload" in page for page in pages)  # the pending page was seen
    for name, secret in canaries.items():
        assert secret not in dump, f"the database holds the {name}"
        assert secret not in logs, f"a log line holds the {name}"
        for number, text in enumerate(pages):
            assert secret not in text, f"page {number} shows the {name}"

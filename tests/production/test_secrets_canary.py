"""Secrets canary over the picker's whole path: after a launch, browsing, a preview, an import and a
refused replay, no database byte and no log line holds a launch token, a picker-session token, a
Kaltura session (KS), an App Token or the hub's launch secret; and no page or fragment holds any
of them except the picker page's own bearer token, which it must carry."""

from __future__ import annotations

import json
import logging

import pytest

from portal.kaltura import parse_app_token
from tests import picker_support as ps
from tests.helpers import snapshot


@pytest.fixture
def app_settings(sandbox):  # type: ignore[no-untyped-def]
    return {"KALTURA_SANDBOX_URL": sandbox.url, "LOG_LEVEL": "DEBUG"}


def _database_bytes(database_url: str, db) -> str:  # type: ignore[no-untyped-def]
    dump = json.dumps(snapshot(db, telemetry=True))
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        for name in (path, f"{path}-wal"):  # committed rows may still sit in the write-ahead log
            try:
                with open(name, "rb") as handle:
                    dump += handle.read().decode("latin-1")
            except FileNotFoundError:
                pass
    return dump


def test_no_picker_secret_in_the_database_logs_or_pages(app, client, db, demo, sandbox, caplog, database_url):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    ps.connect(app, db, sandbox)
    embedding = ps.embed(app, db)
    launch_token = ps.token(embedding)

    opened = ps.launch(client, launch_token)
    bearer_token = ps.session_token(opened)
    bearer = ps.bearer(bearer_token)
    pages = [opened.text]
    browse = client.get("/embed/picker/media", query_string={"q": "drone"}, headers=bearer)
    pages.append(browse.text)
    ids = ps.entry_ids(client.get("/embed/picker/media", query_string={"type": "video"}, headers=bearer).text)
    pages.append(client.get(f"/embed/picker/media/{ids[0]}", headers=bearer).text)
    pages.append(client.post("/embed/picker/import", data={"entry_id": ids[:2]}, headers=bearer).text)
    pages.append(ps.launch(client, launch_token).text)  # the replay, refused
    pages.append(client.get("/embed/picker/media", headers={"Authorization": "Bearer forged"}).text)

    client_token, _ = parse_app_token(json.dumps(sandbox.credentials["clientAppToken"]), "client")
    listing_ks = app.extensions["kaltura"].start_session(
        sandbox.url, client_token, "pat@northwind.example", session_type=0
    )
    canaries = {
        "launch token": launch_token,
        "launch token signature": launch_token.rsplit(".", 1)[1],
        "picker token": bearer_token,
        "KS": listing_ks.ks,
        "client App Token": sandbox.credentials["clientAppToken"]["token"],
        "server App Token": sandbox.credentials["serverAppToken"]["token"],
        "launch secret": embedding.secret,
    }
    dump = _database_bytes(database_url, db)
    logs = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert "kaltura session minted" in logs  # the logs were captured at all

    for name, secret in canaries.items():
        assert secret not in dump, f"the database holds the {name}"
        assert secret not in logs, f"a log line holds the {name}"
        for number, text in enumerate(pages):
            if name == "picker token" and number == 0:
                assert text.count(secret) == 1  # the picker page carries it once, in its meta tag
                continue
            assert secret not in text, f"page {number} shows the {name}"


def test_no_upload_session_or_app_token_in_the_database_logs_or_upload_fragments(  # type: ignore[no-untyped-def]
    app, client, db, demo, sandbox, caplog, database_url
):
    """The upload plan's short-lived session goes to the browser in prepare's answer (the chunk pump
    needs it) and nowhere else: not in the database, the logs, the Uploads list or the page."""
    from tests import upload_support as us

    caplog.set_level(logging.DEBUG)
    ps.connect(app, db, sandbox)
    embedding = ps.embed(app, db)
    opened = ps.launch(client, ps.token(embedding))
    bearer = ps.bearer(ps.session_token(opened))
    data = us.mp4_360(600_000)
    pages = [opened.text, us.post_sample(client, "/embed/picker/uploads/check", bearer, "v.mp4", data).text]
    prepared = us.post_sample(client, "/embed/picker/uploads", bearer, "v.mp4", data)
    plan = prepared.get_json()["plan"]
    fresh = client.post(f"/embed/picker/uploads/{plan['uploadId']}/session", headers=bearer).get_json()["ks"]
    pages.append(client.get("/embed/picker/uploads", headers=bearer).text)
    us.Driver(plan, data).run()
    pages.append(client.post(f"/embed/picker/uploads/{plan['uploadId']}/finish", headers=bearer).text)
    pages.append(client.get("/embed/picker/uploads", headers=bearer).text)

    canaries = {
        "upload session": plan["ks"],
        "fresh upload session": fresh,
        "client App Token": sandbox.credentials["clientAppToken"]["token"],
        "server App Token": sandbox.credentials["serverAppToken"]["token"],
    }
    dump = _database_bytes(database_url, db)
    logs = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert "uploadToken.add" in logs or "uploadtoken" in logs.lower()
    assert fresh != plan["ks"]
    for name, secret in canaries.items():
        assert secret not in dump, f"the database holds the {name}"
        assert secret not in logs, f"a log line holds the {name}"
        for number, text in enumerate(pages):
            assert secret not in text, f"page {number} shows the {name}"
    assert "is ready and in the hub" in pages[-1] or "is ready and in the hub" in pages[-2]

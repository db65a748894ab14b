"""`portal embed ...` and `portal library list`: what operators and the demo script run."""

from __future__ import annotations

import json

import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import OctKey

from portal.kaltura.types import MediaEntry
from portal.library.services import add_entries
from portal.models import AuditEvent, EmbedSettings
from tests import picker_support as ps


def test_allow_remove_origin_and_mint_a_token_the_portal_accepts(app, client, db, demo):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    allowed = runner.invoke(args=["embed", "allow-origin", "northwind", "HTTP://127.0.0.1:9102/"])
    assert allowed.exit_code == 0 and "http://127.0.0.1:9102 may now embed" in allowed.output
    again = runner.invoke(args=["embed", "allow-origin", "northwind", "http://127.0.0.1:9102"])
    assert again.exit_code == 0 and "already" in again.output  # idempotent, for scripts

    created = runner.invoke(args=["embed", "new-secret", "northwind"])
    assert created.exit_code == 0
    secret = created.stdout.strip()
    assert len(secret) >= 43 and "\n" not in secret  # alone on stdout
    assert "is not shown again" in created.stderr
    settings = db.scalar(sa.select(EmbedSettings))
    assert secret not in settings.secret_sealed

    minted = runner.invoke(
        args=["embed", "launch-token", "northwind", "pat@northwind.example", "--origin", ps.HOST, "--ttl", "120"]
    )
    assert minted.exit_code == 0, minted.output
    token = minted.stdout.strip()
    claims = jwt.decode(token, OctKey.import_key(secret.encode()), algorithms=["HS256"]).claims
    assert claims["hub"] == "northwind" and claims["email"] == "pat@northwind.example"
    assert claims["origin"] == ps.HOST and claims["exp"] - claims["iat"] == 120
    assert ps.launch(client, token).status_code == 200

    removed = runner.invoke(args=["embed", "remove-origin", "northwind", ps.HOST])
    assert removed.exit_code == 0
    assert db.scalar(sa.select(EmbedSettings.allowed_origins)) == []
    actions = set(db.scalars(sa.select(AuditEvent.action)))
    assert {"embed.origin_add", "embed.secret_new", "embed.origin_remove", "embed.launch"} <= actions


def test_rotating_prints_the_grace_period(app, db, demo):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    runner.invoke(args=["embed", "new-secret", "northwind"])
    rotated = runner.invoke(args=["embed", "new-secret", "northwind"])
    assert rotated.exit_code == 0 and "keeps working until" in rotated.stderr


def test_embed_cli_errors_are_clear(app, db, demo):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    cases = [
        (["embed", "allow-origin", "nowhere", ps.HOST], "No hub has the slug"),
        (["embed", "allow-origin", "northwind", "https://lms.example.org/path"], "remove the path"),
        (["embed", "remove-origin", "northwind", ps.HOST], "not in this hub's allowed origins"),
        (["embed", "launch-token", "northwind", "pat@northwind.example", "--origin", ps.HOST], "allow-origin"),
        (["embed", "launch-token", "northwind", "pat@northwind.example", "--origin", "nope"], "--origin"),
        (["embed", "launch-token", "northwind", "p@x.org", "--origin", ps.HOST, "--ttl", "601"], "601"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    runner.invoke(args=["embed", "allow-origin", "northwind", ps.HOST])
    no_secret = runner.invoke(args=["embed", "launch-token", "northwind", "pat@northwind.example", "--origin", ps.HOST])
    assert no_secret.exit_code != 0 and "new-secret" in no_secret.output


def test_library_list(app, db, demo):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    empty = runner.invoke(args=["library", "list", "northwind"])
    assert empty.exit_code == 0 and "empty" in empty.output

    entries = [
        MediaEntry.from_kaltura(
            {
                "id": "0_vid00001",
                "name": "Harbour flyover",
                "mediaType": 1,
                "duration": 75,
                "tags": "360, drone",
                "width": 3840,
                "height": 1920,
                "partnerId": 4815162,
            }
        ),
        MediaEntry.from_kaltura(
            {"id": "0_img00001", "name": "Group photo", "mediaType": 2, "width": 4032, "height": 3024}
        ),
    ]
    add_entries(db, hub=ps.hub(db), entries=entries, actor=None)

    listed = runner.invoke(args=["library", "list", "northwind"])
    assert listed.exit_code == 0 and "0_vid00001" in listed.output and "video 360°" in listed.output
    assert "1:15" in listed.output
    as_json = json.loads(runner.invoke(args=["library", "list", "northwind", "--json"]).output)
    assert [i["entryId"] for i in as_json] == ["0_img00001", "0_vid00001"]  # newest first
    video = as_json[1]
    assert video["mediaType"] == "video" and video["is360"] is True and video["duration"] == 75
    assert video["width"] == 3840 and video["hub"] == "northwind" and video["source"] == "import"
    assert runner.invoke(args=["library", "list", "nowhere"]).exit_code != 0

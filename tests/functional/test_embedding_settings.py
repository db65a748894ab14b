"""Hub settings → Embedding: admins edit, support reads; origins validated; a secret shown once and
stored sealed; rotation with a grace period; the JWKS URL under the outbound safety rules."""

from __future__ import annotations

import json
import logging
import re
import threading

import pytest
import sqlalchemy as sa
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from portal.models import AuditEvent, EmbedSettings
from tests.helpers import csrf_token, sign_in, snapshot

TAB = "/hubs/northwind/settings/embedding"


@pytest.fixture(scope="module")
def jwks_host():  # type: ignore[no-untyped-def]
    key = RSAKey.generate_key(2048, parameters={"kid": "lms-1"})
    documents = {
        "/jwks.json": json.dumps({"keys": [key.as_dict(private=False)]}),
        "/private.json": json.dumps({"keys": [key.as_dict(private=True)]}),
        "/empty.json": json.dumps({"keys": []}),
        "/not-json": "<html>",
    }

    def serve(environ, start_response):  # type: ignore[no-untyped-def]
        path = environ["PATH_INFO"]
        if path == "/redirect":
            return Response("", status=302, headers={"Location": "http://169.254.169.254/latest"})(
                environ, start_response
            )
        if path not in documents:
            return Response("missing", status=404)(environ, start_response)
        return Response(documents[path], mimetype="application/json")(environ, start_response)

    server = make_server("127.0.0.1", 0, serve, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_settings(jwks_host):  # type: ignore[no-untyped-def]
    return {"EMBED_JWKS_HTTP_HOSTS": jwks_host.removeprefix("http://")}


@pytest.fixture
def admin(signed_in):  # type: ignore[no-untyped-def]
    return signed_in("ada@northwind.example")


def _post(client, path: str, **data):  # type: ignore[no-untyped-def]
    return client.post(f"{TAB}{path}", data={"csrf_token": csrf_token(client, TAB), **data})


def _settings(db) -> EmbedSettings | None:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(sa.select(EmbedSettings))


def test_admin_sees_every_section_with_forms(admin):  # type: ignore[no-untyped-def]
    page = admin.get(TAB)
    assert page.status_code == 200
    for text in ("Host applications allowed to embed", "Launch-signing secret", "Public keys", "not members yet"):
        assert text in page.text
    assert "Allow this origin" in page.text and "Generate a secret" in page.text
    assert '"aud": "kaltura-hub-portal"' in page.text.replace("&#34;", '"')


def test_support_reads_without_forms(signed_in, db, app):  # type: ignore[no-untyped-def]
    from tests import picker_support as ps

    ps.embed(app, db)
    page = signed_in("sue@support.example").get(TAB)
    assert page.status_code == 200 and ps.HOST in page.text
    assert "Allow this origin" not in page.text and "Rotate the secret" not in page.text
    assert "A launch adds the person it names" in page.text


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://lms.example.org", "https://lms.example.org"),
        ("HTTPS://LMS.Example.ORG:443/", "https://lms.example.org"),
        ("https://lms.example.org:8443", "https://lms.example.org:8443"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:9102", "http://127.0.0.1:9102"),
    ],
)
def test_origins_are_stored_canonical(admin, db, typed, stored):  # type: ignore[no-untyped-def]
    response = _post(admin, "/origins", origin=typed)
    assert response.status_code == 303
    assert _settings(db).allowed_origins == [stored]
    assert db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "embed.origin_add")).details == {"origin": stored}


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an origin"),
        ("lms.example.org", "Start the origin with https://"),
        ("https://lms.example.org/courses", "remove the path"),
        ("https://*.example.org", "no spaces, wildcards"),
        ("https://lms.example.org?x=1", "remove the path or anything after it"),
        ("https://user:pw@lms.example.org", "no user name or password"),
        ("http://lms.example.org", "Use https://"),
        ("ftp://lms.example.org", "Start the origin with https://"),
        ("https://lms.example.org:99999", "not a valid origin"),
        ("https://bücher.example", "xn--"),
        ("javascript:alert(1)", "Start the origin with https://"),
    ],
)
def test_bad_origins_are_refused_with_the_fix(admin, db, typed, message):  # type: ignore[no-untyped-def]
    before = snapshot(db)
    response = _post(admin, "/origins", origin=typed)
    assert response.status_code == 422
    assert message in response.text.replace("&#39;", "'")
    assert snapshot(db) == before


def test_a_duplicate_origin_is_refused_and_removing_works(admin, db):  # type: ignore[no-untyped-def]
    assert _post(admin, "/origins", origin="https://lms.example.org").status_code == 303
    duplicate = _post(admin, "/origins", origin="https://LMS.example.org/")
    assert duplicate.status_code == 422 and "already allowed" in duplicate.text
    assert _post(admin, "/origins/remove", origin="https://lms.example.org").status_code == 303
    assert _settings(db).allowed_origins == []
    assert _post(admin, "/origins/remove", origin="https://lms.example.org").status_code == 422


def test_a_new_secret_is_shown_once_and_stored_sealed(admin, db, caplog):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    response = _post(admin, "/secret")

    assert response.status_code == 200
    secret = response.text.split('id="new-secret" class="secret-value" value="')[1].split('"')[0]
    assert len(secret) >= 43 and "will not be shown again" in response.text
    settings = _settings(db)
    assert settings.secret_sealed.startswith("v1:") and secret not in settings.secret_sealed
    assert secret not in admin.get(TAB).text
    db.expire_all()
    for event in db.scalars(sa.select(AuditEvent)):
        assert secret not in json.dumps(event.details)
    assert secret not in caplog.text
    assert settings.secret_id in admin.get(TAB).text


def test_rotation_keeps_the_previous_secret_for_the_grace_period(admin, db):  # type: ignore[no-untyped-def]
    _post(admin, "/secret")
    first = _settings(db).secret_id
    rotated = _post(admin, "/secret")

    assert rotated.status_code == 200 and f"previous secret <code>{first}</code> keeps working until" in rotated.text
    settings = _settings(db)
    assert settings.previous_secret_id == first and settings.secret_id != first
    page = admin.get(TAB)
    assert "accepted until" in page.text and "Stop accepting the previous secret now" in page.text

    assert _post(admin, "/secret/previous/revoke").status_code == 303
    assert _settings(db).previous_secret_id is None
    assert db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "embed.secret_previous_revoked")) is not None


def test_a_jwks_url_is_fetched_checked_and_cached(admin, db, jwks_host):  # type: ignore[no-untyped-def]
    response = _post(admin, "/jwks", jwks_url=f"{jwks_host}/jwks.json")
    assert response.status_code == 303
    settings = _settings(db)
    assert settings.jwks_url == f"{jwks_host}/jwks.json" and settings.jwks_keys["keys"][0]["kid"] == "lms-1"
    assert "lms-1" in admin.get(TAB).text
    assert _post(admin, "/jwks", jwks_url="").status_code == 303
    assert _settings(db).jwks_url is None


@pytest.mark.parametrize(
    ("path_or_url", "message"),
    [
        ("http://example.org/jwks.json", "must use https://"),
        ("https://127.0.0.1/jwks.json", "not an IP address"),
        ("https://10.0.0.7/jwks.json", "not an IP address"),
        ("https://localhost/jwks.json", "private or internal address"),
        ("https://user:pw@example.org/jwks.json", "user name or password"),
        ("https://example.org/jwks.json?x=1", "query"),
        ("https://example.org:8443/jwks.json", "default https port"),
        ("jwks.json", "full https:// address"),
        ("/redirect", "redirect"),
        ("/private.json", "private key"),
        ("/empty.json", "no RSA or P-256 EC signing key"),
        ("/not-json", "did not return JSON"),
        ("/missing", "HTTP 404"),
    ],
)
def test_bad_jwks_urls_are_refused_before_saving(admin, db, jwks_host, path_or_url, message):  # type: ignore[no-untyped-def]
    url = f"{jwks_host}{path_or_url}" if path_or_url.startswith("/") else path_or_url
    before = snapshot(db, except_tables={"audit_events"})
    response = _post(admin, "/jwks", jwks_url=url)
    assert response.status_code == 422
    assert message in response.text.replace("&#39;", "'")
    # Nothing saved; an address the outbound policy refused is recorded as a security event only.
    assert snapshot(db, except_tables={"audit_events"}) == before


def test_the_auto_add_switch_is_on_by_default_and_audited(admin, db):  # type: ignore[no-untyped-def]
    assert re.search(r'<input checked id="auto_add" name="auto_add" type="checkbox"', admin.get(TAB).text)
    assert _post(admin, "/participants").status_code == 303  # unchecked box: off
    assert _settings(db).auto_add_participants is False
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "embed.auto_add"))
    assert event.details == {"enabled": False} and event.actor.email == "ada@northwind.example"


def test_the_embedding_tab_is_in_the_settings_navigation(admin):  # type: ignore[no-untyped-def]
    assert f'href="{TAB}"' in admin.get("/hubs/northwind/settings").text


def test_participants_cannot_change_embedding(signed_in, db):  # type: ignore[no-untyped-def]
    client = signed_in("pat@northwind.example")
    token = csrf_token(client, "/account")
    response = client.post(f"{TAB}/origins", data={"csrf_token": token, "origin": "https://evil.example"})
    assert response.status_code == 403
    assert _settings(db) is None


def test_sign_in_is_needed(client, demo):  # type: ignore[no-untyped-def]
    assert client.get(TAB).status_code == 302
    sign_in(client, "ada@northwind.example")
    assert client.get(TAB).status_code == 200

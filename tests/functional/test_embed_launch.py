"""Launching the picker: every bad launch token is refused with its category, a 4xx and an audit
entry; a good one opens a picker session and sets no cookie. No Kaltura is needed: the hub is not
connected, so a successful launch shows the "not connected" state."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from portal.embed import services as embed_services
from portal.models import AuditEvent, EmbedSettings, Membership, PickerSession, UsedLaunchToken, User
from tests import picker_support as ps

JWKS_KEYS: dict[str, object] = {}


@pytest.fixture(scope="module")
def jwks_server():  # type: ignore[no-untyped-def]
    """A host's JWKS endpoint on loopback (the operator allows plain http to it, as in development)."""

    def serve(environ, start_response):  # type: ignore[no-untyped-def]
        if environ["PATH_INFO"] == "/redirect":
            return Response("", status=302, headers={"Location": "http://169.254.169.254/"})(environ, start_response)
        body = json.dumps(JWKS_KEYS.get("document", {"keys": []}))
        return Response(body, mimetype="application/json")(environ, start_response)

    server = make_server("127.0.0.1", 0, serve, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_settings(jwks_server):  # type: ignore[no-untyped-def]
    return {"EMBED_JWKS_HTTP_HOSTS": jwks_server.removeprefix("http://")}


@pytest.fixture
def embedding(app, db, demo):  # type: ignore[no-untyped-def]
    return ps.embed(app, db)


def _refused(db, response, category: str, status: int, detail: str, sessions: int = 0) -> AuditEvent:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text[:400]
    assert f'data-category="{category}"' in response.text
    assert "Set-Cookie" not in response.headers
    assert "kaltura-picker-session" not in response.text
    event = ps.last_audit(db, "embed.launch_refused")
    assert event is not None and event.details["category"] == category
    assert detail in event.details["detail"], event.details
    assert db.scalar(sa.select(sa.func.count()).select_from(PickerSession)) == sessions, (
        "a refused launch opened a session"
    )
    return event


def test_a_valid_launch_opens_the_picker_without_a_cookie(client, db, embedding):  # type: ignore[no-untyped-def]
    response = ps.launch(client, ps.token(embedding))

    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    csp = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors {ps.HOST}" in csp and "X-Frame-Options" not in response.headers
    assert 'role="searchbox"' not in response.text  # a real <input type="search"> gives the role
    assert '<input type="search" id="picker-search"' in response.text
    assert "This hub is not connected to Kaltura" in response.text
    assert f'data-host-origin="{ps.HOST}"' in response.text
    token = ps.session_token(response)
    stored = db.scalar(sa.select(PickerSession))
    assert stored.token_hash != token and len(stored.token_hash) == 64 and stored.origin == ps.HOST
    event = ps.last_audit(db, "embed.launch")
    assert event.details["origin"] == ps.HOST and event.actor.email == "pat@northwind.example"


def test_the_cli_style_token_is_accepted_too(client, embedding):  # type: ignore[no-untyped-def]
    assert ps.launch(client, ps.mint(embedding)).status_code == 200


def test_launch_without_an_origin_header_checks_the_claim_alone(client, embedding):  # type: ignore[no-untyped-def]
    assert ps.launch(client, ps.token(embedding), origin=None).status_code == 200


def test_tampered_token_is_refused(client, db, embedding):  # type: ignore[no-untyped-def]
    header, payload, signature = ps.token(embedding).split(".")
    claims = json.loads(ps.base64.urlsafe_b64decode(payload + "=="))
    claims["email"] = "ada@northwind.example"  # try to become the admin
    forged = f"{header}.{ps.b64(json.dumps(claims).encode())}.{signature}"

    _refused(db, ps.launch(client, forged), "not_allowed", 403, "signature does not verify")


def test_a_token_signed_with_another_secret_is_refused(client, db, embedding):  # type: ignore[no-untyped-def]
    claims = ps.claims_for(embedding)
    _refused(db, ps.launch(client, ps.sign("not-the-hub-secret", claims)), "not_allowed", 403, "signature")


def test_expired_token_is_refused(client, db, embedding):  # type: ignore[no-untyped-def]
    now = int(time.time())
    response = ps.launch(client, ps.token(embedding, iat=now - 900, nbf=now - 900, exp=now - 600))
    _refused(db, response, "expired", 401, "expired")


def test_not_yet_valid_token_is_refused(client, db, embedding):  # type: ignore[no-untyped-def]
    now = int(time.time())
    _refused(db, ps.launch(client, ps.token(embedding, nbf=now + 300, exp=now + 500)), "expired", 401, "nbf")


def test_token_issued_in_the_future_is_refused(client, db, embedding):  # type: ignore[no-untyped-def]
    now = int(time.time())
    response = ps.launch(client, ps.token(embedding, iat=now + 300, nbf=None, exp=now + 500))
    _refused(db, response, "expired", 401, "iat")


def test_token_living_longer_than_ten_minutes_is_refused(client, db, embedding):  # type: ignore[no-untyped-def]
    now = int(time.time())
    _refused(db, ps.launch(client, ps.token(embedding, exp=now + 601)), "not_allowed", 403, "at most 600 s")


def test_replayed_token_is_refused(client, db, embedding):  # type: ignore[no-untyped-def]
    launch_token = ps.token(embedding)
    assert ps.launch(client, launch_token).status_code == 200

    _refused_second = ps.launch(client, launch_token)

    assert _refused_second.status_code == 401 and 'data-category="already_used"' in _refused_second.text
    event = ps.last_audit(db, "embed.launch_refused")
    assert event.details["category"] == "already_used"
    assert db.scalar(sa.select(sa.func.count()).select_from(PickerSession)) == 1
    assert db.scalar(sa.select(sa.func.count()).select_from(UsedLaunchToken)) == 1


def test_alg_none_is_refused(client, db, embedding):  # type: ignore[no-untyped-def]
    claims = ps.claims_for(embedding)
    unsigned = f"{ps.b64(json.dumps({'alg': 'none'}).encode())}.{ps.b64(json.dumps(claims).encode())}."
    _refused(db, ps.launch(client, unsigned), "not_allowed", 403, "algorithm 'none' is not allowed")


@pytest.mark.parametrize("alg", ["HS384", "HS512", "RS256", "ES256", "PS256", "EdDSA"])
def test_algorithms_the_hub_does_not_use_are_refused(client, db, embedding, alg):  # type: ignore[no-untyped-def]
    forged = ps.sign(embedding.secret, ps.claims_for(embedding), alg=alg)
    _refused(db, ps.launch(client, forged), "not_allowed", 403, alg)


def test_hs_rs_confusion_is_refused(app, client, db, embedding, jwks_server):  # type: ignore[no-untyped-def]
    """A token "signed" with HS256 using the host's public RSA key as the secret must not verify."""
    rsa = RSAKey.generate_key(2048, parameters={"kid": "host-rsa"})
    JWKS_KEYS["document"] = {"keys": [rsa.as_dict(private=False)]}
    embed_services.set_jwks_url(
        db, hub=embedding.hub, url=f"{jwks_server}/jwks.json", fetcher=app.extensions["embed_jwks"], actor=None
    )
    public_pem = rsa.as_pem(private=False)
    forged = ps.sign(public_pem, ps.claims_for(embedding), kid="host-rsa", alg="HS256")

    _refused(db, ps.launch(client, forged), "not_allowed", 403, "kid 'host-rsa'")
    # ... while a real RS256 token from that key is accepted.
    good = jwt.encode({"alg": "RS256", "kid": "host-rsa"}, ps.claims_for(embedding), rsa, algorithms=["RS256"])
    assert ps.launch(client, good).status_code == 200


def test_es256_tokens_verify_against_the_jwks_and_a_new_kid_refetches_it(app, client, db, embedding, jwks_server):  # type: ignore[no-untyped-def]
    first = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    JWKS_KEYS["document"] = {"keys": [first.as_dict(private=False)]}
    embed_services.set_jwks_url(
        db, hub=embedding.hub, url=f"{jwks_server}/jwks.json", fetcher=app.extensions["embed_jwks"], actor=None
    )
    token = jwt.encode({"alg": "ES256", "kid": "ec-1"}, ps.claims_for(embedding), first, algorithms=["ES256"])
    assert ps.launch(client, token).status_code == 200

    # The host rotates its key; the cached set lacks the new kid, so the portal fetches again
    # (last fetch pushed back past the refresh interval, as if five minutes had gone by).
    second = ECKey.generate_key("P-256", parameters={"kid": "ec-2"})
    JWKS_KEYS["document"] = {"keys": [first.as_dict(private=False), second.as_dict(private=False)]}
    db.execute(sa.update(EmbedSettings).values(jwks_fetched_at=datetime.now(UTC) - timedelta(minutes=6)))
    db.commit()
    token = jwt.encode({"alg": "ES256", "kid": "ec-2"}, ps.claims_for(embedding), second, algorithms=["ES256"])
    assert ps.launch(client, token).status_code == 200


def test_a_jku_header_cannot_bring_its_own_key(client, db, embedding):  # type: ignore[no-untyped-def]
    attacker = ECKey.generate_key("P-256")
    header = {"alg": "ES256", "jku": "https://evil.example/jwks.json", "jwk": attacker.as_dict(private=False)}
    token = jwt.encode(header, ps.claims_for(embedding), attacker, algorithms=["ES256"])
    _refused(db, ps.launch(client, token), "not_allowed", 403, "needs a JWKS URL")


def test_wrong_audience_is_refused(client, db, embedding):  # type: ignore[no-untyped-def]
    _refused(db, ps.launch(client, ps.token(embedding, aud="some-other-app")), "not_allowed", 403, "aud")


def test_foreign_origin_claim_is_refused(client, db, embedding):  # type: ignore[no-untyped-def]
    evil = "https://evil.example"
    response = ps.launch(client, ps.token(embedding, origin=evil), origin=evil)
    _refused(db, response, "not_allowed", 403, "not in the hub's allowed origins")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_origin_header_must_match_the_claim(client, db, embedding):  # type: ignore[no-untyped-def]
    """An attacker's page replaying someone's valid token is caught by the browser's Origin header."""
    response = ps.launch(client, ps.token(embedding), origin="https://evil.example")
    event = _refused(db, response, "not_allowed", 403, "not from the claimed origin")
    assert event.details["request_origin"] == "https://evil.example"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_an_opaque_null_origin_does_not_match(client, db, embedding):  # type: ignore[no-untyped-def]
    _refused(db, ps.launch(client, ps.token(embedding), origin="null"), "not_allowed", 403, "claimed origin")


@pytest.mark.parametrize("claim", ["hub", "sub", "email", "origin", "aud", "iat", "exp", "jti"])
def test_missing_claims_are_refused(client, db, embedding, claim):  # type: ignore[no-untyped-def]
    response = ps.launch(client, ps.token(embedding, **{claim: None}))
    assert response.status_code == 403 and 'data-category="not_allowed"' in response.text


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 9000, "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", "é.é.é"])
def test_garbage_is_refused_clearly(client, db, embedding, garbage):  # type: ignore[no-untyped-def]
    _refused(db, ps.launch(client, garbage), "not_allowed", 403, "")


def test_an_expired_token_from_an_allowed_host_is_explained_inside_its_frame(client, db, embedding):  # type: ignore[no-untyped-def]
    now = int(time.time())
    response = ps.launch(client, ps.token(embedding, iat=now - 900, nbf=None, exp=now - 600))
    assert response.status_code == 401
    assert f"frame-ancestors {ps.HOST}" in response.headers["Content-Security-Policy"]
    assert "This picker link has expired" in response.text


def test_unknown_hub_and_unknown_kid_are_refused(client, db, embedding):  # type: ignore[no-untyped-def]
    _refused(db, ps.launch(client, ps.token(embedding, hub="no-such-hub")), "not_allowed", 403, "no hub")
    claims = ps.claims_for(embedding)
    _refused(db, ps.launch(client, ps.sign(embedding.secret, claims, kid="ls_unknown")), "not_allowed", 403, "kid")


def test_the_previous_secret_works_during_the_grace_period_only(app, client, db, embedding):  # type: ignore[no-untyped-def]
    keyring = app.extensions["kaltura_vault"].keyring
    old = embedding
    embed_services.new_secret(db, hub=old.hub, keyring=keyring, actor=None, grace=timedelta(hours=24))

    assert ps.launch(client, ps.token(old)).status_code == 200  # still inside the grace period
    db.execute(sa.update(EmbedSettings).values(previous_secret_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.commit()
    _refused(db, ps.launch(client, ps.token(old)), "not_allowed", 403, "kid", sessions=1)


def test_a_non_member_is_added_as_participant_by_default(client, db, embedding):  # type: ignore[no-untyped-def]
    response = ps.launch(client, ps.token(embedding, email="dana@host.example", name="Dana Newcomer"))

    assert response.status_code == 200
    dana = db.scalar(sa.select(User).where(User.email == "dana@host.example"))
    assert dana.display_name == "Dana Newcomer"
    role = db.scalar(sa.select(Membership.role).where(Membership.user_id == dana.id))
    assert role.value == "participant"
    added = ps.last_audit(db, "embed.participant_added")
    assert added.details["email"] == "dana@host.example" and added.details["origin"] == ps.HOST


def test_non_members_are_refused_when_the_hub_adds_no_one(client, db, embedding):  # type: ignore[no-untyped-def]
    embed_services.set_auto_add(db, hub=embedding.hub, enabled=False, actor=None)

    response = ps.launch(client, ps.token(embedding, email="nina@northwind.example"))

    _refused(db, response, "not_member", 403, "not a member")
    assert db.scalar(sa.select(User).where(User.email == "nina@northwind.example")).memberships == []
    assert "You're not a member of this hub" in response.text
    assert ps.launch(client, ps.token(embedding)).status_code == 200  # pat is a member


def test_the_portal_own_key_does_not_open_the_picker_for_another_origin(app, client, db, embedding):  # type: ignore[no-untyped-def]
    """The library's own per-hub key is only good for launches from the portal itself."""
    from portal.embed.launch import own_launch_key

    key = own_launch_key(app.config["SECRET_KEY"], embedding.hub.id)
    response = ps.launch(client, ps.sign(key, ps.claims_for(embedding)))
    _refused(db, response, "not_allowed", 403, "signature")


def test_get_on_the_launch_url_explains_itself_without_a_cookie(client):  # type: ignore[no-untyped-def]
    response = client.get("/embed/picker")
    assert response.status_code == 400 and "Open the picker from your application" in response.text
    assert "Set-Cookie" not in response.headers

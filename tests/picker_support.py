"""Helpers the picker tests share: connecting the demo hub, configuring its embedding, launching.

Tokens are minted exactly as a host application's backend does (HS256 with the hub's secret), and
crafted by hand where a test needs a token that no honest library would produce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from portal.embed import services as embed_services
from portal.embed.launch import mint_launch_token
from portal.models import AuditEvent, Hub

HOST = "http://127.0.0.1:9102"
AUDIENCE = "kaltura-hub-portal"
SESSION_META = re.compile(r'name="kaltura-picker-session" content="([^"]+)"')
ENTRY_IDS = re.compile(r'role="option" id="entry-([^"]+)"')


@dataclass
class Embedding:
    hub: Hub
    kid: str
    secret: str


def hub(db, slug: str = "northwind") -> Hub:  # type: ignore[no-untyped-def]
    return db.scalar(sa.select(Hub).where(Hub.slug == slug))


def embed(app: Flask, db, slug: str = "northwind", origins: tuple[str, ...] = (HOST,)) -> Embedding:  # type: ignore[no-untyped-def]
    """Allow ``origins`` and generate a launch secret, as an admin does on the Embedding tab."""
    target = hub(db, slug)
    for origin in origins:
        embed_services.add_origin(db, hub=target, origin=origin, actor=None)
    created = embed_services.new_secret(
        db, hub=target, keyring=app.extensions["kaltura_vault"].keyring, actor=None, grace=timedelta(hours=24)
    )
    return Embedding(target, created.kid, created.secret)


def connect(app: Flask, db, sandbox, slug: str = "northwind", server: str = "serverAppToken") -> None:  # type: ignore[no-untyped-def]
    """Connect the hub to the sandbox through the same service the Kaltura tab uses, with the sandbox's
    ``server`` token (``articleServerAppToken`` is the help article's)."""
    from portal.integrations.services import Typed, save_connection

    with app.app_context():
        report = save_connection(
            db,
            gateway=app.extensions["kaltura"],
            vault=app.extensions["kaltura_vault"],
            hub=hub(db, slug),
            actor=None,
            typed=Typed(
                service_url=sandbox.url,
                client_text=json.dumps(sandbox.credentials["clientAppToken"]),
                server_text=json.dumps(sandbox.credentials[server]),
            ),
        )
    assert report.saved, ([e.message for e in report.problems], [r.as_dict() for r in report.rows if r.failed])


def token(embedding: Embedding, email: str = "pat@northwind.example", **changes: Any) -> str:
    """A valid launch token, optionally with claims changed (``None`` removes a claim)."""
    claims = claims_for(embedding, email)
    claims.update(changes)
    return sign(embedding.secret, {k: v for k, v in claims.items() if v is not None}, kid=embedding.kid)


def claims_for(embedding: Embedding, email: str = "pat@northwind.example") -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": "test-host",
        "aud": AUDIENCE,
        "sub": f"host-user:{email}",
        "hub": embedding.hub.slug,
        "email": email,
        "origin": HOST,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(12),
    }


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(secret: str | bytes, claims: dict[str, Any], *, kid: str | None = None, alg: str = "HS256") -> str:
    """A compact JWS signed with HMAC-SHA256 by hand (so tests control every header and byte)."""
    header = {"alg": alg, "typ": "JWT", **({"kid": kid} if kid else {})}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    key = secret.encode() if isinstance(secret, str) else secret
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def mint(embedding: Embedding, email: str = "pat@northwind.example", origin: str = HOST) -> str:
    """A launch token made by the portal's own minting function (as the CLI makes them)."""
    return mint_launch_token(
        embedding.secret, kid=embedding.kid, hub=embedding.hub.slug, email=email, origin=origin, audience=AUDIENCE
    )


def launch(client: FlaskClient, launch_token: str, origin: str | None = HOST):  # type: ignore[no-untyped-def]
    headers = {"Origin": origin} if origin else {}
    return client.post("/embed/picker", data={"launch_token": launch_token}, headers=headers)


def session_token(response) -> str:  # type: ignore[no-untyped-def]
    match = SESSION_META.search(response.text)
    assert match, response.text[:1000]
    return match.group(1)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}", "HX-Request": "true"}


def entry_ids(html: str) -> list[str]:
    return ENTRY_IDS.findall(html)


def last_audit(db, action: str) -> AuditEvent | None:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc()))


def direct(app: Flask, sandbox, user: str, query):  # type: ignore[no-untyped-def]
    """What Kaltura (the sandbox) itself lists for this user and query: the reference a test compares with."""
    from portal.kaltura import parse_app_token

    app_token, _ = parse_app_token(json.dumps(sandbox.credentials["clientAppToken"]), "client")
    return app.extensions["kaltura"].browse_media(sandbox.url, app_token, user, query)

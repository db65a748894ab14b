"""A small "host application" on another site, for `make demo` and the browser tests.

It plays the part of a learning platform that embeds a hub's "From Kaltura" picker: its backend
mints a launch token (HS256, with the secret the portal generated) for the chosen person, its page
POSTs the token into an iframe of the portal, and it shows the messages it receives, accepted only
from the portal's origin and from that iframe. It imports nothing from ``portal/``: it knows the
portal only as a host application would, by its URL, the hub's slug, the audience and the secret.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, Response, abort, jsonify, render_template, request
from joserfc import jwt
from joserfc.jwk import OctKey


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    note: str


PEOPLE = (
    Person("pat@northwind.example", "Pat Participant", "a hub participant with a Kaltura user"),
    Person("sam@northwind.example", "Sam Sample", "a hub participant without a Kaltura user yet"),
    Person("dana@host.example", "Dana Newcomer", "not in the hub yet: the first launch adds her"),
)


def create_host_app(
    *, portal_url: str, hub: str, secret: str, kid: str | None = None, audience: str = "kaltura-hub-portal"
) -> Flask:
    """The host application; ``portal_url`` is how browsers reach the portal (another site)."""
    app = Flask(__name__)
    portal_origin = _origin(portal_url)
    key = OctKey.import_key(secret.encode())

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"frame-src {portal_origin}; form-action 'self' {portal_origin}; base-uri 'none'; object-src 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/")
    def index() -> str:
        email = request.args.get("person", PEOPLE[0].email)
        person = next((p for p in PEOPLE if p.email == email), PEOPLE[0])
        return render_template(
            "host.html",
            people=PEOPLE,
            person=person,
            portal_origin=portal_origin,
            launch_url=f"{portal_origin}/embed/picker",
        )

    @app.post("/launch-token")
    def launch_token() -> Response:
        """The host's backend: a launch token for the signed-in person (here: the one chosen)."""
        person = next((p for p in PEOPLE if p.email == request.form.get("person")), None)
        if person is None:
            abort(400)
        now = int(time.time())
        claims = {
            "iss": "demo-host",
            "aud": audience,
            "sub": f"demo-host-user:{person.email}",
            "hub": hub,
            "email": person.email,
            "name": person.name,
            "origin": _origin(request.host_url),
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": secrets.token_urlsafe(18),
        }
        header = {"alg": "HS256", **({"kid": kid} if kid else {})}
        return jsonify(launch_token=jwt.encode(header, claims, key, algorithms=["HS256"]))

    return app


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"

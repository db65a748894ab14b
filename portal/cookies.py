"""The portal's two cookies: the session, which error pages never write, and the known-device mark.

**The session cookie stays as it was on error pages.** A cross-site form POST arrives without the
victim's ``SameSite=Lax`` session cookie; the CSRF error page then renders a fresh form token into
an empty session, and saving it would replace the victim's cookie and sign them out. So a
response from an error handler (:func:`keep_session_cookie`) never sets or deletes the session
cookie.

**Known devices.** After a successful sign-in the browser gets a signed, long-lived cookie naming
the account (as a keyed hash, never the address). A browser that carries it is exempt from the
sign-in ceiling counted per account across all addresses, so an attacker who spreads failed
attempts over many addresses slows themselves down but cannot lock the owner out of their
account on the devices they use (OWASP's "device cookie" defence).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

DEVICE_COOKIE = "portal_device"
DEVICE_DAYS = 90
MAX_ACCOUNTS_PER_DEVICE = 10  # a shared computer: enough for its users, bounded cookie size


class PortalSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except that responses of error handlers never write it."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if g.get("keep_session_cookie"):
            return
        super().save_session(app, session, response)


def keep_session_cookie() -> None:
    """Leave the browser's session cookie exactly as it is for this response."""
    g.keep_session_cookie = True


def _device_cookie_name() -> str:
    # `__Host-` pins the cookie to this host over HTTPS, like the session cookie.
    return "__Host-" + DEVICE_COOKIE if current_app.config["SESSION_COOKIE_SECURE"] else DEVICE_COOKIE


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="portal-known-device")  # type: ignore[arg-type]


def _fingerprint(email: str) -> str:
    key = str(current_app.secret_key).encode()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()[:24]


def _known() -> list[str]:
    raw = request.cookies.get(_device_cookie_name())
    if not raw:
        return []
    try:
        value: Any = _serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return []
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def is_known_device(email: str) -> bool:
    """Whether this browser signed in to the account with ``email`` before (in the last 90 days)."""
    return bool(email) and _fingerprint(email) in _known()


def remember_device(response: BaseResponse, email: str) -> None:
    """Mark this browser as one the account with ``email`` signs in from."""
    fingerprint = _fingerprint(email)
    known = [fingerprint, *(item for item in _known() if item != fingerprint)][:MAX_ACCOUNTS_PER_DEVICE]
    response.set_cookie(
        _device_cookie_name(),
        _serializer().dumps(known),
        max_age=DEVICE_DAYS * 86400,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )

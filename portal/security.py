"""Who may do what, and the security headers every response carries."""

from __future__ import annotations

import enum
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, Response, abort, g, request
from sqlalchemy.orm import Session

from portal.models import PAID_PLAN_NEEDED, Hub, Membership, Role, User


class Need(enum.Enum):
    """What a view needs to do with a hub."""

    VIEW = "view"  # members, and support (read-only)
    SETTINGS = "settings"  # hub admins, and support (read-only)
    MANAGE = "manage"  # hub admins only
    SUPPORT = "support"  # support staff only (plan, custom user-id rule)
    INTEGRATION = "integration"  # hub admins of a paid hub: change the Kaltura connection
    LIVE_TEST = "live_test"  # hub admins and support, of a paid hub: run live checks against Kaltura


@dataclass(frozen=True)
class HubAccess:
    """The current user's standing in one hub, computed in Python and passed to templates."""

    hub: Hub
    role: Role | None
    is_support: bool

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def can_manage(self) -> bool:
        return self.is_admin

    @property
    def can_see_settings(self) -> bool:
        return self.is_admin or self.is_support

    @property
    def read_only(self) -> bool:
        return not self.is_admin


def hub_access(db: Session, user: User, slug: str, need: Need) -> HubAccess:
    """Load a hub for ``user`` or abort: 404 for hubs they may not know about, 403 for the rest.

    Support staff see every hub read-only; participants see their hubs; only admins manage. The
    Kaltura integration (and its live tests, which call Kaltura) exists on paid plans only: a free
    hub's admin is refused with a 403 that says so.
    """
    hub = db.scalar(sa.select(Hub).where(Hub.slug == slug))
    if hub is None:
        abort(404)
    role = db.scalar(sa.select(Membership.role).where(Membership.hub_id == hub.id, Membership.user_id == user.id))
    access = HubAccess(hub=hub, role=role, is_support=user.is_support)
    if role is None and not user.is_support:
        abort(404)
    if need is Need.SETTINGS and not access.can_see_settings:
        abort(403)
    if need is Need.MANAGE and not access.can_manage:
        abort(403)
    if need is Need.SUPPORT and not user.is_support:
        abort(403)
    if need is Need.INTEGRATION and not access.can_manage:
        abort(403)
    if need is Need.LIVE_TEST and not access.can_see_settings:
        abort(403)
    if need in (Need.INTEGRATION, Need.LIVE_TEST) and not hub.plan.is_paid:
        abort(403, PAID_PLAN_NEEDED)
    return access


# -- Request ids and security headers ----------------------------------------------------------

# A client's own X-Request-Id is kept for the log only, cut to this many printable characters.
CLIENT_REQUEST_ID_MAX = 64


def init_app(app: Flask) -> None:
    app.before_request(_start_request)
    app.after_request(_security_headers)
    app.jinja_env.globals["csp_nonce"] = lambda: g.get("csp_nonce", "")


def new_request_id() -> str:
    """A fresh request id: 20 hex digits (80 random bits), short enough to read out to support."""
    return secrets.token_hex(10)


def _start_request() -> None:
    g.csp_nonce = secrets.token_urlsafe(18)
    # Always ours: a client (or anyone in front of the proxy) could otherwise pick the id that
    # audit rows and log lines are found by, or reuse another request's.
    g.request_id = new_request_id()
    incoming = request.headers.get("X-Request-Id")
    if incoming:
        # Logged apart as client_request_id, to correlate with a proxy's logs; used for nothing else.
        g.client_request_id = "".join(char for char in incoming if char.isprintable())[:CLIENT_REQUEST_ID_MAX]


def content_security_policy(
    nonce: str, frame_ancestors: str = "'none'", sources: Mapping[str, Sequence[str]] | None = None
) -> str:
    """A strict CSP: scripts only from us with this request's nonce, nothing inline, no framing.

    ``frame_ancestors`` and ``sources`` (extra origins for ``img-src``/``media-src``) are set per
    request by the picker and the media library (``g.frame_ancestors``, ``g.csp_sources``).
    """
    extra = {name: " ".join(origins) for name, origins in (sources or {}).items() if origins}
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:" + (f" {extra['img-src']}" if "img-src" in extra else ""),
            "media-src 'self'" + (f" {extra['media-src']}" if "media-src" in extra else ""),
            "connect-src 'self'" + (f" {extra['connect-src']}" if "connect-src" in extra else ""),
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


def _security_headers(response: Response) -> Response:
    headers = response.headers
    # Only the embeddable picker (exactly its hub's origins) and the pages it runs in ('self') may
    # be framed; everything else, error pages included, keeps 'none'.
    frame_ancestors = g.get("frame_ancestors") or "'none'"
    headers.setdefault(
        "Content-Security-Policy",
        content_security_policy(g.get("csp_nonce", ""), frame_ancestors, g.get("csp_sources")),
    )
    if frame_ancestors == "'none'":
        headers.setdefault("X-Frame-Options", "DENY")
    headers["X-Content-Type-Options"] = "nosniff"
    # Same-origin referrers only: Flask-WTF's HTTPS referrer check needs them; nothing leaks outside.
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    headers["X-Request-Id"] = g.get("request_id", "")
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if not request.path.startswith("/static/"):
        # Pages may show who is signed in and hub data: never store them in any cache.
        headers["Cache-Control"] = "no-store"
    return response

"""Bearer authentication of picker requests, and the headers that go with a picker response.

Only the ``Authorization: Bearer`` header counts. Cookies, query strings and form fields are never
read for a credential, so a cross-site page cannot make a browser act in someone's picker: it can
neither attach that header (not CORS-safelisted) nor get a cookie honoured.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import abort, current_app, g, request

from portal import db
from portal.embed import sessions
from portal.embed.origins import origin_of
from portal.embed.services import frame_ancestors
from portal.embed.sessions import PickerContext
from portal.kaltura.media import media_origins


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or ``None``."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def own_origin() -> str | None:
    """The portal's own origin as this request reached it (behind ProxyFix when configured)."""
    return origin_of(request.host_url)


def picker_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Resolve the bearer token to a live picker session (``g.picker``) or answer 401."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        config = current_app.config
        context = (
            sessions.resolve(
                db.session(),
                token,
                idle=timedelta(minutes=config["PICKER_IDLE_MINUTES"]),
                own_origin=own_origin(),
            )
            if token
            else None
        )
        if context is None:
            abort(401)
        # Unsafe requests must come from the picker page itself (defence in depth on top of the header).
        if request.method != "GET" and request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
            abort(403)
        g.picker = context
        allow_picker_framing(context)
        return view(*args, **kwargs)

    return wrapped


def allow_picker_framing(context: PickerContext) -> None:
    """``frame-ancestors`` exactly the hub's origins (or the portal itself for its own library page),
    and the hub's Kaltura hosts for thumbnails and playback."""
    origins = list(context.settings.allowed_origins or []) if context.settings else []
    g.frame_ancestors = "'self'" if context.own_origin else frame_ancestors(origins)
    allow_kaltura_media(context.connection.service_url if context.connection else None)


def allow_kaltura_media(service_url: str | None) -> None:
    """Let the page load images and media from the hub's Kaltura hosts (CSP ``img-src``/``media-src``)."""
    sources = media_origins(service_url)
    if sources:
        g.csp_sources = {"img-src": sources, "media-src": sources}

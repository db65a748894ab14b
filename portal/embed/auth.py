"""Bearer authentication of picker requests, and the headers that go with a picker response.

Only the ``Authorization: Bearer`` header counts. Cookies, query strings and form fields are never
read for a credential, so a cross-site page cannot make a browser act in someone's picker: it can
neither attach that header (not CORS-safelisted) nor get a cookie honoured.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

from flask import abort, current_app, g, request

from portal import db
from portal.embed import bp, sessions
from portal.embed.origins import origin_of
from portal.embed.services import frame_ancestors
from portal.embed.sessions import PickerContext
from portal.kaltura.client import time_limit
from portal.kaltura.media import media_origins


@bp.before_request
def _start_kaltura_budget() -> None:
    """Every Kaltura call of this picker request, retries included, ends within PICKER_KALTURA_BUDGET
    seconds: a slow Kaltura gets the picker's error state, and the worker is free again, long before
    gunicorn's worker timeout."""
    stack = ExitStack()
    stack.enter_context(time_limit(float(current_app.config["PICKER_KALTURA_BUDGET"])))
    g.kaltura_budget = stack


@bp.teardown_request
def _end_kaltura_budget(_: BaseException | None) -> None:
    stack = g.pop("kaltura_budget", None)
    if stack is not None:
        stack.close()


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
        # connect-src: the upload panel's chunks go from the browser straight to the hub's Kaltura API.
        g.csp_sources = {"img-src": sources, "media-src": sources, "connect-src": sources[:1]}

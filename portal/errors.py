"""Error pages: every error is a page that says what happened and what to do, never a stack trace.

Every handler here is written so it cannot fail in turn:

* it rolls the request's database session back first (after a failed statement the session,
  and on PostgreSQL the transaction, refuse all work until then);
* it renders without needing the request's URL adapter (a request refused by
  ``PORTAL_TRUSTED_HOSTS`` has none, and every page builds URLs);
* if the branded page still cannot be rendered (the database is gone, say), it answers with a
  plain page that needs nothing; either way the security headers and the request id are added
  by ``security``'s after-request hook, and the session cookie is left as it was
  (:func:`portal.cookies.keep_session_cookie`);
* it logs one structured line (see :mod:`portal.logs`) with the request id and the route.

Refusals worth auditing (a bad form token, a rate limit, a denied hub page) are recorded as
security events here, because this is the one place every refusal passes through.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask.globals import request_ctx
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from portal import db
from portal.audit_log.events import hub_of_request, security_event
from portal.concurrency import LiveChecksBusy
from portal.cookies import keep_session_cookie
from portal.htmx import render

log = logging.getLogger("portal.errors")

# Hub routes: a 403 or 404 there is someone trying a hub (or an action) that is not theirs.
_HUB_ARGUMENT = "slug"


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _csrf_error(error: CSRFError) -> Response:
    """An expired or missing form token: explain it and offer a fresh form."""
    db.rollback()
    log.warning("form token refused: %s", error.description)
    security_event("security.csrf_failed", reason=error.description)
    return _error_page("errors/csrf.html", 400, reason=error.description, retry_url=_retry_url())


def _too_many(error: RateLimitExceeded) -> Response:
    """Too many attempts: say how long to wait, in a Retry-After header too."""
    from portal.extensions import limiter

    db.rollback()
    limit = limiter.current_limit
    wait = max(1, int(limit.reset_at - time.time())) if limit else 60
    scope = error.limit.scope if isinstance(error.limit.scope, str) else None
    sign_in = request.endpoint == "accounts.login"
    attempted = _attempted_email() if sign_in else None
    log.warning("rate limit reached: scope=%s limit=%s", scope, error.limit.limit)
    security_event("security.rate_limited", actor_email=attempted, scope=scope, limit=str(error.limit.limit))
    response = _error_page("errors/too_many.html", 429, wait=wait, sign_in=sign_in)
    response.headers["Retry-After"] = str(wait)
    return response


def _http_error(error: HTTPException) -> Response | HTTPException:
    """A 4xx (or werkzeug's own 500) as a branded page; denials on hub routes are audited."""
    if error.code is None or error.code < 400:
        return error
    if isinstance(error, InternalServerError):
        return _server_error(error.original_exception or error)
    db.rollback()
    if error.code in (403, 404) and _HUB_ARGUMENT in (request.view_args or {}):
        security_event(
            "access.denied", hub=hub_of_request(), status=error.code, slug=(request.view_args or {})[_HUB_ARGUMENT]
        )
    if isinstance(error, SecurityError):
        log.info("refused request for an untrusted host")
    if isinstance(error, LiveChecksBusy):
        security_event("security.rate_limited", scope=f"live-check-{error.scope}", hub=hub_of_request())
    # A description given to abort() explains this particular refusal; werkzeug's default does not.
    specific = error.description if error.description != type(error).description else None
    response = _error_page("errors/http.html", error.code, error=error, specific=specific)
    # Headers the error carries for the client (Retry-After on a 429, Allow on a 405) stay on the page.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _unexpected(error: Exception) -> Response:
    return _server_error(error)


def _server_error(error: BaseException) -> Response:
    """Something broke: the details go to the log with the request id, the user gets the id to quote."""
    db.rollback()
    log.error("unhandled error", exc_info=(type(error), error, error.__traceback__))
    return _error_page("errors/http.html", 500, error=None, specific=None)


def _error_page(template: str, status: int, **context: Any) -> Response:
    """Render an error page (its ``error_body`` block for HTMX); fall back to a plain page if that fails."""
    keep_session_cookie()
    _ensure_url_adapter()
    try:
        return render(template, block="error_body", status=status, **context)
    except Exception:
        log.exception("the error page could not be rendered; answering with the plain one")
        db.rollback()
        return _plain_page(status)


def _ensure_url_adapter() -> None:
    """Give a request refused before routing (an untrusted host) a URL adapter, so pages can link.

    Pages build relative URLs only, so the host the adapter is bound to never appears in them.
    """
    ctx = request_ctx._get_current_object()  # type: ignore[attr-defined]
    if ctx.url_adapter is not None:
        return
    hosts = current_app.config.get("TRUSTED_HOSTS") or ["localhost"]
    ctx.url_adapter = current_app.url_map.bind(
        hosts[0].lstrip("."), script_name=request.root_path or "/", url_scheme=request.scheme
    )


_PLAIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Kaltura Hub Portal</title></head>
<body><main><h1>{title}</h1>
<p>{text} If it keeps happening, contact support and quote reference <code>{reference}</code>.</p>
<p><a href="/">Back to your hubs</a></p></main></body></html>
"""


def _plain_page(status: int) -> Response:
    """A page that needs no template, database or URL map: the last resort of the error path."""
    if status >= 500:
        title, text = "Something went wrong on our side", "The portal hit an unexpected error and nothing was changed."
    else:
        title, text = "That did not work", "The portal could not complete that request."
    body = _PLAIN_PAGE.format(title=title, text=text, reference=escape(g.get("request_id", "")))
    return Response(body, status=status, mimetype="text/html")


def _attempted_email() -> str | None:
    value = request.form.get("email")
    return value.strip().lower()[:320] if isinstance(value, str) and value.strip() else None


def _retry_url() -> str:
    # The page the user was on (same origin only), so "reload the form" brings them back to it.
    referrer = request.referrer or ""
    try:
        same_site = referrer.startswith(request.host_url)
    except SecurityError:  # an untrusted Host header: there is no "same site" to compare with
        same_site = False
    if same_site:
        return referrer
    return request.path if request.method == "GET" else "/"

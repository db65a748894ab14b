"""Error pages: every error is a page that says what happened and what to do, never a stack trace."""

from __future__ import annotations

import logging
import time

from flask import Flask, g, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.htmx import render

log = logging.getLogger("portal.errors")


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _csrf_error(error: CSRFError):
    """An expired or missing form token: explain it and offer a fresh form."""
    return render("errors/csrf.html", block="error_body", status=400, reason=error.description, retry_url=_retry_url())


def _too_many(error: RateLimitExceeded):
    from portal.extensions import limiter

    limit = limiter.current_limit
    wait = max(1, int(limit.reset_at - time.time())) if limit else 60
    response = render("errors/too_many.html", block="error_body", status=429, wait=wait)
    response.headers["Retry-After"] = str(wait)
    return response


def _http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    # A description given to abort() explains this particular refusal; werkzeug's default does not.
    specific = error.description if error.description != type(error).description else None
    return render("errors/http.html", block="error_body", status=error.code, error=error, specific=specific)


def _unexpected(error: Exception):
    # The details go to the log with the request id; the user gets the id to quote to support.
    log.exception("unhandled error", extra={"request_id": g.get("request_id")})
    return render("errors/http.html", block="error_body", status=500, error=None, specific=None)


def _retry_url() -> str:
    # The page the user was on (same origin only), so "reload the form" brings them back to it.
    referrer = request.referrer or ""
    if referrer.startswith(request.host_url):
        return referrer
    return request.path if request.method == "GET" else "/"

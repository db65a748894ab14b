"""The one place that knows HTMX headers.

Fragments are named blocks of the full-page template: an HTMX request gets the block, any other
request gets the whole page, so every interaction still works as a plain form or link.
"""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    """True for an HTMX request that wants a fragment.

    Boosted links and forms, and history restores, swap the whole body: they get the full page.
    """
    details = request.htmx  # type: ignore[attr-defined]  # added by htmx-flask
    return bool(details) and not details.boosted and not details.history_restore_request


def render(template: str, *, block: str | None = None, status: int = 200, **context: Any) -> Response:
    """Render ``block`` of ``template`` for HTMX requests, the full page otherwise."""
    if block is not None and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def see_other(url: str) -> ResponseReturnValue:
    """After a successful POST: a 303 to ``url``, or for an HTMX request an ``HX-Location`` to it.

    htmx would follow a 303 inside the XHR and swap the next page into the small target it aimed
    at; ``HX-Location`` makes it load ``url`` as a boosted navigation instead (whole body, URL pushed).
    """
    if not is_htmx():
        return redirect(url, 303)
    response = make_response("", 200)
    response.headers["HX-Location"] = url
    return response

"""The picker's routes: the launch (a host page POSTs ``launch_token`` into the iframe) and the
fragments the picker page loads with HTMX (results, preview, import).

Why no cookie and no CSRF token here: the picker lives in a cross-site iframe, where browsers do
not send third-party cookies, so it authenticates with a bearer header that a cross-site page
cannot attach (reference/security.md §1.3). The launch itself is a cross-site form POST by design;
its proof is the signed, single-use, origin-bound launch token. Nothing here reads ``current_user``
or the session, so no response sets a cookie. The fragment routes always answer with a block of
``picker/picker.html``: a browser navigation cannot carry the bearer header, so they are only ever
reached by the picker page's own HTMX requests.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import Response, current_app, g, make_response, render_template, request
from jinja2_fragments.flask import render_block
from werkzeug.exceptions import HTTPException

from portal import audit, db, registry
from portal.embed import bp, picker, sessions
from portal.embed.auth import allow_kaltura_media, allow_picker_framing, own_origin, picker_required
from portal.embed.launch import LaunchContext, LaunchRefused, own_launch_key, verify_launch
from portal.embed.origins import canonical_origin
from portal.embed.services import allowed_origins, jwks_key_set, launch_secrets
from portal.embed.sessions import PickerContext
from portal.embed.upload_views import JSON_ENDPOINTS, json_error
from portal.extensions import csrf, limiter
from portal.validation import FieldError

TEMPLATE = "picker/picker.html"
#: Routes answering a block of the picker page; a refusal is the ``session_error`` block.
FRAGMENT_ENDPOINTS = (
    "embed.media",
    "embed.preview",
    "embed.import_items",
    "embed.uploads",
    "embed.upload_finish",
    "embed.upload_cancel",
)

csrf.exempt(bp)


@bp.post("/embed/picker")
@limiter.limit(
    lambda: current_app.config["EMBED_LAUNCH_LIMIT"],
    scope="embed-launch",
    deduct_when=lambda response: response.status_code >= 400,
)
def launch():
    """Verify a launch token, open a picker session and answer with the picker showing its first page."""
    session = db.session()
    try:
        launched = verify_launch(
            session,
            request.form.get("launch_token", ""),
            request_origin=request.headers.get("Origin"),
            context=_launch_context(),
            request_id=g.request_id,
        )
    except LaunchRefused as refused:
        return _refused(refused)
    config = current_app.config
    token = sessions.open_session(
        session,
        hub=launched.hub,
        user=launched.user,
        origin=launched.origin,
        max_age=timedelta(hours=config["PICKER_MAX_HOURS"]),
    )
    audit.record(
        session,
        action="embed.launch",
        actor=launched.user,
        hub=launched.hub,
        request_id=g.request_id,
        origin=launched.origin,
        sub=str(launched.claims.get("sub"))[:255],
        iss=str(launched.claims.get("iss") or "")[:255] or None,
        added_member=launched.added_member,
    )
    session.commit()
    context = sessions.resolve(
        session, token, idle=timedelta(minutes=config["PICKER_IDLE_MINUTES"]), own_origin=own_origin()
    )
    assert context is not None  # just opened
    allow_picker_framing(context)
    wanted = picker.Browse()
    result = picker.browse(session, registry.kaltura(), registry.vault(), context, wanted)
    return render_template(
        TEMPLATE, picker_token=token, ctx=context, result=result, upload=_upload_panel(context), **_controls(wanted)
    ), 200


@bp.get("/embed/picker")
def launch_help():
    """A browser that lands here directly (a bookmark, a reload) is told how the picker is opened."""
    return _page("embed/refused.html", status=400, category="direct")


@bp.get("/embed/picker/media")
@picker_required
def media():
    """The results block for the controls in the query string (search, type, ownership, sort, page)."""
    ctx: PickerContext = g.picker
    try:
        wanted = picker.parse_browse(request.args)
    except FieldError as error:
        result = picker.BrowseResult(
            picker.Browse(), problem=picker.Problem("input", "Check the search", error.message, 422, retry=False)
        )
        return _fragment("results", status=422, ctx=ctx, result=result, field_error=error.field)
    result = picker.browse(db.session(), registry.kaltura(), registry.vault(), ctx, wanted)
    status = result.problem.status if result.problem else 200
    return _fragment("results", status=status, ctx=ctx, result=result)


@bp.get("/embed/picker/media/<entry_id>")
@picker_required
def preview(entry_id: str):
    """The preview panel of one entry: large picture, details, and a player for video and audio."""
    ctx: PickerContext = g.picker
    result = picker.preview(db.session(), registry.kaltura(), registry.vault(), ctx, entry_id)
    status = result.problem.status if result.problem else 200
    return _fragment("preview", status=status, ctx=ctx, preview=result)


@bp.post("/embed/picker/import")
@picker_required
def import_items():
    """Add the picked entries to the hub's library; the answer carries the message for the host page."""
    ctx: PickerContext = g.picker
    try:
        result = picker.import_entries(
            db.session(),
            registry.kaltura(),
            registry.vault(),
            ctx,
            request.form.getlist("entry_id"),
            request_id=g.request_id,
        )
    except FieldError as error:
        return _fragment("import_result", status=422, ctx=ctx, imported=None, error=error.message)
    status = result.problem.status if result.problem else 200
    message = json.dumps(result.message, separators=(",", ":")) if result.message else None
    return _fragment("import_result", status=status, ctx=ctx, imported=result, message=message)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    """Picker errors are picker pages: no site chrome, no CSRF token, so no cookie."""
    if error.code is None or error.code < 400:
        return error
    if request.endpoint in JSON_ENDPOINTS:
        return json_error(error.code)
    if request.endpoint in FRAGMENT_ENDPOINTS:
        return _fragment("session_error", status=error.code, code=error.code)
    return _page("embed/refused.html", status=error.code, category="error", code=error.code)


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    current_app.logger.exception("picker error", extra={"request_id": g.get("request_id")})
    if request.endpoint in JSON_ENDPOINTS:
        return json_error(500)
    if request.endpoint in FRAGMENT_ENDPOINTS:
        return _fragment("session_error", status=500, code=500)
    return _page("embed/refused.html", status=500, category="error", code=500)


# -- helpers -----------------------------------------------------------------------------------------


def _launch_context() -> LaunchContext:
    keyring = registry.vault().keyring
    fetcher = current_app.extensions["embed_jwks"]
    secret_key = current_app.config["SECRET_KEY"]
    return LaunchContext(
        audience=current_app.config["EMBED_AUDIENCE"],
        own_origin=own_origin(),
        secrets_for=lambda settings: launch_secrets(keyring, settings),
        own_key_for=lambda hub: own_launch_key(secret_key, hub.id),
        jwks_for=lambda settings, refresh: jwks_key_set(settings, fetcher, refresh=refresh),
    )


def _refused(refused: LaunchRefused) -> Response:
    """Audit the detail; show the person only the category, with a 4xx."""
    session = db.session()
    session.rollback()
    claims = refused.claims
    audit.record(
        session,
        action="embed.launch_refused",
        actor=None,
        hub=refused.hub,
        request_id=g.request_id,
        category=refused.category.value,
        detail=refused.detail[:500],
        request_origin=(request.headers.get("Origin") or "")[:300] or None,
        claimed_origin=str(claims.get("origin"))[:300] if claims.get("origin") else None,
        sub=str(claims.get("sub"))[:255] if claims.get("sub") else None,
        jti=str(claims.get("jti"))[:128] if claims.get("jti") else None,
    )
    session.commit()
    # A legitimate host whose token expired should see the explanation inside its iframe; anyone
    # else gets a page that cannot be framed at all.
    if refused.hub is not None:
        allowed = allowed_origins(session, refused.hub)
        try:
            origin = canonical_origin(request.headers.get("Origin") or "")
        except FieldError:
            origin = None
        if origin and origin in allowed:
            g.frame_ancestors = origin
        elif origin and origin == own_origin():
            g.frame_ancestors = "'self'"
    return _page("embed/refused.html", status=refused.category.status, category=refused.category.value)


def _upload_panel(context: PickerContext) -> dict[str, Any]:
    """What the upload panel says about limits and formats."""
    from portal.uploads import services as upload_services
    from portal.uploads.sniff import HEAD_BYTES, TAIL_BYTES, allowed_summary

    limit = upload_services.limit_mb(context.settings, current_app.config["UPLOAD_MAX_MB"])
    return {"limit_mb": limit, "allowed": allowed_summary(), "head_bytes": HEAD_BYTES, "tail_bytes": TAIL_BYTES}


def _controls(wanted: picker.Browse) -> dict[str, Any]:
    return {"browse": wanted, "sorts": picker.SORTS, "types": picker.TYPES, "owners": picker.OWNERS}


def _fragment(block: str, *, status: int, **context: Any) -> Response:
    """A named block of the picker page (see the module docstring for why never the whole page)."""
    ctx = context.get("ctx")
    if isinstance(ctx, PickerContext):
        allow_kaltura_media(ctx.connection.service_url if ctx.connection else None)
    body = render_block(
        TEMPLATE, block, **_controls(getattr(context.get("result"), "browse", picker.Browse())), **context
    )
    return make_response(body, status)


def _page(template: str, *, status: int, **context: Any) -> Response:
    return make_response(render_template(template, **context), status)

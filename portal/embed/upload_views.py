"""The picker's upload routes (issue 12): check a file, prepare its upload, a fresh upload session,
finish, cancel, and the Uploads list that HTMX polls while something is in progress.

Same authentication as every picker route: the picker-session Bearer header only, no cookie, no
CSRF token (a cross-site page can attach neither that header nor a body the portal would act on;
see views.py). ``check`` and ``prepare`` read at most :data:`SAMPLE_LIMIT` bytes: the file's first
and last bytes, never the file, which goes from the browser straight to Kaltura.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify, request

from portal import db, registry
from portal.embed import bp
from portal.embed.auth import picker_required
from portal.embed.sessions import PickerContext

# Module imports only (attributes read at call time): portal.uploads.services imports the picker,
# so a from-import of its names here would be circular.
from portal.uploads import services, sniff
from portal.validation import FieldError


def _size_text(size: int) -> str:
    return services.size_text(size)


bp.add_app_template_global(_size_text, "size_text")


def _eta(seconds: float) -> str:
    """``45 s``, ``3 min``, ``1 h 20 min``: how long, for a person."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


bp.add_app_template_global(_eta, "eta")

#: The most a check or prepare request may carry: the first and last bytes plus the form fields.
SAMPLE_LIMIT = sniff.HEAD_BYTES + sniff.TAIL_BYTES + 64 * 1024
#: Endpoints answering JSON (the chunk pump and uploads.js read them), not HTML blocks.
JSON_ENDPOINTS = ("embed.upload_check", "embed.upload_prepare", "embed.upload_session")


@bp.post("/embed/picker/uploads/check")
@picker_required
def upload_check():
    """What the file is, whether it may be uploaded here, whether it looks 360°, and whether an
    earlier upload of it can go on."""
    ctx: PickerContext = g.picker
    try:
        sample = _sample()
        checked = services.check(db.session(), ctx, sample, _settings().operator_max_mb)
        checked = services.with_true_progress(db.session(), registry.kaltura(), registry.vault(), ctx, checked)
    except services.UploadRefused as refused:
        return _refused(refused)
    return jsonify(checked.as_dict())


@bp.post("/embed/picker/uploads")
@picker_required
def upload_prepare():
    """Create (or find again) the upload token and entry; answer with the upload plan."""
    ctx: PickerContext = g.picker
    try:
        sample = _sample()
        prepared = services.prepare(
            db.session(),
            registry.kaltura(),
            registry.vault(),
            ctx,
            sample,
            request.form,
            _settings(),
            request_id=g.request_id,
        )
    except FieldError as error:
        return _refused(services.UploadRefused(error.message, 422, field=error.field or "file"))
    except services.UploadRefused as refused:
        return _refused(refused)
    upload = prepared.upload
    return jsonify({"ok": True, "done": prepared.done, "uploadId": upload.public_id, "plan": prepared.plan or None})


@bp.post("/embed/picker/uploads/<upload_id>/session")
@picker_required
def upload_session(upload_id: str):
    """A fresh short-lived upload session (the chunk pump asks when Kaltura answers INVALID_KS)."""
    ctx: PickerContext = g.picker
    try:
        fresh = services.fresh_session(db.session(), registry.kaltura(), registry.vault(), ctx, upload_id, _settings())
    except services.UploadRefused as refused:
        return _refused(refused)
    return jsonify(fresh)


@bp.post("/embed/picker/uploads/<upload_id>/finish")
@picker_required
def upload_finish(upload_id: str):
    """Every byte is sent: Kaltura's state decides what the Uploads list says next."""
    ctx: PickerContext = g.picker
    try:
        result = services.finish(
            db.session(), registry.kaltura(), registry.vault(), ctx, upload_id, _settings(), request_id=g.request_id
        )
    except services.UploadRefused as refused:
        return _uploads_block(ctx, services.Refreshed(_rows(ctx)), status=refused.status, error=refused.message)
    return _uploads_block(ctx, result)


@bp.post("/embed/picker/uploads/<upload_id>/cancel")
@picker_required
def upload_cancel(upload_id: str):
    """Stop an upload: its upload token and its empty entry are deleted in Kaltura."""
    ctx: PickerContext = g.picker
    try:
        record = services.cancel(
            db.session(), registry.kaltura(), registry.vault(), ctx, upload_id, request_id=g.request_id
        )
    except services.UploadRefused as refused:
        return _uploads_block(ctx, services.Refreshed(_rows(ctx)), status=refused.status, error=refused.message)
    notice = f"Cancelled {record.file_name}: nothing of it is left in Kaltura."
    return _uploads_block(ctx, services.Refreshed(_rows(ctx)), notice=notice)


@bp.get("/embed/picker/uploads")
@picker_required
def uploads():
    """The Uploads list with Kaltura's truth for the active ones; polled while any is active."""
    ctx: PickerContext = g.picker
    result = services.refresh(
        db.session(), registry.kaltura(), registry.vault(), ctx, _settings(), request_id=g.request_id
    )
    return _uploads_block(ctx, result)


# -- helpers -----------------------------------------------------------------------------------------


def _rows(ctx: PickerContext) -> list[services.UploadRow]:
    return [services.UploadRow(u) for u in services.member_uploads(db.session(), ctx.hub, ctx.user)]


def _settings() -> services.UploadSettings:
    return services.UploadSettings.from_config(current_app.config)


def _sample() -> services.FileSample:
    """The file's name, size and first/last bytes from the multipart body (services.UploadRefused if unusable)."""
    request.max_content_length = SAMPLE_LIMIT
    form = request.form
    name = (form.get("file_name") or "").strip()
    raw_size = (form.get("file_size") or "").strip()
    if not raw_size.isdigit() or len(raw_size) > 15:
        raise services.UploadRefused("The browser did not say how big the file is: choose the file again.", 400)
    head_part = request.files.get("head")
    tail_part = request.files.get("tail")
    head = _read(head_part, sniff.HEAD_BYTES + 1)
    tail = _read(tail_part, sniff.TAIL_BYTES + 1)
    if len(head) > sniff.HEAD_BYTES or len(tail) > sniff.TAIL_BYTES:
        raise services.UploadRefused("The browser sent more of the file than the check reads: reload the picker.", 400)
    return services.FileSample(name, int(raw_size), head, tail)


def _read(part: Any, limit: int) -> bytes:
    """A multipart part's bytes, its spooled temporary file closed at once."""
    if part is None:
        return b""
    try:
        return bytes(part.read(limit))
    finally:
        part.close()


def _refused(refused: services.UploadRefused) -> Response:
    response = jsonify({"ok": False, "field": refused.field, "message": refused.message, "code": refused.code})
    response.status_code = refused.status
    return response


def _uploads_block(ctx: PickerContext, result: services.Refreshed, *, status: int = 200, **extra: Any) -> Response:
    from portal.embed.views import _fragment

    return _fragment("uploads", status=status, ctx=ctx, uploads=result, **extra)


def json_error(code: int) -> Response:
    """A picker-session error for the JSON routes (401: the picker has closed)."""
    message = (
        "This picker has closed. Open it again from the page you came from; "
        "your upload can go on from where it stopped."
        if code == 401
        else "This request is not allowed here."
        if code == 403
        else "The request was too large."
        if code == 413
        else "Something went wrong; try again."
    )
    response = jsonify({"ok": False, "message": message, "code": code})
    response.status_code = code
    return response

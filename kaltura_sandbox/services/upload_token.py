"""``uploadToken.*``: resumable, chunked and parallel uploads (reference §6.1, §6.2).

Status machine: PENDING (0) -> PARTIAL_UPLOAD (1) -> FULL_UPLOAD (2) -> CLOSED (3, consumed by
``media.addContent``); ``delete`` makes a token DELETED (5), after which it is not found.

``uploadToken.upload(uploadTokenId, fileData, resume=false, finalChunk=true, resumeAt=-1)``:

* ``resume=false`` writes the part as the start of the file (a single-shot upload when it is
  also final). Every other chunk must resume: ``resume=true`` before any data exists is
  ``UPLOAD_TOKEN_CANNOT_RESUME``.
* ``resumeAt=-1`` appends at the end. ``resumeAt=N`` writes the chunk at byte N when N is within
  (or at the end of) the contiguous data; a chunk that starts further on is parked and joins the
  file when the bytes before it arrive, so chunks may be sent in parallel and out of order.
* ``uploadedFileSize`` is always the contiguous size: what a client resumes from.
* A final chunk at ``resumeAt=N>0`` expects a file of N + its size. The sandbox waits up to
  ``FINAL_CHUNK_WAIT`` seconds for parked chunks to fill the gap (Kaltura waits up to 45 s),
  then fails with the retryable ``UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE``.
* ``autoFinalize`` tokens finish by themselves once ``fileSize`` bytes are contiguous.

A non-admin session sees only its own tokens; anyone else's token is ``UPLOAD_TOKEN_NOT_FOUND``.
Bytes live under ``files_dir/uploads`` as ``{token}.{ext}`` plus ``{token}.{ext}.chunk.{offset}``
files for parked chunks.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Any

from .. import media_store as ms
from .. import processing, registry
from ..context import Call
from ..errors import ApiError
from ..params import coerce_enum, coerce_float, coerce_int, coerce_str
from ..registry import action
from . import media

FINAL_CHUNK_WAIT = 2.0  # seconds a final chunk waits for earlier parked chunks
FINAL_CHUNK_POLL = 0.05
MAX_WAITING_CHUNKS = 1000
MAX_RESUME_TIME = 604800  # upload_token_max_resume_time: 7 days
COPY_BLOCK = 1024 * 1024

# Permission items (deployment/permissions/service.uploadtoken.ini): a widget session may read
# tokens but not create or fill them.
UPLOAD_WRITE = (
    registry.ATTACHMENT_MODIFY,
    registry.CAPTION_MODIFY,
    registry.CONTENT_INGEST_UPLOAD,
    registry.BASE_USER_SESSION,
    registry.CAPTURE_DEVICE,
    registry.BASE_UPLOAD,
)
UPLOAD_READ = (
    registry.CONTENT_INGEST_UPLOAD,
    registry.BASE_USER_SESSION,
    registry.WIDGET_SESSION,
    registry.CAPTURE_DEVICE,
    registry.BASE_UPLOAD,
)

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _token_lock(token_id: str) -> threading.Lock:
    """One lock per token: chunk writes of a token never interleave."""
    with _locks_guard:
        return _locks.setdefault(token_id, threading.Lock())


# -- objects and lookups -------------------------------------------------------------------------


def token_object(row, *, fresh_size: int | None = None) -> dict:
    """A ``KalturaUploadToken``.

    Like the server, sizes read back from the database come out as strings (its hydrate casts
    them); the size an upload has just written is a number.
    """
    uploaded: Any = row["uploaded_file_size"]
    if fresh_size is not None:
        uploaded = fresh_size
    elif uploaded is not None:
        uploaded = str(uploaded)
    file_size = row["file_size"]
    return {
        "objectType": "KalturaUploadToken",
        "relatedObjects": None,
        "id": row["id"],
        "partnerId": row["partner_id"],
        "userId": row["user_id"],
        "status": row["status"],
        "fileName": row["file_name"],
        "fileSize": None if file_size is None else _number_text(file_size),
        "uploadedFileSize": uploaded,
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "uploadUrl": None,
        "autoFinalize": row["auto_finalize"],
        "attachedObjectType": row["attached_object_type"],
        "attachedObjectId": row["attached_object_id"],
    }


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def visible_token(call: Call, token_id: str | None):
    """The token if this session may use it: admins see the partner's, users their own."""
    row = ms.get_token(call.store, call.require_partner(), token_id or "")
    if row is None or not _owns(call, row):
        raise ApiError("UPLOAD_TOKEN_NOT_FOUND")
    return row


def _owns(call: Call, row) -> bool:
    session = call.session
    if session is not None and session.is_admin:
        return True
    return row["user_id"] == call.kuser_id()


def _uploads_dir(call: Call) -> Path:
    path = Path(call.config.files_dir) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- add / get / list / delete --------------------------------------------------------------------


# Permissions: deployment/permissions/service.uploadtoken.ini (add).
@action("uploadToken", "add", permissions=UPLOAD_WRITE)
def upload_token_add(call: Call) -> dict:
    """Create an upload token owned by the KS user (status PENDING)."""
    obj = call.obj("uploadToken", type_name="KalturaUploadToken")
    for name in (
        "id",
        "partnerId",
        "userId",
        "status",
        "uploadedFileSize",
        "createdAt",
        "updatedAt",
        "uploadUrl",
        "attachedObjectType",
        "attachedObjectId",
    ):
        if obj.get(name) is not None:
            # KalturaObject::validateForInsert names the property with its class.
            raise ApiError("PROPERTY_VALIDATION_NOT_UPDATABLE", PROP_NAME=f"KalturaUploadToken::{name}")
    file_size = coerce_float(obj.get("fileSize"), "fileSize")
    auto_finalize = coerce_enum(obj.get("autoFinalize"), "autoFinalize", (-1, 0, 1), "KalturaNullableBoolean")
    if auto_finalize == 1 and not file_size:
        raise ApiError("UPLOAD_TOKEN_MISSING_FILE_SIZE")
    now = int(call.now())
    row = {
        "id": ms.generate_token_id(),
        "partner_id": call.require_partner(),
        "user_id": call.kuser_id(),
        "status": ms.TOKEN_PENDING,
        "file_name": coerce_str(obj.get("fileName"), "fileName"),
        "file_size": file_size,
        "uploaded_file_size": None,
        "auto_finalize": auto_finalize,
        "created_at": now,
        "updated_at": now,
    }
    ms.insert_token(call.store, row)
    result = token_object({**row, "upload_path": None, "attached_object_type": None, "attached_object_id": None})
    result["fileSize"] = file_size
    return result


# Permissions: deployment/permissions/service.uploadtoken.ini (get).
@action("uploadToken", "get", permissions=UPLOAD_READ)
def upload_token_get(call: Call) -> dict:
    """One upload token; read ``uploadedFileSize`` from it to resume an interrupted upload."""
    return token_object(visible_token(call, call.str("uploadTokenId", required=True)))


# Permissions: deployment/permissions/service.uploadtoken.ini (list).
@action("uploadToken", "list", permissions=UPLOAD_READ)
def upload_token_list(call: Call) -> dict:
    """The partner's tokens (a user session: only its own), newest last."""
    flt = call.obj("filter", type_name="KalturaUploadTokenFilter")
    limit, offset = media.pager_window(call, search_index=False)
    query = media.Query()
    query.add("t.partner_id = ?", call.require_partner())
    query.add("t.status != ?", ms.TOKEN_DELETED)
    session = call.session
    if session is None or not session.is_admin:
        query.add("t.user_id = ?", call.kuser_id())
    _token_filters(query, flt)
    order = (
        "t.created_at DESC, t.rowid DESC"
        if coerce_str(flt.get("orderBy"), "orderBy") == "-createdAt"
        else "t.created_at, t.rowid"
    )
    clause = " AND ".join(query.where)
    total = call.store.scalar(f"SELECT count(*) FROM media_upload_tokens t WHERE {clause}", query.params)
    rows = call.store.query(
        f"SELECT * FROM media_upload_tokens t WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
        (*query.params, limit, offset),
    )
    return {
        "objectType": "KalturaUploadTokenListResponse",
        "relatedObjects": None,
        "objects": [token_object(row) for row in rows],
        "totalCount": total,
    }


def _token_filters(query: media.Query, flt: dict) -> None:
    for name, column in (("idEqual", "t.id"), ("userIdEqual", "t.user_id"), ("fileNameEqual", "t.file_name")):
        value = coerce_str(flt.get(name), name)
        if value:
            query.add(f"{column} = ?", value)
    if coerce_str(flt.get("idIn"), "idIn"):
        query.add_in("t.id", ms.split_list(coerce_str(flt.get("idIn"), "idIn")))
    status = coerce_enum(flt.get("statusEqual"), "statusEqual", (0, 1, 2, 3, 4, 5), "KalturaUploadTokenStatus")
    if status is not None:
        query.add("t.status = ?", status)
    if coerce_str(flt.get("statusIn"), "statusIn"):
        values = [coerce_int(v, "statusIn") for v in ms.split_list(coerce_str(flt.get("statusIn"), "statusIn"))]
        query.add_in("t.status", values)
    file_size = coerce_float(flt.get("fileSizeEqual"), "fileSizeEqual")
    if file_size is not None:
        query.add("t.file_size = ?", file_size)


# Permissions: deployment/permissions/service.uploadtoken.ini (delete).
@action(
    "uploadToken",
    "delete",
    permissions=(registry.CONTENT_INGEST_UPLOAD, registry.BASE_USER_SESSION, registry.BASE_UPLOAD),
)
def upload_token_delete(call: Call) -> None:
    """Delete a token and its uploaded bytes."""
    row = visible_token(call, call.str("uploadTokenId", required=True))
    with _token_lock(row["id"]):
        ms.update_token(call.store, row["id"], status=ms.TOKEN_DELETED, updated_at=int(call.now()))
        if row["upload_path"]:
            main = Path(call.config.files_dir) / row["upload_path"]
            for path in [main, *main.parent.glob(main.name + ".chunk.*")]:
                path.unlink(missing_ok=True)
    return None


# -- upload ---------------------------------------------------------------------------------------


class _Chunk:
    """One received part, saved next to the upload file."""

    def __init__(self, path: Path, size: int, name: str) -> None:
        self.path = path
        self.size = size
        self.name = name


# Permissions: deployment/permissions/service.uploadtoken.ini (upload).
@action("uploadToken", "upload", permissions=UPLOAD_WRITE)
def upload_token_upload(call: Call) -> dict:
    """Receive one part of the token's file (see the module docstring for the rules)."""
    row = visible_token(call, call.str("uploadTokenId", required=True))
    part = call.file("fileData", required=True)
    resume = bool(call.bool("resume", default=False))
    final = bool(call.bool("finalChunk", default=True))
    resume_at = int(call.float("resumeAt", default=-1.0) or 0)
    _check_uploadable(call, row)
    chunk = _receive(call, row, part)
    try:
        if chunk.size == 0 and not final and resume_at > 0:
            return token_object(row)  # Kaltura dismisses empty intermediate chunks
        main, final = _write(call, row, chunk, resume=resume, final=final, resume_at=resume_at)
    finally:
        chunk.path.unlink(missing_ok=True)
    return _record_progress(call, row["id"], main, final)


def _check_uploadable(call: Call, row) -> None:
    """Errors before any data is accepted, in the server's order."""
    if row["status"] == ms.TOKEN_ERROR:
        raise ApiError("MAX_ALLOWED_CHUNK_COUNT_EXCEEDED")
    stale = call.now() - row["updated_at"] > MAX_RESUME_TIME
    if row["status"] == ms.TOKEN_PARTIAL_UPLOAD and stale:
        raise ApiError("UPLOAD_PASSED_MAX_RESUME_TIME_ALLOWED", MAX_RESUME_TIME=MAX_RESUME_TIME)
    if row["status"] not in (ms.TOKEN_PENDING, ms.TOKEN_PARTIAL_UPLOAD):
        raise ApiError("UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD")


def _receive(call: Call, row, part) -> _Chunk:
    """Save the multipart part to a temporary file beside the upload."""
    name = os.path.basename(part.filename or "")
    if not name:
        raise ApiError("UPLOAD_ERROR")
    temp = _uploads_dir(call) / f"{row['id']}.incoming.{threading.get_ident()}.{time.time_ns()}"
    spooled = getattr(part.stream, "name", None)
    if isinstance(spooled, str) and os.path.isfile(spooled):
        # The request spooled the part to a file beside ours (app.SpoolingRequest): keep those
        # bytes under our name rather than writing them a second time.
        part.stream.flush()
        with contextlib.suppress(OSError):  # no hard links here: copy instead
            os.link(spooled, temp)
            return _Chunk(temp, temp.stat().st_size, name)
    size = 0
    with open(temp, "wb") as out:
        while block := part.stream.read(COPY_BLOCK):
            out.write(block)
            size += len(block)
    return _Chunk(temp, size, name)


def _main_path(call: Call, row, chunk: _Chunk) -> tuple[Path, str]:
    """The upload file: its extension comes from the part's name, else the token's file name."""
    if row["upload_path"]:
        return Path(call.config.files_dir) / row["upload_path"], row["upload_path"]
    ext = processing.file_extension(chunk.name)
    if ext in ("", "tmp") and row["file_name"]:
        ext = processing.file_extension(row["file_name"])
    relative = f"uploads/{row['id']}.{ext or 'noex'}"
    return Path(call.config.files_dir) / relative, relative


def _write(call: Call, row, chunk: _Chunk, *, resume: bool, final: bool, resume_at: int) -> tuple[Path, bool]:
    """Put the chunk into the file; returns (the upload file, whether the upload is complete)."""
    main, relative = _main_path(call, row, chunk)
    if not row["file_name"]:
        ms.update_token(call.store, row["id"], file_name=chunk.name)
    if not resume:
        with _token_lock(row["id"]):
            os.replace(chunk.path, main)
            ms.update_token(call.store, row["id"], upload_path=relative)
            size = _append_parked(main)
        return main, final or _auto_final(row, size)
    if not main.is_file():
        raise ApiError("UPLOAD_TOKEN_CANNOT_RESUME")
    if resume_at < 0:
        with _token_lock(row["id"]):
            _write_at(main, chunk.path, main.stat().st_size)
            size = _append_parked(main)
        return main, final or _auto_final(row, size)
    return _positioned(call, row, main, chunk, final=final, resume_at=resume_at)


def _positioned(call: Call, row, main: Path, chunk: _Chunk, *, final: bool, resume_at: int) -> tuple[Path, bool]:
    """A chunk at byte ``resume_at``: written now if it touches the data, else parked."""
    verify = final and resume_at > 0  # a final chunk at 0 just overwrites (compatibility)
    expected = resume_at + chunk.size
    with _token_lock(row["id"]):
        if _waiting_chunks(main) >= MAX_WAITING_CHUNKS and not verify:
            ms.update_token(call.store, row["id"], status=ms.TOKEN_ERROR)
            raise ApiError("MAX_ALLOWED_CHUNK_COUNT_EXCEEDED")
        os.replace(chunk.path, Path(f"{main}.chunk.{resume_at}"))
        size = _append_parked(main)
    deadline = time.monotonic() + FINAL_CHUNK_WAIT
    while verify and size != expected and time.monotonic() < deadline:
        # Release the lock while waiting so parallel requests can deliver the missing bytes.
        time.sleep(FINAL_CHUNK_POLL)
        with _token_lock(row["id"]):
            size = _append_parked(main)
    if verify and size != expected:
        raise ApiError("UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE")
    return main, final or _auto_final(row, size)


def _auto_final(row, size: int) -> bool:
    """``autoFinalize`` tokens complete once ``fileSize`` bytes are contiguous."""
    return bool(row["auto_finalize"] == 1 and row["file_size"] and size >= row["file_size"])


def _waiting_chunks(main: Path) -> int:
    return sum(1 for _ in main.parent.glob(main.name + ".chunk.*"))


def _parked(main: Path) -> list[tuple[int, Path]]:
    chunks = []
    for path in main.parent.glob(main.name + ".chunk.*"):
        suffix = path.name.rsplit(".", 1)[1]
        if suffix.isdigit():
            chunks.append((int(suffix), path))
    return sorted(chunks)


def _append_parked(main: Path) -> int:
    """Join every parked chunk that starts within (or at the end of) the data and extends it;
    drop chunks the data already covers. Returns the contiguous size."""
    size = main.stat().st_size
    progress = True
    while progress:
        progress = False
        for offset, path in _parked(main):
            length = path.stat().st_size
            if offset == 0 or offset <= size < offset + length:
                _write_at(main, path, offset)
                path.unlink()
                size = main.stat().st_size
                progress = True
                break
            if offset + length <= size:
                path.unlink()
    return size


def _write_at(main: Path, source: Path, offset: int) -> None:
    """Copy ``source`` into ``main`` starting at ``offset``."""
    with open(main, "r+b") as out, open(source, "rb") as data:
        left = os.fstat(data.fileno()).st_size
        with contextlib.suppress(OSError):  # the kernel copies without a trip through Python
            while left > 0 and (done := os.copy_file_range(data.fileno(), out.fileno(), left, None, offset)):
                offset += done
                left -= done
        if left > 0:  # copy_file_range unavailable (or not across these files): copy by hand
            data.seek(-left, os.SEEK_END)
            out.seek(offset)
            while block := data.read(COPY_BLOCK):
                out.write(block)


def _record_progress(call: Call, token_id: str, main: Path, final: bool) -> dict:
    """Store the contiguous size and the status; a completed upload feeds a waiting entry.

    Done under the token's lock, from the file itself, so parallel chunks finishing in any
    order never record a smaller size than the data holds, and a late intermediate chunk
    never turns a complete token back into a partial one.
    """
    with _token_lock(token_id):
        size = main.stat().st_size
        status = ms.TOKEN_FULL_UPLOAD if final else ms.TOKEN_PARTIAL_UPLOAD
        call.store.execute(
            "UPDATE media_upload_tokens SET uploaded_file_size = ?, updated_at = ?, "
            "status = CASE WHEN status IN (?, ?) THEN ? ELSE status END WHERE id = ?",
            (size, int(call.now()), ms.TOKEN_PENDING, ms.TOKEN_PARTIAL_UPLOAD, status, token_id),
        )
        row = ms.get_token(call.store, call.require_partner(), token_id)
        if final and row is not None:
            media.ingest_attached(call, row)
            row = ms.get_token(call.store, call.require_partner(), token_id) or row
    if row is None:
        raise ApiError("UPLOAD_TOKEN_NOT_FOUND")
    return token_object(row, fresh_size=size)

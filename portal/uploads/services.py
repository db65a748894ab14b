"""Uploads from the picker: check, prepare, track, finish and cancel (issue 12). No Flask here.

The bytes never pass through the portal. For each file the browser sends its name, size, first
bytes and (MP4/MOV) last bytes; :func:`check` reads them with :mod:`portal.uploads.sniff` and
says what the file is, whether it may be uploaded, whether it looks 360° and whether an earlier
upload of the same file can go on. :func:`prepare` then makes the upload token and the entry in
the member's Kaltura account (``referenceId`` = our record's reference, so a retry never makes
a second entry), attaches the token to the entry, and returns the plan ``chunk_pump.js`` needs.

Progress is Kaltura's, never the browser's word: :func:`refresh` reads ``uploadedFileSize`` of
every uploading file (one ``uploadToken.list``) and the status and flavors of every processing
entry (one multirequest with ``entryIdIn``), moves READY entries into the hub's library as an
import would, and turns ``ERROR_CONVERTING`` into a failure with its reason.

Nothing is left behind on a refusal: a prepare that fails half-way deletes what it made in
Kaltura and its record; a cancel deletes the upload token and the empty entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal import audit
from portal.embed.picker import Problem, _client, _problem, kaltura_user_for, picked_message
from portal.embed.sessions import PickerContext
from portal.identity.links import IdentityError
from portal.kaltura import KalturaGateway
from portal.kaltura.errors import KalturaApiError, KalturaError, KalturaUnavailable
from portal.kaltura.media import TAG_360
from portal.kaltura.types import EntryStatus, MediaType
from portal.kaltura.uploads import UploadToken
from portal.kaltura.vault import SealedToken, TokenVault
from portal.library.services import add_entries
from portal.models import EmbedSettings, Hub, LibraryMediaType, LibrarySource, Upload, UploadState, User
from portal.uploads import sniff
from portal.validation import FieldError

MAX_NAME = 255
MAX_DESCRIPTION = 4000
MAX_TAGS_TEXT = 900
MAX_TAG = 60
MB = 1024 * 1024
ACTIVE = (UploadState.UPLOADING, UploadState.PROCESSING)
_LIBRARY_TYPES = {
    sniff.MediaType.VIDEO: LibraryMediaType.VIDEO,
    sniff.MediaType.IMAGE: LibraryMediaType.IMAGE,
    sniff.MediaType.AUDIO: LibraryMediaType.AUDIO,
}
_KALTURA_TYPES = {
    LibraryMediaType.VIDEO: MediaType.VIDEO,
    LibraryMediaType.IMAGE: MediaType.IMAGE,
    LibraryMediaType.AUDIO: MediaType.AUDIO,
}


@dataclass(frozen=True)
class UploadSettings:
    """What prepare needs from the portal's configuration."""

    operator_max_mb: int
    chunk_bytes: int
    min_chunk_bytes: int
    max_chunk_bytes: int
    parallelism: int
    session_seconds: int
    stall_seconds: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> UploadSettings:
        return cls(
            operator_max_mb=int(config["UPLOAD_MAX_MB"]),
            chunk_bytes=int(config["UPLOAD_CHUNK_BYTES"]),
            min_chunk_bytes=int(config["UPLOAD_MIN_CHUNK_BYTES"]),
            max_chunk_bytes=int(config["UPLOAD_MAX_CHUNK_BYTES"]),
            parallelism=int(config["UPLOAD_PARALLELISM"]),
            session_seconds=int(config["UPLOAD_SESSION_SECONDS"]),
            stall_seconds=int(config["UPLOAD_STALL_SECONDS"]),
        )


class UploadRefused(Exception):
    """This file cannot be uploaded (or this upload cannot go on): ``message`` says why and what to do."""

    def __init__(self, message: str, status: int = 422, *, field: str = "file", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field
        self.code = code


# -- the hub's limit --------------------------------------------------------------------------------


def limit_mb(settings: EmbedSettings | None, operator_max_mb: int) -> int:
    """The hub's upload limit in MB: its admin's setting, never above the operator's maximum."""
    chosen = settings.upload_max_mb if settings is not None and settings.upload_max_mb else operator_max_mb
    return max(1, min(int(chosen), int(operator_max_mb)))


def parse_limit(raw: str | None, operator_max_mb: int) -> int | None:
    """The Embedding tab's limit field: a whole number of MB from 1 to the operator maximum, or blank."""
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise FieldError("upload_max_mb", "Enter the limit as a whole number of MB, such as 2048, or leave it blank.")
    value = int(text)
    if not 1 <= value <= operator_max_mb:
        raise FieldError(
            "upload_max_mb",
            f"The limit must be from 1 to {operator_max_mb:,} MB (the most this portal allows); "
            "enter a smaller number.",
        )
    return value


def set_limit(db: Session, *, hub: Hub, value: int | None, actor: User | None, request_id: str | None = None) -> None:
    """Save the hub's upload size limit (``None``: the operator's maximum), audited."""
    settings = db.scalar(sa.select(EmbedSettings).where(EmbedSettings.hub_id == hub.id))
    if settings is None:
        settings = EmbedSettings(hub_id=hub.id, allowed_origins=[])
        db.add(settings)
    settings.upload_max_mb = value
    audit.record(db, action="embed.upload_limit", actor=actor, hub=hub, request_id=request_id, upload_max_mb=value)
    db.commit()


# -- check ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSample:
    """What the browser sent about one file: never the file itself."""

    name: str
    size: int
    head: bytes
    tail: bytes = b""

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the first bytes: with the name and size, the same file chosen again."""
        return hashlib.sha256(self.head[: sniff.HEAD_BYTES]).hexdigest()


@dataclass(frozen=True)
class Checked:
    """The verdict on one file, as the queue shows it."""

    sample: FileSample
    result: sniff.SniffResult
    media_type: LibraryMediaType
    pre_tick_360: bool
    verdict_360: str
    resume: Upload | None = None

    @property
    def format_label(self) -> str:
        return self.result.format.label if self.result.format else ""

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": True,
            "name": self.sample.name,
            "size": self.sample.size,
            "mediaType": self.media_type.value,
            "format": self.format_label,
            "is360": self.pre_tick_360,
            "verdict360": self.verdict_360,
            "not360Warning": (
                f"{self.sample.name} does not look like 360° media ("
                + (
                    "it is audio"
                    if self.media_type is LibraryMediaType.AUDIO
                    else "it has no 360° metadata and is not 2:1"
                )
                + "): players would show it distorted. Untick 360° unless you are sure."
            )
            if self.verdict_360 == sniff.Verdict360.NO.value
            else None,
            "maybe360": self.verdict_360 == sniff.Verdict360.MAYBE.value,
        }
        if self.resume is not None:
            data["resume"] = {
                "id": self.resume.public_id,
                "uploadedBytes": self.resume.uploaded_bytes,
                "percent": percent(self.resume.uploaded_bytes, self.resume.file_size),
            }
        return data


def check(db: Session, ctx: PickerContext, sample: FileSample, operator_max_mb: int) -> Checked:
    """Whether ``sample`` may be uploaded to this hub; :class:`UploadRefused` naming the file and the fix if not."""
    name = sniff._clean_name(sample.name)
    if not name:
        raise UploadRefused("The file has no name: rename it and choose it again.")
    if len(name) > MAX_NAME:
        raise UploadRefused(
            f"The file name is {len(name)} characters long; Kaltura takes at most {MAX_NAME}. "
            "Rename the file and choose it again."
        )
    if sample.size == 0:
        raise UploadRefused(f"{name} is empty (0 bytes): choose the file again, or another file.")
    limit = limit_mb(ctx.settings, operator_max_mb)
    if sample.size > limit * MB:
        raise UploadRefused(
            f"{name} is {_size_text(sample.size)}; this hub takes files up to {limit:,} MB. "
            "Make the file smaller (shorter, or a lower resolution) or ask a hub admin to raise the limit.",
            413,
            code="too_large",
        )
    result = sniff.sniff(name, sample.size, sample.head, sample.tail)
    if not result.ok:
        raise UploadRefused(result.message or f"{name} cannot be uploaded.", code=str(result.problem or "type"))
    assert result.media_type is not None
    cleaned = FileSample(name, sample.size, sample.head, sample.tail)
    return Checked(
        cleaned,
        result,
        _LIBRARY_TYPES[result.media_type],
        result.spherical.pre_tick,
        result.spherical.verdict.value,
        _resumable(db, ctx, cleaned),
    )


def with_true_progress(
    db: Session, gateway: KalturaGateway, vault: TokenVault, ctx: PickerContext, checked: Checked
) -> Checked:
    """``checked`` with its earlier upload's bytes as Kaltura counts them (``uploadedFileSize``), so the
    queue says truly how much is left. Best effort: if Kaltura cannot say, prepare will."""
    record = checked.resume
    if record is None or record.upload_token_id is None:
        return checked
    try:
        kaltura = _Kaltura(db, gateway, vault, ctx)
        token = gateway.get_upload_token(kaltura.service_url, kaltura.token, kaltura.user, record.upload_token_id)
    except (KalturaError, UploadRefused):
        return checked
    if token is not None:
        record.uploaded_bytes = min(token.uploaded_file_size, record.file_size)
        db.commit()
    return checked


def _resumable(db: Session, ctx: PickerContext, sample: FileSample) -> Upload | None:
    return db.scalar(
        sa.select(Upload)
        .where(
            Upload.hub_id == ctx.hub.id,
            Upload.user_id == ctx.user.id,
            Upload.file_name == sample.name,
            Upload.file_size == sample.size,
            Upload.fingerprint == sample.fingerprint,
            Upload.state == UploadState.UPLOADING,
        )
        .order_by(Upload.id.desc())
    )


# -- prepare ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Details:
    """What the member typed for one file."""

    name: str = ""
    description: str = ""
    tags: str = ""
    is_360: bool = False


def parse_details(form: Mapping[str, str], file_name: str) -> Details:
    """The per-file fields; FieldError naming the field and the fix."""
    name = (form.get("name") or "").strip() or file_name
    if len(name) > MAX_NAME:
        raise FieldError("name", f"The name is {len(name)} characters long; use at most {MAX_NAME}.")
    description = (form.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise FieldError("description", f"The description is too long; use at most {MAX_DESCRIPTION} characters.")
    tags = [t.strip() for t in (form.get("tags") or "").split(",") if t.strip()]
    if any(len(t) > MAX_TAG for t in tags):
        raise FieldError("tags", f"A tag may have at most {MAX_TAG} characters; separate tags with commas.")
    text = ",".join(dict.fromkeys(tags))
    if len(text) > MAX_TAGS_TEXT:
        raise FieldError("tags", "There are too many tags; keep them under 900 characters in all.")
    return Details(name, description, text, (form.get("is_360") or "").lower() in ("1", "true", "on", "yes"))


@dataclass
class UploadPlan:
    upload: Upload
    plan: dict[str, Any] = field(default_factory=dict)
    done: bool = False


class _Kaltura:
    """The hub's Kaltura as this member: service URL, client token, Kaltura user id."""

    def __init__(self, db: Session, gateway: KalturaGateway, vault: TokenVault, ctx: PickerContext) -> None:
        client, problem = _client(vault, ctx)
        if problem is not None or client is None:
            raise UploadRefused(_text(problem), problem.status if problem else 409, code="not_connected")
        self.service_url: str = client[0]
        self.token: SealedToken = client[1]
        self.gateway = gateway
        self.user = member_kaltura_user(db, gateway, ctx)

    def origin(self) -> str:
        return self.gateway.check_service_url(self.service_url).origin


def member_kaltura_user(db: Session, gateway: KalturaGateway, ctx: PickerContext) -> str:
    """The member's Kaltura user id (their identity link), or UploadRefused when it cannot be made.

    A pending link is fine: the upload itself is what makes Kaltura create the user (reference §7).
    """
    try:
        return kaltura_user_for(db, ctx.hub, ctx.user, ctx.connection, gateway=gateway)
    except IdentityError as error:
        raise UploadRefused(
            f"Your Kaltura user could not be set up, so nothing was uploaded. {error.message}",
            error.status if error.status != 404 else 403,
            code="identity",
        ) from error


def prepare(
    db: Session,
    gateway: KalturaGateway,
    vault: TokenVault,
    ctx: PickerContext,
    sample: FileSample,
    form: Mapping[str, str],
    settings: UploadSettings,
    *,
    request_id: str | None = None,
) -> UploadPlan:
    """Make (or find again) the upload token and the entry for this file and return the upload plan.

    The file is checked first (a wrong file is the message, whatever was typed), then what the
    member typed for it (``name``, ``description``, ``tags``, ``is_360``).
    """
    checked = check(db, ctx, sample, settings.operator_max_mb)
    details = parse_details(form, checked.sample.name)
    kaltura = _Kaltura(db, gateway, vault, ctx)
    record = checked.resume
    if record is not None:
        resumed = _resume(db, kaltura, record, settings)
        if resumed is not None:
            return resumed
    is_360 = details.is_360
    tags = [t for t in details.tags.split(",") if t and t != TAG_360]
    if is_360:
        tags.append(TAG_360)
    ref = secrets.token_hex(12)
    record = Upload(
        public_id=secrets.token_hex(16),
        reference_id=f"hubportal-upload-{ref}",
        hub_id=ctx.hub.id,
        user_id=ctx.user.id,
        kaltura_user_id=kaltura.user,
        file_name=checked.sample.name,
        file_size=checked.sample.size,
        fingerprint=checked.sample.fingerprint,
        media_type=checked.media_type,
        format_label=checked.format_label,
        name=details.name,
        description=details.description,
        tags=",".join(tags),
        is_360=is_360,
        state=UploadState.UPLOADING,
        uploaded_bytes=0,
        flavors_ready=0,
        flavors_total=0,
    )
    db.add(record)
    db.commit()  # the reference exists before anything in Kaltura carries it
    try:
        _create_in_kaltura(db, kaltura, record, checked)
    except KalturaError as error:
        _undo(db, kaltura, record)
        raise _refusal(error, record.file_name) from error
    audit.record(
        db,
        action="upload.prepare",
        actor=ctx.user,
        hub=ctx.hub,
        request_id=request_id,
        upload=record.public_id,
        entry_id=record.entry_id,
        size=record.file_size,
        is_360=record.is_360,
    )
    db.commit()
    return UploadPlan(record, _plan(kaltura, record, 0, settings))


def _create_in_kaltura(db: Session, kaltura: _Kaltura, record: Upload, checked: Checked) -> None:
    """Token, entry (found again by reference after a lost answer), content; each id saved at once."""
    gateway, url, token, user = kaltura.gateway, kaltura.service_url, kaltura.token, kaltura.user
    if record.upload_token_id is None:
        made = gateway.add_upload_token(
            url, token, user, file_name=_token_file_name(checked), file_size=record.file_size
        )
        record.upload_token_id = made.id
        db.commit()
    if record.entry_id is None:
        try:
            entry = gateway.add_media_entry(
                url,
                token,
                user,
                name=record.name,
                media_type=_KALTURA_TYPES[record.media_type],
                reference_id=record.reference_id,
                description=record.description,
                tags=[t for t in record.tags.split(",") if t],
            )
        except KalturaUnavailable:
            # The answer may be lost while the entry exists: the reference finds it.
            found = gateway.entry_by_reference(url, token, user, record.reference_id)
            if found is None:
                raise
            entry = found
        record.entry_id = entry.id
        db.commit()
        if entry.status != EntryStatus.NO_CONTENT:
            return
    try:
        gateway.attach_upload(url, token, user, record.entry_id, record.upload_token_id)
    except KalturaApiError as error:
        if error.code != "ENTRY_ALREADY_WITH_CONTENT":  # an earlier attempt did attach it
            raise


def _token_file_name(checked: Checked) -> str:
    """The name Kaltura reads the type from: the file's own, with the real extension when it has none."""
    name = checked.sample.name
    if not checked.result.extension and checked.result.format is not None:
        return f"{name}.{checked.result.format.extension}"
    return name


def _resume(db: Session, kaltura: _Kaltura, record: Upload, settings: UploadSettings) -> UploadPlan | None:
    """The plan to go on with an earlier upload of the same file, from Kaltura's ``uploadedFileSize``;
    ``None`` when Kaltura no longer has it (the stale record is then closed and a new upload starts)."""
    token = (
        kaltura.gateway.get_upload_token(kaltura.service_url, kaltura.token, kaltura.user, record.upload_token_id)
        if record.upload_token_id
        else None
    )
    if token is not None and token.is_complete:
        record.uploaded_bytes = record.file_size
        record.state = UploadState.PROCESSING
        record.uploaded_at = record.uploaded_at or _now()
        db.commit()
        return UploadPlan(record, done=True)
    if token is None or not token.can_resume or record.entry_id is None:
        _undo(db, kaltura, record, keep_record=True)
        record.state = UploadState.FAILED
        record.error = "Kaltura no longer had this upload, so it was started again."
        record.finished_at = _now()
        db.commit()
        return None
    record.uploaded_bytes = token.uploaded_file_size
    db.commit()
    return UploadPlan(record, _plan(kaltura, record, token.uploaded_file_size, settings))


def _plan(kaltura: _Kaltura, record: Upload, resume_at: int, settings: UploadSettings) -> dict[str, Any]:
    """The JSON ``chunk_pump.js`` takes (see its header), with a fresh short-lived session."""
    assert record.upload_token_id is not None
    session = kaltura.gateway.upload_session(
        kaltura.service_url, kaltura.token, kaltura.user, expiry=settings.session_seconds
    )
    return {
        "uploadId": record.public_id,
        "serviceUrl": kaltura.origin(),
        "uploadTokenId": record.upload_token_id,
        "ks": session.ks,
        "fileName": record.file_name,
        "fileSize": record.file_size,
        "chunkSize": settings.chunk_bytes,
        "minChunkSize": settings.min_chunk_bytes,
        "maxChunkSize": settings.max_chunk_bytes,
        "parallelism": settings.parallelism,
        "resumeAt": resume_at,
        "entryId": record.entry_id,
    }


def fresh_session(
    db: Session,
    gateway: KalturaGateway,
    vault: TokenVault,
    ctx: PickerContext,
    public_id: str,
    settings: UploadSettings,
) -> dict[str, Any]:
    """A new upload session for an upload still in progress (the chunk pump asks when Kaltura says INVALID_KS)."""
    record = _own(db, ctx, public_id)
    if record.state is not UploadState.UPLOADING:
        raise UploadRefused(f"{record.file_name} is not uploading any more.", 409)
    kaltura = _Kaltura(db, gateway, vault, ctx)
    try:
        session = gateway.upload_session(
            kaltura.service_url, kaltura.token, kaltura.user, expiry=settings.session_seconds
        )
    except KalturaError as error:
        raise _refusal(error, record.file_name) from error
    return {"ks": session.ks}


# -- cancel -----------------------------------------------------------------------------------------


def cancel(
    db: Session,
    gateway: KalturaGateway,
    vault: TokenVault,
    ctx: PickerContext,
    public_id: str,
    *,
    request_id: str | None = None,
) -> Upload:
    """Stop an upload for good: delete its upload token and its entry (which has no content yet)."""
    record = _own(db, ctx, public_id)
    if record.state is not UploadState.UPLOADING:
        raise UploadRefused(
            f"{record.file_name} is already "
            f"{'in Kaltura' if record.state is not UploadState.CANCELLED else 'cancelled'}; "
            "there is no upload to cancel.",
            409,
        )
    kaltura = _Kaltura(db, gateway, vault, ctx)
    try:
        _undo(db, kaltura, record, keep_record=True, strict=True)
    except KalturaError as error:
        raise _refusal(error, record.file_name) from error
    record.state = UploadState.CANCELLED
    record.finished_at = _now()
    audit.record(db, action="upload.cancel", actor=ctx.user, hub=ctx.hub, request_id=request_id, upload=public_id)
    db.commit()
    return record


def _undo(db: Session, kaltura: _Kaltura, record: Upload, *, keep_record: bool = False, strict: bool = False) -> None:
    """Delete what this upload made in Kaltura (the token; the entry unless it has content) and,
    unless ``keep_record``, the record. ``strict`` lets Kaltura's failure through (cancel reports it);
    otherwise the cleanup of a refused prepare is best effort and the first error stays the message."""
    gateway, url, token, user = kaltura.gateway, kaltura.service_url, kaltura.token, kaltura.user
    try:
        if record.entry_id is None:
            found = gateway.entry_by_reference(url, token, user, record.reference_id)
            record.entry_id = found.id if found is not None else None
        if record.entry_id is not None:
            entry = gateway.get_entry(url, token, user, record.entry_id)
            if entry is not None and entry.status in (EntryStatus.NO_CONTENT, EntryStatus.IMPORT):
                gateway.delete_entry(url, token, user, record.entry_id)
        if record.upload_token_id is not None:
            gateway.delete_upload_token(url, token, user, record.upload_token_id)
    except KalturaError:
        if strict:
            raise
    if not keep_record:
        db.delete(record)
    db.commit()


# -- progress from the truth ------------------------------------------------------------------------


@dataclass
class UploadRow:
    """One upload as the Uploads list shows it."""

    upload: Upload
    interrupted: bool = False
    seconds_left: float | None = None
    elapsed: float | None = None
    just_ready: bool = False

    @property
    def percent(self) -> int:
        return percent(self.upload.uploaded_bytes, self.upload.file_size)

    @property
    def state_text(self) -> str:
        u = self.upload
        if u.state is UploadState.UPLOADING:
            if self.interrupted:
                return f"Interrupted at {self.percent} %: choose the same file again to resume"
            return f"Uploading {self.percent} %"
        if u.state is UploadState.PROCESSING:
            if u.flavors_total:
                return f"Transcoding {u.flavors_ready}/{u.flavors_total}"
            return "Transcoding"
        if u.state is UploadState.READY:
            return "Ready"
        if u.state is UploadState.FAILED:
            return f"Failed: {u.error or 'Kaltura could not process it'}"
        return "Cancelled"


@dataclass
class Refreshed:
    rows: list[UploadRow]
    message: dict[str, Any] | None = None
    problem: Problem | None = None

    @property
    def active(self) -> bool:
        return any(row.upload.is_active for row in self.rows)


def member_uploads(db: Session, hub: Hub, user: User | None = None, limit: int = 50) -> list[Upload]:
    """A hub's uploads (one member's with ``user``), newest first."""
    query = sa.select(Upload).where(Upload.hub_id == hub.id)
    if user is not None:
        query = query.where(Upload.user_id == user.id)
    return list(db.scalars(query.order_by(Upload.id.desc()).limit(limit)))


def refresh(
    db: Session,
    gateway: KalturaGateway,
    vault: TokenVault,
    ctx: PickerContext,
    settings: UploadSettings,
    *,
    request_id: str | None = None,
) -> Refreshed:
    """The member's uploads in this hub with their true state, asking Kaltura about the active ones
    (at most two requests, whatever their number) and finishing those that became READY."""
    uploads = member_uploads(db, ctx.hub, ctx.user)
    rows = [UploadRow(u) for u in uploads]
    active = [row for row in rows if row.upload.is_active]
    if not active:
        return Refreshed(rows)
    try:
        kaltura = _Kaltura(db, gateway, vault, ctx)
    except UploadRefused as refused:
        return Refreshed(rows, problem=Problem("kaltura", "Kaltura can't be asked right now", refused.message, 200))
    now = _now()
    try:
        ready = _read_truth(db, kaltura, ctx, active, now, settings)
    except KalturaError as error:
        return Refreshed(rows, problem=_problem(error))
    message = None
    if ready:
        items = add_entries(
            db,
            hub=ctx.hub,
            entries=[entry for _, entry in ready],
            actor=ctx.user,
            source=LibrarySource.UPLOAD,
            request_id=request_id,
        )
        by_entry = {item.entry_id: item for item in items}
        for row, entry in ready:
            item = by_entry.get(entry.id)
            row.upload.library_item_id = item.id if item else None
        db.commit()
        message = picked_message(ctx.hub, items)
    return Refreshed(rows, message=message)


def _read_truth(
    db: Session,
    kaltura: _Kaltura,
    ctx: PickerContext,
    active: Sequence[UploadRow],
    now: datetime,
    settings: UploadSettings,
) -> list[tuple[UploadRow, Any]]:
    gateway, url, token, user = kaltura.gateway, kaltura.service_url, kaltura.token, kaltura.user
    uploading = [r for r in active if r.upload.state is UploadState.UPLOADING and r.upload.upload_token_id]
    tokens: dict[str, UploadToken] = (
        gateway.upload_tokens(url, token, user, [r.upload.upload_token_id or "" for r in uploading])
        if uploading
        else {}
    )
    for row in uploading:
        u = row.upload
        found = tokens.get(u.upload_token_id or "")
        if found is None:
            continue  # gone: the entry's status tells what happened
        u.uploaded_bytes = min(found.uploaded_file_size, u.file_size)
        if found.is_complete:
            u.uploaded_bytes = u.file_size
            u.state = UploadState.PROCESSING
            u.uploaded_at = u.uploaded_at or now
        else:
            moved = found.updated_at or int(_aware(u.created_at).timestamp())
            row.interrupted = now.timestamp() - moved > settings.stall_seconds
            elapsed = now.timestamp() - _aware(u.created_at).timestamp()
            row.elapsed = elapsed
            if u.uploaded_bytes and elapsed > 0:
                row.seconds_left = (u.file_size - u.uploaded_bytes) / (u.uploaded_bytes / elapsed)
    watched = [
        r
        for r in active
        if r.upload.entry_id and (r.upload.state is UploadState.PROCESSING or r.upload.upload_token_id not in tokens)
    ]
    progress = gateway.entries_progress(url, token, user, [r.upload.entry_id or "" for r in watched]) if watched else {}
    ready: list[tuple[UploadRow, Any]] = []
    for row in watched:
        u = row.upload
        seen = progress.get(u.entry_id or "")
        if seen is None:
            u.state, u.error, u.finished_at = UploadState.FAILED, "The entry was deleted in Kaltura.", now
            continue
        u.flavors_ready, u.flavors_total = seen.flavors_ready, seen.flavors_total
        status = seen.entry.status
        if status == EntryStatus.READY:
            u.state, u.finished_at = UploadState.READY, now
            u.uploaded_bytes = u.file_size
            row.just_ready = True
            ready.append((row, seen.entry))
        elif status in (EntryStatus.ERROR_CONVERTING, EntryStatus.ERROR_IMPORTING):
            u.state, u.finished_at = UploadState.FAILED, now
            u.error = (
                "Kaltura could not convert this file (ERROR_CONVERTING). It may be damaged or use a codec Kaltura "
                "does not support: export it again (for example as H.264 MP4) and upload that."
                if status == EntryStatus.ERROR_CONVERTING
                else "Kaltura could not import this file (ERROR_IMPORTING). Upload it again."
            )
            # An entry that will never play is of no use to anyone: it goes, so nothing is orphaned.
            with contextlib.suppress(KalturaError):
                gateway.delete_entry(url, token, user, u.entry_id or "")
        elif u.state is UploadState.PROCESSING and u.uploaded_at is not None:
            row.elapsed = now.timestamp() - _aware(u.uploaded_at).timestamp()
            if seen.flavors_ready and seen.flavors_total:
                row.seconds_left = row.elapsed * (seen.flavors_total - seen.flavors_ready) / seen.flavors_ready
    db.commit()
    return ready


def finish(
    db: Session,
    gateway: KalturaGateway,
    vault: TokenVault,
    ctx: PickerContext,
    public_id: str,
    settings: UploadSettings,
    *,
    request_id: str | None = None,
) -> Refreshed:
    """The browser says every byte is sent: check it with Kaltura and answer with the member's uploads."""
    record = _own(db, ctx, public_id)
    if record.state is UploadState.CANCELLED:
        raise UploadRefused(f"{record.file_name} was cancelled.", 409)
    return refresh(db, gateway, vault, ctx, settings, request_id=request_id)


# -- helpers ----------------------------------------------------------------------------------------


def _own(db: Session, ctx: PickerContext, public_id: str) -> Upload:
    record = db.scalar(
        sa.select(Upload).where(
            Upload.public_id == (public_id or "")[:32], Upload.hub_id == ctx.hub.id, Upload.user_id == ctx.user.id
        )
    )
    if record is None:
        raise UploadRefused("There is no such upload of yours in this hub.", 404)
    return record


def _refusal(error: KalturaError, file_name: str) -> UploadRefused:
    if isinstance(error, KalturaApiError) and error.code == "UPLOAD_TOKEN_FILE_TYPE_RESTRICTED_FOR_UPLOAD":
        return UploadRefused(
            f"Kaltura refused {file_name}: this account does not accept files of this type "
            f"({error.code}). Convert it to another format or ask a hub admin.",
            422,
            code=error.code,
        )
    problem = _problem(error)
    return UploadRefused(
        f"{file_name} was not uploaded: {problem.message} Nothing was left behind in Kaltura.",
        problem.status,
        code=problem.code or problem.kind,
    )


def _text(problem: Problem | None) -> str:
    return f"{problem.title}. {problem.message}" if problem else "Kaltura is not available for this hub."


def percent(done: int, total: int) -> int:
    return int(done * 100 // total) if total else 0


def _size_text(size: int) -> str:
    if size >= 1024 * MB:
        return f"{size / (1024 * MB):.1f} GB"
    if size >= MB:
        return f"{size / MB:.1f} MB"
    return f"{size / 1024:.0f} KB"


def size_text(size: int) -> str:
    return _size_text(size)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def as_dict(upload: Upload) -> dict[str, Any]:
    """One upload for ``portal uploads list --json``."""
    return {
        "id": upload.public_id,
        "file_name": upload.file_name,
        "size": upload.file_size,
        "entry_id": upload.entry_id,
        "state": upload.state.value,
        "bytes_uploaded": upload.uploaded_bytes,
        "flavors_ready": upload.flavors_ready,
        "flavors_total": upload.flavors_total,
        "is_360": upload.is_360,
        "member": upload.user.email if upload.user else None,
        "error": upload.error,
        "created_at": _aware(upload.created_at).isoformat(),
    }

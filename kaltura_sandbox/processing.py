"""Entry processing over time: what happens after ``media.addContent``.

Images become READY at once. Video and audio follow Kaltura's progression (reference §6.3):
PENDING (source flavor added) -> PRECONVERT (conversion jobs queued) -> READY, or
ERROR_CONVERTING when the conversion was made to fail. The whole conversion takes
``config.conversion_delay`` seconds: PENDING for the first quarter, PRECONVERT for the rest.
A conversion fails when the entry's name contains ``[fail-conversion]``, or after
``POST /__control/fail_conversion {"entry_id": ...}`` (``media_store.fail_conversion``).

Nothing runs in the background: the timeline is stored with the entry and its flavors
(``proc_t1``/``proc_t2``/``next_at``) and ``settle()`` applies every transition that is due
before a read, so the state is the same whichever request looks first, and it survives a restart.

The flavors come from the partner's default conversion profile (``profile_flavor_ids``, drawn
from ``FLAVOR_PARAMS``; the 4K ones only for partners with ``has_4k``): the source ("isOriginal")
asset is READY as soon as the file is in; each web flavor is QUEUED, then
CONVERTING, then READY, or NOT_APPLICABLE when it would upscale the source (a 2160p flavor of a
1080p upload), or ERROR when the conversion fails. The sandbox does not transcode: every
rendition serves the uploaded bytes (see ``delivery.py``). Frame size and duration are read from
the upload itself when it is a PNG, GIF, JPEG or MP4/MOV (``probe_file``).
"""

from __future__ import annotations

import os
import random
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import media_store as ms
from .store import Store

PENDING_SHARE = 0.25  # share of the conversion delay spent in PENDING before PRECONVERT
MAX_MOOV_BYTES = 32 * 1024 * 1024  # the largest MP4 "moov" header probe_file reads


@dataclass(frozen=True)
class FlavorParams:
    """A system flavor params (an output rendition definition), as ``flavorParams.list`` shows it.

    ``height`` 0 keeps the source size (the source params); ``width`` 0 derives the width from the
    source aspect ratio. ``required_permission`` hides the params from partners without it.
    """

    id: int
    name: str
    system_name: str
    tags: str
    video_codec: str
    video_bitrate: int
    audio_bitrate: int
    width: int
    height: int
    format: str
    max_frame_rate: int = 0
    required_permission: str | None = None
    is_source: bool = False
    description: str = ""


FEATURE_4K = "FEATURE_4K_FLAVORS"

# Ids of the web flavors follow Kaltura SaaS's common system flavor params; the 4K ids are the
# sandbox's own (reference §8: SaaS 4K ids are unconfirmed, clients must not hard-code them).
FLAVOR_PARAMS: tuple[FlavorParams, ...] = (
    FlavorParams(
        0,
        "Source",
        "Source",
        "source,web",
        "",
        0,
        0,
        0,
        0,
        "",
        is_source=True,
        description="The original file as uploaded",
    ),
    FlavorParams(
        487041,
        "Basic/Small - WEB/MBL (H264/400)",
        "",
        "mobile,web,mbr,iphone,dash",
        "h264",
        400,
        64,
        0,
        288,
        "mp4",
        description="Optimized mp4 - lowres",
    ),
    FlavorParams(
        487051,
        "Basic/Small - WEB/MBL (H264/600)",
        "",
        "mobile,web,mbr,iphone,dash",
        "h264",
        600,
        64,
        0,
        360,
        "mp4",
        description="Optimized mp4 - lowres",
    ),
    FlavorParams(
        487061,
        "SD/Small - WEB/MBL (H264/900)",
        "",
        "mobile,web,mbr,iphone,dash",
        "h264",
        900,
        96,
        0,
        480,
        "mp4",
        description="Optimized mp4 - standard",
    ),
    FlavorParams(
        487071,
        "SD/Large - WEB/MBL (H264/1500)",
        "",
        "web,mbr,ipad,dash",
        "h264",
        1500,
        128,
        0,
        540,
        "mp4",
        description="Optimized mp4 - large",
    ),
    FlavorParams(
        487081,
        "HD/720 - WEB (H264/2500)",
        "",
        "web,mbr,ipad,dash",
        "h264",
        2500,
        128,
        0,
        720,
        "mp4",
        description="Optimized mp4 - 720p",
    ),
    FlavorParams(
        487091,
        "HD/1080 - WEB (H264/4000)",
        "",
        "web,mbr,ipad,dash",
        "h264",
        4000,
        128,
        0,
        1080,
        "mp4",
        description="Optimized mp4 - 1080p",
    ),
    FlavorParams(
        1727361,
        "V3/QHD - (H265/6000)",
        "V3/QHD - (H265/6000)",
        "h265,mbr,dash,ipadnew,iphonenew",
        "h265",
        6000,
        192,
        0,
        1440,
        "mp4",
        max_frame_rate=60,
        required_permission=FEATURE_4K,
        description="V3/QHD - (H265/6000)",
    ),
    FlavorParams(
        1727371,
        "V3/UHD - (H265/10000)",
        "V3/UHD - (H265/10000)",
        "h265,mbr,dash,ipadnew,iphonenew",
        "h265",
        10000,
        192,
        0,
        2160,
        "mp4",
        max_frame_rate=60,
        required_permission=FEATURE_4K,
        description="V3/UHD - (H265/10000)",
    ),
)
FLAVOR_PARAMS_BY_ID = {params.id: params for params in FLAVOR_PARAMS}
AUDIO_FLAVOR_IDS = (0, 487041)  # audio sources get one audio-only web rendition


def default_profile_id(partner_id: int) -> int:
    """The id of the partner's default media conversion profile (stable per partner)."""
    return 20000 + partner_id % 80000


def visible_params(has_4k: bool) -> list[FlavorParams]:
    """The flavor params the partner can see: 4K ones only with the 4K permission."""
    return [p for p in FLAVOR_PARAMS if has_4k or p.required_permission != FEATURE_4K]


def profile_flavor_ids(has_4k: bool) -> list[int]:
    """The flavor params ids of the partner's default conversion profile."""
    return [p.id for p in visible_params(has_4k)]


# -- the timeline --------------------------------------------------------------------------------


def timeline(now: float, delay: float) -> tuple[float, float]:
    """(PRECONVERT time, READY time) of a conversion starting now."""
    delay = max(0.0, delay)
    return now + delay * PENDING_SHARE, now + delay


def entry_status_at(now: float, t1: float, t2: float, fail: bool) -> tuple[int, float | None]:
    """The entry status at ``now`` on a timeline, and when it changes next (None: final)."""
    if now >= t2:
        return (ms.ENTRY_ERROR_CONVERTING if fail else ms.ENTRY_READY), None
    if now >= t1:
        return ms.ENTRY_PRECONVERT, t2
    return ms.ENTRY_PENDING, t1


def flavor_status_at(now: float, t1: float, t2: float, final: int) -> tuple[int, float | None]:
    """A web flavor's status at ``now``: QUEUED, CONVERTING, then its final status."""
    if now >= t2:
        return final, None
    if now >= t1:
        return ms.FLAVOR_CONVERTING, t2
    return ms.FLAVOR_QUEUED, t1


def settle(store: Store, now: float) -> None:
    """Apply every status transition that is due (entries and flavors); cheap when none is."""
    with store.tx() as conn:
        due = conn.execute(
            "SELECT seq, proc_t1, proc_t2, fail_conversion FROM media_entries "
            "WHERE next_at IS NOT NULL AND next_at <= ?",
            (now,),
        ).fetchall()
        for row in due:
            status, next_at = entry_status_at(now, row["proc_t1"], row["proc_t2"], bool(row["fail_conversion"]))
            changed_at = row["proc_t2"] if next_at is None else row["proc_t1"]
            conn.execute(
                "UPDATE media_entries SET status = ?, next_at = ?, updated_at = max(updated_at, ?) WHERE seq = ?",
                (status, next_at, int(changed_at), row["seq"]),
            )
        flavors = conn.execute(
            "SELECT id, t1, t2, final_status FROM media_flavors WHERE next_at IS NOT NULL AND next_at <= ?",
            (now,),
        ).fetchall()
        for row in flavors:
            status, next_at = flavor_status_at(now, row["t1"], row["t2"], row["final_status"])
            conn.execute(
                "UPDATE media_flavors SET status = ?, next_at = ?, updated_at = ? WHERE id = ?",
                (status, next_at, int(now), row["id"]),
            )


# -- starting a conversion -----------------------------------------------------------------------


@dataclass(frozen=True)
class SourceInfo:
    """What the sandbox learnt about an uploaded file (0 = unknown)."""

    width: int = 0
    height: int = 0
    ms_duration: int = 0


def start(
    conn: sqlite3.Connection,
    entry: sqlite3.Row | dict[str, Any],
    *,
    now: float,
    delay: float,
    has_4k: bool,
    source: SourceInfo,
    size_bytes: int,
    ext: str,
) -> dict[str, Any]:
    """Begin processing an entry whose file just arrived; returns the entry columns to write.

    Images are READY at once. Video and audio get their flavor assets and a timeline.
    """
    changes: dict[str, Any] = {
        "width": source.width or entry["width"],
        "height": source.height or entry["height"],
        "ms_duration": source.ms_duration or entry["ms_duration"],
        "duration": round((source.ms_duration or entry["ms_duration"] or 0) / 1000),
        "updated_at": int(now),
        "version": (entry["version"] or 0) + 1,
        "thumb_version": (entry["thumb_version"] or 100000) + 1,
    }
    if entry["media_type"] == ms.MEDIA_IMAGE:
        changes.update(status=ms.ENTRY_READY, next_at=None)
        return changes
    t1, t2 = timeline(now, delay)
    fail = bool(entry["fail_conversion"]) or "[fail-conversion]" in (entry["name"] or "")
    status, next_at = entry_status_at(now, t1, t2, fail)
    flavors = plan_flavors(
        entry, source, has_4k=has_4k, fail=fail, now=now, t1=t1, t2=t2, size_bytes=size_bytes, ext=ext
    )
    conn.execute("DELETE FROM media_flavors WHERE entry_id = ?", (entry["id"],))
    ms.insert_flavors(conn, flavors)
    changes.update(
        status=status,
        next_at=next_at,
        proc_t1=t1,
        proc_t2=t2,
        fail_conversion=int(fail),
        flavor_params_ids=",".join(str(f["flavor_params_id"]) for f in flavors),
    )
    return changes


def plan_flavors(
    entry: sqlite3.Row | dict[str, Any],
    source: SourceInfo,
    *,
    has_4k: bool,
    params_ids: list[int] | None = None,
    fail: bool,
    now: float,
    t1: float,
    t2: float,
    size_bytes: int,
    ext: str,
    rng: random.Random | None = None,
) -> list[dict[str, Any]]:
    """The flavor asset rows of a conversion: the source asset plus the profile's renditions."""
    is_audio = entry["media_type"] == ms.MEDIA_AUDIO
    ids = params_ids or (AUDIO_FLAVOR_IDS if is_audio else profile_flavor_ids(has_4k))
    seconds = max(1, round(source.ms_duration / 1000)) if source.ms_duration else 60
    rows = []
    for params_id in ids:
        params = FLAVOR_PARAMS_BY_ID[params_id]
        row = _flavor_row(
            entry, params, source, is_audio=is_audio, seconds=seconds, size_bytes=size_bytes, ext=ext, now=now, rng=rng
        )
        final = _final_status(params, source, is_audio=is_audio, fail=fail)
        if params.is_source:
            row.update(status=ms.FLAVOR_READY, final_status=ms.FLAVOR_READY, t1=None, t2=None, next_at=None)
        else:
            status, next_at = flavor_status_at(now, t1, t2, final)
            row.update(status=status, final_status=final, t1=t1, t2=t2, next_at=next_at)
            if final == ms.FLAVOR_ERROR:
                row["description"] = "Conversion failed"
        rows.append(row)
    return rows


def _final_status(params: FlavorParams, source: SourceInfo, *, is_audio: bool, fail: bool) -> int:
    """READY, NOT_APPLICABLE (no upscaling past the source) or ERROR (failed conversion)."""
    if fail:
        return ms.FLAVOR_ERROR
    if is_audio:
        return ms.FLAVOR_READY
    # An unknown source size is treated as 1080p: everything up to HD converts, 4K does not.
    source_height = source.height or 1080
    return ms.FLAVOR_READY if params.height <= source_height else ms.FLAVOR_NOT_APPLICABLE


def _flavor_row(
    entry,
    params: FlavorParams,
    source: SourceInfo,
    *,
    is_audio: bool,
    seconds: int,
    size_bytes: int,
    ext: str,
    now: float,
    rng,
) -> dict[str, Any]:
    """One flavor asset row with dimensions and size derived from the source."""
    width, height = _rendition_size(params, source, is_audio)
    bitrate = params.audio_bitrate if is_audio else params.video_bitrate + params.audio_bitrate
    if params.is_source:
        size = size_bytes
        bitrate = round(size_bytes * 8 / 1000 / seconds) if size_bytes else bitrate
    else:
        size = bitrate * 1000 // 8 * seconds
    return {
        "id": ms.generate_id(rng),
        "partner_id": entry["partner_id"],
        "entry_id": entry["id"],
        "flavor_params_id": params.id,
        "is_original": int(params.is_source),
        "is_web": int(not params.is_source),
        "width": width,
        "height": height,
        "bitrate": bitrate,
        "frame_rate": 0.0 if is_audio else 30.0,
        "container_format": (ext or "mp4") if params.is_source else "mp4",
        "video_codec_id": "" if is_audio else (params.video_codec or "avc1"),
        "file_ext": (ext or "mp4") if params.is_source else ("mp4" if not is_audio else "m4a"),
        "size_bytes": size,
        "tags": params.tags,
        "description": None,
        "created_at": int(now),
        "updated_at": int(now),
    }


def _rendition_size(params: FlavorParams, source: SourceInfo, is_audio: bool) -> tuple[int, int]:
    """Output frame size: the source's for the source asset, else the params height at the
    source aspect ratio (16:9 when unknown), rounded to even numbers."""
    if is_audio:
        return 0, 0
    if params.is_source:
        return source.width, source.height
    aspect = (source.width / source.height) if source.width and source.height else 16 / 9
    height = params.height
    return int(round(height * aspect / 2) * 2), height


def ingest(
    conn: sqlite3.Connection,
    entry: sqlite3.Row,
    token: sqlite3.Row,
    *,
    files_dir: Path,
    now: float,
    delay: float,
    has_4k: bool,
) -> dict[str, Any]:
    """Move a fully uploaded token's file into the entry's storage and start processing.

    Returns the entry columns to write: the source file, the media type (inferred from the
    file name when the entry has none), what probing the file revealed, and the new status.
    """
    upload = Path(files_dir) / token["upload_path"]
    ext = file_extension(token["file_name"]) or file_extension(token["upload_path"])
    relative = f"entries/{entry['id']}/source.{ext or 'bin'}"
    target = Path(files_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(upload, target)
    size = target.stat().st_size
    media_type = entry["media_type"] or media_type_for_extension(ext)
    source = probe_file(target)
    current = {**dict(entry), "media_type": media_type}
    changes = start(conn, current, now=now, delay=delay, has_4k=has_4k, source=source, size_bytes=size, ext=ext)
    changes.update(source_file=relative, source_ext=ext, source_size=size, media_type=media_type, upload_token_id=None)
    return changes


def file_extension(name: str | None) -> str:
    """The lowercase extension of a file name ("" when none)."""
    base = os.path.basename(name or "")
    return base.rsplit(".", 1)[1].lower() if "." in base.strip(".") else ""


# -- seeded entries' flavors ---------------------------------------------------------------------


def seeded_params_ids(media_type: int, has_4k: bool) -> list[int]:
    """The flavor params a seeded entry was "converted" to."""
    return list(AUDIO_FLAVOR_IDS) if media_type == ms.MEDIA_AUDIO else profile_flavor_ids(has_4k)


def static_flavors(entry: sqlite3.Row) -> list[dict[str, Any]]:
    """A seeded entry's flavor assets, frozen in a state consistent with its status.

    Deterministic per entry id. READY entries have READY renditions (NOT_APPLICABLE above the
    source size); failed ones ERROR renditions; PENDING/PRECONVERT ones queued/converting
    renditions that never move (seeded entries do not run a conversion).
    """
    rng = random.Random(f"kaltura-sandbox-flavors:{entry['id']}")
    status = entry["status"]
    stamp = float(entry["updated_at"])
    waiting = status in (ms.ENTRY_PENDING, ms.ENTRY_PRECONVERT)
    t1 = stamp if status != ms.ENTRY_PENDING else float("inf")
    t2 = float("inf") if waiting else stamp
    ids = [int(i) for i in ms.split_list(entry["flavor_params_ids"])]
    source = SourceInfo(entry["width"] or 0, entry["height"] or 0, entry["ms_duration"] or 0)
    size = max(1, entry["duration"] or 1) * rng.choice((2_500, 6_000, 12_000)) * 125
    flavors = plan_flavors(
        entry,
        source,
        has_4k=False,
        params_ids=ids,
        fail=status == ms.ENTRY_ERROR_CONVERTING,
        now=stamp,
        t1=t1,
        t2=t2,
        size_bytes=size,
        ext="mp4" if entry["media_type"] == ms.MEDIA_VIDEO else "mp3",
        rng=rng,
    )
    for flavor in flavors:
        flavor.update(t1=None, t2=None, next_at=None, created_at=entry["created_at"], updated_at=entry["updated_at"])
    return flavors


def materialize(store: Store, partner_id: int, entry_ids: list[str] | None = None) -> None:
    """Create the flavor rows of seeded entries that have none yet (all of the partner's when
    ``entry_ids`` is None)."""
    where = "partner_id = ? AND lazy_flavors = 1 AND status != ?"
    params: list[int | str] = [partner_id, ms.ENTRY_DELETED]
    if entry_ids is not None:
        if not entry_ids:
            return
        where += f" AND id IN ({','.join('?' * len(entry_ids))})"
        params += list(entry_ids)
    with store.tx() as conn:
        entries = conn.execute(f"SELECT * FROM media_entries WHERE {where}", params).fetchall()
        if not entries:
            return
        rows = [flavor for entry in entries for flavor in static_flavors(entry)]
        ms.insert_flavors(conn, rows)
        conn.executemany(
            "UPDATE media_entries SET lazy_flavors = 0 WHERE seq = ?", [(entry["seq"],) for entry in entries]
        )


# -- probing uploaded files -----------------------------------------------------------------------

VIDEO_EXTENSIONS = frozenset(
    [
        "mp4",
        "m4v",
        "mov",
        "qt",
        "avi",
        "wmv",
        "flv",
        "f4v",
        "mkv",
        "webm",
        "mpg",
        "mpeg",
        "mpe",
        "m2ts",
        "mts",
        "ts",
        "3gp",
        "3g2",
        "ogv",
        "vob",
        "mxf",
    ]
)
AUDIO_EXTENSIONS = frozenset(["mp3", "wav", "m4a", "aac", "ogg", "oga", "flac", "wma", "aif", "aiff", "opus", "amr"])
IMAGE_EXTENSIONS = frozenset(["jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp", "heic", "heif", "svg"])


def media_type_for_extension(ext: str) -> int:
    """Infer the media type from a file extension (video when unknown, like most ingest)."""
    ext = ext.lower()
    if ext in IMAGE_EXTENSIONS:
        return ms.MEDIA_IMAGE
    if ext in AUDIO_EXTENSIONS:
        return ms.MEDIA_AUDIO
    return ms.MEDIA_VIDEO


def probe_file(path) -> SourceInfo:
    """Frame size (and duration for MP4/MOV) of a stored file; zeros when unknown."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64 * 1024)
            for reader in (_png_size, _gif_size, _jpeg_size):
                info = reader(head)
                if info is not None:
                    return info
            return _mp4_info(handle) or SourceInfo()
    except OSError:
        return SourceInfo()


def _png_size(head: bytes) -> SourceInfo | None:
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        width, height = struct.unpack(">II", head[16:24])
        return SourceInfo(width, height)
    return None


def _gif_size(head: bytes) -> SourceInfo | None:
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
        return SourceInfo(width, height)
    return None


def _jpeg_size(head: bytes) -> SourceInfo | None:
    """Walk JPEG markers to the first start-of-frame segment."""
    if head[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 9 < len(head):
        if head[pos] != 0xFF:
            return None
        marker = head[pos + 1]
        length = struct.unpack(">H", head[pos + 2 : pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", head[pos + 5 : pos + 9])
            return SourceInfo(width, height)
        pos += 2 + length
    return None


def _mp4_boxes(data: bytes, start: int, end: int):
    """Yield (type, payload start, payload end) of the ISO-BMFF boxes in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1 and pos + 16 <= end:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header:
            return
        yield kind, pos + header, min(pos + size, end)
        pos += size


def _mp4_info(handle) -> SourceInfo | None:
    """Width/height of the first video track (tkhd) and the duration (mvhd) of an MP4/MOV.

    Walks the top-level boxes by seeking, so a ``moov`` box at the end of the file is found
    without reading the media data.
    """
    handle.seek(0, 2)
    file_size = handle.tell()
    pos = 0
    while pos + 8 <= file_size:
        handle.seek(pos)
        header = handle.read(16)
        size, kind = struct.unpack(">I4s", header[:8])
        if pos == 0 and kind not in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
            return None
        header_size = 8
        if size == 1 and len(header) >= 16:
            size, header_size = struct.unpack(">Q", header[8:16])[0], 16
        elif size == 0:
            size = file_size - pos
        if size < header_size:
            return None
        if kind == b"moov":
            handle.seek(pos + header_size)
            payload = handle.read(min(size - header_size, MAX_MOOV_BYTES))
            return _moov_info(payload)
        pos += size
    return None


def _moov_info(moov: bytes) -> SourceInfo | None:
    width = height = duration_ms = 0
    for kind, start, end in _mp4_boxes(moov, 0, len(moov)):
        if kind == b"mvhd":
            duration_ms = _mvhd_duration(moov[start:end])
        elif kind == b"trak" and not width:
            width, height = _trak_size(moov, start, end)
    if not (width or duration_ms):
        return None
    return SourceInfo(width, height, duration_ms)


def _mvhd_duration(payload: bytes) -> int:
    version = payload[0] if payload else 0
    if version == 1 and len(payload) >= 32:
        timescale, duration = struct.unpack(">IQ", payload[20:32])
    elif len(payload) >= 20:
        timescale, duration = struct.unpack(">II", payload[12:20])
    else:
        return 0
    return int(duration * 1000 / timescale) if timescale else 0


def _trak_size(data: bytes, start: int, end: int) -> tuple[int, int]:
    for kind, t_start, t_end in _mp4_boxes(data, start, end):
        if kind == b"tkhd" and t_end - t_start >= 84:
            payload = data[t_start:t_end]
            offset = 76 if payload[0] == 0 else 88
            if len(payload) >= offset + 8:
                width, height = struct.unpack(">II", payload[offset : offset + 8])
                return width >> 16, height >> 16
    return 0, 0

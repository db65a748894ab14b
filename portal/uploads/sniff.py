"""What a file to upload really is, read from its first (and last) bytes: pure Python, no I/O.

Before a byte goes to Kaltura, the browser sends the portal the file's name, its size, its first
:data:`HEAD_BYTES` bytes and, when those start with an ISO-BMFF box (MP4, MOV: bytes 4–8 are
``ftyp``, ``moov``, ``mdat``, ``free``, ``skip`` or ``wide``), its last :data:`TAIL_BYTES` bytes,
because cameras write the ``moov`` box (tracks, frame size, spherical metadata) after the media
data. :func:`sniff` answers with a :class:`SniffResult`:

* the real **format**, recognised by magic bytes *and* structure, checked against the allow-list
  :data:`FORMATS` (below), or the recognised-but-refused format (PDF, HEIC, TIFF/RAW, ...) so the
  message can name it;
* the **Kaltura media type** (1 video, 2 image, 5 audio). For containers that hold either (MP4,
  WebM/Matroska, Ogg) it comes from the tracks: an MP4 with only a sound track is audio;
* whether the name's **extension contradicts** the bytes (extensions of one container family, such
  as ``.mp4``/``.mov``/``.m4a``, do not contradict each other: the media type comes from the tracks);
* **360°** with its evidence (:class:`Spherical`): Google's Photo Sphere XMP
  (``GPano:ProjectionType="equirectangular"``) in JPEG, PNG or WebP; Spherical Video V2 boxes in
  MP4/MOV (``sv3d`` with its ``equi``/``cbmp``/``mshp`` projection, inside the video sample entry;
  ``st3d`` says stereo layout only, so it is evidence but never decides alone); the Spherical Video
  V1 ``uuid`` box ``ffcc8263-f855-4a93-8814-587a02521fdd`` (``GSpherical:Spherical`` true and
  ``ProjectionType`` equirectangular); the Matroska/WebM ``Projection`` element. A 2:1 frame (JPEG
  SOF, PNG IHDR, WebP, GIF, BMP, MP4 ``tkhd``, Matroska ``PixelWidth``) is only a hint: the verdict
  ``MAYBE``, which the UI shows as "looks like 360°?" and never pre-ticks;
* when the ``moov`` box is not in the bytes given (a long video with ``moov`` at the end that is
  bigger than the tail), :attr:`SniffResult.wanted` is the byte range that holds it; the caller may
  fetch those bytes and call :func:`sniff` again with them in ``extra``.

The allow-list is what Kaltura ingests and people upload today (Kaltura transcodes with ffmpeg and
makes thumbnails of images): images JPEG, PNG, GIF, WebP, BMP; video MP4/M4V, QuickTime MOV, 3GP,
WebM, Matroska, AVI, MPEG transport stream (AVCHD ``.mts``/``.m2ts``), MPEG program stream
(``.mpg``/``.vob``), Ogg Theora; audio MP3, AAC (ADTS), M4A, WAV (and RF64), FLAC, Ogg
Vorbis/Opus/FLAC/Speex, AIFF. Refused with a reason: HEIC/HEIF and AVIF photos and TIFF/camera RAW
(Kaltura's image thumbnails and players do not handle them; export as JPEG), Windows Media,
documents, archives and programs.

Hostile input: every read is bounds-checked and every walk has a budget (boxes, elements,
segments, depth), so no input makes :func:`sniff` raise or run long. XML (XMP, the V1 ``uuid``
box) is parsed only when it has no DTD, so no entity can be declared or expanded.
"""

from __future__ import annotations

import enum
import itertools
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

#: How many first bytes the browser sends: enough for JPEG/PNG/WebP metadata (an XMP packet sits
#: in the first 64 KiB segments), Matroska ``Tracks``, an MP3 behind a normal ID3 tag and an MP4
#: whose ``moov`` comes first ("fast start").
HEAD_BYTES = 256 * 1024
#: How many last bytes the browser sends for ISO-BMFF files: the ``moov`` box of about an hour of
#: camera video (its sample tables grow with the duration).
TAIL_BYTES = 1024 * 1024
#: Box types an ISO-BMFF file starts with; the browser sends the tail when bytes 4–8 are one.
ISO_BMFF_FIRST_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot")


def wants_tail(head: bytes) -> bool:
    """Whether the last :data:`TAIL_BYTES` should be sent too: the head starts an ISO-BMFF file."""
    return len(head) >= 8 and head[4:8] in ISO_BMFF_FIRST_BOXES


_MAX_BOXES = 20_000  # boxes (or EBML elements) one sniff may visit
_MAX_DEPTH = 16
_MAX_SEGMENTS = 4_096  # JPEG segments, PNG/RIFF chunks, Ogg pages
_MAX_XML = 1024 * 1024  # bytes of one XMP packet or V1 spherical XML
_MP3_SCAN = 64 * 1024  # bytes searched for the first MPEG audio frame after an ID3 tag
_TWO_TO_ONE = 0.005  # relative tolerance of the 2:1 hint

_GPANO = "http://ns.google.com/photos/1.0/panorama/"
_GSPHERICAL = "http://ns.google.com/videos/1.0/spherical/"
_XMP_JPEG = b"http://ns.adobe.com/xap/1.0/\x00"
_SPHERICAL_V1_UUID = bytes.fromhex("ffcc8263f8554a938814587a02521fdd")
_XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")


class MediaType(enum.IntEnum):
    """``KalturaMediaType`` of an entry."""

    VIDEO = 1
    IMAGE = 2
    AUDIO = 5


@dataclass(frozen=True)
class FileFormat:
    """One allow-listed format: what the user is told, what Kaltura is told."""

    key: str
    label: str
    media_type: MediaType  # the usual one; the tracks may say otherwise (see SniffResult.media_type)
    mime: str
    extension: str  # canonical, for the upload token's file name (Kaltura infers from it)
    extensions: frozenset[str]  # names that do not contradict the bytes


@dataclass(frozen=True)
class RefusedFormat:
    """A format we recognise but do not upload, with what the user can do instead."""

    key: str
    label: str
    advice: str
    extensions: frozenset[str]


def _exts(*names: str) -> frozenset[str]:
    return frozenset(names)


_ISO = _exts("mp4", "m4v", "m4a", "m4b", "mov", "qt", "3gp", "3g2", "insv", "lrv", "f4v")
_MATROSKA = _exts("webm", "mkv", "mka", "mk3d")
_OGG = _exts("ogg", "oga", "ogv", "opus", "spx")

_FORMAT_LIST = (
    FileFormat("jpeg", "JPEG image", MediaType.IMAGE, "image/jpeg", "jpg", _exts("jpg", "jpeg", "jpe", "jfif", "insp")),
    FileFormat("png", "PNG image", MediaType.IMAGE, "image/png", "png", _exts("png")),
    FileFormat("gif", "GIF image", MediaType.IMAGE, "image/gif", "gif", _exts("gif")),
    FileFormat("webp", "WebP image", MediaType.IMAGE, "image/webp", "webp", _exts("webp")),
    FileFormat("bmp", "BMP image", MediaType.IMAGE, "image/bmp", "bmp", _exts("bmp", "dib")),
    FileFormat("mp4", "MP4 video", MediaType.VIDEO, "video/mp4", "mp4", _ISO),
    FileFormat("mov", "QuickTime movie", MediaType.VIDEO, "video/quicktime", "mov", _ISO),
    FileFormat("3gp", "3GP video", MediaType.VIDEO, "video/3gpp", "3gp", _ISO),
    FileFormat("m4a", "MPEG-4 audio", MediaType.AUDIO, "audio/mp4", "m4a", _ISO),
    FileFormat("webm", "WebM", MediaType.VIDEO, "video/webm", "webm", _MATROSKA),
    FileFormat("mkv", "Matroska", MediaType.VIDEO, "video/x-matroska", "mkv", _MATROSKA),
    FileFormat("avi", "AVI video", MediaType.VIDEO, "video/x-msvideo", "avi", _exts("avi")),
    FileFormat(
        "mpegts", "MPEG transport stream", MediaType.VIDEO, "video/mp2t", "mts", _exts("ts", "mts", "m2ts", "m2t")
    ),
    FileFormat(
        "mpeg",
        "MPEG video",
        MediaType.VIDEO,
        "video/mpeg",
        "mpg",
        _exts("mpg", "mpeg", "mpe", "m1v", "m2v", "vob", "m2p"),
    ),
    FileFormat("ogg", "Ogg", MediaType.AUDIO, "audio/ogg", "ogg", _OGG),
    FileFormat("mp3", "MP3 audio", MediaType.AUDIO, "audio/mpeg", "mp3", _exts("mp3", "mpga")),
    FileFormat("aac", "AAC audio", MediaType.AUDIO, "audio/aac", "aac", _exts("aac", "adts")),
    FileFormat("wav", "WAV audio", MediaType.AUDIO, "audio/wav", "wav", _exts("wav", "wave", "bwf")),
    FileFormat("flac", "FLAC audio", MediaType.AUDIO, "audio/flac", "flac", _exts("flac")),
    FileFormat("aiff", "AIFF audio", MediaType.AUDIO, "audio/aiff", "aiff", _exts("aif", "aiff", "aifc")),
)
#: The allow-list, by key.
FORMATS: dict[str, FileFormat] = {f.key: f for f in _FORMAT_LIST}

_EXPORT = "export it as JPEG or PNG and upload that"
_REFUSED_LIST = (
    RefusedFormat("heif", "HEIC/HEIF photo", _EXPORT, _exts("heic", "heif", "hif")),
    RefusedFormat("avif", "AVIF image", _EXPORT, _exts("avif")),
    RefusedFormat("tiff", "TIFF image or camera RAW file", _EXPORT, _exts("tif", "tiff", "dng", "cr2", "nef", "arw")),
    RefusedFormat("cr3", "Canon RAW (CR3) photo", _EXPORT, _exts("cr3")),
    RefusedFormat("psd", "Photoshop document", _EXPORT, _exts("psd")),
    RefusedFormat(
        "asf", "Windows Media file", "convert it to MP4 (video) or MP3 (audio) first", _exts("wmv", "wma", "asf")
    ),
    RefusedFormat("pdf", "PDF document", "only images, video and audio can be uploaded", _exts("pdf")),
    RefusedFormat(
        "zip",
        "ZIP archive (or an Office document)",
        "unpack it and upload the media files themselves",
        _exts("zip", "docx", "pptx", "xlsx", "odt", "odp"),
    ),
    RefusedFormat("gzip", "compressed archive", "unpack it and upload the media files themselves", _exts("gz", "tgz")),
    RefusedFormat("rar", "RAR archive", "unpack it and upload the media files themselves", _exts("rar")),
    RefusedFormat("7z", "7-Zip archive", "unpack it and upload the media files themselves", _exts("7z")),
    RefusedFormat("exe", "program", "only images, video and audio can be uploaded", _exts("exe", "dll", "msi")),
    RefusedFormat("elf", "program", "only images, video and audio can be uploaded", _exts("so", "elf")),
)
#: Formats recognised only to name them in the refusal, by key.
REFUSED: dict[str, RefusedFormat] = {f.key: f for f in _REFUSED_LIST}


class Verdict360(enum.StrEnum):
    """What the bytes say about 360° content."""

    YES = "yes"  # spherical metadata: the UI pre-ticks the 360° box
    MAYBE = "maybe"  # a hint (2:1 frame, partial panorama): "looks like 360°?", never pre-ticked
    NO = "no"  # clearly not 360° (audio, or a frame that is not 2:1 and no metadata): warn on a tick
    UNKNOWN = "unknown"  # the metadata was not in the bytes given


@dataclass(frozen=True)
class Evidence:
    """One finding about 360° content; ``strong`` findings decide YES on their own."""

    signal: str  # gpano | sv3d | st3d | spherical-uuid | matroska-projection | aspect-ratio
    strong: bool
    detail: str  # for the support page and the tooltip, in plain words


@dataclass(frozen=True)
class Spherical:
    """The 360° verdict and the evidence it rests on."""

    verdict: Verdict360
    evidence: tuple[Evidence, ...] = ()

    @property
    def pre_tick(self) -> bool:
        """Whether the upload panel pre-ticks the 360° box (metadata only, never the hint)."""
        return self.verdict is Verdict360.YES


class Problem(enum.StrEnum):
    """Why a file cannot be uploaded, as far as its bytes tell."""

    EMPTY = "empty"
    INCONSISTENT = "inconsistent"  # the bytes sent do not fit the size claimed
    UNKNOWN_TYPE = "unknown_type"
    NOT_ALLOWED = "not_allowed"


@dataclass(frozen=True)
class SniffResult:
    """Everything :func:`sniff` learned about one file."""

    name: str
    size: int
    format: FileFormat | None
    refused: RefusedFormat | None
    media_type: MediaType | None
    extension: str  # lower case, without the dot; "" when the name has none
    extension_conflict: bool
    width: int | None
    height: int | None
    spherical: Spherical
    problem: Problem | None = None
    wanted: tuple[int, int] | None = None  # [start, end) that would complete the answer
    codecs: tuple[str, ...] = field(default=())  # what the container says it holds, when read

    @property
    def ok(self) -> bool:
        """An allow-listed format whose extension does not contradict it."""
        return self.problem is None and self.format is not None and not self.extension_conflict

    @property
    def extension_label(self) -> str | None:
        """What the name's extension claims the file is ("PNG image"), if we know the extension."""
        claimed = _BY_EXTENSION.get(self.extension)
        return claimed.label if claimed is not None else None

    @property
    def message(self) -> str | None:
        """What is wrong, for the user, naming the file and what to do; None when nothing is."""
        name = self.name or "The file"
        if self.problem is Problem.EMPTY:
            return f"{name} is empty (0 bytes): choose the file again, or another file."
        if self.problem is Problem.INCONSISTENT:
            return f"{name} could not be read completely by the browser: choose the file again."
        if self.problem is Problem.NOT_ALLOWED and self.refused is not None:
            return f"{name} is {_a(self.refused.label)} {self.refused.label}: {self.refused.advice}."
        if self.problem is Problem.UNKNOWN_TYPE or self.format is None:
            return f"{name} is not an image, video or audio file Kaltura accepts ({allowed_summary()})."
        if self.extension_conflict:
            claimed = self.extension_label
            said = f"named like {_a(claimed)} {claimed}" if claimed else f"named .{self.extension}"
            return (
                f"{name} is {said} but is really {_a(self.format.label)} {self.format.label}: rename it to "
                f".{self.format.extension} if that is right, or choose the file you meant."
            )
        return None


def _a(label: str) -> str:
    """The article for a label read aloud: "an MP4 video", "an Ogg file", "a PNG image"."""
    return (
        "an"
        if label[:1] in ("A", "E", "I", "O", "U", "a", "e", "i", "o", "u") or label.startswith(("MP", "M4"))
        else "a"
    )


def allowed_summary() -> str:
    """The allow-list in a few words, for messages and the file input's hint."""
    return (
        "images: JPEG, PNG, GIF, WebP, BMP; video: MP4, MOV, WebM, MKV, AVI, MTS, MPG; "
        "audio: MP3, M4A, AAC, WAV, FLAC, OGG, AIFF"
    )


def _extension_table() -> dict[str, FileFormat | RefusedFormat]:
    """What each known extension claims: the first format of a family, unless it is another
    format's canonical extension (``.mov`` names QuickTime, ``.m4a`` MPEG-4 audio)."""
    table: dict[str, FileFormat | RefusedFormat] = {}
    claims: list[FileFormat | RefusedFormat] = [*_REFUSED_LIST, *reversed(_FORMAT_LIST)]
    for claim in claims:
        table.update(dict.fromkeys(claim.extensions, claim))
    table.update({fmt.extension: fmt for fmt in _FORMAT_LIST})
    return table


_BY_EXTENSION = _extension_table()


# -- the bytes we have ---------------------------------------------------------------------------


class _Bytes:
    """The file as windows of bytes at absolute offsets (head at 0, tail at the end, extras)."""

    def __init__(self, size: int, windows: Sequence[tuple[int, bytes]]) -> None:
        self.size = size
        self.windows = sorted(((start, data) for start, data in windows if data), key=lambda w: w[0])
        self.budget = _MAX_BOXES

    def get(self, offset: int, length: int) -> bytes | None:
        """Exactly ``length`` bytes at ``offset`` from one window, or None when no window has them."""
        if offset < 0 or length < 0 or offset + length > self.size:
            return None
        for start, data in self.windows:
            if start <= offset and offset + length <= start + len(data):
                return data[offset - start : offset - start + length]
        return None

    def has(self, offset: int, length: int) -> bool:
        """Whether one window holds all of [offset, offset + length)."""
        if offset < 0 or length < 0 or offset + length > self.size:
            return False
        return any(start <= offset and offset + length <= start + len(data) for start, data in self.windows)

    def upto(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``: as many as one window holds (b"" when none)."""
        best = b""
        if offset < 0 or length <= 0:
            return best
        for start, data in self.windows:
            if start <= offset < start + len(data):
                chunk = data[offset - start : offset - start + length]
                if len(chunk) > len(best):
                    best = chunk
        return best

    def spend(self) -> bool:
        """Take one unit of the walk budget; False once it is used up."""
        self.budget -= 1
        return self.budget >= 0


def _u16(b: bytes, i: int) -> int:
    return int.from_bytes(b[i : i + 2], "big")


def _u32(b: bytes, i: int) -> int:
    return int.from_bytes(b[i : i + 4], "big")


def _le16(b: bytes, i: int) -> int:
    return int.from_bytes(b[i : i + 2], "little")


def _le32(b: bytes, i: int) -> int:
    return int.from_bytes(b[i : i + 4], "little")


# -- the entry point -----------------------------------------------------------------------------


def sniff(name: str, size: int, head: bytes, tail: bytes = b"", extra: Sequence[tuple[int, bytes]] = ()) -> SniffResult:
    """Identify a file from its name, size, first bytes and (ISO-BMFF) last bytes; never raises.

    ``tail`` is the file's last ``len(tail)`` bytes; ``extra`` holds more ``(offset, bytes)``
    windows, such as the range a first answer gave in :attr:`SniffResult.wanted`.
    """
    name = _clean_name(name)
    extension = _extension(name)
    windows = [(0, bytes(head)), (size - len(tail), bytes(tail)), *((int(o), bytes(b)) for o, b in extra)]
    if size == 0:
        return _result(name, size, extension, problem=Problem.EMPTY)
    if size < 0 or not head or not _consistent(size, windows):
        return _result(name, size, extension, problem=Problem.INCONSISTENT)
    data = _Bytes(size, windows)
    found = _identify(data, bytes(head[: min(len(head), size)]), extension)
    if found is None:
        return _result(name, size, extension, problem=Problem.UNKNOWN_TYPE)
    if isinstance(found, RefusedFormat):
        conflict = bool(extension) and extension not in found.extensions
        return _result(name, size, extension, problem=Problem.NOT_ALLOWED, refused=found, conflict=conflict)
    fmt = FORMATS[found.key]
    conflict = bool(extension) and extension not in fmt.extensions
    return SniffResult(
        name=name,
        size=size,
        format=fmt,
        refused=None,
        media_type=found.media_type or fmt.media_type,
        extension=extension,
        extension_conflict=conflict,
        width=found.width,
        height=found.height,
        spherical=_verdict(found, found.media_type or fmt.media_type),
        wanted=found.wanted,
        codecs=tuple(found.codecs),
    )


def _result(
    name: str,
    size: int,
    extension: str,
    *,
    problem: Problem,
    refused: RefusedFormat | None = None,
    conflict: bool = False,
) -> SniffResult:
    return SniffResult(
        name=name,
        size=size,
        format=None,
        refused=refused,
        media_type=None,
        extension=extension,
        extension_conflict=conflict,
        width=None,
        height=None,
        spherical=Spherical(Verdict360.UNKNOWN),
        problem=problem,
    )


def _clean_name(name: str) -> str:
    """The base name, without a path a browser or a client may have put in front of it."""
    name = str(name)
    return re.split(r"[\\/]", name)[-1].strip()


def _extension(name: str) -> str:
    """The lower-case extension ("" when none, or when it is not a plausible one)."""
    base = name.rstrip(". ")
    if "." not in base.lstrip("."):
        return ""
    ext = base.rsplit(".", 1)[1].lower()
    return ext if 0 < len(ext) <= 10 and ext.isascii() and ext.isalnum() else ""


def _consistent(size: int, windows: Sequence[tuple[int, bytes]]) -> bool:
    """Every window lies inside the file, and overlapping windows agree."""
    for start, data in windows:
        if start < 0 or start + len(data) > size:
            return False
    ordered = sorted(windows, key=lambda w: w[0])
    for (a_start, a), (b_start, b) in itertools.pairwise(ordered):
        overlap = a_start + len(a) - b_start
        if overlap > 0 and a[b_start - a_start : b_start - a_start + min(overlap, len(b))] != b[: min(overlap, len(b))]:
            return False
    return True


@dataclass
class _Found:
    """What a format reader learned (mutable while reading)."""

    key: str
    media_type: MediaType | None = None
    width: int | None = None
    height: int | None = None
    evidence: list[Evidence] = field(default_factory=list)
    complete: bool = True  # every place the 360° metadata could be was read
    wanted: tuple[int, int] | None = None
    codecs: list[str] = field(default_factory=list)


def _identify(data: _Bytes, head: bytes, extension: str) -> _Found | RefusedFormat | None:
    """The first reader whose signature and structure match the head."""
    if head.startswith(b"\xff\xd8\xff") and len(head) > 3 and head[3] >= 0xC0:
        return _read_jpeg(head)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _read_png(head)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        found = _Found("gif")
        if len(head) >= 10:
            found.width, found.height = _le16(head, 6), _le16(head, 8)
        return found
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and len(head) >= 12:
        return _read_riff(data, head)
    if head[:4] == b"FORM" and len(head) >= 12 and head[8:12] in (b"AIFF", b"AIFC"):
        return _Found("aiff", MediaType.AUDIO)
    if head.startswith(b"BM") and len(head) >= 26:
        return _read_bmp(head)
    if len(head) >= 8 and head[4:8] in ISO_BMFF_FIRST_BOXES:
        return _read_iso(data, head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _read_matroska(data)
    if head.startswith(b"OggS"):
        return _read_ogg(head)
    if head.startswith(b"fLaC") and len(head) >= 5 and head[4] & 0x7F == 0:
        return _Found("flac", MediaType.AUDIO)
    refused = _refused(head)
    if refused is not None:
        return refused
    if _is_mpegts(head, data.size):
        return _Found("mpegts", MediaType.VIDEO)
    if head.startswith(b"\x00\x00\x01\xba") and len(head) > 4 and (head[4] >> 6 == 0b01 or head[4] >> 4 == 0b0010):
        return _Found("mpeg", MediaType.VIDEO)  # an MPEG-2 or MPEG-1 pack header
    return _read_mpeg_audio(head, data.size, extension)


def _refused(head: bytes) -> RefusedFormat | None:
    """A format we know and do not upload, by its signature."""
    signatures = (
        (b"%PDF-", "pdf"),
        (b"PK\x03\x04", "zip"),
        (b"PK\x05\x06", "zip"),
        (b"\x1f\x8b", "gzip"),
        (b"Rar!\x1a\x07", "rar"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"II*\x00", "tiff"),
        (b"MM\x00*", "tiff"),
        (b"8BPS", "psd"),
        (bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"), "asf"),
        (b"\x7fELF", "elf"),
        (b"MZ", "exe"),
    )
    for magic, key in signatures:
        if head.startswith(magic):
            return REFUSED[key]
    return None


# -- 360° verdict --------------------------------------------------------------------------------


def _verdict(found: _Found, media_type: MediaType) -> Spherical:
    """Combine the evidence into one verdict (see :class:`Verdict360`)."""
    evidence = list(found.evidence)
    if found.width and found.height and _is_two_to_one(found.width, found.height):
        evidence.append(
            Evidence(
                "aspect-ratio",
                False,
                f"the frame is {found.width}×{found.height}, the 2:1 shape of an equirectangular 360° image",
            )
        )
    if any(e.strong for e in evidence):
        verdict = Verdict360.YES
    elif any(e.signal != "st3d" for e in evidence):
        verdict = Verdict360.MAYBE
    elif media_type is MediaType.AUDIO or (found.width and found.height and found.complete):
        verdict = Verdict360.NO
    else:
        verdict = Verdict360.UNKNOWN
    return Spherical(verdict, tuple(evidence))


def _is_two_to_one(width: int, height: int) -> bool:
    return abs(width - 2 * height) <= _TWO_TO_ONE * width


def _fraction(value: int) -> float:
    """A 0.32 fixed-point projection bound as a fraction of the frame."""
    return value / 2**32


def _bounds_evidence(signal: str, where: str, bounds: bytes | None) -> Evidence:
    """Evidence of an equirectangular projection, partial when its left/right bounds crop it."""
    if bounds is not None and len(bounds) >= 16:
        left, right = _fraction(_u32(bounds, 8)), _fraction(_u32(bounds, 12))
        covered = 360 * max(0.0, 1 - left - right)
        if covered < 359:
            return Evidence(
                signal, False, f"{where}: equirectangular projection covering {covered:.0f}°, not a full 360°"
            )
    return Evidence(signal, True, f"{where}: equirectangular projection")


# -- XML (XMP, Spherical Video V1) ---------------------------------------------------------------

_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _xml_properties(packet: bytes, namespace: str) -> dict[str, str] | None:
    """Every property of ``namespace`` in an XML packet, as attributes or elements; None when the
    packet is not well-formed XML (or has a DTD, which XMP never has)."""
    start, end = packet.find(b"<"), packet.rfind(b">")
    if start < 0 or end <= start or end - start > _MAX_XML or _DTD.search(packet):
        return None
    try:
        root = ET.fromstring(packet[start : end + 1])
    except (ET.ParseError, ValueError, LookupError, RecursionError):
        return None
    prefix = "{" + namespace + "}"
    found: dict[str, str] = {}
    for element in root.iter():
        for key, value in element.attrib.items():
            if key.startswith(prefix):
                found.setdefault(key[len(prefix) :], value.strip())
        tag = element.tag
        if isinstance(tag, str) and tag.startswith(prefix) and element.text and element.text.strip():
            found.setdefault(tag[len(prefix) :], element.text.strip())
    return found


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except (ValueError, OverflowError):
        return None


def _pano_evidence(signal: str, where: str, props: dict[str, str], *, video: bool) -> Evidence | None:
    """Evidence from GPano (photos) or GSpherical (V1 video) properties, or None if they say nothing."""
    projection = props.get("ProjectionType", "").lower()
    if video and props.get("Spherical", "").lower() != "true":
        return None
    if projection != "equirectangular":
        if not projection:
            return None
        return Evidence(signal, False, f"{where}: a {projection} projection, not equirectangular")
    full = _int_or_none(props.get("FullPanoWidthPixels"))
    cropped = _int_or_none(props.get("CroppedAreaImageWidthPixels"))
    if full and cropped and 0 < cropped < full:
        degrees = 360 * cropped / full
        return Evidence(signal, False, f"{where}: a partial panorama covering {degrees:.0f}° of 360°")
    what = (
        "GSpherical:Spherical with an equirectangular projection" if video else 'GPano:ProjectionType="equirectangular"'
    )
    return Evidence(signal, True, f"{where}: {what}")


def _xmp_evidence(packet: bytes, where: str) -> Evidence | None:
    props = _xml_properties(packet, _GPANO)
    return _pano_evidence("gpano", where, props, video=False) if props else None


# -- images --------------------------------------------------------------------------------------

_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _read_jpeg(head: bytes) -> _Found:
    """JPEG: walk the segments up to the scan; SOF gives the frame, APP1 XMP the GPano data."""
    found = _Found("jpeg", MediaType.IMAGE, complete=False)
    pos = 2
    for _ in range(_MAX_SEGMENTS):
        if pos + 2 > len(head) or head[pos] != 0xFF:
            break
        marker = head[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no metadata after this
            found.complete = True
            break
        if pos + 4 > len(head):
            break
        length = _u16(head, pos + 2)
        if length < 2:
            break
        segment = head[pos + 4 : pos + 2 + length]
        if marker in _SOF and len(segment) >= 5 and found.width is None:
            found.height, found.width = _u16(segment, 1), _u16(segment, 3)
        elif marker == 0xE1 and segment.startswith(_XMP_JPEG) and len(segment) == length - 2:
            evidence = _xmp_evidence(segment[len(_XMP_JPEG) :], "XMP in the JPEG")
            if evidence is not None:
                found.evidence.append(evidence)
        pos += 2 + length
    return found


def _read_png(head: bytes) -> _Found:
    """PNG: IHDR gives the frame; an iTXt ``XML:com.adobe.xmp`` chunk may carry GPano."""
    found = _Found("png", MediaType.IMAGE, complete=False)
    pos = 8
    for _ in range(_MAX_SEGMENTS):
        if pos + 8 > len(head):
            break
        length, kind = _u32(head, pos), head[pos + 4 : pos + 8]
        body = head[pos + 8 : pos + 8 + length]
        if kind == b"IHDR" and len(body) >= 8:
            found.width, found.height = _u32(body, 0), _u32(body, 4)
        elif kind == b"iTXt" and len(body) == length and body.startswith(b"XML:com.adobe.xmp\x00"):
            packet = _itxt_text(body)
            evidence = _xmp_evidence(packet, "XMP in the PNG") if packet else None
            if evidence is not None:
                found.evidence.append(evidence)
        elif kind in (b"IDAT", b"IEND"):
            found.complete = True
            break
        pos += 12 + length
    return found


def _itxt_text(body: bytes) -> bytes | None:
    """The text of an iTXt chunk (keyword, compression flag and method, language, translation)."""
    parts = body.split(b"\x00", 1)
    if len(parts) < 2 or len(parts[1]) < 2:
        return None
    compressed, rest = parts[1][0], parts[1][2:]
    pieces = rest.split(b"\x00", 2)
    if len(pieces) < 3:
        return None
    text = pieces[2]
    if not compressed:
        return text
    try:
        inflater = zlib.decompressobj()
        return inflater.decompress(text, _MAX_XML)  # bounded: no decompression bomb
    except zlib.error:
        return None


def _read_bmp(head: bytes) -> _Found | None:
    """BMP: "BM", then a DIB header of a known size with the frame and one colour plane."""
    dib = _le32(head, 14)
    if dib == 12:
        width, height, planes = _le16(head, 18), _le16(head, 20), _le16(head, 22)
    elif dib in (40, 52, 56, 64, 108, 124) and len(head) >= 28:
        width = abs(int.from_bytes(head[18:22], "little", signed=True))
        height = abs(int.from_bytes(head[22:26], "little", signed=True))
        planes = _le16(head, 26)
    else:
        return None
    if planes != 1 or not width or not height:
        return None
    return _Found("bmp", MediaType.IMAGE, width=width, height=height)


def _read_riff(data: _Bytes, head: bytes) -> _Found | RefusedFormat | None:
    """RIFF: WAVE, AVI or WebP, by the form type."""
    form = head[8:12]
    if form == b"WAVE":
        return _Found("wav", MediaType.AUDIO)
    if form in (b"AVI ", b"AVIX"):
        found = _Found("avi", MediaType.VIDEO)
        avih = head.find(b"avih", 12, 4096)
        if avih > 0 and len(head) >= avih + 8 + 40:
            found.width, found.height = _le32(head, avih + 8 + 32), _le32(head, avih + 8 + 36)
        return found
    if form == b"WEBP" and head[:4] == b"RIFF":
        return _read_webp(data)
    return None


_WEBP_HAS_XMP = 0x04  # VP8X flags: an XMP chunk follows the image data


def _read_webp(data: _Bytes) -> _Found:
    """WebP: the VP8/VP8L/VP8X chunk gives the frame; the ``XMP `` chunk (after the image data in
    the extended format) may carry GPano."""
    found = _Found("webp", MediaType.IMAGE)
    pos, expects_xmp, xmp_seen = 12, False, False
    end = min(data.size, 8 + _le32(data.get(4, 4) or bytes(4), 0))
    for _ in range(_MAX_SEGMENTS):
        header = data.get(pos, 8)
        if header is None:
            break
        kind, length = header[:4], _le32(header, 4)
        body = data.upto(pos + 8, min(length, 32))
        if kind == b"VP8X" and len(body) >= 10:
            expects_xmp = bool(body[0] & _WEBP_HAS_XMP)
            found.width = 1 + int.from_bytes(body[4:7], "little")
            found.height = 1 + int.from_bytes(body[7:10], "little")
        elif kind == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a" and found.width is None:
            found.width, found.height = _le16(body, 6) & 0x3FFF, _le16(body, 8) & 0x3FFF
        elif kind == b"VP8L" and len(body) >= 5 and body[0] == 0x2F and found.width is None:
            bits = _le32(body, 1)
            found.width, found.height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        elif kind == b"XMP " and length <= _MAX_XML:
            packet = data.get(pos + 8, length)
            xmp_seen = packet is not None
            evidence = _xmp_evidence(packet, "XMP in the WebP") if packet else None
            if evidence is not None:
                found.evidence.append(evidence)
        pos += 8 + length + (length & 1)
    if expects_xmp and not xmp_seen:
        found.complete = False
        if pos < end:
            found.wanted = (pos, end)
    return found


# -- ISO-BMFF (MP4, MOV, 3GP, M4A) ---------------------------------------------------------------


@dataclass(frozen=True)
class _Box:
    kind: bytes
    start: int
    payload: int  # absolute offset of the payload
    end: int  # absolute end (clamped to the parent's)
    uuid: bytes = b""

    @property
    def size(self) -> int:
        return self.end - self.payload


def _boxes(data: _Bytes, start: int, end: int, depth: int) -> Iterator[_Box]:
    """The boxes in [start, end), as far as their headers are in the bytes we have.

    Handles 64-bit sizes (size 1), "to the end" (size 0) and ``uuid`` user types; stops at a
    header it cannot read, a size smaller than its header, or when the walk budget is spent.
    """
    pos = start
    while pos + 8 <= end and depth <= _MAX_DEPTH and data.spend():
        header = data.get(pos, 8)
        if header is None:
            return
        size, kind = _u32(header, 0), header[4:8]
        offset = 8
        if size == 1:
            large = data.get(pos + 8, 8)
            if large is None:
                return
            size, offset = int.from_bytes(large, "big"), 16
        elif size == 0:
            size = end - pos
        if size < offset:
            return
        uuid = b""
        if kind == b"uuid":
            uuid = data.get(pos + offset, 16) or b""
            offset += 16
            if size < offset:
                return
        yield _Box(kind, pos, pos + offset, min(pos + size, end), uuid)
        pos += size


def _child(data: _Bytes, box: _Box, kind: bytes, depth: int) -> _Box | None:
    for child in _boxes(data, box.payload, box.end, depth):
        if child.kind == kind:
            return child
    return None


_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"heif"})
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P "})


def _read_iso(data: _Bytes, head: bytes) -> _Found | RefusedFormat | None:
    """ISO-BMFF: the brands say MP4, MOV, 3GP or M4A (or HEIF/AVIF/CR3, refused); the ``moov``
    box says what the tracks hold, the frame size and the spherical metadata."""
    found = _Found("mp4")
    key = "mov" if head[4:8] != b"ftyp" else "mp4"  # old QuickTime files have no ftyp
    moov: _Box | None = None
    walked = 0  # where the top-level walk stopped
    for box in _boxes(data, 0, data.size, 0):
        walked = box.end
        if box.kind == b"ftyp":
            brands = data.upto(box.payload, min(box.size, 256))
            decided = _brand_format(brands)
            if isinstance(decided, RefusedFormat):
                return decided
            key = decided
        elif box.kind == b"moov" and moov is None:
            moov = box
        elif box.kind == b"uuid":
            _uuid_evidence(data, box, found, "a top-level uuid box")
    if walked == 0:
        return None  # not even one box: the "box type" at bytes 4-8 was a coincidence
    found.key = key
    if moov is None:
        found.complete = False
        found.media_type = MediaType.AUDIO if key == "m4a" else MediaType.VIDEO
        if walked < data.size:
            found.wanted = (walked, data.size)
        return found
    if not data.has(moov.start, moov.end - moov.start):
        found.complete = False
        found.wanted = (moov.start, moov.end)
    _read_moov(data, moov, found)
    if found.media_type is MediaType.AUDIO:
        found.key = "m4a"
    elif found.media_type is None:
        found.media_type = MediaType.AUDIO if key == "m4a" else MediaType.VIDEO
    return found


def _brand_format(ftyp: bytes) -> str | RefusedFormat:
    """The format the ``ftyp`` brands name."""
    major = ftyp[:4]
    brands = {ftyp[i : i + 4] for i in range(8, len(ftyp) - 3, 4)} | {major}
    if major in (b"avif", b"avis") or (major == b"mif1" and b"avif" in brands):
        return REFUSED["avif"]
    if major in _HEIF_BRANDS:
        return REFUSED["heif"]
    if major == b"crx ":
        return REFUSED["cr3"]
    if major == b"qt  ":
        return "mov"
    if major in _AUDIO_BRANDS:
        return "m4a"
    if major.startswith((b"3gp", b"3g2")):
        return "3gp"
    return "mp4"


def _read_moov(data: _Bytes, moov: _Box, found: _Found) -> None:
    """Tracks: handler, frame, sample entries (sv3d/st3d) and V1 spherical uuid boxes."""
    handlers: list[bytes] = []
    for box in _boxes(data, moov.payload, moov.end, 1):
        if box.kind == b"uuid":
            _uuid_evidence(data, box, found, "a uuid box in the movie header")
        if box.kind != b"trak":
            continue
        handler, width, height = b"", 0, 0
        entries: list[_Box] = []
        for part in _boxes(data, box.payload, box.end, 2):
            if part.kind == b"tkhd":
                width, height = _tkhd_frame(data, part)
            elif part.kind == b"uuid":
                _uuid_evidence(data, part, found, "the video track's spherical uuid box")
            elif part.kind == b"mdia":
                handler, entries = _mdia(data, part)
        handlers.append(handler)
        found.codecs.extend(entry.kind.decode("latin-1").strip() for entry in entries)
        if handler == b"vide":
            if width and height and found.width is None:
                found.width, found.height = width, height
            for entry in entries:
                _sample_entry(data, entry, found)
    if b"vide" in handlers:
        found.media_type = MediaType.VIDEO
    elif b"soun" in handlers:
        found.media_type = MediaType.AUDIO


def _tkhd_frame(data: _Bytes, tkhd: _Box) -> tuple[int, int]:
    """The track's presentation size (16.16 fixed point) from ``tkhd`` version 0 or 1."""
    version = data.get(tkhd.payload, 1)
    if version is None:
        return 0, 0
    at = 76 if version[0] == 0 else 88
    frame = data.get(tkhd.payload + at, 8) if tkhd.size >= at + 8 else None
    if frame is None:
        return 0, 0
    return _u32(frame, 0) >> 16, _u32(frame, 4) >> 16


def _mdia(data: _Bytes, mdia: _Box) -> tuple[bytes, list[_Box]]:
    """The handler type and the sample entries of a track's ``mdia`` box."""
    handler = b""
    entries: list[_Box] = []
    for part in _boxes(data, mdia.payload, mdia.end, 3):
        if part.kind == b"hdlr":
            handler = data.get(part.payload + 8, 4) or b""
        elif part.kind == b"minf":
            stbl = _child(data, part, b"stbl", 4)
            stsd = _child(data, stbl, b"stsd", 5) if stbl is not None else None
            if stsd is not None:
                entries = list(_boxes(data, stsd.payload + 8, stsd.end, 6))  # after version/flags, count
    return handler, entries


def _sample_entry(data: _Bytes, entry: _Box, found: _Found) -> None:
    """A visual sample entry (78 bytes of fields, then boxes): frame, sv3d and st3d."""
    if found.width is None:
        frame = data.get(entry.payload + 24, 4)
        if frame is not None and _u16(frame, 0) and _u16(frame, 2):
            found.width, found.height = _u16(frame, 0), _u16(frame, 2)
    for box in _boxes(data, entry.payload + 78, entry.end, 7):
        if box.kind == b"st3d":
            mode = data.get(box.payload + 4, 1)
            layout = {0: "monoscopic", 1: "stereoscopic top-bottom", 2: "stereoscopic left-right"}
            what = layout.get(mode[0], "stereoscopic") if mode else "stereo"
            found.evidence.append(Evidence("st3d", False, f"st3d box: {what} layout (stereo, not 360° by itself)"))
        elif box.kind == b"sv3d":
            found.evidence.append(_sv3d_evidence(data, box))


def _sv3d_evidence(data: _Bytes, sv3d: _Box) -> Evidence:
    """Spherical Video V2: the projection inside ``sv3d/proj``."""
    where = "sv3d box (Spherical Video V2)"
    proj = _child(data, sv3d, b"proj", 8)
    if proj is None:
        return Evidence("sv3d", True, f"{where}: spherical video")
    for box in _boxes(data, proj.payload, proj.end, 9):
        if box.kind == b"equi":
            return _bounds_evidence("sv3d", where, data.get(box.payload + 4, 16))
        if box.kind == b"cbmp":
            return Evidence("sv3d", True, f"{where}: cubemap projection")
        if box.kind == b"mshp":
            return Evidence("sv3d", True, f"{where}: mesh projection")
    return Evidence("sv3d", True, f"{where}: spherical video")


def _uuid_evidence(data: _Bytes, box: _Box, found: _Found, where: str) -> None:
    """Spherical Video V1 (GSpherical XML) or an XMP uuid box with GPano."""
    if box.uuid not in (_SPHERICAL_V1_UUID, _XMP_UUID):
        return
    packet = data.get(box.payload, box.size) if box.size <= _MAX_XML else None
    if packet is None:
        found.complete = False
        return
    if box.uuid == _XMP_UUID:
        evidence = _xmp_evidence(packet, "XMP in the movie")
    else:
        props = _xml_properties(packet, _GSPHERICAL)
        evidence = _pano_evidence("spherical-uuid", where, props, video=True) if props else None
    if evidence is not None:
        found.evidence.append(evidence)


# -- Matroska / WebM -----------------------------------------------------------------------------

_EBML_HEADER, _DOCTYPE = 0x1A45DFA3, 0x4282
_SEGMENT, _TRACKS, _TRACK_ENTRY, _CLUSTER = 0x18538067, 0x1654AE6B, 0xAE, 0x1F43B675
_TRACK_TYPE, _CODEC_ID, _VIDEO = 0x83, 0x86, 0xE0
_PIXEL_WIDTH, _PIXEL_HEIGHT, _PROJECTION, _PROJECTION_TYPE, _PROJECTION_PRIVATE = 0xB0, 0xBA, 0x7670, 0x7671, 0x7672
_STEREO_MODE = 0x53B8


@dataclass(frozen=True)
class _Element:
    id: int
    payload: int
    end: int  # clamped to the parent; an unknown size runs to the parent's end


def _vint(data: _Bytes, pos: int, *, keep_marker: bool) -> tuple[int, int, bool] | None:
    """An EBML variable-length integer at ``pos``: (value, length, all-ones i.e. unknown size)."""
    first = data.get(pos, 1)
    if first is None or first[0] == 0:
        return None
    length = 9 - first[0].bit_length()
    raw = data.get(pos, length)
    if raw is None:
        return None
    value = int.from_bytes(raw, "big")
    if keep_marker:
        return value, length, False
    value &= (1 << (7 * length)) - 1
    return value, length, value == (1 << (7 * length)) - 1


def _elements(data: _Bytes, start: int, end: int) -> Iterator[_Element]:
    """The EBML elements in [start, end) whose headers are in the bytes we have."""
    pos = start
    while pos < end and data.spend():
        ident = _vint(data, pos, keep_marker=True)
        if ident is None or ident[1] > 4:
            return
        size = _vint(data, pos + ident[1], keep_marker=False)
        if size is None:
            return
        payload = pos + ident[1] + size[1]
        stop = end if size[2] else min(payload + size[0], end)
        yield _Element(ident[0], payload, stop)
        if size[2] or stop <= pos:
            return  # an unknown-size element holds everything after it
        pos = stop


def _uint(data: _Bytes, element: _Element) -> int | None:
    raw = data.get(element.payload, element.end - element.payload) if 0 < element.end - element.payload <= 8 else None
    return int.from_bytes(raw, "big") if raw is not None else None


def _read_matroska(data: _Bytes) -> _Found | None:
    """Matroska/WebM: DocType, then the ``Tracks`` before the first ``Cluster``."""
    header = next(_elements(data, 0, data.size), None)
    if header is None or header.id != _EBML_HEADER:
        return None
    doctype = b""
    for element in _elements(data, header.payload, header.end):
        if element.id == _DOCTYPE:
            doctype = data.upto(element.payload, min(element.end - element.payload, 32)).rstrip(b"\x00")
    if doctype not in (b"webm", b"matroska"):
        return None
    found = _Found("webm" if doctype == b"webm" else "mkv", complete=False)
    segment = next((e for e in _elements(data, header.end, data.size) if e.id == _SEGMENT), None)
    if segment is None:
        return found
    kinds: set[int] = set()
    for element in _elements(data, segment.payload, segment.end):
        if element.id == _CLUSTER:
            break
        if element.id == _TRACKS:
            found.complete = data.has(element.payload, element.end - element.payload)
            for entry in _elements(data, element.payload, element.end):
                if entry.id == _TRACK_ENTRY:
                    kinds.add(_matroska_track(data, entry, found))
            break
    if 1 in kinds:
        found.media_type = MediaType.VIDEO
    elif 2 in kinds:
        found.media_type = MediaType.AUDIO
    return found


def _matroska_track(data: _Bytes, entry: _Element, found: _Found) -> int:
    """One TrackEntry: its type (1 video, 2 audio), codec, frame and projection."""
    kind = 0
    for element in _elements(data, entry.payload, entry.end):
        if element.id == _TRACK_TYPE:
            kind = _uint(data, element) or 0
        elif element.id == _CODEC_ID:
            found.codecs.append(data.upto(element.payload, min(element.end - element.payload, 32)).decode("latin-1"))
        elif element.id == _VIDEO:
            _matroska_video(data, element, found)
    return kind


def _matroska_video(data: _Bytes, video: _Element, found: _Found) -> None:
    width = height = None
    for element in _elements(data, video.payload, video.end):
        if element.id == _PIXEL_WIDTH:
            width = _uint(data, element)
        elif element.id == _PIXEL_HEIGHT:
            height = _uint(data, element)
        elif element.id == _STEREO_MODE and _uint(data, element):
            found.evidence.append(Evidence("st3d", False, "Matroska StereoMode: stereoscopic (not 360° by itself)"))
        elif element.id == _PROJECTION:
            projection = private = None
            for part in _elements(data, element.payload, element.end):
                if part.id == _PROJECTION_TYPE:
                    projection = _uint(data, part)
                elif part.id == _PROJECTION_PRIVATE:
                    private = data.get(part.payload + 4, 16)
            where = "Matroska Projection element"
            if projection == 1:
                found.evidence.append(_bounds_evidence("matroska-projection", where, private))
            elif projection in (2, 3):
                shape = "cubemap" if projection == 2 else "mesh"
                found.evidence.append(Evidence("matroska-projection", True, f"{where}: {shape} projection"))
    if width and height and found.width is None:
        found.width, found.height = width, height


# -- Ogg, MPEG-TS, MPEG audio --------------------------------------------------------------------

_OGG_CODECS = (
    (b"OpusHead", "opus", MediaType.AUDIO),
    (b"\x01vorbis", "vorbis", MediaType.AUDIO),
    (b"\x7fFLAC", "flac", MediaType.AUDIO),
    (b"Speex   ", "speex", MediaType.AUDIO),
    (b"\x80theora", "theora", MediaType.VIDEO),
)


def _read_ogg(head: bytes) -> _Found | None:
    """Ogg: the first packet of every stream (the BOS pages come first) names its codec."""
    found = _Found("ogg")
    pos = 0
    for _ in range(_MAX_SEGMENTS):
        if head[pos : pos + 4] != b"OggS" or pos + 27 > len(head) or head[pos + 4] != 0:
            break
        segments = head[pos + 26]
        table = head[pos + 27 : pos + 27 + segments]
        body = pos + 27 + segments
        if not head[pos + 5] & 0x02:  # not a beginning-of-stream page: all BOS pages are behind us
            break
        packet = head[body : body + 16]
        for magic, codec, media in _OGG_CODECS:
            if packet.startswith(magic):
                found.codecs.append(codec)
                if found.media_type is not MediaType.VIDEO:
                    found.media_type = media
        pos = body + sum(table)
    return found if found.codecs else None


def _is_mpegts(head: bytes, size: int) -> bool:
    """188-byte packets (or 192 with a timestamp, M2TS) each starting with the 0x47 sync byte."""
    for stride, first in ((188, 0), (192, 4)):
        packets = [head[i] for i in range(first, min(len(head), first + stride * 10), stride)]
        enough = len(packets) >= 5 or (len(packets) >= 2 and len(head) >= size)
        if enough and all(b == 0x47 for b in packets):
            return True
    return False


_MP3_BITRATES = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1 layer III
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2 layer III
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_ADTS_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


def _mp3_frame(head: bytes, pos: int) -> int | None:
    """The length of the MPEG audio layer III frame at ``pos``, or None if there is none."""
    if pos + 4 > len(head) or head[pos] != 0xFF or head[pos + 1] & 0xE0 != 0xE0:
        return None
    version, layer = (head[pos + 1] >> 3) & 3, (head[pos + 1] >> 1) & 3
    bitrate_index, rate_index = head[pos + 2] >> 4, (head[pos + 2] >> 2) & 3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = _MP3_BITRATES[3 if version == 3 else 2][bitrate_index] * 1000
    rate = _MP3_RATES[version][rate_index]
    padding = (head[pos + 2] >> 1) & 1
    return (144 if version == 3 else 72) * bitrate // rate + padding


def _adts_frame(head: bytes, pos: int) -> int | None:
    """The length of the AAC ADTS frame at ``pos``, or None if there is none."""
    if pos + 7 > len(head) or head[pos] != 0xFF or head[pos + 1] & 0xF6 != 0xF0:
        return None
    if (head[pos + 2] >> 2) & 0xF >= len(_ADTS_RATES):
        return None
    length = ((head[pos + 3] & 3) << 11) | (head[pos + 4] << 3) | (head[pos + 5] >> 5)
    return length if length >= 7 else None


def _id3_end(head: bytes) -> int:
    """Where the audio starts behind an ID3v2 tag (0 when there is none)."""
    if len(head) < 10 or not head.startswith(b"ID3") or head[3] == 0xFF or head[4] == 0xFF:
        return 0
    if any(b & 0x80 for b in head[6:10]):
        return 0
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    return 10 + size + (10 if head[5] & 0x10 else 0)


def _read_mpeg_audio(head: bytes, size: int, extension: str) -> _Found | None:
    """MP3 or AAC (ADTS), possibly behind an ID3v2 tag: two frames in a row, or one that ends the file."""
    start = _id3_end(head)
    if start and start >= len(head):
        # The tag (album art) is bigger than the head: the tag itself is the evidence.
        return _Found("aac" if extension == "aac" else "mp3", MediaType.AUDIO) if start < size else None
    if start and head[start : start + 4] == b"fLaC":
        return _Found("flac", MediaType.AUDIO)
    scan_end = min(len(head), start + (_MP3_SCAN if start else 1))
    for pos in range(start, scan_end):
        if head[pos] != 0xFF:
            continue
        for key, frame in (("mp3", _mp3_frame), ("aac", _adts_frame)):
            length = frame(head, pos)
            if length is None:
                continue
            following = pos + length
            if following == size or frame(head, following) is not None:
                return _Found(key, MediaType.AUDIO)
    return None

"""Media delivery under ``/p/``: thumbnails, playManifest (DASH, HLS, progressive), raw files.

URL shapes follow Kaltura's (reference §4.5, §4.6); parameters are ``/key/value`` path pairs,
in any order, and the query string works too:

* ``/p/{pid}/sp/{pid}00/thumbnail/entry_id/{id}/version/{v}/width/{w}/height/{h}[/type/1-5]
  [/quality/q][/bgcolor/rrggbb][/vid_sec/s][/def_width/w/def_height/h][/format/png]``: a generated
  JPEG (PNG with ``format/png``) of the size the thumbnail type gives (``thumbnail_placement``):
  the entry's colour with a media-type glyph, and a progress bar at ``vid_sec`` for videos.
* ``/p/{pid}/sp/{pid}00/playManifest/entryId/{id}/format/{mpegdash|applehttp|url|download}/
  protocol/{http|https}[/flavorParamIds/..][/ks/{KS}]/a.{mpd|m3u8|mp4}``: a DASH MPD or an HLS
  master playlist listing the READY web flavors; ``url`` redirects to a flavor file and
  ``download`` serves it as an attachment. The KS may also come as ``?ks=`` or ``X-Kaltura-Ks``,
  and entitlement applies (an entry the KS may not see is "not found").
* ``/p/{pid}/sp/{pid}00/serveFlavor/entryId/{id}/flavorId/{fid}/name/a.mp4[/index.m3u8]``: a
  flavor's bytes (the sandbox does not transcode: every rendition is the uploaded file), or the
  HLS media playlist of one flavor.
* ``/p/{pid}/sp/{pid}00/raw/entry_id/{id}/version/{v}``: the entry's original file.

Errors are Kaltura's external errors (``KExternalErrors::dieError``, reference §4.5): HTTP 404
(the thumbnail and playManifest actions set it before anything can fail), an empty body, the
headers ``X-Kaltura: error-<n>`` / ``X-Kaltura-App: exiting on error <n> - <text>``, and a
private 60-second cache lifetime.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from werkzeug.utils import send_file
from werkzeug.wrappers import Request, Response

from . import entitlement, images, processing
from . import ks as kslib
from . import media_store as ms
from .context import SandboxConfig
from .errors import ApiError
from .store import Store

HLS_SEGMENT_SECONDS = 10

# Kaltura's external error codes (KExternalErrors) used here.
ERR_ENTRY_NOT_FOUND = 1
ERR_FILE_NOT_FOUND = 5
ERR_FLAVOR_NOT_FOUND = 6
ERR_INVALID_KS = 7
ERR_ENTRY_DELETED_MODERATED = 9
ERR_INVALID_ENTRY_TYPE = 12
ERR_DELIVERY_METHOD_NOT_ALLOWED = 18
ERR_MISSING_PARAMETER = 20
ERR_BAD_QUERY = 25
ERR_KS_EXPIRED = 31
ERROR_TEXTS = {
    ERR_ENTRY_NOT_FOUND: "requested entry not found",
    ERR_FILE_NOT_FOUND: "required file was not found",
    ERR_FLAVOR_NOT_FOUND: "requested flavor was not found",
    ERR_INVALID_KS: "ks is not valid",
    ERR_ENTRY_DELETED_MODERATED: "requested entry is deleted or rejected",
    ERR_INVALID_ENTRY_TYPE: "requested entry type is invalid for the requested format",
    ERR_DELIVERY_METHOD_NOT_ALLOWED: "Delivery method not allowed",
    ERR_MISSING_PARAMETER: "Request parameter [%s] is missing",
    ERR_BAD_QUERY: "wrong query attributes",
    ERR_KS_EXPIRED: "The given KS has expired",
}

MIME_TYPES = {
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
    "m4a": "audio/mp4",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "aac": "audio/aac",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
}


class DeliveryError(Exception):
    """A Kaltura external error (``KExternalErrors::dieError``)."""

    def __init__(self, code: int, detail: str = "") -> None:
        text = ERROR_TEXTS.get(code, "error")
        self.code = code
        if "%s" in text:
            self.description = text % detail
        else:
            # dieError($code, $message) appends the message: "wrong query attributes, <message>".
            self.description = f"{text}, {detail}" if detail else text
        super().__init__(self.description)

    def response(self) -> Response:
        """HTTP 404, empty body, the ``X-Kaltura`` error headers (reference §4.5)."""
        response = Response(b"", status=404, mimetype="text/plain")
        response.headers["X-Kaltura"] = f"error-{self.code}"
        response.headers["X-Kaltura-App"] = f"exiting on error {self.code} - {self.description}"
        # infraRequestUtils::sendCachingHeaders(CACHE_EXPIRY = 60, private) for GET errors.
        response.headers["Cache-Control"] = "private, max-age=60, max-stale=0"
        return response


# -- URL shapes (used by the API objects too) ------------------------------------------------------


def partner_prefix(base_url: str, partner_id: int) -> str:
    """``{base}/p/{pid}/sp/{pid}00``."""
    return f"{base_url}/p/{partner_id}/sp/{partner_id}00"


def thumbnail_url(base_url: str, partner_id: int, entry_id: str, version: int) -> str:
    """The entry's ``thumbnailUrl``; append ``/width/W/height/H`` for a size."""
    return f"{partner_prefix(base_url, partner_id)}/thumbnail/entry_id/{entry_id}/version/{version}"


def protocol_of(base_url: str) -> str:
    """``http`` or ``https``, from the base URL's scheme."""
    return "https" if base_url.startswith("https:") else "http"


def download_url(base_url: str, entry) -> str:
    """``downloadUrl``: playManifest download of the source for video/audio, raw for others."""
    prefix = partner_prefix(base_url, entry["partner_id"])
    if entry["media_type"] in (ms.MEDIA_VIDEO, ms.MEDIA_AUDIO):
        return (
            f"{prefix}/playManifest/entryId/{entry['id']}/format/download/protocol/"
            f"{protocol_of(base_url)}/flavorParamIds/0"
        )
    return f"{prefix}/raw/entry_id/{entry['id']}/version/{entry['version']}"


#: ``entry::DEFAULT_IMAGE_WIDTH``/``DEFAULT_IMAGE_HEIGHT``: the size an image's ``dataUrl`` asks for.
DEFAULT_IMAGE_SIZE = (640, 480)


def data_url(base_url: str, entry) -> str:
    """``dataUrl``: progressive playManifest for video/audio; for images a type-1 thumbnail with
    Kaltura's default size parameters (reference §4.2; ``entry::getDataUrl``: def_height 480,
    def_width 640, ``DEFAULT_IMAGE_HEIGHT``/``WIDTH`` in ``alpha/lib/model/entry.php``)."""
    prefix = partner_prefix(base_url, entry["partner_id"])
    if entry["media_type"] == ms.MEDIA_IMAGE:
        width, height = DEFAULT_IMAGE_SIZE
        return (
            f"{prefix}/thumbnail/entry_id/{entry['id']}/def_height/{height}/"
            f"def_width/{width}/version/{entry['version']}/type/1"
        )
    return f"{prefix}/playManifest/entryId/{entry['id']}/format/url/protocol/{protocol_of(base_url)}"


def serve_flavor_url(base_url: str, entry, flavor_id: str, ext: str = "mp4") -> str:
    """Where one flavor's bytes are served."""
    return (
        f"{partner_prefix(base_url, entry['partner_id'])}/serveFlavor/entryId/{entry['id']}/"
        f"v/{entry['version']}/flavorId/{flavor_id}/name/a.{ext}"
    )


# -- request parsing -----------------------------------------------------------------------------


def parse_path(path: str) -> tuple[int | None, str, dict[str, str], str]:
    """``/p/{pid}[/sp/{sp}]/{action}/k/v/.../a.ext`` -> (pid, action, params, trailing name)."""
    parts = [p for p in path.split("/") if p]
    partner_id = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    rest = parts[2:]
    if len(rest) >= 2 and rest[0] == "sp":
        rest = rest[2:]
    action = rest[0] if rest else ""
    pairs = rest[1:]
    trailing = pairs[-1] if len(pairs) % 2 else ""
    params = {pairs[i]: pairs[i + 1] for i in range(0, len(pairs) - 1, 2)}
    return partner_id, action, params, trailing


def handle(request: Request, store: Store, config: SandboxConfig) -> Response:
    """Serve one ``/p/...`` request (see the module docstring)."""
    partner_id, action, params, trailing = parse_path(request.path)
    for name, value in request.args.items():
        params.setdefault(name, value)
    try:
        if partner_id is None or store.partner(partner_id) is None:
            raise DeliveryError(ERR_ENTRY_NOT_FOUND)
        processing.settle(store, config.clock())
        handler = HANDLERS.get(action)
        if handler is None:
            raise DeliveryError(ERR_DELIVERY_METHOD_NOT_ALLOWED)
        context = _Context(request, store, config, partner_id, params, trailing)
        return handler(context)
    except DeliveryError as error:
        return error.response()


class _Context:
    """One delivery request: where, for whom, with which parameters."""

    def __init__(self, request, store, config, partner_id, params, trailing) -> None:
        self.request = request
        self.store = store
        self.config = config
        self.partner_id = partner_id
        self.params = params
        self.trailing = trailing
        self.base_url = request.host_url.rstrip("/")

    def param(self, *names: str) -> str | None:
        """The first of these parameters that was given."""
        for name in names:
            if self.params.get(name) not in (None, ""):
                return self.params[name]
        return None

    def int_param(self, *names: str, default: int = -1) -> int:
        value = self.param(*names)
        try:
            return int(float(value.rstrip("!"))) if value is not None else default
        except ValueError:
            return default

    def entry(self, id_names: tuple[str, ...] = ("entry_id", "entryId"), *, include_deleted: bool = False):
        """The requested entry (not deleted, unless asked), or ``requested entry not found``."""
        entry_id = self.param(*id_names)
        if not entry_id:
            raise DeliveryError(ERR_MISSING_PARAMETER, id_names[0])
        entry = ms.get_entry(self.store, self.partner_id, entry_id, include_deleted=include_deleted)
        if entry is None:
            raise DeliveryError(ERR_ENTRY_NOT_FOUND)
        return entry

    def scope(self) -> entitlement.Scope:
        """The entitlement scope of the request's KS (path, query or ``X-Kaltura-Ks``)."""
        ks = self.param("ks") or self.request.headers.get("X-Kaltura-Ks", "")
        partner = self.store.partner(self.partner_id)
        session = None
        if ks:
            try:
                session = kslib.validate(ks, self.store, self.config.clock())
            except ApiError as error:
                expired = error.arguments.get("KSID") == "EXPIRED"
                raise DeliveryError(ERR_KS_EXPIRED if expired else ERR_INVALID_KS) from error
            if session.partner_id != self.partner_id:
                raise DeliveryError(ERR_INVALID_KS)
        return entitlement.scope_for(session, bool(partner and partner.entitlement_enabled))

    def require_entitled(self, entry) -> None:
        """Entries the KS may not see are reported as not found (reference §4.6)."""
        scope = self.scope()
        visible = entitlement.entry_visible(
            scope,
            entry_id=entry["id"],
            owner=entry["user_id"],
            entitled_users=ms.entitled_users(entry),
            categories=ms.entry_category_facts(self.store, entry["seq"]),
        )
        if not visible:
            raise DeliveryError(ERR_ENTRY_NOT_FOUND)

    def file_path(self, relative: str | None) -> Path | None:
        """An existing stored file under ``files_dir``."""
        if not relative:
            return None
        path = Path(self.config.files_dir) / relative
        return path if path.is_file() else None


# -- thumbnails ------------------------------------------------------------------------------------

#: Kaltura's thumbnail size without width/height (``thumbnailAction`` L101-121).
DEFAULT_THUMB_SIZE = (120, 90)
#: ``getDimensions`` clamps width and height to [-1, 10000].
MAX_THUMB_SIDE = 10000
#: The stand-in source size of entries without dimensions (audio): a 16:9 frame.
FALLBACK_SOURCE = (640, 360)
#: ImageMagick's JPEG quality when none is asked for.
DEFAULT_QUALITY = 92
THUMB_CACHE_AGE = 3600  # thumbnailAction: $cacheAge = 3600 for an ordinary thumbnail
RESIZE, RESIZE_WITH_PADDING, CROP, CROP_FROM_TOP, RESIZE_WITH_FORCE = 1, 2, 3, 4, 5
_BGCOLOR = re.compile(r"^[0-9a-fA-F]{1,6}$")


@dataclass(frozen=True)
class ThumbRequest:
    """The validated thumbnail parameters (``thumbnailAction::execute``, reference §4.5).

    ``width``/``height`` 0 means "derive from the other side" (both 0: the source size);
    ``type`` 1-5; ``quality`` 1-100 for JPEG; ``bgcolor`` the padding colour of type 2;
    ``vid_sec`` the second of a video to show (-1: the default frame); ``fmt`` ``jpg`` or ``png``.
    """

    width: int
    height: int
    type: int
    quality: int
    bgcolor: tuple[int, int, int]
    vid_sec: float
    fmt: str


def _php_int(value: str | None, default: int, low: int, high: int | None = None) -> int:
    """``getIntRequestParameter``: PHP ``intval`` of the value, clamped to [low, high]."""
    number = default if value in (None, "") else _leading_number(value)
    number = max(low, int(number))
    return number if high is None else min(high, number)


def _leading_number(value: str) -> float:
    """PHP's ``intval``/``floatval`` of a string: its leading number, else 0."""
    match = re.match(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)", value)
    return float(match.group(0)) if match else 0.0


def thumbnail_request(ctx: _Context) -> ThumbRequest:
    """Parse and validate the thumbnail parameters; bad ones are external error 25 (BAD_QUERY)."""
    raw_width, raw_height = ctx.param("width", "w") or "", ctx.param("height", "h") or ""
    kind = _php_int(ctx.param("type"), RESIZE, 1, 5)
    # "A thumbnail request containing '!' is type 5" (thumbnailAction L55-59).
    if "!" in raw_width[1:] or "!" in raw_height[1:]:
        kind = RESIZE_WITH_FORCE
    width = _php_int(raw_width.replace("!", ""), -1, -1, MAX_THUMB_SIDE)
    height = _php_int(raw_height.replace("!", ""), -1, -1, MAX_THUMB_SIDE)
    def_width = _php_int(ctx.param("def_width"), -1, -1, MAX_THUMB_SIDE)
    def_height = _php_int(ctx.param("def_height"), -1, -1, MAX_THUMB_SIDE)
    if width == -1 and height == -1:
        width = def_width if def_width != -1 else DEFAULT_THUMB_SIZE[0]
        height = def_height if def_height != -1 else DEFAULT_THUMB_SIZE[1]
    width, height = max(0, width), max(0, height)
    quality = _php_int(ctx.param("quality"), 0, 0, 100) or DEFAULT_QUALITY
    bgcolor = ctx.param("bgcolor") or "ffffff"
    if not _BGCOLOR.match(bgcolor):
        raise DeliveryError(ERR_BAD_QUERY, "bgcolor must be six hexadecimal characters")
    # The colour is the hexadecimal number, zero-padded: "f00" is 0x000f00 (sprintf('%06x')).
    colour = int(bgcolor, 16)
    # getFloatRequestParameter("vid_sec", -1, -1): anything below -1 counts as -1 (no capture).
    vid_sec = max(-1.0, _leading_number(ctx.param("vid_sec") or "-1"))
    fmt = "png" if (ctx.param("format") or "").lower() == "png" else "jpg"
    return ThumbRequest(width, height, kind, quality, (colour >> 16, (colour >> 8) & 255, colour & 255), vid_sec, fmt)


@dataclass(frozen=True)
class Placement:
    """Where the (scaled) source picture lands in the output: output size and picture rectangle."""

    width: int
    height: int
    x: float
    y: float
    picture_width: float
    picture_height: float


def thumbnail_placement(req: ThumbRequest, source_width: int, source_height: int) -> Placement:
    """The output size and the picture's place in it, per thumbnail type (reference §4.5,
    ``KImageMagickCropper::getCommand``).

    1 resizes keeping the aspect ratio inside the box and never scales up; 2 fits the picture
    inside the box and pads the rest with ``bgcolor``; 3 crops to the box keeping the centre; 4
    crops keeping the upper part; 5 stretches to the box. With one side only, the other follows
    the aspect ratio (a square for 3 and 4); with neither, the picture keeps its size.
    """
    sw, sh = source_width, source_height
    w, h = req.width, req.height
    if not w and not h:
        return Placement(sw, sh, 0, 0, sw, sh)
    if req.type in (CROP, CROP_FROM_TOP):
        w, h = w or h, h or w
        scale = max(w / sw, h / sh)
        rw, rh = sw * scale, sh * scale
        y = 0.0 if req.type == CROP_FROM_TOP else (h - rh) / 2
        return Placement(w, h, (w - rw) / 2, y, rw, rh)
    if req.type == RESIZE_WITH_FORCE and w and h:
        return Placement(w, h, 0, 0, w, h)
    if req.type == RESIZE_WITH_PADDING and w and h:
        if w * sh < h * sw:
            inner_w, inner_h = w, math.ceil(sh * w / sw)
            border = math.ceil((h - inner_h) / 2)
            inner_h -= 1 if 2 * border + inner_h > h else 0
            return Placement(w, h, 0, border, inner_w, inner_h)
        inner_w, inner_h = math.ceil(sw * h / sh), h
        border = math.ceil((w - inner_w) / 2)
        inner_w -= 1 if 2 * border + inner_w > w else 0
        return Placement(w, h, border, 0, inner_w, inner_h)
    # RESIZE (and 2/5 with one side): inside the box, aspect kept, never larger than the source.
    scale = min(w / sw if w else math.inf, h / sh if h else math.inf, 1.0)
    # ImageMagick rounds geometry half up (1920x1080 into 200 wide is 200x113).
    out_w, out_h = max(1, math.floor(sw * scale + 0.5)), max(1, math.floor(sh * scale + 0.5))
    return Placement(out_w, out_h, 0, 0, out_w, out_h)


def source_size(entry) -> tuple[int, int]:
    """The size of the entry's picture (its frame or image), or the stand-in for audio."""
    width, height = entry["width"] or 0, entry["height"] or 0
    return (width, height) if width > 0 and height > 0 else FALLBACK_SOURCE


def _thumbnail(ctx: _Context) -> Response:
    """A JPEG (or ``format/png``) thumbnail of the requested size, type, quality and frame.

    No KS or entitlement is needed (``entryPeer::retrieveByPKNoFilter``); a deleted entry is
    error 9. The picture is the entry's colour with a media-type glyph; ``vid_sec`` of a video
    draws a progress bar at that point of its duration. Cached like Kaltura's: public for an
    hour, with an ETag and Last-Modified that conditional requests are answered from (304).
    """
    entry = ctx.entry(include_deleted=True)
    if entry["status"] == ms.ENTRY_DELETED:
        raise DeliveryError(ERR_ENTRY_DELETED_MODERATED)
    req = thumbnail_request(ctx)
    placement = thumbnail_placement(req, *source_size(entry))
    progress = None
    if req.vid_sec >= 0 and entry["media_type"] == ms.MEDIA_VIDEO:
        progress = min(1.0, req.vid_sec / max(1.0, (entry["ms_duration"] or 0) / 1000))
    picture = Picture(entry_colour(entry), entry["media_type"], *source_size(entry), progress)
    grid = images.block_grid(placement.width, placement.height, picture.sampler(placement, req.bgcolor))
    if req.fmt == "png":
        response = Response(images.encode_png(placement.width, placement.height, grid), mimetype="image/png")
    else:
        body = images.encode_jpeg(placement.width, placement.height, grid, req.quality)
        response = Response(body, mimetype="image/jpeg")
    response.cache_control.public = True
    response.cache_control.max_age = THUMB_CACHE_AGE
    response.set_etag(hashlib.sha1(f"{entry['id']}:{entry['thumb_version']}:{req}".encode()).hexdigest())
    response.last_modified = datetime.fromtimestamp(entry["updated_at"], tz=UTC)
    return response.make_conditional(ctx.request.environ)


class Picture:
    """The entry's synthetic picture: a diagonal gradient of its colour with soft stripes, a
    light glyph for the media type (play triangle, equaliser bars, sun over hills) and, for a
    captured video frame, a progress bar along the bottom."""

    def __init__(
        self,
        rgb: tuple[int, int, int],
        media_type: int | None,
        width: int,
        height: int,
        progress: float | None = None,
    ) -> None:
        hue, light, sat = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
        self.start = colorsys.hls_to_rgb(hue, min(0.80, light + 0.22), sat)
        self.end = colorsys.hls_to_rgb((hue + 0.08) % 1.0, max(0.16, light - 0.18), min(1.0, sat + 0.1))
        self.media_type = media_type
        self.width = width
        self.height = height
        self.progress = progress
        self.glyph = min(width, height) * 0.36
        self.stripe = max(4, (width + height) // 24)

    def colour(self, x: float, y: float) -> tuple[int, int, int]:
        """The colour at source pixel (x, y)."""
        if self.progress is not None and y >= self.height * 0.94:
            filled = x <= self.width * self.progress
            return (245, 245, 245) if filled else (40, 40, 40)
        t = (x + y) / max(1, self.width + self.height)
        lift = 0.05 if (int(x - y) // self.stripe) % 2 else 0.0
        shade = 1.0 - 0.32 * y / max(1, self.height)
        rgb = [
            max(0, min(255, int((self.start[c] * (1 - t) + self.end[c] * t + lift) * shade * 255))) for c in range(3)
        ]
        if self._in_glyph(x, y):
            rgb = [min(255, (v + 3 * 250) // 4) for v in rgb]
        return rgb[0], rgb[1], rgb[2]

    def _in_glyph(self, x: float, y: float) -> bool:
        size = self.glyph
        if size < 6:
            return False
        cx, cy = self.width / 2, self.height / 2
        return any(x0 <= x < x1 for x0, x1 in _glyph_runs(self.media_type, y - cy, size, cx))

    def sampler(self, placement: Placement, background: tuple[int, int, int]):
        """A function giving the colour at an output pixel of ``placement``."""
        px, py = placement.x, placement.y
        pw, ph = placement.picture_width, placement.picture_height

        def colour_at(x: float, y: float) -> tuple[int, int, int]:
            if not (px <= x < px + pw and py <= y < py + ph):
                return background
            return self.colour((x - px) / pw * self.width, (y - py) / ph * self.height)

        return colour_at


def entry_colour(entry) -> tuple[int, int, int]:
    """The entry's colour (``#rrggbb`` from the seed), else one derived from its id."""
    colour = entry["color"] or ""
    if len(colour) == 7 and colour.startswith("#"):
        try:
            return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
        except ValueError:
            pass
    digest = hashlib.sha1(entry["id"].encode()).digest()
    hue = digest[0] / 255
    r, g, b = colorsys.hls_to_rgb(hue, 0.45, 0.55)
    return int(r * 255), int(g * 255), int(b * 255)


def _glyph_runs(media_type: int | None, dy: float, size: float, cx: float) -> list[tuple]:
    """The horizontal runs of the glyph on the row at ``dy`` from the centre."""
    if media_type == ms.MEDIA_AUDIO:
        runs = []
        bar = size / 5
        for i, scale in enumerate((0.45, 0.8, 1.0, 0.65, 0.35)):
            if abs(dy) <= size * 0.8 * scale:
                left = cx - size * 0.9 + i * bar * 1.8
                runs.append((left, left + bar))
        return runs
    if media_type == ms.MEDIA_IMAGE:
        runs = []
        sun_y, sun_r = -size * 0.35, size * 0.22
        if abs(dy - sun_y) <= sun_r:
            half = math.sqrt(sun_r**2 - (dy - sun_y) ** 2)
            runs.append((cx + size * 0.35 - half, cx + size * 0.35 + half))
        top, bottom = -size * 0.2, size * 0.6
        if top <= dy <= bottom:
            half = size * 0.8 * (dy - top) / (bottom - top)
            runs.append((cx - size * 0.25 - half, cx - size * 0.25 + half))
        return runs
    # Video (and unknown): a play triangle pointing right.
    if abs(dy) > size * 0.75:
        return []
    length = size * 1.3 * (1 - abs(dy) / (size * 0.75))
    left = cx - size * 0.5
    return [(left, left + length)]


# -- playManifest ----------------------------------------------------------------------------------


def _play_manifest(ctx: _Context) -> Response:
    entry = ctx.entry(("entryId", "entry_id"))
    ctx.require_entitled(entry)
    if entry["media_type"] not in (ms.MEDIA_VIDEO, ms.MEDIA_AUDIO):
        raise DeliveryError(ERR_INVALID_ENTRY_TYPE)
    fmt = (ctx.param("format") or "url").lower()
    if fmt == "download":
        return _download(ctx, entry)
    flavors = _playable_flavors(ctx, entry)
    if fmt == "mpegdash":
        return _manifest_response(dash_manifest(ctx.base_url, entry, flavors), "application/dash+xml")
    if fmt in ("applehttp", "hls"):
        return _manifest_response(hls_master(ctx.base_url, entry, flavors, _ks_suffix(ctx)), "application/x-mpegURL")
    if fmt == "url":
        best = flavors[-1]
        response = Response("", status=302)
        response.headers["Location"] = serve_flavor_url(ctx.base_url, entry, best["id"], best["file_ext"] or "mp4")
        return response
    raise DeliveryError(ERR_DELIVERY_METHOD_NOT_ALLOWED)


def _ks_suffix(ctx: _Context) -> str:
    ks = ctx.param("ks")
    return f"/ks/{quote(ks, safe='')}" if ks else ""


def _requested_ids(ctx: _Context, *names: str) -> set[str]:
    value = ctx.param(*names)
    return set(ms.split_list(value)) if value else set()


def _playable_flavors(ctx: _Context, entry) -> list:
    """READY web flavors (or the requested ones), lowest bitrate first."""
    if entry["status"] != ms.ENTRY_READY:
        raise DeliveryError(ERR_FLAVOR_NOT_FOUND)
    processing.materialize(ctx.store, ctx.partner_id, [entry["id"]])
    flavors = [f for f in ms.entry_flavors(ctx.store, entry["id"]) if f["status"] == ms.FLAVOR_READY]
    by_asset = _requested_ids(ctx, "flavorIds", "flavorId")
    by_params = _requested_ids(ctx, "flavorParamIds", "flavorParamId")
    if by_asset or by_params:
        flavors = [f for f in flavors if f["id"] in by_asset or str(f["flavor_params_id"]) in by_params]
    else:
        flavors = [f for f in flavors if f["is_web"]] or flavors
    if not flavors:
        raise DeliveryError(ERR_FLAVOR_NOT_FOUND)
    return sorted(flavors, key=lambda f: (f["bitrate"], f["height"]))


def _manifest_response(text: str, mimetype: str) -> Response:
    response = Response(text, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _iso_duration(entry) -> str:
    seconds = (entry["ms_duration"] or 0) / 1000
    return f"PT{seconds:.3f}S"


def dash_manifest(base_url: str, entry, flavors) -> str:
    """A static MPEG-DASH MPD with one representation per flavor."""
    is_audio = entry["media_type"] == ms.MEDIA_AUDIO
    content, mime = ("audio", "audio/mp4") if is_audio else ("video", "video/mp4")
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" '
        'profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" type="static" '
        f'mediaPresentationDuration="{_iso_duration(entry)}" minBufferTime="PT2S">',
        '  <Period id="0" start="PT0S">',
        f'    <AdaptationSet id="0" contentType="{content}" mimeType="{mime}" '
        'segmentAlignment="true" startWithSAP="1">',
    ]
    for flavor in flavors:
        size = "" if is_audio else f' width="{flavor["width"]}" height="{flavor["height"]}"'
        codecs = (
            "mp4a.40.2" if is_audio else ("hvc1.1.6.L150.90" if flavor["video_codec_id"] == "h265" else "avc1.64001f")
        )
        url = serve_flavor_url(base_url, entry, flavor["id"], flavor["file_ext"] or "mp4")
        lines += [
            f"      <Representation id={quoteattr(flavor['id'])} "
            f'bandwidth="{max(1, flavor["bitrate"]) * 1000}" codecs="{codecs}"{size}>',
            f"        <BaseURL>{escape(url)}</BaseURL>",
            "      </Representation>",
        ]
    lines += ["    </AdaptationSet>", "  </Period>", "</MPD>", ""]
    return "\n".join(lines)


def hls_master(base_url: str, entry, flavors, ks_suffix: str = "") -> str:
    """An HLS master playlist with one variant per flavor."""
    is_audio = entry["media_type"] == ms.MEDIA_AUDIO
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for flavor in flavors:
        attributes = [f"BANDWIDTH={max(1, flavor['bitrate']) * 1000}"]
        if is_audio:
            attributes.append('CODECS="mp4a.40.2"')
        else:
            attributes.append(f"RESOLUTION={flavor['width']}x{flavor['height']}")
            attributes.append('CODECS="avc1.64001f,mp4a.40.2"')
        url = serve_flavor_url(base_url, entry, flavor["id"], flavor["file_ext"] or "mp4")
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), f"{url}{ks_suffix}/index.m3u8"]
    return "\n".join(lines) + "\n"


def hls_media_playlist(entry, flavor_url: str) -> str:
    """The media playlist of one flavor: fixed-length segments covering the duration."""
    total = max(1.0, (entry["ms_duration"] or 0) / 1000)
    count = math.ceil(total / HLS_SEGMENT_SECONDS)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{HLS_SEGMENT_SECONDS}",
        "#EXT-X-MEDIA-SEQUENCE:1",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    for index in range(count):
        length = min(HLS_SEGMENT_SECONDS, total - index * HLS_SEGMENT_SECONDS)
        lines += [f"#EXTINF:{length:.3f},", f"{flavor_url}/seg-{index + 1}-v1-a1.ts"]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


# -- files -----------------------------------------------------------------------------------------


def _download(ctx: _Context, entry) -> Response:
    """``format/download``: the source file (flavorParamIds/0) or a flavor, as an attachment."""
    path = ctx.file_path(entry["source_file"])
    if path is None:
        raise DeliveryError(ERR_FILE_NOT_FOUND)
    name = f"{entry['id']}.{entry['source_ext'] or 'bin'}"
    return _send(ctx, path, entry["source_ext"], download_name=name, attachment=True)


def _serve_flavor(ctx: _Context) -> Response:
    entry = ctx.entry(("entryId", "entry_id"))
    ctx.require_entitled(entry)
    flavor_id = ctx.param("flavorId")
    processing.materialize(ctx.store, ctx.partner_id, [entry["id"]])
    flavor = next((f for f in ms.entry_flavors(ctx.store, entry["id"]) if f["id"] == flavor_id), None)
    if flavor is None or flavor["status"] != ms.FLAVOR_READY:
        raise DeliveryError(ERR_FLAVOR_NOT_FOUND)
    if ctx.trailing == "index.m3u8":
        url = serve_flavor_url(ctx.base_url, entry, flavor["id"], flavor["file_ext"] or "mp4")
        return _manifest_response(hls_media_playlist(entry, url), "application/x-mpegURL")
    path = ctx.file_path(entry["source_file"])
    if path is None or ctx.trailing.startswith("seg-"):
        raise DeliveryError(ERR_FILE_NOT_FOUND)
    return _send(ctx, path, entry["source_ext"])


#: The largest side of a generated "original" of a seeded image (it has no uploaded file).
RAW_IMAGE_SIDE = 1920


def _raw(ctx: _Context) -> Response:
    """The original file; seeded images without one get a generated PNG of their size."""
    entry = ctx.entry()
    ctx.require_entitled(entry)
    path = ctx.file_path(entry["source_file"])
    if path is not None:
        return _send(ctx, path, entry["source_ext"], download_name=f"{entry['id']}.{entry['source_ext'] or 'bin'}")
    if entry["media_type"] == ms.MEDIA_IMAGE and entry["status"] == ms.ENTRY_READY:
        width, height = source_size(entry)
        scale = min(1.0, RAW_IMAGE_SIDE / max(width, height))
        out_width, out_height = max(1, round(width * scale)), max(1, round(height * scale))
        placement = Placement(out_width, out_height, 0, 0, out_width, out_height)
        picture = Picture(entry_colour(entry), entry["media_type"], width, height)
        grid = images.block_grid(placement.width, placement.height, picture.sampler(placement, (255, 255, 255)))
        return Response(images.encode_png(placement.width, placement.height, grid), mimetype="image/png")
    raise DeliveryError(ERR_FILE_NOT_FOUND)


def _send(
    ctx: _Context, path: Path, ext: str | None, *, download_name: str | None = None, attachment: bool = False
) -> Response:
    """Stream a stored file with range support."""
    mimetype = MIME_TYPES.get((ext or "").lower(), "application/octet-stream")
    return send_file(
        path,
        ctx.request.environ,
        mimetype=mimetype,
        as_attachment=attachment,
        download_name=download_name,
        conditional=True,
        max_age=0,
    )


HANDLERS = {
    "thumbnail": _thumbnail,
    "playManifest": _play_manifest,
    "playmanifest": _play_manifest,
    "serveFlavor": _serve_flavor,
    "raw": _raw,
}

"""Media delivery under ``/p/``: thumbnails, playManifest (DASH, HLS, progressive), raw files.

URL shapes follow Kaltura's (reference §4.5, §4.6); parameters are ``/key/value`` path pairs,
in any order, and the query string works too:

* ``/p/{pid}/sp/{pid}00/thumbnail/entry_id/{id}/version/{v}/width/{w}/height/{h}``: a generated
  PNG of exactly the requested size (a gradient in the entry's colour with a media-type glyph).
  Only one of width/height keeps the entry's aspect ratio; neither gives Kaltura's 120x90.
* ``/p/{pid}/sp/{pid}00/playManifest/entryId/{id}/format/{mpegdash|applehttp|url|download}/
  protocol/{http|https}[/flavorParamIds/..][/ks/{KS}]/a.{mpd|m3u8|mp4}``: a DASH MPD or an HLS
  master playlist listing the READY web flavors; ``url`` redirects to a flavor file and
  ``download`` serves it as an attachment. The KS may also come as ``?ks=`` or ``X-Kaltura-Ks``,
  and entitlement applies (an entry the KS may not see is "not found").
* ``/p/{pid}/sp/{pid}00/serveFlavor/entryId/{id}/flavorId/{fid}/name/a.mp4[/index.m3u8]``: a
  flavor's bytes (the sandbox does not transcode: every rendition is the uploaded file), or the
  HLS media playlist of one flavor.
* ``/p/{pid}/sp/{pid}00/raw/entry_id/{id}/version/{v}``: the entry's original file.

Errors are Kaltura's external errors: HTTP 200, an empty body and the headers
``X-Kaltura: error-<n>`` / ``X-Kaltura-App: exiting on error <n> - <text>``.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import struct
import zlib
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from werkzeug.utils import send_file
from werkzeug.wrappers import Request, Response

from . import entitlement, processing
from . import ks as kslib
from . import media_store as ms
from .context import SandboxConfig
from .errors import ApiError
from .store import Store

DEFAULT_THUMB_SIZE = (120, 90)
MAX_THUMB_SIDE = 4096
HLS_SEGMENT_SECONDS = 10

# Kaltura's external error codes (KExternalErrors) used here.
ERR_ENTRY_NOT_FOUND = 1
ERR_FILE_NOT_FOUND = 5
ERR_FLAVOR_NOT_FOUND = 6
ERR_INVALID_KS = 7
ERR_INVALID_ENTRY_TYPE = 12
ERR_DELIVERY_METHOD_NOT_ALLOWED = 18
ERR_MISSING_PARAMETER = 20
ERR_KS_EXPIRED = 31
ERROR_TEXTS = {
    ERR_ENTRY_NOT_FOUND: "requested entry not found",
    ERR_FILE_NOT_FOUND: "required file was not found",
    ERR_FLAVOR_NOT_FOUND: "requested flavor was not found",
    ERR_INVALID_KS: "ks is not valid",
    ERR_INVALID_ENTRY_TYPE: "requested entry type is invalid for the requested format",
    ERR_DELIVERY_METHOD_NOT_ALLOWED: "Delivery method not allowed",
    ERR_MISSING_PARAMETER: "Request parameter [%s] is missing",
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
        self.description = text % detail if "%s" in text else text
        super().__init__(self.description)

    def response(self) -> Response:
        """HTTP 200, empty body, the ``X-Kaltura`` error headers."""
        response = Response(b"", status=200, mimetype="text/plain")
        response.headers["X-Kaltura"] = f"error-{self.code}"
        response.headers["X-Kaltura-App"] = f"exiting on error {self.code} - {self.description}"
        response.headers["Cache-Control"] = "no-store"
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


def data_url(base_url: str, entry) -> str:
    """``dataUrl``: progressive playManifest for video/audio, a sized thumbnail for images."""
    prefix = partner_prefix(base_url, entry["partner_id"])
    if entry["media_type"] == ms.MEDIA_IMAGE:
        return (
            f"{prefix}/thumbnail/entry_id/{entry['id']}/def_height/{entry['height'] or 0}/"
            f"def_width/{entry['width'] or 0}/version/{entry['thumb_version']}/type/1"
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

    def entry(self, id_names: tuple[str, ...] = ("entry_id", "entryId")):
        """The requested entry (not deleted), or ``requested entry not found``."""
        entry_id = self.param(*id_names)
        if not entry_id:
            raise DeliveryError(ERR_MISSING_PARAMETER, id_names[0])
        entry = ms.get_entry(self.store, self.partner_id, entry_id)
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


def _thumbnail(ctx: _Context) -> Response:
    entry = ctx.entry()
    width, height = thumbnail_size(
        ctx.int_param("width", "w"),
        ctx.int_param("height", "h"),
        ctx.int_param("def_width"),
        ctx.int_param("def_height"),
        entry["width"] or 0,
        entry["height"] or 0,
    )
    body = render_png(width, height, entry_colour(entry), entry["media_type"])
    response = Response(body, mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def thumbnail_size(
    width: int, height: int, def_width: int, def_height: int, src_width: int, src_height: int
) -> tuple[int, int]:
    """The output size: as requested; one side alone keeps the source aspect (16:9 if unknown);
    neither falls back to ``def_width``/``def_height`` and then Kaltura's default 120x90.
    Sides are capped at ``MAX_THUMB_SIDE`` pixels."""
    if width <= 0 and height <= 0:
        width, height = def_width, def_height
    if width <= 0 and height <= 0:
        width, height = DEFAULT_THUMB_SIZE
    aspect = src_width / src_height if src_width > 0 and src_height > 0 else 16 / 9
    if width <= 0:
        width = round(height * aspect)
    if height <= 0:
        height = round(width / aspect)
    # Oversized requests shrink proportionally so the picture keeps its shape.
    scale = min(1.0, MAX_THUMB_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def entry_colour(entry) -> tuple[int, int, int]:
    """The entry's colour (``#rrggbb`` from the seed), else one derived from its id."""
    colour = entry["color"] or ""
    if len(colour) == 7 and colour.startswith("#"):
        try:
            return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
        except ValueError:
            pass
    digest = hashlib.sha1(entry["id"].encode()).digest()
    hue = digest[0] / 255
    r, g, b = colorsys.hls_to_rgb(hue, 0.45, 0.55)
    return int(r * 255), int(g * 255), int(b * 255)


def render_png(width: int, height: int, rgb: tuple[int, int, int], media_type: int | None) -> bytes:
    """A ``width`` x ``height`` RGB PNG: a diagonal-striped gradient of ``rgb`` with a glyph
    for the media type (play triangle, equaliser bars, or a sun over hills)."""
    rows = _background_rows(width, height, rgb)
    _draw_glyph(rows, width, height, media_type)
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 6))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _background_rows(width: int, height: int, rgb: tuple[int, int, int]) -> list[bytearray]:
    """Rows of a gradient with soft diagonal stripes, built from a few precomputed bands.

    A band is one long row (width + height pixels); row y is a slice of it shifted by y, which
    draws the diagonal stripes, and the band index darkens the image towards the bottom.
    Slicing keeps a 4K image to a fraction of a second in pure Python.
    """
    hue, light, sat = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    start = colorsys.hls_to_rgb(hue, min(0.80, light + 0.22), sat)
    end = colorsys.hls_to_rgb((hue + 0.08) % 1.0, max(0.16, light - 0.18), min(1.0, sat + 0.1))
    span = width + height
    stripe = max(4, span // 24)
    levels = max(1, min(24, height))
    bands = []
    for level in range(levels):
        shade = 1.0 - 0.32 * level / max(1, levels - 1)
        band = bytearray(span * 3)
        for x in range(span):
            t = x / max(1, span - 1)
            lift = 0.05 if (x // stripe) % 2 else 0.0
            for c in range(3):
                value = (start[c] * (1 - t) + end[c] * t + lift) * shade
                band[x * 3 + c] = max(0, min(255, int(value * 255)))
        bands.append(band)
    rows = []
    for y in range(height):
        band = bands[y * levels // height]
        offset = (height - 1 - y) * 3
        rows.append(band[offset : offset + width * 3])
    return rows


def _draw_glyph(rows: list[bytearray], width: int, height: int, media_type: int | None) -> None:
    """Paint a light, centred glyph by filling horizontal pixel runs row by row."""
    size = min(width, height) * 0.36
    if size < 6:
        return
    cx, cy = width / 2, height / 2
    for y in range(max(0, int(cy - size)), min(height, int(cy + size) + 1)):
        for x0, x1 in _glyph_runs(media_type, y - cy, size, cx):
            _fill(rows[y], max(0, int(x0)), min(width, int(x1)))


def _glyph_runs(media_type: int | None, dy: float, size: float, cx: float) -> list[tuple]:
    """The horizontal pixel runs of the glyph on the row at ``dy`` from the centre."""
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


# Byte translation table blending a channel value 75% towards near-white (C speed per pixel).
_LIGHTEN = bytes(min(255, (v + 3 * 250) // 4) for v in range(256))


def _fill(row: bytearray, x0: int, x1: int) -> None:
    """Blend pixels [x0, x1) of a row towards white."""
    if x1 > x0:
        row[x0 * 3 : x1 * 3] = row[x0 * 3 : x1 * 3].translate(_LIGHTEN)


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


def _raw(ctx: _Context) -> Response:
    """The original file; seeded images without one get a generated PNG of their size."""
    entry = ctx.entry()
    ctx.require_entitled(entry)
    path = ctx.file_path(entry["source_file"])
    if path is not None:
        return _send(ctx, path, entry["source_ext"], download_name=f"{entry['id']}.{entry['source_ext'] or 'bin'}")
    if entry["media_type"] == ms.MEDIA_IMAGE and entry["status"] == ms.ENTRY_READY:
        width, height = thumbnail_size(entry["width"] or 0, entry["height"] or 0, -1, -1, 0, 0)
        scale = min(1.0, 1920 / max(width, height))
        body = render_png(
            max(1, round(width * scale)), max(1, round(height * scale)), entry_colour(entry), entry["media_type"]
        )
        return Response(body, mimetype="image/png")
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

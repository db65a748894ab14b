"""Browsing Kaltura media for the picker: search syntax, list filters, thumbnails and playback URLs.

Everything here is Kaltura knowledge the rest of the portal must not repeat:

* :func:`free_text_for` turns what a person typed into Kaltura's ``freeText`` syntax (reference
  §4.1): a bare word matches whole words only, and a prefix matches only as ``word*`` with at
  least three characters. So the word still being typed becomes ``word*`` once it has three
  characters, and every character Kaltura's search engine would read as an operator (``"``,
  ``*``, ``,``, ``|``, ``@``, parentheses, ``-``, ...) is dropped rather than passed through.
* :class:`MediaQuery` is one picker page: filters, sort and pager, sent as one ``media.list``
  that asks only for the fields a card needs (``responseProfile``).
* :func:`thumbnail_url` sizes an entry's ``thumbnailUrl`` (reference §4.5); :func:`playback_url`
  builds a progressive ``playManifest`` URL (§4.6).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from portal.kaltura.types import EntryStatus, MediaEntry, MediaType, as_int, as_str

#: Kaltura refuses list offsets of 10,000 or more (QUERY_EXCEEDED_MAX_MATCHES_ALLOWED, §4.1).
MAX_MATCHES = 10_000
#: Kaltura's prefix search needs at least this many characters before the ``*`` (§4.1).
MIN_PREFIX_LENGTH = 3
#: Words beyond this are dropped: a search box never needs more, and Kaltura ANDs them all.
MAX_SEARCH_WORDS = 12
#: Statuses the picker browses: ready media and media still being processed. Entries without
#: content (an upload never finished) and failed ones cannot be used, so they are not listed.
BROWSE_STATUSES: tuple[EntryStatus, ...] = (
    EntryStatus.IMPORT,
    EntryStatus.PRECONVERT,
    EntryStatus.READY,
    EntryStatus.PENDING,
)
PROCESSING_STATUSES = frozenset({EntryStatus.IMPORT, EntryStatus.PRECONVERT, EntryStatus.PENDING})
#: The media types a hub's library takes (live streams and the like are left out).
LIBRARY_MEDIA_TYPES: tuple[MediaType, ...] = (MediaType.VIDEO, MediaType.IMAGE, MediaType.AUDIO)
#: The tag Kaltura's player reads as "this is 360° media" (§6.4).
TAG_360 = "360"
#: What a picker card needs; a ``responseProfile`` keeps Kaltura from sending the other ~60 fields.
CARD_FIELDS = (
    "id,name,description,mediaType,status,tags,thumbnailUrl,duration,width,height,createdAt,updatedAt,userId,partnerId"
)
#: Seconds a playback session lives: long enough to watch a preview, short enough to be worthless later.
PLAYBACK_SESSION_SECONDS = 30 * 60

_SEARCH_WORD = re.compile(r"\w+", re.UNICODE)
_TYPING = re.compile(r"\w$", re.UNICODE)


def free_text_for(typed: str | None) -> str | None:
    """Kaltura ``freeText`` for what someone typed in a search box, or ``None`` for "no search".

    Words are ANDed. Each complete word is sent bare (Kaltura matches it as a whole word); the
    word still being typed (the text does not end with a space or punctuation) is sent as
    ``word*`` once it has :data:`MIN_PREFIX_LENGTH` characters, so ``dro`` finds "drone". Kaltura's
    operators never reach it: only runs of letters, digits and ``_`` are kept.
    """
    text = typed or ""
    words = _SEARCH_WORD.findall(text)[:MAX_SEARCH_WORDS]
    if not words:
        return None
    still_typing = bool(_TYPING.search(text)) and len(_SEARCH_WORD.findall(text)) <= MAX_SEARCH_WORDS
    if still_typing and len(words[-1]) >= MIN_PREFIX_LENGTH:
        words[-1] = f"{words[-1]}*"
    return " ".join(words)


@dataclass(frozen=True)
class MediaQuery:
    """One page of media to browse as a Kaltura user: the filter, sort and pager of ``media.list``."""

    free_text: str | None = None
    media_types: tuple[MediaType, ...] = LIBRARY_MEDIA_TYPES
    #: Only entries tagged with this word (``tagsLike``: a whole-word match on the tags).
    tag: str | None = None
    #: Only entries owned by this Kaltura user (``userIdEqual``).
    owner: str | None = None
    statuses: tuple[EntryStatus, ...] = BROWSE_STATUSES
    order_by: str = "-createdAt"
    page: int = 1
    page_size: int = 24

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def beyond_window(self) -> bool:
        """Whether Kaltura would refuse this page for being past its 10,000-result window."""
        return self.offset >= MAX_MATCHES

    def params(self) -> dict[str, Any]:
        """The ``media.list`` parameters: filter, pager and the response profile."""
        media_filter: dict[str, Any] = {
            "objectType": "KalturaMediaEntryFilter",
            "orderBy": self.order_by,
            "statusIn": ",".join(str(int(s)) for s in self.statuses),
            "mediaTypeIn": ",".join(str(int(m)) for m in self.media_types),
        }
        if self.free_text:
            media_filter["freeText"] = self.free_text
        if self.tag:
            media_filter["tagsLike"] = self.tag
        if self.owner:
            media_filter["userIdEqual"] = self.owner
        return {
            "filter": media_filter,
            "pager": {"objectType": "KalturaFilterPager", "pageSize": self.page_size, "pageIndex": self.page},
            "responseProfile": {"objectType": "KalturaDetachedResponseProfile", "type": 1, "fields": CARD_FIELDS},
        }


def is_processing(entry: MediaEntry) -> bool:
    """Still being uploaded or converted: it will become usable, but is not ready yet."""
    return entry.status in PROCESSING_STATUSES


def is_360(entry: MediaEntry) -> bool:
    """One of the entry's tags is exactly ``360`` (the convention Kaltura's player uses, §6.4)."""
    return TAG_360 in entry.tags


def thumbnail_url(base: str | None, width: int, height: int) -> str | None:
    """The entry's ``thumbnailUrl`` sized to ``width`` x ``height``, cropped to fill (type 3, §4.5)."""
    if not base:
        return None
    return f"{base.rstrip('/')}/width/{int(width)}/height/{int(height)}/type/3"


def thumbnail_srcset(base: str | None, widths: Iterable[int], aspect: float = 16 / 9) -> str | None:
    """A ``srcset`` of several sizes of one thumbnail (``URL 240w, URL 480w``), for dense screens."""
    if not base:
        return None
    return ", ".join(f"{thumbnail_url(base, w, round(w / aspect))} {w}w" for w in widths)


@dataclass(frozen=True)
class FlavorAsset:
    """A ``KalturaFlavorAsset``: one rendition of an entry (reference §6.3)."""

    id: str
    entry_id: str
    flavor_params_id: int | None
    status: int | None
    width: int | None = None
    height: int | None = None
    bitrate: int | None = None
    is_web: bool = False
    is_original: bool = False
    file_ext: str | None = None
    tags: tuple[str, ...] = ()

    READY = 2

    @property
    def is_ready(self) -> bool:
        return self.status == self.READY

    @classmethod
    def from_kaltura(cls, data: Mapping[str, Any]) -> FlavorAsset:
        tags = tuple(t.strip() for t in (as_str(data.get("tags")) or "").split(",") if t.strip())
        return cls(
            id=as_str(data.get("id")) or "",
            entry_id=as_str(data.get("entryId")) or "",
            flavor_params_id=as_int(data.get("flavorParamsId")),
            status=as_int(data.get("status")),
            width=as_int(data.get("width")),
            height=as_int(data.get("height")),
            bitrate=as_int(data.get("bitrate")),
            is_web=data.get("isWeb") in (True, 1, "1", "true"),
            is_original=data.get("isOriginal") in (True, 1, "1", "true"),
            file_ext=as_str(data.get("fileExt")),
            tags=tags,
        )


def preview_flavor(flavors: Iterable[FlavorAsset], max_height: int = 720) -> FlavorAsset | None:
    """The rendition a preview should play: a ready web flavor, the largest up to ``max_height``
    (a preview panel needs no 4K), else the smallest ready web flavor; ``None`` when none is ready."""
    ready = [f for f in flavors if f.is_ready and f.is_web]
    if not ready:
        return None
    fitting = [f for f in ready if (f.height or 0) <= max_height]
    if fitting:
        return max(fitting, key=lambda f: ((f.height or 0), (f.bitrate or 0)))
    return min(ready, key=lambda f: ((f.height or 0), (f.bitrate or 0)))


@dataclass(frozen=True)
class PlaybackSource:
    """Where a browser can play an entry: a progressive ``playManifest`` URL carrying a short-lived
    session of its own. ``repr`` hides the URL, which contains that session."""

    url: str = field(repr=False)
    mime_type: str
    expires_at: int | None
    width: int | None = None
    height: int | None = None


def playback_url(origin: str, partner_id: int, entry_id: str, flavor_id: str | None, ks: str, ext: str) -> str:
    """``{origin}/p/{pid}/sp/{pid}00/playManifest/entryId/{id}[/flavorIds/{f}]/format/url/protocol/{p}/ks/{KS}/a.{ext}``.

    The KS is URL-escaped: a v1 KS may contain ``/`` (reference §3.2).
    """
    protocol = "https" if origin.startswith("https:") else "http"
    flavor = f"/flavorIds/{quote(flavor_id, safe='')}" if flavor_id else ""
    return (
        f"{origin}/p/{int(partner_id)}/sp/{int(partner_id)}00/playManifest/entryId/{quote(entry_id, safe='')}"
        f"{flavor}/format/url/protocol/{protocol}/ks/{quote(ks, safe='')}/a.{ext}"
    )


def mime_type_for(entry: MediaEntry, ext: str | None) -> str:
    """The MIME type a ``<video>``/``<audio>`` element should be told for a progressive file."""
    ext = (ext or "").lower()
    if entry.media_type == MediaType.AUDIO:
        return {"mp3": "audio/mpeg", "m4a": "audio/mp4", "ogg": "audio/ogg", "wav": "audio/wav"}.get(ext, "audio/mp4")
    return {"webm": "video/webm", "mov": "video/quicktime"}.get(ext, "video/mp4")


def media_origins(service_url: str | None) -> list[str]:
    """Origins a page must allow (CSP ``img-src``/``media-src``) to show a hub's Kaltura thumbnails
    and play its media: the service URL's origin, and for Kaltura SaaS its CDN hosts
    (``cfvod``, ``cdnapisec``... under ``kaltura.com``, reference §4.5)."""
    if not service_url:
        return []
    parts = urlsplit(service_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return []
    origins = [f"{parts.scheme}://{parts.netloc}"]
    host = (parts.hostname or "").lower()
    if host == "kaltura.com" or host.endswith(".kaltura.com"):
        origins.append("https://*.kaltura.com")
    return origins

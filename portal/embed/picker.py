"""The picker's work: browse, preview and import Kaltura media as the member. No Flask here.

A browse is exactly one Kaltura call in steady state (one ``media.list`` with the session cache
warm, DESIGN §3.2): the filters, sort and pager go into that call and the response is trimmed to
the fields a card needs. Thumbnails come straight from Kaltura's thumbnail URL, so they cost the
portal nothing. Kaltura's failures become a :class:`Problem` that says what happened and what to
do, rendered in place of the results while the controls keep their state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from portal.embed.sessions import PickerContext
from portal.identity.links import IdentityError, ProvisioningFailed, ensure_link
from portal.kaltura import KalturaGateway, MediaEntry
from portal.kaltura.errors import KalturaApiError, KalturaError, KalturaUnavailable, OutboundBlocked
from portal.kaltura.media import (
    LIBRARY_MEDIA_TYPES,
    MAX_MATCHES,
    TAG_360,
    MediaQuery,
    PlaybackSource,
    free_text_for,
    is_360,
    is_processing,
    thumbnail_srcset,
    thumbnail_url,
)
from portal.kaltura.types import MediaType
from portal.kaltura.vault import SealedToken, TokenVault
from portal.library.services import add_entries
from portal.models import Hub, KalturaConnection, LibraryItem, User
from portal.secrets import SecretsError
from portal.validation import FieldError

PAGE_SIZE = 24
MAX_QUERY_LENGTH = 200
MAX_IMPORT = 50
LAST_PAGE = -(-MAX_MATCHES // PAGE_SIZE)  # the deepest page Kaltura will serve (417 with 24 a page)
ENTRY_ID = re.compile(r"^[0-9A-Za-z_]{1,40}$")
CARD_WIDTHS = (240, 360, 480, 720)
PREVIEW_WIDTHS = (480, 720, 960, 1440)
MESSAGE_TYPE = "kaltura-hub-portal:picked"

SORTS: dict[str, tuple[str, str]] = {
    "newest": ("-createdAt", "Newest first"),
    "oldest": ("+createdAt", "Oldest first"),
    "name": ("+name", "Name A–Z"),
    "name_desc": ("-name", "Name Z–A"),
    "updated": ("-updatedAt", "Recently updated"),
}
TYPES: dict[str, str] = {"all": "All media", "video": "Video", "image": "Images", "audio": "Audio", "360": "360°"}
OWNERS: dict[str, str] = {"all": "Everything I can use", "mine": "Only mine"}
_TYPE_FILTERS: dict[str, tuple[tuple[MediaType, ...], str | None]] = {
    "all": (LIBRARY_MEDIA_TYPES, None),
    "video": ((MediaType.VIDEO,), None),
    "image": ((MediaType.IMAGE,), None),
    "audio": ((MediaType.AUDIO,), None),
    "360": ((MediaType.VIDEO, MediaType.IMAGE), TAG_360),
}
TYPE_NAMES = {MediaType.VIDEO: "video", MediaType.IMAGE: "image", MediaType.AUDIO: "audio"}


def kaltura_user_for(
    db: Session,
    hub: Hub,
    user: User,
    connection: KalturaConnection | None = None,
    *,
    gateway: KalturaGateway | None = None,
) -> str:
    """The Kaltura user id the picker lists media as, for ``user`` in ``hub``.

    This is the one place the picker (and uploads) ask "who is this member in Kaltura": the member's
    identity link, made on first use (looked up or created in Kaltura, or pending until Kaltura
    creates it on the first upload; ``portal.identity.links``). Once linked it costs no Kaltura call.
    Raises :class:`~portal.identity.links.IdentityError` when the member cannot be linked; its
    message is for the member (:func:`identity_problem` turns it into the picker's Problem).
    """
    if gateway is None:
        # Callers without a gateway at hand get the app's one (they run inside a request or command).
        from portal import registry

        gateway = registry.kaltura()
    return ensure_link(db, gateway, hub, user, connection).kaltura_user_id


def identity_problem(error: IdentityError) -> Problem:
    """The picker's Problem for a member who cannot be linked to a Kaltura user."""
    return Problem(
        "identity",
        "Your Kaltura user could not be set up",
        error.message,
        error.status if error.status != 404 else 403,
        code=error.code,
        retry=isinstance(error, ProvisioningFailed),
    )


# -- what the browser asks for ------------------------------------------------------------------------


@dataclass(frozen=True)
class Browse:
    """The picker's controls: search text, type and ownership filters, sort, page."""

    q: str = ""
    type: str = "all"
    owner: str = "all"
    sort: str = "newest"
    page: int = 1

    @property
    def is_filtered(self) -> bool:
        return bool(self.q.strip()) or self.type != "all" or self.owner != "all"

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query arguments for a link to this browse with ``changes`` (defaults left out)."""
        values = replace(self, **changes)
        result: dict[str, Any] = {}
        for name, default in (("q", ""), ("type", "all"), ("owner", "all"), ("sort", "newest"), ("page", 1)):
            value = getattr(values, name)
            if value != default:
                result[name] = value
        return result


def parse_browse(args: Mapping[str, str]) -> Browse:
    """The controls from a request's query string; FieldError naming the control when a value is not allowed.

    A ``size`` is not a control (pages have 24 items): it is ignored.
    """
    q = args.get("q", "") or ""
    if len(q) > MAX_QUERY_LENGTH:
        raise FieldError("q", f"Search for at most {MAX_QUERY_LENGTH} characters; shorten the search.")
    values: dict[str, Mapping[str, object]] = {"type": TYPES, "owner": OWNERS, "sort": SORTS}
    chosen: dict[str, str] = {}
    for name, allowed in values.items():
        value = args.get(name) or next(iter(allowed))
        if value not in allowed:
            raise FieldError(name, f"Unknown {name} {value[:40]!r}: choose one of {', '.join(allowed)}.")
        chosen[name] = value
    raw_page = (args.get("page") or "1").strip()
    if not raw_page.isdigit() or len(raw_page) > 6 or int(raw_page) < 1:
        raise FieldError("page", "The page must be a whole number from 1.")
    return Browse(q=q, page=int(raw_page), **chosen)


# -- what the picker shows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why there are no results: what happened and what the person can do. ``status`` is the HTTP status."""

    kind: str
    title: str
    message: str
    status: int
    code: str | None = None
    retry: bool = True


@dataclass(frozen=True)
class Card:
    """One entry as a card of the grid."""

    id: str
    name: str
    media_type: str  # "video", "image", "audio" or "media"
    type_label: str
    duration: str | None
    is_360: bool
    processing: bool
    is_mine: bool
    owner: str | None
    thumb: str | None
    srcset: str | None
    created_at: datetime | None
    updated_at: datetime | None
    width: int | None
    height: int | None
    tags: tuple[str, ...] = ()
    description: str = ""

    @property
    def dimensions(self) -> str | None:
        return f"{self.width} × {self.height}" if self.width and self.height else None


@dataclass
class BrowseResult:
    browse: Browse
    cards: list[Card] = field(default_factory=list)
    total: int = 0
    problem: Problem | None = None
    #: The page asked for is past Kaltura's 10,000-result window.
    beyond_window: bool = False

    @property
    def last_page(self) -> int:
        return max(1, min(LAST_PAGE, -(-min(self.total, MAX_MATCHES) // PAGE_SIZE)))

    @property
    def window_limited(self) -> bool:
        """More matches than Kaltura lets anyone page through."""
        return self.total > MAX_MATCHES

    @property
    def first_index(self) -> int:
        return (self.browse.page - 1) * PAGE_SIZE + 1

    def page_links(self) -> list[int | None]:
        """Page numbers to show, ``None`` for a gap: 1 … 4 5 [6] 7 8 … 20."""
        last, current = self.last_page, self.browse.page
        wanted = {1, last, *range(current - 2, current + 3)}
        pages = sorted(p for p in wanted if 1 <= p <= last)
        links: list[int | None] = []
        for page in pages:
            if links and page - (links[-1] or 0) > 1:
                links.append(None)
            links.append(page)
        return links


@dataclass
class PreviewResult:
    card: Card | None = None
    large: str | None = None
    large_srcset: str | None = None
    playback: PlaybackSource | None = None
    playback_note: str | None = None
    problem: Problem | None = None


@dataclass
class ImportResult:
    items: list[LibraryItem] = field(default_factory=list)
    #: Entry ids that were asked for but that Kaltura no longer shows this member.
    missing: list[str] = field(default_factory=list)
    message: dict[str, Any] | None = None
    problem: Problem | None = None


# -- the work ----------------------------------------------------------------------------------------


def browse(db: Session, gateway: KalturaGateway, vault: TokenVault, ctx: PickerContext, wanted: Browse) -> BrowseResult:
    """One page of media the member may use, as cards; a Problem instead when it cannot be had."""
    result = BrowseResult(wanted)
    client, problem = _client(vault, ctx)
    if problem is not None or client is None:
        result.problem = problem
        return result
    service_url, token = client
    try:
        kaltura_user = kaltura_user_for(db, ctx.hub, ctx.user, ctx.connection, gateway=gateway)
    except IdentityError as error:
        result.problem = identity_problem(error)
        return result
    media_types, tag = _TYPE_FILTERS[wanted.type]
    query = MediaQuery(
        free_text=free_text_for(wanted.q),
        media_types=media_types,
        tag=tag,
        owner=kaltura_user if wanted.owner == "mine" else None,
        order_by=SORTS[wanted.sort][0],
        page=wanted.page,
        page_size=PAGE_SIZE,
    )
    if query.beyond_window:
        result.beyond_window = True
        return result  # Kaltura would refuse it: no call, the page explains the window
    try:
        page = gateway.browse_media(service_url, token, kaltura_user, query)
    except KalturaError as error:
        if isinstance(error, KalturaApiError) and error.code == "QUERY_EXCEEDED_MAX_MATCHES_ALLOWED":
            result.beyond_window = True
            return result
        result.problem = _problem(error)
        return result
    result.total = page.total_count
    result.cards = [_card(entry, kaltura_user, CARD_WIDTHS) for entry in page.entries]
    return result


def preview(
    db: Session, gateway: KalturaGateway, vault: TokenVault, ctx: PickerContext, entry_id: str
) -> PreviewResult:
    """The preview panel: fresh metadata (``media.get`` as the member) and, for video and audio, a
    playable URL built with a session minted for it."""
    result = PreviewResult()
    if not ENTRY_ID.match(entry_id or ""):
        result.problem = Problem("not_found", "Not found", "That is not a Kaltura entry id.", 404, retry=False)
        return result
    client, problem = _client(vault, ctx)
    if problem is not None or client is None:
        result.problem = problem
        return result
    service_url, token = client
    try:
        kaltura_user = kaltura_user_for(db, ctx.hub, ctx.user, ctx.connection, gateway=gateway)
    except IdentityError as error:
        result.problem = identity_problem(error)
        return result
    try:
        entry = gateway.get_entry(service_url, token, kaltura_user, entry_id)
        if entry is None:
            result.problem = Problem(
                "not_found",
                "Not available",
                "This media does not exist in Kaltura any more, or you may not use it.",
                404,
                retry=False,
            )
            return result
        result.card = _card(entry, kaltura_user, PREVIEW_WIDTHS)
        if entry.thumbnail_url:
            result.large = thumbnail_url(entry.thumbnail_url, 960, 540)
            result.large_srcset = thumbnail_srcset(entry.thumbnail_url, PREVIEW_WIDTHS)
        if entry.media_type in (MediaType.VIDEO, MediaType.AUDIO):
            _playback(gateway, service_url, token, kaltura_user, entry, result)
    except KalturaError as error:
        result.problem = _problem(error)
    return result


def import_entries(
    db: Session,
    gateway: KalturaGateway,
    vault: TokenVault,
    ctx: PickerContext,
    entry_ids: Sequence[str],
    *,
    request_id: str | None = None,
) -> ImportResult:
    """Add the picked entries to the hub's library, checking each with Kaltura as the member first
    (one ``media.list`` by id), and build the message the host receives."""
    ids = list(dict.fromkeys(i.strip() for i in entry_ids if i and i.strip()))
    if not ids:
        raise FieldError("entry_id", "Pick at least one item to add.")
    if len(ids) > MAX_IMPORT:
        raise FieldError("entry_id", f"Add at most {MAX_IMPORT} items at a time.")
    if not all(ENTRY_ID.match(i) for i in ids):
        raise FieldError("entry_id", "One of the picked items is not a Kaltura entry id.")
    result = ImportResult()
    client, problem = _client(vault, ctx)
    if problem is not None or client is None:
        result.problem = problem
        return result
    service_url, token = client
    try:
        kaltura_user = kaltura_user_for(db, ctx.hub, ctx.user, ctx.connection, gateway=gateway)
    except IdentityError as error:
        result.problem = identity_problem(error)
        return result
    try:
        found = gateway.entries_by_id(service_url, token, kaltura_user, ids)
    except KalturaError as error:
        result.problem = _problem(error)
        return result
    by_id = {entry.id: entry for entry in found}
    ordered = [by_id[i] for i in ids if i in by_id]
    result.missing = [i for i in ids if i not in by_id]
    if not ordered:
        result.problem = Problem(
            "not_found",
            "Nothing was added",
            "None of the picked media is available to you in Kaltura any more. Search again and pick again.",
            404,
            retry=False,
        )
        return result
    result.items = add_entries(db, hub=ctx.hub, entries=ordered, actor=ctx.user, request_id=request_id)
    result.message = picked_message(ctx.hub, result.items)
    return result


def picked_message(hub: Hub, items: Sequence[LibraryItem]) -> dict[str, Any]:
    """The ``postMessage`` payload the host receives, exactly as docs/embedding.md specifies it."""
    return {
        "type": MESSAGE_TYPE,
        "version": 1,
        "hub": hub.slug,
        "items": [
            {
                "entryId": item.entry_id,
                "name": item.name,
                "mediaType": item.media_type.value,
                "is360": item.is_360,
                "libraryItemId": item.id,
            }
            for item in items
        ],
    }


# -- helpers -----------------------------------------------------------------------------------------


def _client(vault: TokenVault, ctx: PickerContext) -> tuple[tuple[str, SealedToken] | None, Problem | None]:
    """The hub's service URL and client token, or the Problem that stops the picker from using Kaltura."""
    if not ctx.hub.plan.is_paid:
        return None, Problem(
            "plan",
            "Kaltura media needs a paid plan",
            "This hub's plan does not include the Kaltura integration. A hub admin can contact support to upgrade.",
            409,
            retry=False,
        )
    connection = ctx.connection
    sealed = connection.sealed_token("client") if connection is not None else None
    if connection is None or sealed is None:
        return None, Problem(
            "not_connected",
            "This hub is not connected to Kaltura",
            "A hub admin can connect it in Hub settings → Integrations: Kaltura.",
            409,
            retry=False,
        )
    try:
        # The gateway unseals it for each call; proving here that it still decrypts turns a lost key
        # into this message instead of an error in the middle of a page.
        vault.verify(sealed)
    except SecretsError:
        return None, Problem(
            "token",
            "The hub's Kaltura connection needs attention",
            "The hub's saved client token can no longer be read. A hub admin can paste it again in "
            "Hub settings → Integrations: Kaltura.",
            502,
            retry=False,
        )
    return (connection.service_url, sealed), None


def _problem(error: KalturaError) -> Problem:
    if isinstance(error, KalturaUnavailable):
        return Problem(
            "unavailable",
            "Kaltura can't be reached right now",
            f"{error.summary().rstrip('.')}. Your search and filters are kept: try again in a moment.",
            503,
        )
    if isinstance(error, OutboundBlocked):
        return Problem(
            "config",
            "The hub's Kaltura address is not allowed",
            "The portal may not connect to this hub's Kaltura service URL. A hub admin can check it in Hub "
            "settings → Integrations: Kaltura.",
            502,
            retry=False,
        )
    assert isinstance(error, KalturaApiError)
    if error.is_invalid_session or error.code.startswith("APP_TOKEN") or error.code == "INVALID_APP_TOKEN_HASH":
        return Problem(
            "token",
            "The hub's Kaltura token is no longer valid",
            f"Kaltura refused the hub's token ({error.code}). Ask a hub admin to test the connection in "
            "Hub settings → Integrations: Kaltura and paste a new token if needed.",
            502,
            code=error.code,
            retry=False,
        )
    if error.is_forbidden:
        return Problem(
            "forbidden",
            "The hub's Kaltura token may not list media",
            f"Kaltura answered {error.code}. Ask a hub admin to give the client token the list:* privilege.",
            502,
            code=error.code,
            retry=False,
        )
    return Problem(
        "kaltura",
        "Kaltura could not answer this search",
        f"Kaltura answered {error.code}. Try again; if it keeps happening, tell a hub admin.",
        502,
        code=error.code,
    )


def _card(entry: MediaEntry, kaltura_user: str, widths: Sequence[int]) -> Card:
    kind = TYPE_NAMES.get(entry.media_type, "media") if isinstance(entry.media_type, MediaType) else "media"
    timed = kind in ("video", "audio")
    return Card(
        id=entry.id,
        name=entry.name or entry.id,
        media_type=kind,
        type_label={"video": "Video", "image": "Image", "audio": "Audio"}.get(kind, "Media"),
        duration=format_duration(entry.duration) if timed and entry.duration is not None else None,
        is_360=is_360(entry),
        processing=is_processing(entry),
        is_mine=bool(entry.user_id) and entry.user_id.lower() == kaltura_user.lower(),  # type: ignore[union-attr]
        owner=entry.user_id,
        # Audio entries rarely have a picture of their own in Kaltura: they get the audio icon.
        thumb=thumbnail_url(entry.thumbnail_url, 360, 203) if kind != "audio" else None,
        srcset=thumbnail_srcset(entry.thumbnail_url, widths) if kind != "audio" else None,
        created_at=_when(entry.created_at),
        updated_at=_when(entry.updated_at),
        width=entry.width,
        height=entry.height,
        tags=entry.tags,
        description=entry.description,
    )


def _playback(
    gateway: KalturaGateway,
    service_url: str,
    token: SealedToken,
    kaltura_user: str,
    entry: MediaEntry,
    result: PreviewResult,
) -> None:
    if is_processing(entry):
        result.playback_note = "Kaltura is still processing this media; it can be played once it is ready."
        return
    flavors = gateway.flavor_assets(service_url, token, kaltura_user, entry.id)
    result.playback = gateway.playback_source(service_url, token, kaltura_user, entry, flavors)
    if result.playback is None:
        result.playback_note = "Kaltura has no playable rendition of this media yet."


def format_duration(seconds: int | None) -> str | None:
    """``m:ss``, or ``h:mm:ss`` from an hour."""
    if seconds is None or seconds < 0:
        return None
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _when(timestamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp else None

"""Typed values the gateway returns: the portal never sees Kaltura's raw JSON.

Kaltura's JSON follows PHP runtime types, so a number may arrive as ``42`` or ``"42"`` and a
missing (null) property is simply absent (reference §1.7). The ``from_kaltura`` constructors here
accept both and default what is missing, so a surprising answer degrades to an empty field rather
than an exception deep inside a page.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class SessionType(enum.IntEnum):
    """``KalturaSessionType``: there is no value 1; a widget session is a USER session."""

    USER = 0
    ADMIN = 2


class MediaType(enum.IntEnum):
    VIDEO = 1
    IMAGE = 2
    AUDIO = 5


class EntryStatus(enum.IntEnum):
    ERROR_IMPORTING = -2
    ERROR_CONVERTING = -1
    IMPORT = 0
    PRECONVERT = 1
    READY = 2
    DELETED = 3
    PENDING = 4
    MODERATE = 5
    BLOCKED = 6
    NO_CONTENT = 7


#: Statuses a picker lists: ready media plus what is still uploading or converting, and what
#: failed (so a user sees their upload's true state). ``media.list`` returns READY only unless
#: ``statusIn`` is given (reference §4.1).
PICKER_STATUSES: tuple[EntryStatus, ...] = (
    EntryStatus.ERROR_IMPORTING,
    EntryStatus.ERROR_CONVERTING,
    EntryStatus.IMPORT,
    EntryStatus.PRECONVERT,
    EntryStatus.READY,
    EntryStatus.PENDING,
    EntryStatus.NO_CONTENT,
)


def as_int(value: Any, default: int | None = None) -> int | None:
    """An int from a JSON number or numeric string; ``default`` for anything else (bools included)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit() and len(text) <= 20:
            return int(text)
    return default


def as_str(value: Any) -> str | None:
    """A string, or ``None`` for null/absent; numbers become their decimal text."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _csv(value: Any) -> tuple[str, ...]:
    text = as_str(value) or ""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _status(value: Any) -> EntryStatus | str | None:
    number = as_int(value)
    if number is not None:
        try:
            return EntryStatus(number)
        except ValueError:
            return str(number)
    return as_str(value)


@dataclass(frozen=True)
class Privileges:
    """A parsed Kaltura privileges string (reference §3.4): ``name[:value[/value…]]``, comma-separated.

    Names are compared case-insensitively; values keep their case. ``str()`` gives the string back.
    """

    items: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def parse(cls, text: Any) -> Privileges:
        items: dict[str, list[str]] = {}
        for raw in (as_str(text) or "").split(","):
            entry = raw.strip()
            if not entry:
                continue
            name, _, value = entry.partition(":")
            values = items.setdefault(name.strip().lower(), [])
            values.extend(v for v in value.split("/") if v)
        return cls(tuple((name, tuple(values)) for name, values in items.items()))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.items)

    def has(self, name: str) -> bool:
        return any(item == name.lower() for item, _ in self.items)

    def values(self, name: str) -> tuple[str, ...]:
        for item, values in self.items:
            if item == name.lower():
                return values
        return ()

    def value(self, name: str) -> str | None:
        values = self.values(name)
        return values[0] if values else None

    def has_value(self, name: str, value: str) -> bool:
        return value in self.values(name)

    @property
    def lists_all(self) -> bool:
        """``list:*``: the session may list entries it does not own."""
        return self.has_value("list", "*")

    @property
    def enables_entitlement(self) -> bool:
        return self.has("enableentitlement")

    @property
    def disables_entitlement(self) -> bool:
        """Entitlement is off for this session (``enableentitlement`` wins when both are present)."""
        return self.has("disableentitlement") and not self.has("enableentitlement")

    @property
    def privacy_context(self) -> str | None:
        return self.value("privacycontext")

    def __str__(self) -> str:
        return ",".join(f"{name}:{'/'.join(values)}" if values else name for name, values in self.items)


@dataclass(frozen=True)
class SessionInfo:
    """A Kaltura session (KS) and what Kaltura said about it in ``appToken.startSession``.

    ``ks`` is a bearer secret: it is left out of ``repr()`` and must never be logged or rendered.
    ``expiry`` is Kaltura's absolute unix time; ``privileges`` are the effective ones from
    Kaltura's answer, not the ones in the pasted token JSON.
    """

    ks: str = field(repr=False)
    partner_id: int | None
    user_id: str | None
    session_type: SessionType | int | None
    expiry: int | None
    privileges: Privileges

    @classmethod
    def from_kaltura(cls, data: Mapping[str, Any]) -> SessionInfo:
        kind = as_int(data.get("sessionType"))
        user = as_str(data.get("userId"))
        return cls(
            ks=as_str(data.get("ks")) or "",
            partner_id=as_int(data.get("partnerId")),
            user_id=user or None,
            session_type=SessionType(kind) if kind in (0, 2) else kind,
            expiry=as_int(data.get("expiry")),
            privileges=Privileges.parse(data.get("privileges")),
        )


@dataclass(frozen=True)
class MediaEntry:
    """One ``KalturaMediaEntry``, with the fields a picker needs."""

    id: str
    name: str
    media_type: MediaType | int | None
    status: EntryStatus | str | None
    description: str = ""
    user_id: str | None = None
    partner_id: int | None = None
    tags: tuple[str, ...] = ()
    thumbnail_url: str | None = None
    data_url: str | None = None
    download_url: str | None = None
    duration: int | None = None
    width: int | None = None
    height: int | None = None
    created_at: int | None = None
    updated_at: int | None = None
    flavor_params_ids: tuple[int, ...] = ()

    @property
    def is_ready(self) -> bool:
        return self.status == EntryStatus.READY

    @property
    def is_360(self) -> bool:
        """Tagged ``360``, the convention Kaltura's player uses for VR media (reference §6.4)."""
        return "360" in self.tags

    @classmethod
    def from_kaltura(cls, data: Mapping[str, Any]) -> MediaEntry:
        media = as_int(data.get("mediaType"))
        try:
            media_type: MediaType | int | None = MediaType(media) if media is not None else None
        except ValueError:
            media_type = media
        return cls(
            id=as_str(data.get("id")) or "",
            name=as_str(data.get("name")) or "",
            media_type=media_type,
            status=_status(data.get("status")),
            description=as_str(data.get("description")) or "",
            user_id=as_str(data.get("userId")),
            partner_id=as_int(data.get("partnerId")),
            tags=_csv(data.get("tags")),
            thumbnail_url=as_str(data.get("thumbnailUrl")),
            data_url=as_str(data.get("dataUrl")),
            download_url=as_str(data.get("downloadUrl")),
            duration=as_int(data.get("duration")),
            width=as_int(data.get("width")),
            height=as_int(data.get("height")),
            created_at=as_int(data.get("createdAt")),
            updated_at=as_int(data.get("updatedAt")),
            flavor_params_ids=tuple(i for i in (as_int(p) for p in _csv(data.get("flavorParamsIds"))) if i is not None),
        )


@dataclass(frozen=True)
class MediaPage:
    """One page of ``media.list``: the entries and Kaltura's ``totalCount`` for the whole filter."""

    entries: tuple[MediaEntry, ...]
    total_count: int
    page: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total_count


@dataclass(frozen=True)
class KalturaUser:
    """A ``KalturaUser`` (reference §7)."""

    id: str
    partner_id: int | None = None
    screen_name: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    status: int | None = None
    is_admin: bool = False
    login_enabled: bool = False
    created_at: int | None = None

    @property
    def is_active(self) -> bool:
        return self.status == 1

    @classmethod
    def from_kaltura(cls, data: Mapping[str, Any]) -> KalturaUser:
        return cls(
            id=as_str(data.get("id")) or "",
            partner_id=as_int(data.get("partnerId")),
            screen_name=as_str(data.get("screenName")),
            email=as_str(data.get("email")),
            first_name=as_str(data.get("firstName")),
            last_name=as_str(data.get("lastName")),
            status=as_int(data.get("status")),
            is_admin=data.get("isAdmin") in (True, 1, "1", "true"),
            login_enabled=data.get("loginEnabled") in (True, 1, "1", "true"),
            created_at=as_int(data.get("createdAt")),
        )


@dataclass(frozen=True)
class ConversionProfile:
    """A ``KalturaConversionProfile``: which flavors Kaltura makes from an upload."""

    id: int
    name: str
    flavor_params_ids: tuple[int, ...]
    is_default: bool = False

    @classmethod
    def from_kaltura(cls, data: Mapping[str, Any]) -> ConversionProfile:
        return cls(
            id=as_int(data.get("id"), 0) or 0,
            name=as_str(data.get("name")) or "",
            flavor_params_ids=tuple(i for i in (as_int(p) for p in _csv(data.get("flavorParamsIds"))) if i is not None),
            is_default=data.get("isDefault") in (True, 1, "1", "true"),
        )


@dataclass(frozen=True)
class FlavorParams:
    """A ``KalturaFlavorParams``: one output rendition. ``0`` width/height means "from the source"."""

    id: int
    name: str
    width: int
    height: int
    tags: tuple[str, ...] = ()
    video_codec: str | None = None

    @property
    def is_uhd(self) -> bool:
        """A 4K (2160p) or larger rendition."""
        return self.height >= 2160 or self.width >= 3840

    @classmethod
    def from_kaltura(cls, data: Mapping[str, Any]) -> FlavorParams:
        return cls(
            id=as_int(data.get("id"), 0) or 0,
            name=as_str(data.get("name")) or "",
            width=as_int(data.get("width"), 0) or 0,
            height=as_int(data.get("height"), 0) or 0,
            tags=_csv(data.get("tags")),
            video_codec=as_str(data.get("videoCodec")),
        )


@dataclass(frozen=True)
class FourKResult:
    """Whether the account produces 4K flavors: ``True``/``False``, or ``None`` when it could not be verified."""

    supported: bool | None
    reason: str
    profile_name: str | None = None
    uhd_flavors: tuple[str, ...] = ()
    error_code: str | None = None

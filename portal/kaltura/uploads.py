"""Uploads to Kaltura (reference §6): upload tokens, the entries they fill, and their progress.

The browser sends the bytes straight to Kaltura (``static/js/chunk_pump.js``); the gateway does
what comes before and after: ``uploadToken.add``, ``media.add`` with a ``referenceId``,
``media.addContent`` with the token, a short-lived session for the browser, and reading back the
truth (``uploadedFileSize``, the entry's status, its flavors ready of all). Everything here runs
as the member's own Kaltura user (a USER session from the client token), so the token and the
entry are theirs and no other user's upload is visible to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portal.kaltura.media import FlavorAsset
from portal.kaltura.types import EntryStatus, MediaEntry, as_int, as_str


class TokenStatus:
    """``KalturaUploadTokenStatus`` (reference §6.1)."""

    PENDING = 0
    PARTIAL_UPLOAD = 1
    FULL_UPLOAD = 2
    CLOSED = 3
    TIMED_OUT = 4
    DELETED = 5


#: Every status an upload's entry can be in, for listing by id (``media.list`` lists READY only by
#: default); a deleted entry is gone for the upload too.
ALL_ENTRY_STATUSES: tuple[EntryStatus, ...] = tuple(s for s in EntryStatus if s is not EntryStatus.DELETED)
#: Flavor statuses that will never become READY: they do not count in "n of m flavors".
FLAVOR_NOT_COUNTED = frozenset({3, 4})  # DELETED, NOT_APPLICABLE
FLAVOR_ERROR = -1


@dataclass(frozen=True)
class UploadToken:
    """One ``KalturaUploadToken``."""

    id: str
    status: int | None
    file_name: str | None = None
    file_size: int | None = None
    uploaded_file_size: int = 0
    created_at: int | None = None
    updated_at: int | None = None

    @property
    def is_complete(self) -> bool:
        return self.status in (TokenStatus.FULL_UPLOAD, TokenStatus.CLOSED)

    @property
    def can_resume(self) -> bool:
        return self.status in (TokenStatus.PENDING, TokenStatus.PARTIAL_UPLOAD)

    @classmethod
    def from_kaltura(cls, data: Mapping[str, Any]) -> UploadToken:
        # Sizes are floats in Kaltura's schema and arrive as numbers or strings.
        def size(value: Any) -> int | None:
            try:
                return int(float(value)) if value not in (None, "") else None
            except (TypeError, ValueError):
                return None

        return cls(
            id=as_str(data.get("id")) or "",
            status=as_int(data.get("status")),
            file_name=as_str(data.get("fileName")),
            file_size=size(data.get("fileSize")),
            uploaded_file_size=size(data.get("uploadedFileSize")) or 0,
            created_at=as_int(data.get("createdAt")),
            updated_at=as_int(data.get("updatedAt")),
        )


@dataclass(frozen=True)
class EntryProgress:
    """An entry's processing as Kaltura reports it: its status and its flavors."""

    entry: MediaEntry
    flavors: tuple[FlavorAsset, ...] = field(default=())

    @property
    def counted(self) -> list[FlavorAsset]:
        return [f for f in self.flavors if f.status not in FLAVOR_NOT_COUNTED]

    @property
    def flavors_total(self) -> int:
        return len(self.counted)

    @property
    def flavors_ready(self) -> int:
        return sum(1 for f in self.counted if f.is_ready)

    @property
    def flavors_failed(self) -> int:
        return sum(1 for f in self.counted if f.status == FLAVOR_ERROR)

"""A hub's media library: Kaltura entries the hub's members picked (or uploaded) for the hub.

One row per (hub, entry), enforced by the database: importing an entry that is already in the
library returns the existing item (its name and details refreshed from Kaltura), even when two
imports race. The upload flow (issue 12) adds its finished entries through :func:`add_entries`
with ``source=LibrarySource.UPLOAD``. No Flask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from portal import audit
from portal.kaltura.media import is_360
from portal.kaltura.types import MediaEntry, MediaType
from portal.models import Hub, LibraryItem, LibraryMediaType, LibrarySource, User

MEDIA_TYPES = {
    MediaType.VIDEO: LibraryMediaType.VIDEO,
    MediaType.IMAGE: LibraryMediaType.IMAGE,
    MediaType.AUDIO: LibraryMediaType.AUDIO,
}
PER_PAGE = 24


@dataclass(frozen=True)
class LibraryPage:
    items: list[LibraryItem]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def library_media_type(entry: MediaEntry) -> LibraryMediaType | None:
    """The library's media type for a Kaltura entry, or ``None`` for types the library does not take."""
    try:
        return MEDIA_TYPES.get(MediaType(entry.media_type))  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return None


def add_entries(
    db: Session,
    *,
    hub: Hub,
    entries: Iterable[MediaEntry],
    actor: User | None,
    source: LibrarySource = LibrarySource.IMPORT,
    request_id: str | None = None,
) -> list[LibraryItem]:
    """Make each entry an item of the hub's library (one item per entry, ever); commits with an audit event.

    Returns the items in the order of ``entries``; entries of a type the library does not take
    are skipped.
    """
    items: list[LibraryItem] = []
    added: list[str] = []
    for entry in entries:
        media_type = library_media_type(entry)
        if media_type is None or not entry.id:
            continue
        item, created = _upsert(db, hub, entry, media_type, actor, source)
        items.append(item)
        if created:
            added.append(entry.id)
    audit.record(
        db,
        action="library.import" if source is LibrarySource.IMPORT else "library.upload",
        actor=actor,
        hub=hub,
        request_id=request_id,
        added=added,
        already=[i.entry_id for i in items if i.entry_id not in added],
    )
    db.commit()
    return items


def _upsert(
    db: Session, hub: Hub, entry: MediaEntry, media_type: LibraryMediaType, actor: User | None, source: LibrarySource
) -> tuple[LibraryItem, bool]:
    existing = _by_entry(db, hub, entry.id)
    if existing is None:
        item = LibraryItem(hub_id=hub.id, entry_id=entry.id, imported_by_id=actor.id if actor else None, source=source)
        _fill(item, entry, media_type)
        try:
            with db.begin_nested():  # a concurrent import of the same entry wins the race: use its row
                db.add(item)
        except IntegrityError:
            existing = _by_entry(db, hub, entry.id)
            if existing is None:
                raise
        else:
            return item, True
    _fill(existing, entry, media_type)
    return existing, False


def _fill(item: LibraryItem, entry: MediaEntry, media_type: LibraryMediaType) -> None:
    item.media_type = media_type
    item.name = (entry.name or entry.id)[:500]
    item.partner_id = entry.partner_id
    item.is_360 = is_360(entry)
    item.duration = entry.duration if media_type is not LibraryMediaType.IMAGE else None
    item.width = entry.width
    item.height = entry.height
    item.thumbnail_url = (entry.thumbnail_url or "")[:1000] or None


def _by_entry(db: Session, hub: Hub, entry_id: str) -> LibraryItem | None:
    return db.scalar(sa.select(LibraryItem).where(LibraryItem.hub_id == hub.id, LibraryItem.entry_id == entry_id))


def items_of(db: Session, hub: Hub, *, page: int = 1, per_page: int = PER_PAGE) -> LibraryPage:
    """One page of the hub's library, newest first, with who imported each item."""
    total = db.scalar(sa.select(sa.func.count()).select_from(LibraryItem).where(LibraryItem.hub_id == hub.id)) or 0
    page = max(1, min(page, max(1, -(-total // per_page))))
    items = db.scalars(
        sa.select(LibraryItem)
        .options(joinedload(LibraryItem.imported_by))
        .where(LibraryItem.hub_id == hub.id)
        .order_by(LibraryItem.imported_at.desc(), LibraryItem.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return LibraryPage(list(items), total, page, per_page)


def all_items(db: Session, hub: Hub) -> list[LibraryItem]:
    """Every item of the hub's library, newest first (the CLI's ``library list``)."""
    return list(
        db.scalars(
            sa.select(LibraryItem)
            .options(joinedload(LibraryItem.imported_by))
            .where(LibraryItem.hub_id == hub.id)
            .order_by(LibraryItem.imported_at.desc(), LibraryItem.id.desc())
        )
    )


def item_of(db: Session, hub: Hub, item_id: int) -> LibraryItem | None:
    """One item, only if it belongs to ``hub`` (another hub's id is "not found")."""
    return db.scalar(
        sa.select(LibraryItem)
        .options(joinedload(LibraryItem.imported_by))
        .where(LibraryItem.hub_id == hub.id, LibraryItem.id == item_id)
    )


def as_dict(item: LibraryItem) -> dict[str, object]:
    """The item as JSON for the CLI (``portal library list --json``)."""
    return {
        "id": item.id,
        "hub": item.hub.slug if item.hub else None,
        "entryId": item.entry_id,
        "name": item.name,
        "mediaType": item.media_type.value,
        "is360": item.is_360,
        "duration": item.duration,
        "width": item.width,
        "height": item.height,
        "source": item.source.value,
        "importedBy": item.imported_by.email if item.imported_by else None,
        "importedAt": item.imported_at.isoformat(),
    }

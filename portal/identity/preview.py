"""The mapping preview: before a mode or rule is saved, what it would make of every member. No Flask here.

For each member (paged): their email, the Kaltura id the mode would give them, whether Kaltura has that
user (one ``user.list idIn`` per page, and only when the server token's role may read users), the
members it would collide with, and whether Kaltura would refuse the id. Collisions are computed over
the whole hub, not the page, so a page never hides one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.identity.links import NO_PERMISSION_CODES, connection_for
from portal.identity.mapping import KALTURA_USER_ID, check_rule, mapped_user_id
from portal.kaltura import KalturaGateway
from portal.kaltura.errors import KalturaApiError, KalturaError
from portal.models import Hub, KalturaIdentity, Membership, User, UserIdMode
from portal.validation import FieldError

PAGE_SIZE = 25


@dataclass(frozen=True)
class PreviewRow:
    email: str
    name: str
    kaltura_id: str
    #: True/False when Kaltura was asked, None when it could not be.
    exists: bool | None
    collides_with: tuple[str, ...]
    refused: bool
    #: The id the member is linked to today, when it differs from the preview's (their media stays there).
    linked_id: str | None = None


@dataclass
class MappingPreview:
    mode: UserIdMode
    rule: str | None
    page: int
    total: int
    rows: list[PreviewRow] = field(default_factory=list)
    collisions: int = 0
    refused: int = 0
    #: Why the "exists in Kaltura" column is empty, when it is.
    existence_note: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def mapping_preview(
    db: Session,
    gateway: KalturaGateway | None,
    hub: Hub,
    mode: UserIdMode,
    rule: str | None = None,
    *,
    page: int = 1,
) -> MappingPreview:
    """The preview of ``mode`` (and ``rule`` for custom) for the hub's members; FieldError for a bad rule.

    ``gateway`` None skips the Kaltura column (no connection to ask).
    """
    if mode is UserIdMode.CUSTOM:
        if not rule:
            raise FieldError("custom_rule", "Enter the custom rule to preview, e.g. {local}@corp.example.")
        rule = check_rule(rule)
    members = db.execute(
        sa.select(User.email, User.display_name, KalturaIdentity.kaltura_user_id)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(KalturaIdentity, sa.and_(KalturaIdentity.user_id == User.id, KalturaIdentity.hub_id == hub.id))
        .where(Membership.hub_id == hub.id)
        .order_by(User.email)
    ).all()
    ids = [mapped_user_id(email, mode, rule) for email, _, _ in members]
    owners: dict[str, list[str]] = {}
    for (email, _, _), kaltura_id in zip(members, ids, strict=True):
        owners.setdefault(kaltura_id.lower(), []).append(email)
    pages = max(1, -(-len(members) // PAGE_SIZE))
    page = min(max(1, page), pages)
    preview = MappingPreview(mode, rule, page, len(members))
    preview.collisions = sum(1 for emails in owners.values() if len(emails) > 1)
    preview.refused = sum(1 for kaltura_id in ids if not KALTURA_USER_ID.match(kaltura_id))
    start = (page - 1) * PAGE_SIZE
    window = list(zip(members, ids, strict=True))[start : start + PAGE_SIZE]
    existing, preview.existence_note = _existing(db, gateway, hub, [i for _, i in window if KALTURA_USER_ID.match(i)])
    for (email, name, linked), kaltura_id in window:
        preview.rows.append(
            PreviewRow(
                email=email,
                name=name,
                kaltura_id=kaltura_id,
                exists=None if existing is None else kaltura_id in existing,
                collides_with=tuple(e for e in owners[kaltura_id.lower()] if e != email),
                refused=not KALTURA_USER_ID.match(kaltura_id),
                linked_id=linked if linked and linked.lower() != kaltura_id.lower() else None,
            )
        )
    return preview


def _existing(
    db: Session, gateway: KalturaGateway | None, hub: Hub, ids: list[str]
) -> tuple[set[str] | None, str | None]:
    connection = connection_for(db, hub)
    server = connection.sealed_token("server") if connection is not None else None
    if gateway is None or connection is None or server is None:
        return None, "The hub is not connected to Kaltura, so Kaltura was not asked which users exist."
    if not ids:
        return set(), None
    try:
        return gateway.existing_user_ids(connection.service_url, server, ids), None
    except KalturaApiError as error:
        if error.code in NO_PERMISSION_CODES:
            return None, (
                f"The server token may not read Kaltura users ({error.code}), so this column is empty. Members "
                "without a Kaltura user are then created by Kaltura on their first upload."
            )
        return None, f"Kaltura did not say which users exist ({error.code})."
    except KalturaError as error:
        return None, f"Kaltura did not say which users exist: {error.summary().rstrip('.')}."

"""Picker sessions: the bearer credential an open picker sends with every request.

A verified launch opens one. The browser gets an opaque 256-bit token (in the picker page, read
once by ``static/js/picker.js`` and sent as ``Authorization: Bearer``); the database keeps only
its SHA-256, with the hub, the member and the launch origin. A session ends after
``PICKER_IDLE_MINUTES`` without use or ``PICKER_MAX_HOURS`` after launch, and at once when the
member leaves the hub or the origin is removed from the hub's list, because every request looks
all of that up again (one query).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, defer

from portal.models import EmbedSettings, Hub, KalturaConnection, Membership, PickerSession, Role, User

#: ``last_used_at`` is written at most this often, so browsing does not write on every page.
TOUCH_INTERVAL = timedelta(seconds=60)
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class PickerContext:
    """Everything a picker request may act with, resolved from its bearer token."""

    session: PickerSession
    hub: Hub
    user: User
    role: Role
    connection: KalturaConnection | None
    settings: EmbedSettings | None
    own_origin: bool

    @property
    def origin(self) -> str:
        return self.session.origin


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    db: Session, *, hub: Hub, user: User, origin: str, max_age: timedelta, now: datetime | None = None
) -> str:
    """Create a picker session and return its token (the caller commits, with the launch's jti)."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    db.add(
        PickerSession(
            token_hash=token_hash(token),
            hub_id=hub.id,
            user_id=user.id,
            origin=origin,
            created_at=now,
            last_used_at=now,
            expires_at=now + max_age,
        )
    )
    # Sessions past their absolute expiry are useless; drop them while we are writing anyway.
    db.execute(sa.delete(PickerSession).where(PickerSession.expires_at < now - timedelta(hours=1)))
    return token


def resolve(
    db: Session, token: str, *, idle: timedelta, own_origin: str | None, now: datetime | None = None
) -> PickerContext | None:
    """The context of a live session for ``token``, or ``None`` (unknown, expired, idle, revoked)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    now = now or datetime.now(UTC)
    row = db.execute(
        sa.select(PickerSession, Hub, User, Membership.role, KalturaConnection, EmbedSettings)
        .join(Hub, Hub.id == PickerSession.hub_id)
        .join(User, User.id == PickerSession.user_id)
        .outerjoin(Membership, (Membership.hub_id == Hub.id) & (Membership.user_id == User.id))
        .outerjoin(KalturaConnection, KalturaConnection.hub_id == Hub.id)
        .outerjoin(EmbedSettings, EmbedSettings.hub_id == Hub.id)
        .where(PickerSession.token_hash == token_hash(token))
        # Every picker request runs this: leave out what a picker request never reads (JSON blobs,
        # the server token, the launch secrets), which is most of the row's weight.
        .options(
            defer(KalturaConnection.last_check),
            defer(KalturaConnection.client_token_info),
            defer(KalturaConnection.server_token_info),
            defer(KalturaConnection.server_token_sealed),
            defer(EmbedSettings.jwks_keys),
            defer(EmbedSettings.secret_sealed),
            defer(EmbedSettings.previous_secret_sealed),
            defer(User.password_hash),
        )
    ).first()
    if row is None:
        return None
    session, hub, user, role, connection, settings = row
    if role is None or session.expires_at <= now or session.last_used_at + idle <= now:
        return None
    own = bool(own_origin) and session.origin == own_origin
    if not own and session.origin not in ((settings.allowed_origins or []) if settings else []):
        return None  # the origin was removed from the hub's list: its pickers close
    if now - session.last_used_at >= TOUCH_INTERVAL:
        session.last_used_at = now
        db.commit()
    return PickerContext(session, hub, user, role, connection, settings, own)


def close_session(db: Session, token: str) -> None:
    """End a session (the picker's "Close" or a host asking to sign out)."""
    db.execute(sa.delete(PickerSession).where(PickerSession.token_hash == token_hash(token)))
    db.commit()

"""Reading the audit log: one query service for the pages, the CLI and later dashboards. No Flask here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portal.models import AuditEvent, Hub

PER_PAGE = 50
MAX_PER_PAGE = 500

#: What each action means, in the words the log page shows. Actions not listed show as recorded.
ACTIONS: dict[str, str] = {
    "auth.sign_in": "Signed in",
    "auth.sign_in_failed": "Sign-in failed",
    "auth.sign_out": "Signed out",
    "access.denied": "Access denied",
    "security.csrf_failed": "Form token refused",
    "security.rate_limited": "Too many attempts",
    "security.outbound_blocked": "Kaltura address blocked",
    "user.create": "Account created",
    "hub.create": "Hub created",
    "hub.rename": "Hub renamed",
    "hub.plan": "Plan changed",
    "member.invite": "Invited",
    "member.add": "Member added",
    "member.join": "Invitation accepted",
    "member.role": "Role changed",
    "member.remove": "Member removed",
    "invitation.cancel": "Invitation cancelled",
    "invitation.decline": "Invitation declined",
    "kaltura.save": "Kaltura connection saved",
    "kaltura.test": "Kaltura connection tested",
    "kaltura.remove_token": "App Token removed",
    "kaltura.user_id_rule": "User-id rule changed",
    "kaltura.rotate_key": "Tokens re-encrypted",
}


def action_label(action: str) -> str:
    return ACTIONS.get(action, action)


@dataclass(frozen=True)
class AuditQuery:
    """What to list. Dates are whole UTC days, both ends included; ``actor`` matches part of an email."""

    hub_id: int | None = None
    actor: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None
    page: int = 1
    per_page: int = PER_PAGE


@dataclass(frozen=True)
class AuditPage:
    """One page of events, newest first, and where it sits in the whole result."""

    events: list[AuditEvent]
    total: int
    page: int
    per_page: int
    query: AuditQuery = field(repr=False)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_newer(self) -> bool:
        return self.page > 1

    @property
    def has_older(self) -> bool:
        return self.page < self.pages

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.events else 0

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.events) - 1 if self.events else 0


def search(db: Session, query: AuditQuery, *, visible_hubs: Sequence[int] | None) -> AuditPage:
    """Events matching ``query`` that the reader may see, newest first, one page of them.

    ``visible_hubs`` is ``None`` for support staff (every event, hub-less ones such as failed
    sign-ins included) and the ids of the reader's hubs otherwise.
    """
    conditions: list[sa.ColumnElement[bool]] = []
    if visible_hubs is not None:
        conditions.append(AuditEvent.hub_id.in_(list(visible_hubs)))
    if query.hub_id is not None:
        conditions.append(AuditEvent.hub_id == query.hub_id)
    if query.actor:
        pattern = "%" + _escape_like(query.actor.strip().lower()) + "%"
        conditions.append(sa.func.lower(AuditEvent.actor_email).like(pattern, escape="\\"))
    if query.action:
        conditions.append(AuditEvent.action == query.action)
    if query.since:
        conditions.append(AuditEvent.created_at >= datetime.combine(query.since, time.min, UTC))
    if query.until:
        conditions.append(AuditEvent.created_at < datetime.combine(query.until + timedelta(days=1), time.min, UTC))
    per_page = max(1, min(query.per_page, MAX_PER_PAGE))
    total = db.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(*conditions)) or 0
    page = max(1, min(query.page, max(1, math.ceil(total / per_page))))
    rows = db.scalars(
        sa.select(AuditEvent)
        .options(joinedload(AuditEvent.hub))  # the hub's name on every row, in the same query
        .where(*conditions)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return AuditPage(events=list(rows), total=total, page=page, per_page=per_page, query=query)


def recorded_actions(db: Session, *, visible_hubs: Sequence[int] | None) -> list[str]:
    """The actions the reader's events use, known ones first in the order above, then any others."""
    query = sa.select(AuditEvent.action).distinct()
    if visible_hubs is not None:
        query = query.where(AuditEvent.hub_id.in_(list(visible_hubs)))
    present = set(db.scalars(query))
    return [action for action in ACTIONS if action in present] + sorted(present - ACTIONS.keys())


def hub_choices(db: Session) -> list[Hub]:
    """Every hub, by name, for support's hub filter."""
    return list(db.scalars(sa.select(Hub).order_by(sa.func.lower(Hub.name))))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

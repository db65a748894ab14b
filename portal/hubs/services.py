"""Hubs and their members. Plain functions over a session; no Flask here.

Every change is committed together with its audit event, or not at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portal import audit
from portal.accounts.services import find_by_email, normalise_email
from portal.identity import clash_for_new_member
from portal.models import Hub, Membership, Plan, Role, User
from portal.validation import FieldError

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")


@dataclass(frozen=True)
class HubListing:
    hub: Hub
    role: Role | None
    member_count: int


def hubs_for(db: Session, user: User) -> list[HubListing]:
    """The hubs a user belongs to (support staff: every hub), by name, in one query."""
    counts = sa.select(Membership.hub_id, sa.func.count().label("n")).group_by(Membership.hub_id).subquery()
    mine = sa.select(Membership.role).where(Membership.hub_id == Hub.id, Membership.user_id == user.id)
    query = sa.select(Hub, mine.scalar_subquery(), sa.func.coalesce(counts.c.n, 0)).outerjoin(
        counts, counts.c.hub_id == Hub.id
    )
    if not user.is_support:
        query = query.where(sa.exists(mine))
    rows = db.execute(query.order_by(sa.func.lower(Hub.name)))
    return [HubListing(hub=hub, role=role, member_count=count) for hub, role, count in rows]


def member_count(db: Session, hub: Hub) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(Membership).where(Membership.hub_id == hub.id)) or 0


def members_of(db: Session, hub: Hub) -> list[Membership]:
    """The hub's members, admins first, then by name."""
    query = (
        sa.select(Membership)
        .join(Membership.user)
        .options(joinedload(Membership.user))
        .where(Membership.hub_id == hub.id)
        .order_by(Membership.role, sa.func.lower(User.display_name))
    )
    return list(db.scalars(query))


def create_hub(db: Session, *, name: str, slug: str, plan: Plan = Plan.FREE, actor: User | None = None) -> Hub:
    """Create and commit a hub; the slug must be unused and URL-safe."""
    name = _clean_name(name)
    if not SLUG.match(slug):
        raise FieldError("slug", "Use 1-60 lower-case letters, digits and dashes for the slug, like 'film-club'.")
    if db.scalar(sa.select(Hub.id).where(Hub.slug == slug)) is not None:
        raise FieldError("slug", f"The slug '{slug}' is taken; choose another.")
    hub = Hub(name=name, slug=slug, plan=plan)
    db.add(hub)
    db.flush()
    audit.record(db, action="hub.create", actor=actor, hub=hub, name=name, plan=plan.value)
    db.commit()
    return hub


def rename_hub(db: Session, *, hub: Hub, name: str, actor: User, request_id: str | None = None) -> None:
    old = hub.name
    hub.name = _clean_name(name)
    if hub.name != old:
        audit.record(db, action="hub.rename", actor=actor, hub=hub, request_id=request_id, old=old, new=hub.name)
    db.commit()


def set_plan(db: Session, *, hub: Hub, plan: Plan, actor: User | None, request_id: str | None = None) -> None:
    old = hub.plan
    hub.plan = plan
    if plan != old:
        audit.record(db, action="hub.plan", actor=actor, hub=hub, request_id=request_id, old=old.value, new=plan.value)
    db.commit()


def add_member(
    db: Session, *, hub: Hub, email: str, role: Role, actor: User | None, request_id: str | None = None
) -> Membership:
    """Add an existing portal user to the hub; raises FieldError saying exactly what is wrong."""
    try:
        email = normalise_email(email)
    except FieldError as error:
        raise FieldError("email", error.message) from None
    user = find_by_email(db, email)
    if user is None:
        raise FieldError(
            "email", f"No portal account uses {email}. Check the spelling, or ask support to create the account first."
        )
    existing = _membership_of(db, hub, user)
    if existing is not None:
        raise FieldError(
            "email", f"{user.display_name} ({email}) is already a member of this hub, as {existing.role.label.lower()}."
        )
    clash = clash_for_new_member(db, hub, email)
    if clash is not None:
        raise FieldError(
            "email",
            f"{email} would get the same Kaltura user id '{clash[1]}' as {clash[0]} under this hub's "
            "Kaltura user-id setting, and they would see each other's media. Change the setting first.",
        )
    membership = Membership(hub=hub, user=user, role=role)
    db.add(membership)
    audit.record(db, action="member.add", actor=actor, hub=hub, request_id=request_id, email=email, role=role.value)
    db.commit()
    return membership


def change_role(
    db: Session, *, hub: Hub, membership_id: int, role: Role, actor: User, request_id: str | None = None
) -> Membership:
    """Change a member's role; the hub always keeps at least one admin."""
    membership = _get_membership(db, hub, membership_id)
    if membership.role is Role.ADMIN and role is not Role.ADMIN:
        _keep_an_admin(db, hub, "change the role of")
    old = membership.role
    membership.role = role
    if old != role:
        audit.record(
            db,
            action="member.role",
            actor=actor,
            hub=hub,
            request_id=request_id,
            email=membership.user.email,
            old=old.value,
            new=role.value,
        )
    db.commit()
    return membership


def remove_member(db: Session, *, hub: Hub, membership_id: int, actor: User, request_id: str | None = None) -> User:
    """Remove a member from the hub (not their portal account)."""
    membership = _get_membership(db, hub, membership_id)
    if membership.role is Role.ADMIN:
        _keep_an_admin(db, hub, "remove")
    user = membership.user
    db.delete(membership)
    audit.record(db, action="member.remove", actor=actor, hub=hub, request_id=request_id, email=user.email)
    db.commit()
    return user


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not 2 <= len(name) <= 120:
        raise FieldError("name", "The hub name needs 2 to 120 characters.")
    return name


def _membership_of(db: Session, hub: Hub, user: User) -> Membership | None:
    return db.scalar(sa.select(Membership).where(Membership.hub_id == hub.id, Membership.user_id == user.id))


def _get_membership(db: Session, hub: Hub, membership_id: int) -> Membership:
    # Filtered by hub: a membership id from another hub is "not found", never acted on.
    membership = db.scalar(sa.select(Membership).where(Membership.id == membership_id, Membership.hub_id == hub.id))
    if membership is None:
        raise FieldError(None, "That member is no longer in this hub. The list below is up to date.")
    return membership


def _keep_an_admin(db: Session, hub: Hub, verb: str) -> None:
    admins = db.scalar(sa.select(sa.func.count()).where(Membership.hub_id == hub.id, Membership.role == Role.ADMIN))
    if (admins or 0) <= 1:
        raise FieldError(None, f"You cannot {verb} the hub's only admin. Make someone else an admin first.")

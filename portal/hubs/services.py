"""Hubs, their members and invitations. Plain functions over a session; no Flask here.

Every change is committed together with its audit event, or not at all.

Admins add people by inviting their email address (:func:`invite_member`): whether or not an
account uses that address, the admin sees the same answer, and the person joins only by accepting
the invitation on their Account page (:func:`accept_invitation`). So a hub admin can neither probe
which addresses have accounts nor pull another hub's admin or a support person into their hub.
Operators add members directly with ``portal add-member`` (:func:`add_member`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portal import audit
from portal.accounts.services import find_by_email, normalise_email
from portal.identity import clash_for_new_member
from portal.models import Hub, Invitation, KalturaConnection, Membership, Plan, Role, User
from portal.text import has_visible_text, text_problem
from portal.validation import FieldError

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")


@dataclass(frozen=True)
class HubListing:
    hub: Hub
    role: Role | None
    member_count: int
    kaltura: KalturaConnection | None = None

    @property
    def kaltura_status(self) -> str:
        """``needs_paid_plan``, ``connected``, ``incomplete`` or ``not_connected`` (the hub page's badge)."""
        if not self.hub.plan.is_paid:
            return "needs_paid_plan"
        if self.kaltura is None:
            return "not_connected"
        return "connected" if self.kaltura.is_complete else "incomplete"


def hubs_for(db: Session, user: User) -> list[HubListing]:
    """The hubs a user belongs to (support staff: every hub), by name, with their Kaltura connection, in one query."""
    counts = sa.select(Membership.hub_id, sa.func.count().label("n")).group_by(Membership.hub_id).subquery()
    mine = sa.select(Membership.role).where(Membership.hub_id == Hub.id, Membership.user_id == user.id)
    query = (
        sa.select(Hub, mine.scalar_subquery(), sa.func.coalesce(counts.c.n, 0), KalturaConnection)
        .outerjoin(counts, counts.c.hub_id == Hub.id)
        .outerjoin(KalturaConnection, KalturaConnection.hub_id == Hub.id)
    )
    if not user.is_support:
        query = query.where(sa.exists(mine))
    rows = db.execute(query.order_by(sa.func.lower(Hub.name)))
    return [
        HubListing(hub=hub, role=role, member_count=count, kaltura=connection) for hub, role, count, connection in rows
    ]


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
    """Add an existing portal user to the hub at once (operators and the demo seed; admins invite instead)."""
    email = normalise_email(email)
    user = find_by_email(db, email)
    if user is None:
        raise FieldError("email", f"No portal account uses {email}. Create it first with `portal create-user`.")
    _refuse_existing_member(db, hub, email)
    _refuse_clash(db, hub, email)
    membership = Membership(hub=hub, user=user, role=role)
    db.add(membership)
    db.execute(sa.delete(Invitation).where(Invitation.hub_id == hub.id, Invitation.email == email))
    audit.record(db, action="member.add", actor=actor, hub=hub, request_id=request_id, email=email, role=role.value)
    db.commit()
    return membership


def invite_member(db: Session, *, hub: Hub, email: str, role: Role, actor: User) -> Invitation:
    """Invite whoever uses ``email`` to the hub; the answer is the same whether an account exists or not.

    Raises FieldError for an address that is not one, a member already in this hub, an invitation
    already open, or a Kaltura user id another member already maps to.
    """
    email = normalise_email(email)
    _refuse_existing_member(db, hub, email)
    pending = db.scalar(sa.select(Invitation).where(Invitation.hub_id == hub.id, Invitation.email == email))
    if pending is not None:
        raise FieldError(
            "email",
            f"{email} is already invited, as {pending.role.label.lower()}. They accept the invitation on their "
            "Account page; cancel it below to invite them with another role.",
        )
    _refuse_clash(db, hub, email)
    invitation = Invitation(hub=hub, email=email, role=role, invited_by=actor)
    db.add(invitation)
    audit.record(db, action="member.invite", actor=actor, hub=hub, email=email, role=role.value)
    db.commit()
    return invitation


def invitations_of(db: Session, hub: Hub) -> list[Invitation]:
    """The hub's open invitations, oldest first."""
    query = sa.select(Invitation).where(Invitation.hub_id == hub.id).order_by(Invitation.created_at, Invitation.id)
    return list(db.scalars(query))


def invitations_for(db: Session, user: User) -> list[Invitation]:
    """Open invitations for the user's email address, with their hubs, oldest first."""
    query = (
        sa.select(Invitation)
        .options(joinedload(Invitation.hub), joinedload(Invitation.invited_by))
        .where(Invitation.email == user.email)
        .order_by(Invitation.created_at, Invitation.id)
    )
    return list(db.scalars(query))


def invitation_count(db: Session, user: User) -> int:
    """How many open invitations wait for the user's answer."""
    return db.scalar(sa.select(sa.func.count()).select_from(Invitation).where(Invitation.email == user.email)) or 0


def cancel_invitation(db: Session, *, hub: Hub, invitation_id: int, actor: User) -> Invitation:
    """Withdraw an open invitation of this hub."""
    invitation = db.scalar(sa.select(Invitation).where(Invitation.id == invitation_id, Invitation.hub_id == hub.id))
    if invitation is None:
        raise FieldError(None, "That invitation is no longer open (it was accepted, declined or cancelled).")
    db.delete(invitation)
    audit.record(db, action="invitation.cancel", actor=actor, hub=hub, email=invitation.email)
    db.commit()
    return invitation


def accept_invitation(db: Session, *, user: User, invitation_id: int) -> Membership:
    """Join the hub the invitation is for, with its role. Only the person it was sent to can."""
    invitation = _invitation_for(db, user, invitation_id)
    hub = invitation.hub
    existing = _membership_of(db, hub, user)
    if existing is None:
        _refuse_clash(db, hub, user.email, field=None)
        existing = Membership(hub=hub, user=user, role=invitation.role)
        db.add(existing)
    invited_by = invitation.invited_by.email if invitation.invited_by else None
    db.delete(invitation)
    audit.record(db, action="member.join", actor=user, hub=hub, role=existing.role.value, invited_by=invited_by)
    db.commit()
    return existing


def decline_invitation(db: Session, *, user: User, invitation_id: int) -> Invitation:
    """Turn an invitation down; the hub's admins see it is gone."""
    invitation = _invitation_for(db, user, invitation_id)
    db.delete(invitation)
    audit.record(db, action="invitation.decline", actor=user, hub=invitation.hub, role=invitation.role.value)
    db.commit()
    return invitation


def _invitation_for(db: Session, user: User, invitation_id: int) -> Invitation:
    # Filtered by the user's own address: someone else's invitation id is "not found", never acted on.
    invitation = db.scalar(sa.select(Invitation).where(Invitation.id == invitation_id, Invitation.email == user.email))
    if invitation is None:
        raise FieldError(None, "That invitation is no longer open (it was cancelled, or you answered it already).")
    return invitation


def _refuse_existing_member(db: Session, hub: Hub, email: str) -> None:
    member = db.scalar(
        sa.select(Membership).join(Membership.user).where(Membership.hub_id == hub.id, User.email == email)
    )
    if member is not None:
        raise FieldError(
            "email",
            f"{member.user.display_name} ({email}) is already a member of this hub, as {member.role.label.lower()}.",
        )


def _refuse_clash(db: Session, hub: Hub, email: str, *, field: str | None = "email") -> None:
    clash = clash_for_new_member(db, hub, email)
    if clash is not None:
        raise FieldError(
            field,
            f"{email} would get the same Kaltura user id '{clash[1]}' as {clash[0]} under this hub's "
            "Kaltura user-id setting, and they would see each other's media. Change the setting first.",
        )


@dataclass(frozen=True)
class RoleChange:
    membership: Membership
    changed: bool


def change_role(
    db: Session, *, hub: Hub, membership_id: int, role: Role, actor: User, request_id: str | None = None
) -> RoleChange:
    """Change a member's role (``changed`` is False when it already was that); the hub keeps an admin."""
    membership = _get_membership(db, hub, membership_id)
    old = membership.role
    if old is role:
        return RoleChange(membership, changed=False)
    if membership.role is Role.ADMIN and role is not Role.ADMIN:
        _keep_an_admin(db, hub, "change the role of")
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
    return RoleChange(membership, changed=True)


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
    problem = text_problem(name)
    if problem:
        raise FieldError("name", problem)
    name = " ".join(name.split())
    if not has_visible_text(name):
        raise FieldError("name", "Enter a name for the hub: it has no visible characters.")
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

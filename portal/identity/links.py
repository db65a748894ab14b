"""The identity link: which Kaltura user a hub member is, and provisioning it on first use. No Flask here.

:func:`ensure_link` is what everything calls (the picker through ``kaltura_user_for``, the member's
Integrations page, ``portal kaltura identity``). The first time it links the member with the hub's
*server* token (DESIGN §3.1):

* the user exists in Kaltura (``user.list idEqual``) → ``existed``;
* it does not → ``user.add`` with id, email, first and last name, no password, not an admin →
  ``created``; a duplicate answer (someone created it meanwhile) → ``existed``;
* the server token may not read or add users (the help article's recipe: USER sessions,
  ``disableentitlement``, no role; Kaltura answers ``SERVICE_FORBIDDEN``) → the member's own
  session (the client token) asks Kaltura whether it knows them (every USER session may read its
  own user); if not → ``pending``: Kaltura creates the user on the member's first upload
  (kaltura-api.md §7), listing works meanwhile, and the next verification turns the link into
  ``created``;
* anything else Kaltura refuses → ``failed`` with Kaltura's code, retried on the next use.

Once ``existed`` or ``created`` a link costs no Kaltura call (the picker's steady state stays one
``media.list``). Two first uses at the same moment make one link: the table's unique constraint on
(hub, member) decides, the loser reads the winner's row, and Kaltura itself refuses a second user
with the same id. Every outcome is audited (no secret is in any detail).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.identity.mapping import KALTURA_USER_ID, mapped_user_id
from portal.kaltura import KalturaGateway
from portal.kaltura.diagnostics import USER_ROLE_ADVICE
from portal.kaltura.errors import KalturaApiError, KalturaError, KalturaUnavailable
from portal.kaltura.types import KalturaUser
from portal.models import Hub, IdentityState, KalturaConnection, KalturaIdentity, Membership, User

#: Kaltura's answers to ``user.add`` for an id that already exists (reference §7 and the sandbox).
DUPLICATE_CODES = frozenset({"DUPLICATE_USER_BY_ID", "USER_ALREADY_EXISTS"})
#: Kaltura's answers when the session's role does not allow reading or adding other users.
NO_PERMISSION_CODES = frozenset(
    {"SERVICE_FORBIDDEN", "CANNOT_RETRIEVE_ANOTHER_USER_USING_NON_ADMIN_SESSION", "PERMISSION_NOT_FOUND"}
)
#: Our code for a Kaltura that did not answer (no Kaltura code exists then).
UNAVAILABLE_CODE = "KALTURA_UNAVAILABLE"
#: Our code for a mapped id Kaltura would refuse (its user-id pattern, reference §7).
REFUSED_ID_CODE = "INVALID_USER_ID_FORMAT"

#: A pending link is asked about again at most this often by the picker (the member's page always asks).
PENDING_RECHECK = timedelta(minutes=10)
#: A failed link is tried again at most this often (so a broken connection is not hammered per page).
FAILED_RETRY = timedelta(seconds=30)

#: What an admin can do so that members are created at once instead of on their first upload.
BETTER_SERVER_TOKEN = (
    USER_ROLE_ADVICE[0].upper()
    + USER_ROLE_ADVICE[1:].replace("paste it here", "paste it in Hub settings → Integrations: Kaltura")
    + ". Members are then looked up and created in Kaltura the first time they use it."
)
PENDING_EXPLAINED = (
    "The hub's server token may not look up or create Kaltura users, so Kaltura will create your user the "
    "first time you upload. Until then you can browse and use media as usual."
)


class IdentityError(Exception):
    """Why a member cannot be linked to a Kaltura user: a sentence for the member and what to do."""

    kind = "identity"
    status = 409

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class NotConnected(IdentityError):
    kind = "not_connected"


class NotAMember(IdentityError):
    kind = "not_member"
    status = 404


class ProvisioningFailed(IdentityError):
    """Kaltura refused or did not answer; the link is stored as ``failed`` with the code for support."""

    kind = "failed"
    status = 502


@dataclass(frozen=True)
class Outcome:
    state: IdentityState
    code: str | None = None
    kaltura_user: KalturaUser | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


def kaltura_id_for(connection: KalturaConnection, email: str) -> str:
    """The Kaltura user id the hub's mapping gives ``email`` today."""
    return mapped_user_id(email, connection.user_id_mode, connection.custom_rule)


def link_of(db: Session, hub: Hub, user: User) -> KalturaIdentity | None:
    return db.scalar(
        sa.select(KalturaIdentity).where(KalturaIdentity.hub_id == hub.id, KalturaIdentity.user_id == user.id)
    )


def connection_for(db: Session, hub: Hub) -> KalturaConnection | None:
    return db.scalar(sa.select(KalturaConnection).where(KalturaConnection.hub_id == hub.id))


def is_member(db: Session, hub: Hub, user: User) -> bool:
    return (
        db.scalar(sa.select(Membership.id).where(Membership.hub_id == hub.id, Membership.user_id == user.id))
        is not None
    )


def split_name(display_name: str | None, email: str) -> tuple[str, str | None]:
    """(first name, last name) for Kaltura from the portal's one display name.

    "Pat Quinn" → ("Pat", "Quinn"); "Mary Ann van der Berg" → ("Mary", "Ann van der Berg") (the first
    word is the given name, the rest stays together); one word → (word, None); no name → the email's
    local part, so Kaltura never shows a user without a name.
    """
    words = (display_name or "").split()
    if not words:
        return email.partition("@")[0], None
    if len(words) == 1:
        return words[0], None
    return words[0], " ".join(words[1:])


def ensure_link(
    db: Session,
    gateway: KalturaGateway,
    hub: Hub,
    user: User,
    connection: KalturaConnection | None = None,
    *,
    actor: User | None = None,
    verify: bool = False,
) -> KalturaIdentity:
    """The member's link, made (provisioning the Kaltura user) on first use; commits with its audit event.

    ``verify`` asks Kaltura again about a ``pending`` or ``failed`` link (the member's page does);
    otherwise a pending link is asked about at most every :data:`PENDING_RECHECK`. Raises
    :class:`NotConnected`, :class:`NotAMember`, or :class:`ProvisioningFailed` (the link is then saved as
    ``failed`` with Kaltura's code, and nothing else is).
    """
    connection = connection or connection_for(db, hub)
    if connection is None or not connection.is_complete or not hub.plan.is_paid:
        raise NotConnected(f"The hub {hub.name} is not connected to Kaltura.")
    if not is_member(db, hub, user):
        raise NotAMember(f"{user.email} is not a member of the hub {hub.name}.")
    link = link_of(db, hub, user)
    now = utcnow()
    if link is not None and not _needs_asking(link, now, verify):
        if link.state is IdentityState.FAILED:
            raise ProvisioningFailed(_failed_message(link.error_code), code=link.error_code)
        return link
    kaltura_id = link.kaltura_user_id if link is not None else kaltura_id_for(connection, user.email)
    outcome = _provision(gateway, connection, kaltura_id, user, link)
    if link is not None and outcome.state is IdentityState.FAILED and link.state is IdentityState.PENDING:
        # Kaltura did not answer a re-check: a pending member can still browse, so nothing changes.
        return link
    saved = _save(db, hub, user, link, kaltura_id, outcome, actor, now)
    if saved.state is IdentityState.FAILED:
        raise ProvisioningFailed(_failed_message(saved.error_code), code=saved.error_code)
    return saved


def _needs_asking(link: KalturaIdentity, now: datetime, verify: bool) -> bool:
    if link.state in (IdentityState.EXISTED, IdentityState.CREATED):
        return False
    if verify:
        return True
    last = link.verified_at or link.updated_at or link.linked_at
    wait = PENDING_RECHECK if link.state is IdentityState.PENDING else FAILED_RETRY
    return last is None or now - last >= wait


def _failed_message(code: str | None) -> str:
    if code == REFUSED_ID_CODE:
        return (
            "The hub's user-id mapping makes a Kaltura user id from your email that Kaltura refuses (only letters, "
            "digits and . @ _ - + and a few other signs; no spaces). Ask a hub admin or support to change the "
            "hub's user-id mapping on its Kaltura tab."
        )
    shown = f" (Kaltura answered {code})" if code and code != UNAVAILABLE_CODE else ""
    if code == UNAVAILABLE_CODE:
        shown = " (Kaltura did not answer)"
    return (
        f"Your Kaltura user could not be set up{shown}. Try again in a few minutes; if it keeps failing, "
        "contact support: they can see the details on the hub's Kaltura status."
    )


def _provision(
    gateway: KalturaGateway,
    connection: KalturaConnection,
    kaltura_id: str,
    user: User,
    link: KalturaIdentity | None,
) -> Outcome:
    """Ask Kaltura about ``kaltura_id`` and create it when missing and allowed. Never raises for Kaltura."""
    if not KALTURA_USER_ID.match(kaltura_id):
        return Outcome(IdentityState.FAILED, REFUSED_ID_CODE)
    server = connection.sealed_token("server")
    client = connection.sealed_token("client")
    assert server is not None and client is not None  # is_complete
    url = connection.service_url
    try:
        may_read = True
        try:
            found = gateway.get_user(url, server, kaltura_id)
        except KalturaApiError as error:
            if error.code not in NO_PERMISSION_CODES:
                raise
            # The article's server token may not read other users; the member's own session may read itself.
            may_read = False
            found = gateway.get_own_user(url, client, kaltura_id)
        if found is not None:
            return Outcome(_found_state(found, link), kaltura_user=found)
        first, last = split_name(user.display_name, user.email)
        try:
            made = gateway.add_user(url, server, kaltura_id, email=user.email, first_name=first, last_name=last)
        except KalturaApiError as error:
            if error.code in DUPLICATE_CODES:
                return Outcome(IdentityState.EXISTED)
            if error.code in NO_PERMISSION_CODES:
                return Outcome(IdentityState.PENDING, error.code if may_read else "SERVICE_FORBIDDEN")
            raise
        return Outcome(IdentityState.CREATED, kaltura_user=made)
    except KalturaApiError as error:
        return Outcome(IdentityState.FAILED, error.code)
    except KalturaUnavailable:
        return Outcome(IdentityState.FAILED, UNAVAILABLE_CODE)
    except KalturaError as error:  # the outbound policy refused the service URL
        return Outcome(IdentityState.FAILED, error.code)


def _found_state(found: KalturaUser, link: KalturaIdentity | None) -> IdentityState:
    """``existed``, or ``created`` for a pending link whose user Kaltura made after the link (first upload)."""
    if link is None:
        return IdentityState.EXISTED
    if link.state is IdentityState.CREATED:
        return IdentityState.CREATED
    # A minute of slack between Kaltura's clock (createdAt) and ours (linked_at).
    linked = int(link.linked_at.timestamp()) - 60
    if link.state is IdentityState.PENDING and found.created_at is not None and found.created_at >= linked:
        return IdentityState.CREATED
    return IdentityState.EXISTED


def _save(
    db: Session,
    hub: Hub,
    user: User,
    link: KalturaIdentity | None,
    kaltura_id: str,
    outcome: Outcome,
    actor: User | None,
    now: datetime,
) -> KalturaIdentity:
    code = outcome.code if outcome.state in (IdentityState.FAILED, IdentityState.PENDING) else None
    if link is None:
        link = KalturaIdentity(
            hub_id=hub.id,
            user_id=user.id,
            kaltura_user_id=kaltura_id,
            state=outcome.state,
            error_code=code,
            email=user.email,
            linked_at=now,
            verified_at=None if outcome.state is IdentityState.FAILED else now,
        )
        try:
            with db.begin_nested():  # two first uses at once: the unique (hub, member) picks one row
                db.add(link)
        except IntegrityError:
            winner = link_of(db, hub, user)
            if winner is None:
                raise
            if outcome.state is IdentityState.CREATED and winner.state is IdentityState.EXISTED:
                # The other request saw our user.add as a duplicate: the user was in fact created for them.
                winner.state = IdentityState.CREATED
                db.commit()
            elif winner.state is IdentityState.FAILED and outcome.state is not IdentityState.FAILED:
                # Kaltura failed the other request but answered ours: ours is the truth now.
                return _save(db, hub, user, winner, kaltura_id, outcome, actor, now)
            return winner
        action = "identity.linked"
        previous = None
    else:
        previous = link.state.value
        link.state = outcome.state
        link.error_code = code
        if outcome.state is not IdentityState.FAILED:
            link.verified_at = now
        action = "identity.verified"
    audit.record(
        db,
        action=action if outcome.state is not IdentityState.FAILED else "identity.failed",
        actor=actor or user,
        hub=hub,
        member=user.email,
        kaltura_user_id=kaltura_id,
        state=outcome.state.value,
        previous_state=previous,
        kaltura_code=code,
    )
    db.commit()
    return link


# -- views of the links: statistics, the member table, drift -----------------------------------------


def identity_statistics(db: Session, hub: Hub) -> dict[str, int]:
    """How the hub's members are linked: ``existed``, ``created``, ``pending``, ``failed`` and ``drifted``
    (links whose id differs from what the mapping would give the member today). No Kaltura call."""
    stats = {state.value: 0 for state in IdentityState}
    rows = db.execute(
        sa.select(KalturaIdentity.state, sa.func.count())
        .where(KalturaIdentity.hub_id == hub.id)
        .group_by(KalturaIdentity.state)
    )
    for state, count in rows:
        stats[IdentityState(state).value] = int(count)
    stats["drifted"] = len(identity_drift(db, hub))
    return stats


@dataclass(frozen=True)
class MemberRow:
    """One member in the hub's identity table (admin status page, mapping preview)."""

    user_id: int
    email: str
    name: str
    linked_id: str | None
    state: IdentityState | None
    error_code: str | None
    mapped_id: str | None
    linked_at: datetime | None
    verified_at: datetime | None

    @property
    def drifted(self) -> bool:
        return bool(self.linked_id and self.mapped_id and self.linked_id.lower() != self.mapped_id.lower())


def member_identity_rows(
    db: Session, hub: Hub, *, page: int = 1, page_size: int = 50, problem: str | None = None
) -> tuple[list[MemberRow], int]:
    """A page of the hub's members with their link (or none yet) and today's mapped id; and the total.

    ``problem`` filters: ``"drifted"``, ``"pending"``, ``"failed"`` or ``"unlinked"``. No Kaltura call.
    Meant for the admin status page's member table as well as the Members tools here.
    """
    connection = connection_for(db, hub)
    query = (
        sa.select(User, KalturaIdentity)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(KalturaIdentity, sa.and_(KalturaIdentity.user_id == User.id, KalturaIdentity.hub_id == hub.id))
        .where(Membership.hub_id == hub.id)
        .order_by(User.email)
    )
    if problem in ("pending", "failed"):
        query = query.where(KalturaIdentity.state == IdentityState(problem))
    elif problem == "unlinked":
        query = query.where(KalturaIdentity.id.is_(None))
    rows = [_row(user, link, connection) for user, link in db.execute(query)]
    if problem == "drifted":
        rows = [row for row in rows if row.drifted]
    total = len(rows)
    start = (max(1, page) - 1) * page_size
    return rows[start : start + page_size], total


def _row(user: User, link: KalturaIdentity | None, connection: KalturaConnection | None) -> MemberRow:
    mapped = None
    if connection is not None:
        try:
            mapped = kaltura_id_for(connection, user.email)
        except Exception:  # a rule support saved and later broke: shown as no mapped id, not a 500
            mapped = None
    return MemberRow(
        user_id=user.id,
        email=user.email,
        name=user.display_name,
        linked_id=link.kaltura_user_id if link else None,
        state=link.state if link else None,
        error_code=link.error_code if link else None,
        mapped_id=mapped,
        linked_at=link.linked_at if link else None,
        verified_at=link.verified_at if link else None,
    )


@dataclass(frozen=True)
class Drift:
    user_id: int
    email: str
    linked_id: str
    mapped_id: str
    derived_from: str


def identity_drift(db: Session, hub: Hub) -> list[Drift]:
    """Members whose link keeps an id the mapping would no longer give them (email or mapping changed)."""
    connection = connection_for(db, hub)
    if connection is None:
        return []
    links = db.execute(
        sa.select(KalturaIdentity, User)
        .join(User, User.id == KalturaIdentity.user_id)
        .where(KalturaIdentity.hub_id == hub.id)
        .order_by(User.email)
    )
    drifts = []
    for link, user in links:
        try:
            mapped = kaltura_id_for(connection, user.email)
        except Exception:  # a broken custom rule: no drift can be computed for anyone
            return []
        if mapped.lower() != link.kaltura_user_id.lower():
            drifts.append(Drift(user.id, user.email, link.kaltura_user_id, mapped, link.email))
    return drifts


def drift_of(db: Session, hub: Hub, user: User) -> Drift | None:
    return next((d for d in identity_drift(db, hub) if d.user_id == user.id), None)


def move_member(db: Session, gateway: KalturaGateway, hub: Hub, user: User, *, actor: User | None) -> KalturaIdentity:
    """Move a drifted member's link to the id the mapping gives them now, provisioning it in Kaltura.

    Media owned in Kaltura by the old id stays with that Kaltura user: nothing in Kaltura is moved or
    deleted. Raises :class:`IdentityError` when there is nothing to move or Kaltura refuses the new id
    (the link is then unchanged).
    """
    connection = connection_for(db, hub)
    if connection is None or not connection.is_complete:
        raise NotConnected(f"The hub {hub.name} is not connected to Kaltura.")
    drift = drift_of(db, hub, user)
    link = link_of(db, hub, user)
    if drift is None or link is None:
        raise IdentityError(f"{user.email} already uses the Kaltura id the mapping gives them; nothing to move.")
    outcome = _provision(gateway, connection, drift.mapped_id, user, None)
    if outcome.state is IdentityState.FAILED:
        raise ProvisioningFailed(
            f"{user.email} was not moved: Kaltura refused the new id {drift.mapped_id!r} ({outcome.code}). "
            "The member keeps the old id.",
            code=outcome.code,
        )
    now = utcnow()
    link.kaltura_user_id = drift.mapped_id
    link.state = outcome.state
    link.error_code = outcome.code if outcome.state is IdentityState.PENDING else None
    link.email = user.email
    link.linked_at = now
    link.verified_at = now
    audit.record(
        db,
        action="identity.moved",
        actor=actor,
        hub=hub,
        member=user.email,
        old_kaltura_user_id=drift.linked_id,
        kaltura_user_id=drift.mapped_id,
        state=outcome.state.value,
    )
    db.commit()
    return link

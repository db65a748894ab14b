"""Demo data for `make demo` and the browser tests. Idempotent: a second run changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.accounts.services import create_user, find_by_email
from portal.hubs.services import add_member, create_hub
from portal.models import Hub, Membership, Plan, Role

DEMO_PASSWORD = "demo-password"


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    description: str
    is_support: bool = False


ADMIN = DemoUser("ada@northwind.example", "Ada Admin", "hub admin of Northwind Studios")
PARTICIPANT = DemoUser("pat@northwind.example", "Pat Participant", "participant (has a Kaltura user)")
PARTICIPANT_2 = DemoUser("sam@northwind.example", "Sam Sample", "participant (Kaltura user created by the portal)")
SUPPORT = DemoUser("sue@support.example", "Sue Support", "support staff (read-only everywhere)", is_support=True)
FREE_ADMIN = DemoUser("rita@riverside.example", "Rita Rivers", "hub admin of Riverside Club (free plan)")
NEWCOMER = DemoUser("nina@northwind.example", "Nina Newcomer", "in no hub yet: invite her on the Members tab")
HARBOUR_PARTICIPANT = DemoUser(
    "hana@harbour.example", "Hana Harbour", "participant of Harbour Lab (Kaltura user pending until her first upload)"
)

USERS = (ADMIN, PARTICIPANT, PARTICIPANT_2, SUPPORT, FREE_ADMIN, NEWCOMER)

PAID_HUB = ("northwind", "Northwind Studios", Plan.PRO)
FREE_HUB = ("riverside", "Riverside Club", Plan.FREE)
#: A second paid hub, connected by `make demo` with a server token made as the help article says (no
#: role): its members' Kaltura users cannot be created by the portal, so a new member is pending.
HARBOUR_HUB = ("harbour", "Harbour Lab", Plan.PRO)

MEMBERSHIPS = (
    ("northwind", ADMIN, Role.ADMIN),
    ("northwind", PARTICIPANT, Role.PARTICIPANT),
    ("northwind", PARTICIPANT_2, Role.PARTICIPANT),
    ("riverside", FREE_ADMIN, Role.ADMIN),
    ("riverside", PARTICIPANT, Role.PARTICIPANT),
)
HARBOUR_MEMBERSHIPS = (
    ("harbour", ADMIN, Role.ADMIN),
    ("harbour", HARBOUR_PARTICIPANT, Role.PARTICIPANT),
)


def seed_demo(db: Session, *, harbour: bool = True) -> list[str]:
    """Create the demo users, hubs and memberships that are missing; return what was created.

    ``harbour=False`` leaves out Harbour Lab (the second paid hub, for the identity demo): most tests
    use the smaller world.
    """
    users = USERS + ((HARBOUR_PARTICIPANT,) if harbour else ())
    hubs = (PAID_HUB, FREE_HUB) + ((HARBOUR_HUB,) if harbour else ())
    memberships = MEMBERSHIPS + (HARBOUR_MEMBERSHIPS if harbour else ())
    created: list[str] = []
    for user in users:
        if find_by_email(db, user.email) is None:
            create_user(
                db, email=user.email, display_name=user.name, password=DEMO_PASSWORD, is_support=user.is_support
            )
            created.append(f"user {user.email}")
    for slug, name, plan in hubs:
        if db.scalar(sa.select(Hub.id).where(Hub.slug == slug)) is None:
            create_hub(db, name=name, slug=slug, plan=plan)
            created.append(f"hub {slug}")
    for slug, user, role in memberships:
        hub = db.scalars(sa.select(Hub).where(Hub.slug == slug)).one()
        account = find_by_email(db, user.email)
        assert account is not None  # created above
        exists = db.scalar(
            sa.select(Membership.id).where(Membership.hub_id == hub.id, Membership.user_id == account.id)
        )
        if exists is None:
            add_member(db, hub=hub, email=user.email, role=role, actor=None)
            created.append(f"membership {user.email} in {slug}")
    return created

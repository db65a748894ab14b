"""Two first uses of the same member at the same moment: one link, at most one Kaltura user.

Runs on the suite's database: SQLite by default, PostgreSQL with TEST_DATABASE_URL (run it both ways).
The sandbox holds every user lookup for a moment, so both threads see "no such user", both send
``user.add``, and both try to insert the link: Kaltura refuses the second user (duplicate), the
database's unique (hub, member) refuses the second link, and the loser uses the winner's row.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from portal.identity.links import ensure_link
from portal.models import AuditEvent, Hub, KalturaIdentity, User
from tests import identity_support as ids

THREADS = 4


def test_concurrent_first_uses_make_one_link_and_one_kaltura_user(app, db, demo, sandbox):
    ids.connect(app, db, sandbox)
    # Long enough that all four lookups overlap even when a loaded CI machine starts the threads
    # far apart (0.4 s once let one thread create the user before another had looked).
    sandbox.control("latency", seconds=1.5, action="user.list")
    sandbox.control("calls/reset")
    gateway = app.extensions["kaltura"]
    barrier = threading.Barrier(THREADS)
    results: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def first_use() -> None:
        session = app.extensions["db"]()  # each request has its own session and connection
        try:
            hub = session.scalar(sa.select(Hub).where(Hub.slug == "northwind"))
            sam = session.scalar(sa.select(User).where(User.email == "sam@northwind.example"))
            barrier.wait(timeout=10)
            link = ensure_link(session, gateway, hub, sam)
            results.append((link.kaltura_user_id, link.state.value))
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=first_use) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert len(results) == THREADS
    assert {kaltura_id for kaltura_id, _ in results} == {"sam@northwind.example"}
    calls = sandbox.calls()
    assert calls.get("user.add", 0) >= 2  # the race really happened: several threads tried to create the user
    db.expire_all()
    links = db.scalars(sa.select(KalturaIdentity)).all()
    assert len(links) == 1
    assert links[0].state.value == "created"  # whoever committed, the user was created for this member
    made = ids.kaltura_api(
        sandbox,
        "user",
        "list",
        ks=ids.admin_ks(sandbox),
        filter={"objectType": "KalturaUserFilter", "idEqual": "sam@northwind.example"},
    )
    assert made["totalCount"] == 1
    linked = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "identity.linked")).all()
    assert len(linked) == 1  # one link, one audit row

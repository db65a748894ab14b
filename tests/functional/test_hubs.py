"""The hub list and navigation (issue 9, item 8): support sees every hub's Kaltura status and "All hubs"."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.models import Hub
from tests.functional.test_authorization import _connect_without_network
from tests.helpers import csrf_token, sign_in


def _cards(text):  # type: ignore[no-untyped-def]
    return {
        name: status
        for name, status in re.findall(
            r'<h2><a href="/hubs/[a-z-]+">([^<]+)</a></h2>.*?Kaltura:\s*<span class="badge[^"]*">([^<]+)</span>',
            text,
            re.S,
        )
    }


def test_support_sees_each_hubs_kaltura_status(app, client, db, demo):  # type: ignore[no-untyped-def]
    northwind = db.scalar(sa.select(Hub).where(Hub.slug == "northwind"))
    sign_in(client, "sue@support.example")
    assert _cards(client.get("/").text) == {"Northwind Studios": "Not connected", "Riverside Club": "Needs a paid plan"}

    _connect_without_network(app, db, northwind)
    assert _cards(client.get("/").text)["Northwind Studios"] == "Connected"

    from portal.models import KalturaConnection

    connection = db.scalar(sa.select(KalturaConnection).where(KalturaConnection.hub_id == northwind.id))
    connection.client_token_sealed = None
    db.commit()
    assert _cards(client.get("/").text)["Northwind Studios"] == "Incomplete"


def test_the_hub_list_costs_one_query_however_many_hubs(app, client, db, demo):  # type: ignore[no-untyped-def]
    from portal.hubs.services import create_hub, hubs_for
    from portal.models import User

    for i in range(5):
        create_hub(db, name=f"Extra {i}", slug=f"extra-{i}")
    sue = db.scalar(sa.select(User).where(User.email == "sue@support.example"))
    statements: list[str] = []
    engine = db.get_bind()

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        listed = hubs_for(db, sue)
        statuses = [item.kaltura_status for item in listed]
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statuses) == 7
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_the_nav_says_all_hubs_to_support_and_my_hubs_to_others(client, demo):  # type: ignore[no-untyped-def]
    sign_in(client, "sue@support.example")
    page = client.get("/").text
    assert re.search(r'<nav class="topnav"[^>]*>\s*<a [^>]*>All hubs</a>', page)
    assert ">Audit log</a>" in page
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(client, "ada@northwind.example")
    page = client.get("/").text
    assert re.search(r'<nav class="topnav"[^>]*>\s*<a [^>]*>My hubs</a>', page)
    assert ">Audit log</a>" not in page.split("</nav>")[0]

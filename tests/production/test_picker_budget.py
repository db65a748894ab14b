"""Every picker request is bounded in total time (PORTAL_PICKER_KALTURA_BUDGET): a slow Kaltura gets
the picker's error state, not a worker held until gunicorn's timeout kills it."""

from __future__ import annotations

import html

import pytest

from tests import picker_support as ps


@pytest.fixture
def app_settings(sandbox):  # type: ignore[no-untyped-def]
    # One call may take 10 s, but a whole picker request only 1 s.
    return {"KALTURA_SANDBOX_URL": sandbox.url, "KALTURA_TIMEOUT": 10.0, "PICKER_KALTURA_BUDGET": 1.0}


def _linked_embedding(app, db, sandbox):  # type: ignore[no-untyped-def]
    """The connected, embeddable demo hub with Pat already linked to their Kaltura user: a first use
    also provisions the link (a server session and user.list), which is not what the budget bounds here."""
    import sqlalchemy as sa

    from portal.identity.links import ensure_link
    from portal.models import User

    ps.connect(app, db, sandbox)
    embedding = ps.embed(app, db)
    pat = db.scalar(sa.select(User).where(User.email == "pat@northwind.example"))
    ensure_link(db, app.extensions["kaltura"], embedding.hub, pat)
    return embedding


@pytest.fixture
def bearer(app, db, demo, sandbox, client):  # type: ignore[no-untyped-def]
    embedding = _linked_embedding(app, db, sandbox)
    launched = ps.launch(client, ps.token(embedding))
    assert launched.status_code == 200
    return ps.bearer(ps.session_token(launched))


def test_a_kaltura_slower_than_the_budget_gets_the_error_state(client, sandbox, bearer):  # type: ignore[no-untyped-def]
    # Each media.list now takes 3 s: within the call's own deadline, beyond the request's budget.
    sandbox.control("latency", seconds=3.0, action="media.list")
    sandbox.control("calls/reset")

    response = client.get("/embed/picker/media", query_string={"q": "drone"}, headers=bearer)

    assert response.status_code == 503
    text = html.unescape(response.text)
    assert 'data-problem="unavailable"' in text and "Kaltura can't be reached right now" in text
    assert "q=drone" in text  # "Try again" repeats the search
    assert sandbox.calls().get("media.list") == 1  # cut off, and no retry started after the budget


def test_within_the_budget_the_same_page_answers(client, sandbox, bearer):  # type: ignore[no-untyped-def]
    sandbox.control("latency", seconds=0.05, action="media.list")

    response = client.get("/embed/picker/media", query_string={"q": "drone"}, headers=bearer)

    assert response.status_code == 200 and 'data-problem="' not in response.text
    assert ps.entry_ids(response.text)


def test_a_slow_kaltura_at_launch_is_bounded_too(app, db, demo, sandbox, client):  # type: ignore[no-untyped-def]
    embedding = _linked_embedding(app, db, sandbox)
    sandbox.control("latency", seconds=3.0, action="media.list")

    launched = ps.launch(client, ps.token(embedding))

    # The launch itself succeeds (the session is open); its first page says Kaltura is slow.
    assert launched.status_code == 200
    assert 'data-problem="unavailable"' in launched.text
    assert ps.session_token(launched)

"""Helpers the tests share: reading CSRF tokens, signing in, snapshotting the database."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from portal.db import Base

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on ``path``, as a browser would read it."""
    response = client.get(path)
    match = CSRF.search(response.text)
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = "demo-password") -> None:
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text


#: What the gateway records about Kaltura calls (issue 10): figures written by the recorder's own
#: thread, a moment after the call, not data a request changes. Left out of snapshots unless asked.
TELEMETRY = frozenset({"kaltura_call_stats", "kaltura_token_health"})


def snapshot(
    db, *, except_tables: frozenset[str] | set[str] = frozenset(), telemetry: bool = False
) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    """Every row of every table, to prove a request changed nothing.

    A refusal is itself audited (``access.denied`` and friends): pass ``except_tables={"audit_events"}``
    to compare everything else. The Kaltura call figures (:data:`TELEMETRY`) count only with ``telemetry=True``.
    """
    if not telemetry:
        except_tables = set(except_tables) | TELEMETRY
    db.expire_all()
    return {
        table.name: sorted(tuple(map(str, row)) for row in db.execute(table.select()))
        for table in Base.metadata.sorted_tables
        if table.name not in except_tables
    }

"""A gunicorn worker killed with SIGKILL in the middle of a request loses nothing that was committed,
leaves nothing half-written, and the next request succeeds (the master starts a new worker).

The portal runs under gunicorn.conf.py with one worker (so the worker to kill is known), on SQLite,
or on a database of its own next to TEST_DATABASE_URL's when that is PostgreSQL. The sandbox holds
the request at a known point: its media.list waits until the worker is dead.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from bench import stack
from portal.db import make_engine
from portal.models import AuditEvent, LibraryItem, PickerSession

SESSION = re.compile(r'name="kaltura-picker-session" content="([^"]+)"')
ENTRIES = re.compile(r'role="option" id="entry-([^"]+)"')


def _database(tmp_path: Path) -> str:
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    if test_url.startswith("postgresql"):
        url = sa.engine.make_url(test_url)
        admin = url.set(database="postgres").render_as_string(hide_password=False)
        return stack.create_postgres_database(admin, f"{url.database}_restart")
    return f"sqlite:///{tmp_path / 'portal.sqlite3'}"


@pytest.fixture
def portal(sandbox, tmp_path) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    database = _database(tmp_path)
    env = stack.portal_env(database, sandbox_url=sandbox.url, workdir=tmp_path, production=False)
    secret = stack.prepare(env, sandbox)
    engine = make_engine(database)
    node = stack.Gunicorn(env, workers=1).start()
    try:
        yield {"node": node, "secret": secret, "engine": engine}
    finally:
        node.stop()
        engine.dispose()


def _launch(node: stack.Gunicorn, token: str, timeout: float = 60) -> requests.Response:
    return requests.post(
        node.url + "/embed/picker", data={"launch_token": token}, headers={"Origin": stack.HOST_ORIGIN}, timeout=timeout
    )


def _in_background(function: Any) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["response"] = function()
        except requests.RequestException as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _wait_for(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _count(engine: sa.Engine, statement: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


def _kill_the_worker(node: stack.Gunicorn) -> int:
    (worker,) = node.worker_pids()
    os.kill(worker, signal.SIGKILL)
    return worker


def test_a_killed_worker_keeps_what_was_committed_and_the_next_request_succeeds(portal, sandbox):  # type: ignore[no-untyped-def]
    node, engine = portal["node"], portal["engine"]
    token = stack.launch_token(portal["secret"], "pat@northwind.example")
    launches = sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "embed.launch")
    # The launch commits its jti, picker session and audit event, then lists the first page, which
    # the sandbox holds until the worker is dead.
    sandbox.control("latency", seconds=30, action="media.list")
    thread, outcome = _in_background(lambda: _launch(node, token))
    _wait_for(lambda: _count(engine, launches) == 1 and sandbox.calls().get("media.list"), "the launch to commit")

    killed = _kill_the_worker(node)
    thread.join(timeout=30)

    assert "error" in outcome and "response" not in outcome  # the request really died with its worker
    sandbox.control("latency", seconds=0, action="media.list")
    assert _count(engine, launches) == 1
    assert _count(engine, sa.select(sa.func.count()).select_from(PickerSession)) == 1
    replayed = _launch(node, token)  # the next request: served by the worker the master started
    assert replayed.status_code == 401 and 'data-category="already_used"' in replayed.text  # the jti survived
    fresh = _launch(node, stack.launch_token(portal["secret"], "pat@northwind.example"))
    assert fresh.status_code == 200 and len(ENTRIES.findall(fresh.text)) == 24
    assert node.worker_pids() and killed not in node.worker_pids()
    assert "was sent SIGKILL" in node.log_text() or "Worker (pid:" in node.log_text()


def test_a_request_killed_before_its_commit_leaves_nothing_half_written(portal, sandbox):  # type: ignore[no-untyped-def]
    node, engine = portal["node"], portal["engine"]
    opened = _launch(node, stack.launch_token(portal["secret"], "pat@northwind.example"))
    assert opened.status_code == 200
    found = SESSION.search(opened.text)
    assert found is not None
    headers = {"Authorization": f"Bearer {found.group(1)}", "HX-Request": "true"}
    picks = ENTRIES.findall(opened.text)[:2]
    items = sa.select(sa.func.count()).select_from(LibraryItem)

    def import_picks() -> requests.Response:
        return requests.post(node.url + "/embed/picker/import", data={"entry_id": picks}, headers=headers, timeout=60)

    # The import checks the picks with Kaltura (held by the sandbox) before it writes anything.
    sandbox.control("calls/reset")
    sandbox.control("latency", seconds=30, action="media.list")
    thread, outcome = _in_background(import_picks)
    _wait_for(lambda: sandbox.calls().get("media.list"), "the import to ask Kaltura")

    _kill_the_worker(node)
    thread.join(timeout=30)

    assert "error" in outcome
    assert _count(engine, items) == 0
    sandbox.control("latency", seconds=0, action="media.list")
    again = import_picks()  # the same picker session still works: it was committed at launch
    assert again.status_code == 200, again.text[:500]
    assert _count(engine, items) == 2

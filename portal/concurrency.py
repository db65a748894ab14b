"""How many live Kaltura checks may run at once, per hub and per user, across every worker.

A live check ("Test connection", and the test that "Test and save" runs) holds a worker thread
for up to :data:`~portal.kaltura.diagnostics.CHECK_BUDGET` seconds, so a few admins clicking
again and again (or one script) could tie up the whole site. Each check takes a slot for its hub
and one for its user, counted in the rate limiter's storage (Redis in production, so the count
holds across gunicorn workers); a request that finds no free slot gets a 429 that says why, and
nothing runs.

A slot left behind by a killed worker frees itself: every counter expires a little after the
longest a check can take.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import current_app
from werkzeug.exceptions import TooManyRequests

from portal.kaltura.diagnostics import CHECK_BUDGET

log = logging.getLogger("portal.concurrency")

F = TypeVar("F", bound=Callable[..., Any])
KEY_PREFIX = "portal-live-checks"
# Seconds a counter outlives the longest check, so a slot a killed process held comes back.
EXPIRY = int(CHECK_BUDGET) + 30


class LiveChecksBusy(TooManyRequests):
    """No free slot: a test of this hub, or by this user, is already running."""

    def __init__(self, description: str, scope: str) -> None:
        super().__init__(description, retry_after=5)
        self.scope = scope


@contextmanager
def live_check_slots(hub_id: int, user_id: int) -> Iterator[None]:
    """Hold one live-check slot for the hub and one for the user, or raise :class:`LiveChecksBusy`."""
    from portal.extensions import limiter

    storage = limiter.storage
    wanted = [
        (
            f"{KEY_PREFIX}:user:{user_id}",
            current_app.config["KALTURA_CHECKS_PER_USER"],
            "user",
            "Your previous connection test is still running. Wait for its result (at most "
            f"{CHECK_BUDGET:g} seconds), then try again.",
        ),
        (
            f"{KEY_PREFIX}:hub:{hub_id}",
            current_app.config["KALTURA_CHECKS_PER_HUB"],
            "hub",
            "Another connection test of this hub is running. Wait for it to finish (at most "
            f"{CHECK_BUDGET:g} seconds), then try again.",
        ),
    ]
    held: list[str] = []
    try:
        for key, cap, scope, message in wanted:
            count = storage.incr(key, EXPIRY)
            held.append(key)
            if count > cap:
                raise LiveChecksBusy(message, scope)
        yield
    finally:
        for key in held:
            try:
                storage.incr(key, EXPIRY, amount=-1)
            except Exception:  # the counter expires on its own; never hide the real outcome
                log.warning("could not release live-check slot %s", key, exc_info=True)

"""Which hub a Kaltura call is made for, and the hook that records each call's outcome (issue 10).

The gateway knows a saved token's hub and slot (:class:`~portal.kaltura.vault.SealedToken` carries
both), so every call made with one is attributed to that hub without the caller doing anything.
Calls made before anything is saved (an admin testing tokens they have just pasted, the
``system.ping`` of the live checks) take their hub from :func:`for_hub`, which the services set
around them. A call with neither is not recorded: it belongs to no hub.

:class:`CallRecorder` is what the gateway reports to; the portal's one writes aggregates to the
database (:mod:`portal.status.recording`). Nothing here imports Flask or the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, Protocol

from portal.kaltura.errors import KalturaApiError, KalturaError, KalturaUnavailable, OutboundBlocked
from portal.kaltura.types import SessionInfo

# "refused": Kaltura refused a call the token may lawfully lack (made inside :func:`optional`).
Outcome = Literal["ok", "kaltura_error", "refused", "transport"]
#: Outcomes that say nothing is wrong with the connection.
NOT_FAILURES = frozenset({"ok", "refused"})


@dataclass(frozen=True)
class CallScope:
    """The hub a call is made for and, with a saved token, its slot and public token id."""

    hub_id: int
    slot: str | None = None
    token_id: str | None = None


_scope: ContextVar[CallScope | None] = ContextVar("portal_kaltura_call_scope", default=None)


@contextmanager
def for_hub(hub_id: int, slot: str | None = None, token_id: str | None = None) -> Iterator[CallScope]:
    """Attribute every Kaltura call inside the block to ``hub_id`` (and a saved token's slot)."""
    scope = CallScope(hub_id, slot, token_id)
    reset = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(reset)


_optional: ContextVar[bool] = ContextVar("portal_kaltura_optional_call", default=False)


@contextmanager
def optional() -> Iterator[None]:
    """Calls inside ask for something a token may lawfully lack (reading or adding users, reading
    conversion profiles): Kaltura refusing one is an answer about the token's role, counted in the
    call figures but not a failure of the token. The help article's server token is refused all of
    them by design, and its hub is not "failing" for that: such a refusal is recorded as ``refused``.
    Transport failures still count."""
    reset = _optional.set(True)
    try:
        yield
    finally:
        _optional.reset(reset)


def is_optional() -> bool:
    """Whether the current call was made inside :func:`optional`."""
    return _optional.get()


def current_scope() -> CallScope | None:
    """The scope set by the innermost :func:`for_hub`, or ``None``."""
    return _scope.get()


def classify(error: KalturaError | None) -> tuple[Outcome, str]:
    """``(outcome, code)`` of a finished call: ``ok``, Kaltura's in-band error code, or the transport reason."""
    if error is None:
        return "ok", ""
    if isinstance(error, KalturaApiError):
        return "kaltura_error", error.code[:80]
    if isinstance(error, KalturaUnavailable):
        return "transport", error.reason + (f"/{error.status}" if error.status else "")
    if isinstance(error, OutboundBlocked):
        return "transport", f"blocked/{error.reason}"[:80]
    return "transport", error.code[:80]


class CallRecorder(Protocol):
    """What the gateway tells about the calls it makes. Implementations must never raise."""

    def call_finished(self, scope: CallScope, call: str, outcome: Outcome, code: str, duration_ms: float) -> None: ...

    def session_started(self, scope: CallScope, info: SessionInfo) -> None: ...

    def close(self) -> None:
        """Write what is still pending; called when the gateway that owns the recorder closes."""

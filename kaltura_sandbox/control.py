"""Test/benchmark controls: injected latency and faults, call counters, expired sessions.

The state lives in memory (one ``Controls`` per server) and is driven through the HTTP control
surface (``/__control/...``, only with ``--enable-control``). Action keys are lowercase
``"service.action"`` strings (``"media.list"``); a multirequest counts as ``"multirequest"`` plus
one count per sub-request.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass

from .errors import ERRORS, ApiError

FAULT_KINDS = ("api_error", "http_500", "http_503", "drop", "stall", "drop_after")
TRANSPORT_FAULTS = ("http_500", "http_503", "drop", "stall", "drop_after")


@dataclass
class Fault:
    """Make the next ``count`` calls of ``action`` fail in the way ``kind`` says.

    ``api_error``: an in-band error with ``code`` (default ``INTERNAL_SERVERL_ERROR``);
    ``http_500``/``http_503``: an HTTP error page instead of an API response; ``drop``: the
    connection is closed without a response; ``stall``: the server waits ``seconds`` and then drops
    the connection (a client timeout shorter than that sees a timeout); ``drop_after``: the action
    runs and keeps its effect (a chunk is stored, an entry is made), then the connection is closed
    without the answer: a lost acknowledgement.
    """

    action: str
    count: int
    kind: str = "api_error"
    code: str = "INTERNAL_SERVERL_ERROR"
    seconds: float = 30.0

    def error(self) -> ApiError:
        """The in-band error of an ``api_error`` fault."""
        return ApiError(self.code)


class Controls:
    """Thread-safe registry of the injected behaviours."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency_all = 0.0
        self.latency_by_action: dict[str, float] = {}
        self.faults: list[Fault] = []
        self.calls: Counter[str] = Counter()
        self.sessions_expired_at: float | None = None
        self._ks_first_seen: dict[str, float] = {}

    def reset(self) -> None:
        """Forget every latency, fault, counter and session expiry."""
        with self._lock:
            self.latency_all = 0.0
            self.latency_by_action.clear()
            self.faults.clear()
            self.calls.clear()
            self.sessions_expired_at = None
            self._ks_first_seen.clear()

    # -- latency ---------------------------------------------------------------------------------

    def set_latency(self, seconds: float, action: str | None) -> None:
        """Delay every call (``action`` None) or one action by ``seconds`` (0 removes it)."""
        with self._lock:
            if action is None:
                self.latency_all = max(0.0, seconds)
            elif seconds > 0:
                self.latency_by_action[action.lower()] = seconds
            else:
                self.latency_by_action.pop(action.lower(), None)

    def latency_for(self, action: str) -> float:
        """Seconds to wait before handling ``action``."""
        with self._lock:
            return self.latency_all + self.latency_by_action.get(action, 0.0)

    # -- faults ----------------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        """Queue a fault; ``kind`` and ``code`` are validated."""
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}")
        if fault.kind == "api_error" and fault.code not in ERRORS:
            raise ValueError(f"unknown API error code {fault.code!r}")
        if fault.count < 1:
            raise ValueError("count must be at least 1")
        fault.action = fault.action.lower()
        with self._lock:
            self.faults.append(fault)

    def take_fault(self, action: str, transport: bool) -> Fault | None:
        """Consume one pending fault for ``action`` of the transport or in-band family."""
        with self._lock:
            for fault in self.faults:
                is_transport = fault.kind in TRANSPORT_FAULTS
                if fault.action == action and is_transport == transport:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    # -- counters --------------------------------------------------------------------------------

    def count(self, action: str) -> None:
        """Count one call of ``action``."""
        with self._lock:
            self.calls[action] += 1

    def snapshot(self) -> dict[str, int]:
        """The counters, sorted by action."""
        with self._lock:
            return dict(sorted(self.calls.items()))

    def reset_calls(self) -> None:
        """Zero every counter."""
        with self._lock:
            self.calls.clear()

    # -- session expiry --------------------------------------------------------------------------

    def expire_sessions(self, now: float) -> None:
        """Make every KS seen or issued so far invalid (``INVALID_KS`` with ``EXPIRED``)."""
        with self._lock:
            self.sessions_expired_at = now

    def note_ks(self, ks: str, now: float) -> bool:
        """Record when a KS was first seen; True when it predates ``expire_sessions``.

        A KS carries no issue time, so the sandbox remembers a digest of each KS it issues or
        receives; KSs first seen before the last ``expire_sessions`` are treated as expired.
        """
        digest = hashlib.sha256(ks.encode("utf-8")).hexdigest()
        with self._lock:
            first = self._ks_first_seen.setdefault(digest, now)
            return self.sessions_expired_at is not None and first <= self.sessions_expired_at

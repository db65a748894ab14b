"""Test/benchmark controls: injected latency and faults, call counters, expired sessions.

The state lives in memory (one ``Controls`` per server) and is driven through the HTTP control
surface (``/__control/...``, only with ``--enable-control``). Action keys are lowercase
``"service.action"`` strings (``"media.list"``); a multirequest counts as ``"multirequest"`` plus
one count per sub-request.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections import Counter
from dataclasses import dataclass

from .errors import ERRORS, ApiError

FAULT_KINDS = ("api_error", "http_500", "http_503", "drop", "stall", "drop_after")
TRANSPORT_FAULTS = ("http_500", "http_503", "drop", "stall", "drop_after")
#: What a share of calls can do: any fault, or ``delay`` (wait ``seconds``, then answer normally).
RATE_KINDS = (*FAULT_KINDS, "delay")


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


@dataclass
class FaultRate:
    """A share of calls (``rate``, 0 to 1) of ``action``, or of every call when it is ``None``, that
    fails or waits in the way ``kind`` says (a :class:`Fault` kind, or ``delay``: wait ``seconds``
    and then answer normally). Until cleared.

    Rules share one random draw per call, in the order they were added: with a 5 % ``http_503``
    rule and then a 100 % ``delay`` rule, 5 % of calls fail and every other call is delayed.
    """

    rate: float
    kind: str
    action: str | None = None
    code: str = "INTERNAL_SERVERL_ERROR"
    seconds: float = 30.0

    def error(self) -> ApiError:
        """The in-band error of an ``api_error`` rule."""
        return ApiError(self.code)


class Controls:
    """Thread-safe registry of the injected behaviours."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency_all = 0.0
        self.latency_by_action: dict[str, float] = {}
        self.faults: list[Fault] = []
        self.fault_rates: list[FaultRate] = []
        self.rate_hits: Counter[str] = Counter()
        self._random = random.Random()
        self.calls: Counter[str] = Counter()
        self.sessions_expired_at: float | None = None
        self._ks_first_seen: dict[str, float] = {}

    def reset(self) -> None:
        """Forget every latency, fault, counter and session expiry."""
        with self._lock:
            self.latency_all = 0.0
            self.latency_by_action.clear()
            self.faults.clear()
            self.fault_rates.clear()
            self.rate_hits.clear()
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

    def add_fault_rate(self, rule: FaultRate, seed: int | None = None) -> None:
        """Add a rule (validated); ``seed`` makes the draws repeatable from now on."""
        if rule.kind not in RATE_KINDS:
            raise ValueError(f"kind must be one of {RATE_KINDS}")
        if rule.kind == "api_error" and rule.code not in ERRORS:
            raise ValueError(f"unknown API error code {rule.code!r}")
        if not 0 <= rule.rate <= 1:
            raise ValueError("rate must be from 0 to 1")
        if rule.seconds < 0:
            raise ValueError("seconds must be 0 or more")
        rule.action = rule.action.lower() if rule.action else None
        with self._lock:
            if seed is not None:
                self._random.seed(seed)
            self.fault_rates.append(rule)

    def clear_fault_rates(self) -> None:
        """Remove every rate rule: calls answer normally again (queued faults and latency stay)."""
        with self._lock:
            self.fault_rates.clear()

    def draw_rate(self, action: str) -> FaultRate | None:
        """The rule this call of ``action`` falls under, if any (one draw shared by the rules)."""
        with self._lock:
            rules = [rule for rule in self.fault_rates if rule.action in (None, action)]
            if not rules:
                return None
            draw = self._random.random()
            share = 0.0
            for rule in rules:
                share += rule.rate
                if draw < share:
                    self.rate_hits[rule.kind] += 1
                    return rule
        return None

    def rate_snapshot(self) -> dict[str, object]:
        """The rate rules in force and how many calls each kind has hit since the last reset."""
        with self._lock:
            rules = [
                {"rate": r.rate, "kind": r.kind, "action": r.action, "code": r.code, "seconds": r.seconds}
                for r in self.fault_rates
            ]
            return {"rules": rules, "hits": dict(sorted(self.rate_hits.items()))}

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

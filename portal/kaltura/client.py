"""The HTTP client for Kaltura API v3: one pooled ``requests`` session, JSON in and out, typed errors.

Each call is ``POST {serviceUrl}/api_v3/service/{service}/action/{action}`` with a JSON body and
``Content-Type: application/json`` *exactly* (Kaltura ignores a JSON body whose content type has
a ``; charset`` suffix, reference §1.2), ``format: 1`` and our ``clientTag``. The answer is
Kaltura's bare JSON (no envelope, §1.7); an in-band ``KalturaAPIException`` becomes a
:class:`~portal.kaltura.errors.KalturaApiError`, and transport trouble (refused, dropped, timed
out, HTTP 5xx, a body that is not Kaltura JSON, an oversized body) a
:class:`~portal.kaltura.errors.KalturaUnavailable`.

Retries (exponential backoff with jitter) apply only to calls that create nothing - lists, gets,
counts, session minting - and only for transport failures and the transient codes of §9. Calls
that add, upload or update are sent exactly once.

Time is bounded three ways, all well inside gunicorn's worker timeout:

* each attempt has a **total deadline** (``Timeouts.read``, ``PORTAL_KALTURA_TIMEOUT``): connect,
  request, headers and body must all be done by then, so a server that drips one byte every few
  seconds is cut off (:class:`~portal.kaltura.outbound.Deadline`), not only one that stalls;
* a call with its retries and back-off waits ends within ``RetryPolicy.budget``;
* inside :func:`time_limit`, every call ends by the block's end (``diagnostics`` gives "Test
  connection" one budget for all of its calls this way).

Logging goes to ``portal.kaltura`` and carries only the service, action, duration, attempt and
error code: never parameters, sessions or responses. A redaction filter on that logger masks
anything secret-looking that gets there anyway.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from portal.kaltura import redaction
from portal.kaltura.errors import KalturaApiError, KalturaError, KalturaUnavailable, OutboundBlocked, api_error
from portal.kaltura.outbound import Deadline, OutboundPolicy, ServiceUrl, blocked

logger = redaction.install(logging.getLogger("portal.kaltura"))

CONTENT_TYPE = "application/json"
DEFAULT_CLIENT_TAG = "kaltura-hub-portal"

# Actions that create nothing on the server, so sending them twice is harmless. startSession
# and startWidgetSession mint a stateless KS. Everything else (add, upload, update, delete,
# addContent, ...) is sent once.
SAFE_ACTIONS = frozenset(
    {
        "list",
        "get",
        "count",
        "getdefault",
        "getbyconversionprofileid",
        "ping",
        "startwidgetsession",
        "startsession",
        "getversion",
    }
)


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait. ``read`` is the total deadline of one attempt (connect, headers and body);
    ``connect`` bounds opening the connection (TCP and TLS) within it. ``upload_read`` replaces
    ``read`` for the final chunk of an upload, where Kaltura blocks while it assembles and
    validates the file."""

    connect: float = 5.0
    read: float = 20.0
    upload_read: float = 300.0


@dataclass(frozen=True)
class RetryPolicy:
    """How read calls are retried: up to ``attempts`` tries, waiting ``base_delay * 2**n`` (capped
    at ``max_delay``, with jitter) between them, and never starting a retry after ``budget``
    seconds; the last attempt's deadline is cut to end by then too. Rate limiting
    (``ACTION_BLOCKED``) waits ``blocked_multiplier`` times longer."""

    attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 4.0
    budget: float = 30.0
    blocked_multiplier: float = 4.0

    def delay(self, retry_number: int, *, blocked: bool, rng: Callable[[], float]) -> float:
        """The wait before retry ``retry_number`` (0-based): half fixed, half random ("equal jitter")."""
        base = min(self.max_delay, self.base_delay * (2**retry_number))
        if blocked:
            base *= self.blocked_multiplier
        return base / 2 + rng() * base / 2


@dataclass(frozen=True)
class Call:
    """One sub-request of a multirequest."""

    service: str
    action: str
    params: Mapping[str, Any] = field(default_factory=dict)


_limit_end: ContextVar[float | None] = ContextVar("portal_kaltura_time_limit", default=None)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Every Kaltura call inside the block, retries included, must end within ``seconds`` from now.

    A call that would start after that fails at once with :class:`KalturaUnavailable` ("timeout");
    one under way is cut off when the time is up. Nested limits keep the earlier end.
    """
    end = time.monotonic() + seconds
    outer = _limit_end.get()
    token = _limit_end.set(end if outer is None else min(end, outer))
    try:
        yield
    finally:
        _limit_end.reset(token)


def time_left() -> float | None:
    """Seconds left under the innermost :func:`time_limit`, or ``None`` outside one."""
    end = _limit_end.get()
    return None if end is None else max(0.0, end - time.monotonic())


def is_safe_action(action: str) -> bool:
    """Whether an action creates nothing, so it may be retried."""
    return action.lower() in SAFE_ACTIONS


def _drop_nulls(value: Any) -> Any:
    """Remove ``None`` values recursively: Kaltura omits nulls, and a JSON null would mean "set to null"."""
    if isinstance(value, Mapping):
        return {str(k): _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_drop_nulls(v) for v in value if v is not None]
    return value


def _error_from(payload: Any, service: str | None, action: str | None) -> KalturaApiError | None:
    """The API error in ``payload`` if it is a ``KalturaAPIException``, else ``None``."""
    if not isinstance(payload, dict):
        return None
    is_exception = payload.get("objectType") == "KalturaAPIException"
    if not is_exception and not ("code" in payload and "message" in payload):
        return None
    raw_args = payload.get("args")
    args = raw_args if isinstance(raw_args, dict) else {}  # Kaltura sends [] for "no arguments"
    code, message = str(payload.get("code") or ""), str(payload.get("message") or "")
    return api_error(code, message, args, service=service, action=action)


class KalturaClient:
    """Sends Kaltura API calls through an :class:`OutboundPolicy`-guarded, pooled session.

    ``sleep``, ``clock`` and ``rng`` are injectable so tests can observe backoff without waiting.
    """

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        client_tag: str = DEFAULT_CLIENT_TAG,
        max_response_bytes: int = 8 * 1024 * 1024,
        pool_maxsize: int = 10,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        observer: Callable[[str, KalturaError | None, float], None] | None = None,
    ) -> None:
        self.policy = policy
        #: Told ``(service.action, error or None, milliseconds)`` once per call, retries included
        #: (the gateway records it per hub); its failures are logged, never raised.
        self.observer = observer
        self.timeouts = timeouts
        self.retry = retry
        self.client_tag = client_tag
        self.max_response_bytes = max_response_bytes
        self._session = policy.new_session(pool_maxsize=pool_maxsize)
        self._sleep = sleep
        self._clock = clock
        self._rng = rng

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def __enter__(self) -> KalturaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self,
        service_url: str | ServiceUrl,
        service: str,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        ks: str | None = None,
        retry: bool | None = None,
        final_upload_chunk: bool = False,
    ) -> Any:
        """Call ``service.action`` and return Kaltura's decoded result (dict, list, scalar or ``None``).

        ``retry`` defaults to :func:`is_safe_action`. Raises :class:`KalturaApiError` for an
        in-band error, :class:`KalturaUnavailable` for transport failures and
        :class:`OutboundBlocked` when the policy refuses the URL or its addresses.
        """
        target = self._target(service_url)
        body = self._body(params, ks)
        may_retry = is_safe_action(action) if retry is None else retry
        read_timeout = self.timeouts.upload_read if final_upload_chunk else self.timeouts.read
        label = f"{service}.{action}"
        result = self._send(target.endpoint(service, action), body, label, may_retry, read_timeout)
        error = _error_from(result, service, action)
        if error is not None:
            raise error
        return result

    def multirequest(
        self, service_url: str | ServiceUrl, calls: Sequence[Call], *, ks: str | None = None, retry: bool | None = None
    ) -> list[Any]:
        """Send several calls in one request. Returns one item per call: its result, or the
        :class:`KalturaApiError` it failed with (each sub-request fails independently, §1.10)."""
        if not calls:
            return []
        target = self._target(service_url)
        # Sub-requests are keyed "1", "2", ... (reference §1.10); top-level ks applies to each.
        numbered = {str(i): {"service": c.service, "action": c.action, **c.params} for i, c in enumerate(calls, 1)}
        body = self._body(numbered, ks)
        may_retry = all(is_safe_action(c.action) for c in calls) if retry is None else retry
        result = self._send(target.endpoint("multirequest"), body, "multirequest", may_retry, self.timeouts.read)
        whole = _error_from(result, "multirequest", None)
        if whole is not None:
            raise whole
        if not isinstance(result, list) or len(result) != len(calls):
            raise KalturaUnavailable(
                "invalid_body", "multirequest answer does not match the calls", call="multirequest"
            )
        return [_error_from(item, c.service, c.action) or item for item, c in zip(result, calls, strict=True)]

    # --- internals ------------------------------------------------------------------------

    def _target(self, service_url: str | ServiceUrl) -> ServiceUrl:
        if isinstance(service_url, ServiceUrl):
            return service_url
        return self.policy.check_url(service_url)

    def _body(self, params: Mapping[str, Any] | None, ks: str | None) -> bytes:
        body: dict[str, Any] = {"format": 1, "clientTag": self.client_tag}
        if ks:
            body["ks"] = ks
        body.update(_drop_nulls(dict(params or {})))
        return json.dumps(body, separators=(",", ":")).encode()

    def _send(self, url: str, body: bytes, label: str, may_retry: bool, read_timeout: float) -> Any:
        started = self._clock()
        # Real time, whatever clock the retry logic is given: sockets are cut off in real time.
        budget_end = time.monotonic() + self.retry.budget
        attempt = 0
        while True:
            attempt += 1
            try:
                seconds = self._attempt_seconds(read_timeout, budget_end, label)
                result = self._attempt(url, body, label, seconds)
            except KalturaUnavailable as error:
                if not self._retry_after(error, attempt, may_retry, started, budget_end, label):
                    self._log_outcome(label, error, attempt, started)
                    raise
                continue
            except OutboundBlocked as error:
                logger.warning("kaltura refused %s reason=%s", label, error.reason)
                self._observe(label, error, started)
                raise
            refused = _error_from(result, None, None)
            if refused is not None and self._retry_after(refused, attempt, may_retry, started, budget_end, label):
                continue
            self._log_outcome(label, refused, attempt, started)
            return result

    def _retry_after(
        self, error: KalturaError, attempt: int, may_retry: bool, started: float, budget_end: float, label: str
    ) -> bool:
        """Wait before the next attempt and return True, or return False when there should be none."""
        transient = getattr(error, "is_transient", False)
        in_budget = self._clock() - started < self.retry.budget
        if not (may_retry and transient and attempt < self.retry.attempts and in_budget):
            return False
        delay = self.retry.delay(attempt - 1, blocked=error.code == "ACTION_BLOCKED", rng=self._rng)
        if self._real_time_left(budget_end) <= delay:
            return False  # the next attempt could not even start in time
        logger.info("kaltura retry %s attempt=%d code=%s wait_ms=%d", label, attempt, _code(error), delay * 1000)
        self._sleep(delay)
        return True

    @staticmethod
    def _real_time_left(budget_end: float) -> float:
        left = budget_end - time.monotonic()
        limit = time_left()
        return left if limit is None else min(left, limit)

    def _attempt_seconds(self, read_timeout: float, budget_end: float, label: str) -> float:
        """This attempt's total deadline: the read timeout, cut to the call's budget and any time limit."""
        seconds = min(read_timeout, self._real_time_left(budget_end))
        if seconds <= 0:
            raise KalturaUnavailable("timeout", "the time allowed for this operation ran out", call=label)
        return seconds

    def _attempt(self, url: str, body: bytes, label: str, seconds: float) -> Any:
        """One exchange that ends within ``seconds``, however slowly the server sends."""
        with Deadline(seconds) as deadline:
            try:
                return self._exchange(url, body, label, seconds)
            except KalturaUnavailable as error:
                if deadline.expired:
                    raise KalturaUnavailable(
                        "timeout", f"no complete answer within {seconds:.3g} s", call=label
                    ) from error
                raise

    def _exchange(self, url: str, body: bytes, label: str, seconds: float) -> Any:
        headers = {"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE}
        # TCP connect and the TLS handshake each get half at most, so both fit in the deadline
        # even before the socket is registered with it.
        connect = min(self.timeouts.connect, seconds / 2)
        try:
            response = self._session.post(
                url,
                data=body,
                headers=headers,
                timeout=(connect, seconds),
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout as error:
            raise KalturaUnavailable("timeout", call=label) from error
        except requests.ConnectionError as error:
            raise KalturaUnavailable(_connection_reason(error), call=label) from error
        except requests.RequestException as error:
            raise KalturaUnavailable("connect", type(error).__name__, call=label) from error
        with response:
            return self._read(response, label)

    def _read(self, response: requests.Response, label: str) -> Any:
        status = response.status_code
        if 300 <= status < 400:
            host = urlsplit(response.url).hostname or "?"
            blocked.send(self, stage="redirect", host=host, reason="redirect")
            raise OutboundBlocked(
                "redirect",
                "Kaltura answered with a redirect, which the portal does not follow.",
                "check the service URL: use the Kaltura API host itself, with https://",
            )
        if status != 200:
            raise KalturaUnavailable("http_status", status=status, call=label)
        raw = self._read_capped(response, label)
        if not raw.strip():
            raise KalturaUnavailable("invalid_body", "empty answer", call=label)
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as error:
            raise KalturaUnavailable("invalid_body", "not JSON", call=label) from error

    def _read_capped(self, response: requests.Response, label: str) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise KalturaUnavailable("too_large", call=label)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise KalturaUnavailable("too_large", call=label)
                chunks.append(chunk)
        except requests.Timeout as error:
            raise KalturaUnavailable("timeout", call=label) from error
        except requests.RequestException as error:
            # requests reports a read timeout while streaming the body as a ConnectionError.
            cause = error.args[0] if error.args else None
            reason = "timeout" if isinstance(cause, ReadTimeoutError) else "dropped"
            raise KalturaUnavailable(reason, call=label) from error
        return b"".join(chunks)

    def _observe(self, label: str, error: KalturaError | None, started: float) -> None:
        if self.observer is None:
            return
        try:
            self.observer(label, error, (self._clock() - started) * 1000)
        except Exception:  # recording is bookkeeping: it must never fail or change the call
            logger.warning("kaltura call %s: recording its outcome failed", label, exc_info=True)

    def _log_outcome(self, label: str, error: KalturaError | None, attempt: int, started: float) -> None:
        self._observe(label, error, started)
        duration = (self._clock() - started) * 1000
        if error is None:
            logger.debug("kaltura call %s ok attempt=%d duration_ms=%d", label, attempt, duration)
        else:
            logger.warning(
                "kaltura call %s failed code=%s attempt=%d duration_ms=%d", label, _code(error), attempt, duration
            )


def _connection_reason(error: requests.ConnectionError) -> str:
    """``"dropped"`` when the server closed the connection after we sent the request, else ``"connect"``."""
    cause = error.args[0] if error.args else None
    return "dropped" if isinstance(cause, ProtocolError) else "connect"


def _code(error: KalturaError) -> str:
    if isinstance(error, KalturaUnavailable):
        return f"{error.reason}" + (f"/{error.status}" if error.status else "")
    return error.code

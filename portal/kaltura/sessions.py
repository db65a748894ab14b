"""Kaltura sessions (KS) minted from App Tokens, and the in-process cache that keeps them.

Minting costs two calls (reference §2.2-2.3, DESIGN §3.2):

1. ``session.startWidgetSession(widgetId="_<partnerId>")`` gives an anonymous widget KS;
2. ``appToken.startSession(id, tokenHash, userId, type, expiry)`` sent *with that widget KS*, where
   ``tokenHash = hex(hash_<hashType>(widgetKS + token))``.

The resulting KS is cached until most of its lifetime is used (80% by default), so in steady state
a page costs one Kaltura call. When Kaltura answers ``INVALID_KS`` (expired early, revoked), the
cached KS is dropped, a new one is minted once, and the call is retried once.

The cache key is an HMAC over the service URL, token id, token secret, user and session type, so
the raw token never sits in a dict key, and replacing a token (same id, new secret) can never reuse
the old token's sessions. Its key is random per process, or, when the cache is shared, derived from
the portal's secret key so that every worker computes the same key.

Shared across workers (``PORTAL_REDIS_URL``): :class:`RedisSessionStore` keeps each session in Redis,
**encrypted with the portal's keyring** (AES-GCM, bound to its cache key, so a Redis dump holds no
usable session and a value moved to another key does not decrypt), with Redis expiring it when it
stops being fresh. A worker that misses its own memory looks there before minting, and minting for
one key takes a Redis lock, so N workers mint once between them instead of N times. Redis trouble
never fails a request: the cache then behaves as the per-process one (and says so in the log).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from portal.kaltura.client import KalturaClient
from portal.kaltura.errors import InvalidSession, KalturaUnavailable
from portal.kaltura.outbound import ServiceUrl
from portal.kaltura.tokens import AppToken
from portal.kaltura.types import Privileges, SessionInfo, SessionType, as_str

logger = logging.getLogger("portal.kaltura")

T = TypeVar("T")

#: Seconds of session we ask Kaltura for; the token's own sessionDuration/expiry can shorten it.
DEFAULT_SESSION_EXPIRY = 2 * 3600
#: How long one worker may hold the shared minting lock (two Kaltura calls with their retries fit),
#: and how long another waits for it before minting anyway.
SHARED_MINT_LOCK_SECONDS = 30.0
SHARED_MINT_WAIT_SECONDS = 10.0


def shared_cache_key(secret_key: str | bytes) -> bytes:
    """The cache-key HMAC key every worker derives from the portal's secret key (one-way)."""
    raw = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(raw, b"portal.kaltura.session-cache.v1", hashlib.sha256).digest()


class SharedSessions(Protocol):
    """Where workers share sessions: what :class:`SessionCache` needs from it."""

    def get(self, key: str) -> tuple[SessionInfo, float] | None: ...

    def put(self, key: str, info: SessionInfo, fresh_until: float) -> None: ...

    def discard(self, key: str, ks: str | None = None) -> None: ...

    def mint_lock(self, key: str) -> Any: ...


class SessionCache:
    """Thread-safe, bounded, in-process cache of minted sessions, optionally backed by a shared store.

    A session is served until ``lifetime_fraction`` of its lifetime (mint time to Kaltura's
    ``expiry``) has passed. Minting for one key is serialised by a striped lock so concurrent
    requests for the same user mint once, while other users are not held up; with ``shared``,
    also by the store's lock, so other processes wait for this one's session instead of minting.
    """

    def __init__(
        self,
        *,
        lifetime_fraction: float = 0.8,
        max_entries: int = 2048,
        clock: Callable[[], float] = time.time,
        key: bytes | None = None,
        stripes: int = 64,
        shared: SharedSessions | None = None,
    ) -> None:
        if not 0 < lifetime_fraction <= 1:
            raise ValueError("lifetime_fraction must be in (0, 1]")
        self.lifetime_fraction = lifetime_fraction
        self.max_entries = max_entries
        self._clock = clock
        self._key = key or os.urandom(32)
        self._entries: OrderedDict[str, tuple[SessionInfo, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._mint_locks = tuple(threading.Lock() for _ in range(stripes))
        self.shared = shared

    def key_for(self, service_url: str, token: AppToken, user_id: str | None, session_type: int | None) -> str:
        """The cache key: a keyed hash, never containing the token itself."""
        material = "\x1f".join((service_url, token.id, token.token, user_id or "", str(session_type)))
        return hmac.new(self._key, material.encode(), hashlib.sha256).hexdigest()

    def get(self, key: str) -> SessionInfo | None:
        """The cached session if it is still fresh, else ``None`` (and the stale entry is dropped).

        This process's memory first, then the shared store (whose answer is kept here too).
        """
        local = self._local(key)
        if local is not None or self.shared is None:
            return local
        found = self.shared.get(key)
        if found is None:
            return None
        info, fresh_until = found
        if self._clock() >= fresh_until:
            return None
        self._remember(key, info, fresh_until)
        return info

    def _local(self, key: str) -> SessionInfo | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            info, fresh_until = entry
            if self._clock() >= fresh_until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return info

    def put(self, key: str, info: SessionInfo, minted_at: float) -> None:
        """Keep ``info`` until ``lifetime_fraction`` of its lifetime; sessions without a future expiry are not kept."""
        if info.expiry is None or info.expiry <= minted_at:
            return
        fresh_until = minted_at + self.lifetime_fraction * (info.expiry - minted_at)
        self._remember(key, info, fresh_until)
        if self.shared is not None:
            self.shared.put(key, info, fresh_until)

    def _remember(self, key: str, info: SessionInfo, fresh_until: float) -> None:
        with self._lock:
            self._entries[key] = (info, fresh_until)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def discard(self, key: str, ks: str | None = None) -> None:
        """Forget the session for ``key``; with ``ks``, only if it is still that session (not a newer one)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and (ks is None or hmac.compare_digest(entry[0].ks, ks)):
                del self._entries[key]
        if self.shared is not None:
            self.shared.discard(key, ks)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def now(self) -> float:
        """The cache's clock (unix seconds), also used to stamp new sessions."""
        return self._clock()

    def mint_lock(self, key: str) -> threading.Lock:
        return self._mint_locks[int(key[:8], 16) % len(self._mint_locks)]

    @contextmanager
    def minting(self, key: str) -> Iterator[None]:
        """Held while minting for ``key``: this process's striped lock, then the shared store's lock."""
        with self.mint_lock(key):
            if self.shared is None:
                yield
                return
            with self.shared.mint_lock(key):
                yield


def mint_session(
    client: KalturaClient,
    service_url: str | ServiceUrl,
    token: AppToken,
    user_id: str | None = None,
    *,
    session_type: SessionType | None = None,
    expiry: int | None = DEFAULT_SESSION_EXPIRY,
) -> SessionInfo:
    """Mint a new KS from ``token`` (two Kaltura calls) and return what Kaltura said about it.

    ``session_type`` and ``user_id`` are requests: a token with its own ``sessionType`` or
    ``sessionUserId`` overrides them (reference §2.3.2). Raises the client's typed errors.
    """
    widget = client.call(service_url, "session", "startWidgetSession", {"widgetId": f"_{token.partner_id}"})
    widget_ks = as_str(widget.get("ks")) if isinstance(widget, dict) else None
    if not widget_ks:
        raise KalturaUnavailable(
            "invalid_body", "startWidgetSession returned no session", call="session.startWidgetSession"
        )
    params = {
        "id": token.id,
        "tokenHash": token.token_hash(widget_ks),
        "userId": user_id,
        "type": int(session_type) if session_type is not None else None,
        "expiry": expiry,
    }
    answer = client.call(service_url, "appToken", "startSession", params, ks=widget_ks)
    if not isinstance(answer, dict) or not as_str(answer.get("ks")):
        raise KalturaUnavailable("invalid_body", "startSession returned no session", call="appToken.startSession")
    info = SessionInfo.from_kaltura(answer)
    logger.info("kaltura session minted app_token=%s partner=%s type=%s", token.id, info.partner_id, info.session_type)
    return info


class SessionManager:
    """Hands out cached sessions and runs calls with the one-re-mint-on-``INVALID_KS`` rule."""

    def __init__(
        self, client: KalturaClient, cache: SessionCache, *, expiry: int | None = DEFAULT_SESSION_EXPIRY
    ) -> None:
        self.client = client
        self.cache = cache
        self.expiry = expiry
        #: Told about every session minted for the cache (the gateway records it as the token's health).
        self.on_mint: Callable[[SessionInfo], None] | None = None

    def session(
        self,
        service_url: ServiceUrl,
        token: AppToken,
        user_id: str | None = None,
        session_type: SessionType | None = None,
        *,
        fresh: bool = False,
    ) -> SessionInfo:
        """A fresh-enough session for (service, token, user, type): from the cache, or newly minted.

        ``fresh=True`` always mints (and caches the result): diagnostics use it to prove that
        minting works now, not an hour ago.
        """
        key = self.cache.key_for(service_url.origin, token, user_id, session_type)
        cached = None if fresh else self.cache.get(key)
        if cached is not None:
            return cached
        with self.cache.minting(key):
            # Another thread, or another worker through the shared store, may have minted while we waited.
            cached = None if fresh else self.cache.get(key)
            if cached is not None:
                return cached
            minted_at = self.cache.now()
            info = mint_session(self.client, service_url, token, user_id, session_type=session_type, expiry=self.expiry)
            self.cache.put(key, info, minted_at)
            if self.on_mint is not None:
                try:
                    self.on_mint(info)
                except Exception:  # bookkeeping only
                    logger.warning("kaltura session minted: recording it failed", exc_info=True)
            return info

    def run(
        self,
        service_url: ServiceUrl,
        token: AppToken,
        user_id: str | None,
        session_type: SessionType | None,
        operation: Callable[[str], T],
    ) -> T:
        """Run ``operation(ks)``; on ``INVALID_KS`` drop the session, mint a new one and retry once."""
        info = self.session(service_url, token, user_id, session_type)
        try:
            return operation(info.ks)
        except InvalidSession:
            key = self.cache.key_for(service_url.origin, token, user_id, session_type)
            self.cache.discard(key, info.ks)
            logger.info("kaltura session rejected (INVALID_KS); minting a new one app_token=%s", token.id)
            fresh = self.session(service_url, token, user_id, session_type)
            return operation(fresh.ks)


class RedisSessionStore:
    """Sessions shared by every worker through Redis, encrypted with the portal's keyring.

    Each value is ``keyring.encrypt(json, "kaltura-ks", cache_key)``: AES-GCM under the primary key,
    authenticated together with its own cache key. Redis expires it when it stops being fresh. Any
    Redis error is logged once per minute at most and treated as a miss, so the portal keeps
    working on its per-process cache while Redis is away.
    """

    PREFIX = "portal:kaltura:ks:"
    BINDING = "kaltura-ks"

    def __init__(
        self,
        redis: Any,
        keyring: Any,
        *,
        prefix: str = PREFIX,
        clock: Callable[[], float] = time.time,
        lock_seconds: float = SHARED_MINT_LOCK_SECONDS,
        wait_seconds: float = SHARED_MINT_WAIT_SECONDS,
    ) -> None:
        self.redis = redis
        self.keyring = keyring
        self.prefix = prefix
        self._clock = clock
        self.lock_seconds = lock_seconds
        self.wait_seconds = wait_seconds
        self._last_warning = 0.0

    @classmethod
    def from_url(cls, url: str, keyring: Any, **options: Any) -> RedisSessionStore:
        """A store on the Redis at ``url`` (``redis://host:port/db``), with short socket timeouts."""
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0, health_check_interval=30)
        return cls(client, keyring, **options)

    def get(self, key: str) -> tuple[SessionInfo, float] | None:
        """The shared session and when it stops being fresh, or ``None`` (missing, unreadable, Redis away)."""
        try:
            stored = self.redis.get(self.prefix + key)
        except Exception as error:  # redis.RedisError and socket errors alike: a miss
            self._warn("read", error)
            return None
        if stored is None:
            return None
        try:
            data = json.loads(self.keyring.decrypt(stored.decode(), self.BINDING, key).reveal())
            return _info_from(data), float(data["freshUntil"])
        except Exception:
            # Written under a key that has since been removed from the keyring, or not ours: mint anew.
            logger.info("kaltura session cache: a shared entry did not decrypt; minting a new session")
            return None

    def put(self, key: str, info: SessionInfo, fresh_until: float) -> None:
        """Share ``info`` until ``fresh_until`` (unix seconds)."""
        milliseconds = int((fresh_until - self._clock()) * 1000)
        if milliseconds <= 0:
            return
        sealed = self.keyring.encrypt(json.dumps({**_info_to(info), "freshUntil": fresh_until}), self.BINDING, key)
        try:
            self.redis.set(self.prefix + key, sealed, px=milliseconds)
        except Exception as error:
            self._warn("write", error)

    def discard(self, key: str, ks: str | None = None) -> None:
        """Delete the shared session; with ``ks``, only while it is still that one (a newer one stays)."""
        if ks is not None:
            found = self.get(key)
            if found is None or not hmac.compare_digest(found[0].ks, ks):
                return
        try:
            self.redis.delete(self.prefix + key)
        except Exception as error:
            self._warn("delete", error)

    @contextmanager
    def mint_lock(self, key: str) -> Iterator[None]:
        """Hold the shared minting lock for ``key`` while minting; go ahead without it if Redis is away
        or another worker holds it for longer than ``wait_seconds`` (a slow mint must not stop others)."""
        lock = self.redis.lock(
            self.prefix + "lock:" + key, timeout=self.lock_seconds, blocking_timeout=self.wait_seconds
        )
        try:
            acquired = bool(lock.acquire())
        except Exception as error:
            self._warn("lock", error)
            acquired = False
        try:
            yield
        finally:
            if acquired:
                try:
                    lock.release()
                except Exception as error:  # expired meanwhile, or Redis went away: it expires by itself
                    self._warn("unlock", error)

    def _warn(self, what: str, error: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning >= 60:
            self._last_warning = now
            logger.warning(
                "kaltura session cache: Redis %s failed (%s); using this process's cache", what, type(error).__name__
            )


def _info_to(info: SessionInfo) -> dict[str, Any]:
    kind = info.session_type
    return {
        "ks": info.ks,
        "partnerId": info.partner_id,
        "userId": info.user_id,
        "sessionType": int(kind) if kind is not None else None,
        "expiry": info.expiry,
        "privileges": str(info.privileges),
    }


def _info_from(data: dict[str, Any]) -> SessionInfo:
    kind = data.get("sessionType")
    return SessionInfo(
        ks=str(data["ks"]),
        partner_id=data.get("partnerId"),
        user_id=data.get("userId"),
        session_type=SessionType(kind) if kind in (0, 2) else kind,
        expiry=data.get("expiry"),
        privileges=Privileges.parse(data.get("privileges") or ""),
    )

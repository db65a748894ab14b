"""Kaltura sessions (KS) minted from App Tokens, and the in-process cache that keeps them.

Minting costs two calls (reference §2.2-2.3, DESIGN §3.2):

1. ``session.startWidgetSession(widgetId="_<partnerId>")`` gives an anonymous widget KS;
2. ``appToken.startSession(id, tokenHash, userId, type, expiry)`` sent *with that widget KS*, where
   ``tokenHash = hex(hash_<hashType>(widgetKS + token))``.

The resulting KS is cached until most of its lifetime is used (80% by default), so in steady state
a page costs one Kaltura call. When Kaltura answers ``INVALID_KS`` (expired early, revoked), the
cached KS is dropped, a new one is minted once, and the call is retried once.

The cache key is an HMAC (with a per-process random key) over the service URL, token id, token
secret, user and session type, so the raw token never sits in a dict key, and replacing a token
(same id, new secret) can never reuse the old token's sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from portal.kaltura.client import KalturaClient
from portal.kaltura.errors import InvalidSession, KalturaUnavailable
from portal.kaltura.outbound import ServiceUrl
from portal.kaltura.tokens import AppToken
from portal.kaltura.types import SessionInfo, SessionType, as_str

logger = logging.getLogger("portal.kaltura")

T = TypeVar("T")

#: Seconds of session we ask Kaltura for; the token's own sessionDuration/expiry can shorten it.
DEFAULT_SESSION_EXPIRY = 2 * 3600


class SessionCache:
    """Thread-safe, bounded, in-process cache of minted sessions.

    A session is served until ``lifetime_fraction`` of its lifetime (mint time to Kaltura's
    ``expiry``) has passed. Minting for one key is serialised by a striped lock so concurrent
    requests for the same user mint once, while other users are not held up.
    """

    def __init__(
        self,
        *,
        lifetime_fraction: float = 0.8,
        max_entries: int = 2048,
        clock: Callable[[], float] = time.time,
        key: bytes | None = None,
        stripes: int = 64,
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

    def key_for(self, service_url: str, token: AppToken, user_id: str | None, session_type: int | None) -> str:
        """The cache key: a keyed hash, never containing the token itself."""
        material = "\x1f".join((service_url, token.id, token.token, user_id or "", str(session_type)))
        return hmac.new(self._key, material.encode(), hashlib.sha256).hexdigest()

    def get(self, key: str) -> SessionInfo | None:
        """The cached session if it is still fresh, else ``None`` (and the stale entry is dropped)."""
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
        with self.cache.mint_lock(key):
            cached = None if fresh else self.cache.get(key)  # another thread may have minted while we waited
            if cached is not None:
                return cached
            minted_at = self.cache.now()
            info = mint_session(self.client, service_url, token, user_id, session_type=session_type, expiry=self.expiry)
            self.cache.put(key, info, minted_at)
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

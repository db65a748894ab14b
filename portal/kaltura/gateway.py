"""The Kaltura gateway: the one object the rest of the portal uses to talk to Kaltura.

Build one per process from the settings (``KalturaGateway.from_config(app.config, vault=...)``) and
share it: it holds the pooled HTTP session and the session (KS) cache, and it is thread-safe. Every
method takes the hub's service URL and a token: a saved one as a
:class:`~portal.kaltura.vault.SealedToken`, which the gateway unseals with its vault for the call
(so a saved secret is in clear only here, DESIGN §3.5), or an :class:`~portal.kaltura.tokens.AppToken`
an admin has just pasted. It mints or reuses a session and returns typed values from
:mod:`portal.kaltura.types`. Failures are the typed errors of :mod:`portal.kaltura.errors`.

The session cache lives in this object. It is per process unless it is given a shared store
(``PORTAL_REDIS_URL``, :class:`~portal.kaltura.sessions.RedisSessionStore`): then every worker uses
the sessions any of them minted, kept encrypted in Redis.

Which token to pass (DESIGN §3.1): the *client* token for anything done as a portal user (listing,
searching, uploading); the *server* token for user lookup/provisioning, conversion profiles and
diagnostics.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from portal.kaltura import calls
from portal.kaltura.client import Call, KalturaClient, RetryPolicy, Timeouts
from portal.kaltura.errors import KalturaApiError, KalturaError, KalturaUnavailable
from portal.kaltura.media import (
    BROWSE_STATUSES,
    PLAYBACK_SESSION_SECONDS,
    FlavorAsset,
    MediaQuery,
    PlaybackSource,
    mime_type_for,
    playback_url,
    preview_flavor,
)
from portal.kaltura.outbound import OutboundPolicy, ServiceUrl
from portal.kaltura.sessions import (
    DEFAULT_SESSION_EXPIRY,
    SessionCache,
    SessionManager,
    SharedSessions,
    mint_session,
)
from portal.kaltura.tokens import AppToken
from portal.kaltura.types import (
    PICKER_STATUSES,
    ConversionProfile,
    EntryStatus,
    FlavorParams,
    FourKResult,
    KalturaUser,
    MediaEntry,
    MediaPage,
    MediaType,
    SessionInfo,
    SessionType,
    as_int,
)
from portal.kaltura.uploads import ALL_ENTRY_STATUSES, EntryProgress, UploadToken
from portal.kaltura.vault import SealedToken, TokenVault

MAX_PAGE_SIZE = 500  # Kaltura clamps pageSize to [0, 500] (reference §4.1)

#: A token as the gateway accepts it: pasted (already in clear) or saved (unsealed inside the gateway).
TokenRef = AppToken | SealedToken


def _hosts(value: Any) -> list[str]:
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item and item.strip()]


@dataclass(frozen=True)
class GatewaySettings:
    """Everything the gateway needs from configuration. See :meth:`OutboundPolicy.from_settings`
    for the meaning of the three host lists."""

    allowed_hosts: str | Sequence[str] | None = None
    http_hosts: str | Sequence[str] | None = None
    private_hosts: str | Sequence[str] | None = None
    allow_custom_hosts: bool = False
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    session_expiry: int | None = DEFAULT_SESSION_EXPIRY
    session_lifetime_fraction: float = 0.8
    max_response_bytes: int = 8 * 1024 * 1024
    client_tag: str = "kaltura-hub-portal"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> GatewaySettings:
        """Read the portal's ``KALTURA_*`` settings.

        ``KALTURA_SANDBOX_URL`` (development) is added to the allow-list as given: an
        ``http://127.0.0.1:PORT`` sandbox becomes an allowed plain-http host on that port.
        """
        allowed = config.get("KALTURA_ALLOWED_HOSTS")
        http_hosts = _hosts(config.get("KALTURA_HTTP_HOSTS"))
        sandbox = config.get("KALTURA_SANDBOX_URL")
        allowed_list = _hosts(allowed) if allowed else ["saas"]
        if sandbox:
            allowed_list.append(str(sandbox).rstrip("/"))
        read = float(config.get("KALTURA_TIMEOUT") or Timeouts.read)
        return cls(
            allowed_hosts=allowed_list,
            http_hosts=http_hosts,
            private_hosts=_hosts(config.get("KALTURA_PRIVATE_HOSTS")),
            allow_custom_hosts=bool(config.get("KALTURA_CUSTOM_HOSTS")),
            timeouts=Timeouts(connect=min(read, Timeouts.connect), read=read),
        )

    def policy(self) -> OutboundPolicy:
        return OutboundPolicy.from_settings(
            self.allowed_hosts, self.http_hosts, self.private_hosts, allow_custom_hosts=self.allow_custom_hosts
        )


class KalturaGateway:
    """The portal's facade over Kaltura: service-URL policy, pooled client and session cache."""

    def __init__(
        self,
        settings: GatewaySettings | None = None,
        *,
        policy: OutboundPolicy | None = None,
        vault: TokenVault | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        shared_sessions: SharedSessions | None = None,
        cache_key: bytes | None = None,
        recorder: calls.CallRecorder | None = None,
        closes_recorder: bool = True,
    ) -> None:
        self.settings = settings or GatewaySettings()
        self.vault = vault
        self.policy = policy or self.settings.policy()
        #: Where each call's outcome, code and duration go, per hub (issue 10); ``None`` records nothing.
        self.recorder = recorder
        self._closes_recorder = closes_recorder
        self.client = KalturaClient(
            self.policy,
            timeouts=self.settings.timeouts,
            retry=self.settings.retry,
            client_tag=self.settings.client_tag,
            max_response_bytes=self.settings.max_response_bytes,
            sleep=sleep,
            observer=self._call_finished,
        )
        # With a shared store every worker must compute the same cache key: ``cache_key`` is then
        # derived from the portal's secret key (sessions.shared_cache_key).
        cache = SessionCache(
            lifetime_fraction=self.settings.session_lifetime_fraction,
            clock=clock,
            key=cache_key,
            shared=shared_sessions,
        )
        self.sessions = SessionManager(self.client, cache, expiry=self.settings.session_expiry)
        self.sessions.on_mint = self._session_started

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        *,
        vault: TokenVault | None = None,
        shared_sessions: SharedSessions | None = None,
        cache_key: bytes | None = None,
        recorder: calls.CallRecorder | None = None,
    ) -> KalturaGateway:
        """A gateway from the portal's ``KALTURA_*`` settings; ``vault`` unseals saved tokens,
        ``shared_sessions`` (with its ``cache_key``) shares sessions between workers, and
        ``recorder`` keeps each call's outcome per hub."""
        return cls(
            GatewaySettings.from_config(config),
            vault=vault,
            shared_sessions=shared_sessions,
            cache_key=cache_key,
            recorder=recorder,
        )

    def close(self) -> None:
        """Close pooled connections and write what the recorder still holds (this gateway's owner shuts down)."""
        self.client.close()
        if self.recorder is not None and self._closes_recorder:
            self.recorder.close()

    def single_attempt(self) -> KalturaGateway:
        """A gateway with these settings that tries every call once, for diagnostics: a Kaltura
        that stalls costs one timeout per check, so "Test connection" answers within the timeout
        instead of after several retries. Close it (``with``) when done."""
        settings = replace(self.settings, retry=replace(self.settings.retry, attempts=1))
        return KalturaGateway(
            settings, policy=self.policy, vault=self.vault, recorder=self.recorder, closes_recorder=False
        )

    def __enter__(self) -> KalturaGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- service URLs ---------------------------------------------------------------------

    def check_service_url(self, url: str) -> ServiceUrl:
        """The canonical service URL, or :class:`OutboundBlocked` with a reason and fix (no network)."""
        return self.policy.check_url(url)

    def service_url_choices(self) -> list[tuple[str, str]]:
        """``(url, label)`` pairs for the settings form's select box."""
        return self.policy.choices()

    def ping(self, service_url: str | ServiceUrl, *, retry: bool | None = None) -> None:
        """Check that a Kaltura API answers at ``service_url`` (``system.ping``).

        Any well-formed Kaltura answer counts, an API error included: it proves a Kaltura server
        is there. Raises :class:`KalturaUnavailable` or :class:`OutboundBlocked` otherwise.
        ``retry=False`` gives up after one attempt (one timeout at most).
        """
        try:
            self.client.call(self._target(service_url), "system", "ping", retry=retry)
        except KalturaApiError:
            return

    # --- sessions and generic calls -----------------------------------------------------

    def start_session(
        self,
        service_url: str | ServiceUrl,
        token: TokenRef,
        user_id: str | None = None,
        *,
        session_type: SessionType | None = None,
        fresh: bool = False,
    ) -> SessionInfo:
        """A session for ``user_id`` from ``token``: cached, or minted with two calls (always, with ``fresh``)."""
        with self._scoped(token):
            return self.sessions.session(
                self._target(service_url), self._unsealed(token), user_id, session_type, fresh=fresh
            )

    def call(
        self,
        service_url: str | ServiceUrl,
        token: TokenRef,
        service: str,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        user_id: str | None = None,
        session_type: SessionType | None = None,
        retry: bool | None = None,
        optional: bool = False,
    ) -> Any:
        """Call any action with a session from ``token``; one re-mint and retry on ``INVALID_KS``.

        ``optional``: the token may lawfully lack the permission (:func:`calls.optional`).
        Other modules of ``portal.kaltura`` build on this; the rest of the portal should prefer the
        typed methods below.
        """
        target = self._target(service_url)

        def operation(ks: str) -> Any:
            return self.client.call(target, service, action, params, ks=ks, retry=retry)

        with self._scoped(token), calls.optional() if optional else contextlib.nullcontext():
            return self.sessions.run(target, self._unsealed(token), user_id, session_type, operation)

    # --- media ------------------------------------------------------------------------------

    def list_media(
        self,
        service_url: str | ServiceUrl,
        token: TokenRef,
        user_id: str | None = None,
        *,
        page: int = 1,
        page_size: int = 30,
        free_text: str | None = None,
        media_types: Iterable[MediaType | int] | None = None,
        statuses: Iterable[EntryStatus | int] = PICKER_STATUSES,
        order_by: str = "-createdAt",
        session_type: SessionType | None = SessionType.USER,
    ) -> MediaPage:
        """One page of ``media.list`` as ``user_id``: ready media and media still being processed.

        ``statuses`` is sent as ``statusIn`` because Kaltura lists READY entries only by default.
        """
        page = max(1, int(page))
        page_size = min(MAX_PAGE_SIZE, max(1, int(page_size)))
        params = {
            "filter": self._media_filter(free_text, media_types, statuses, order_by),
            "pager": {"objectType": "KalturaFilterPager", "pageSize": page_size, "pageIndex": page},
        }
        answer = self.call(service_url, token, "media", "list", params, user_id=user_id, session_type=session_type)
        objects = answer.get("objects") if isinstance(answer, dict) else None
        entries = tuple(MediaEntry.from_kaltura(item) for item in objects or () if isinstance(item, dict))
        total = as_int(answer.get("totalCount"), len(entries)) if isinstance(answer, dict) else len(entries)
        return MediaPage(entries, total or 0, page, page_size)

    def count_entries(
        self,
        service_url: str | ServiceUrl,
        token: TokenRef,
        user_id: str | None = None,
        *,
        free_text: str | None = None,
        media_types: Iterable[MediaType | int] | None = None,
        statuses: Iterable[EntryStatus | int] = PICKER_STATUSES,
        session_type: SessionType | None = SessionType.USER,
    ) -> int:
        """How many entries ``user_id`` can list (Kaltura's ``totalCount`` of a one-item page)."""
        listing = self.list_media(
            service_url,
            token,
            user_id,
            page=1,
            page_size=1,
            free_text=free_text,
            media_types=media_types,
            statuses=statuses,
            session_type=session_type,
        )
        return listing.total_count

    @staticmethod
    def _media_filter(
        free_text: str | None,
        media_types: Iterable[MediaType | int] | None,
        statuses: Iterable[EntryStatus | int],
        order_by: str,
    ) -> dict[str, Any]:
        media_filter: dict[str, Any] = {
            "objectType": "KalturaMediaEntryFilter",
            "orderBy": order_by,
            "statusIn": ",".join(str(int(s)) for s in statuses),
        }
        if free_text and free_text.strip():
            media_filter["freeText"] = free_text.strip()
        if media_types:
            media_filter["mediaTypeIn"] = ",".join(str(int(m)) for m in media_types)
        return media_filter

    # --- users (server token) -----------------------------------------------------------

    def get_user(self, service_url: str | ServiceUrl, token: TokenRef, user_id: str) -> KalturaUser | None:
        """The Kaltura user ``user_id``, or ``None`` when there is none (deleted users count as none).

        Uses ``user.list(idEqual)`` rather than ``user.get``: Kaltura lets ``user.get`` read another
        user only with an ADMIN session, while ``user.list`` also works for a USER session whose
        role (``setrole``) grants user reads - the least-privilege server token.
        """
        params = {
            "filter": {"objectType": "KalturaUserFilter", "idEqual": user_id},
            "pager": {"objectType": "KalturaFilterPager", "pageSize": 1, "pageIndex": 1},
        }
        answer = self.call(service_url, token, "user", "list", params, optional=True)
        objects = answer.get("objects") if isinstance(answer, dict) else None
        for item in objects or ():
            if isinstance(item, dict) and item.get("id") == user_id:
                return KalturaUser.from_kaltura(item)
        return None

    def add_user(
        self,
        service_url: str | ServiceUrl,
        token: TokenRef,
        user_id: str,
        *,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        screen_name: str | None = None,
    ) -> KalturaUser:
        """``user.add``: a partner member without KMC login (no password, not admin). Sent once, never retried."""
        user = {
            "objectType": "KalturaUser",
            "id": user_id,
            "email": email,
            "firstName": first_name,
            "lastName": last_name,
            "screenName": screen_name,
        }
        answer = self.call(service_url, token, "user", "add", {"user": user}, retry=False, optional=True)
        if not isinstance(answer, dict):
            raise KalturaUnavailable("invalid_body", "user.add returned no user", call="user.add")
        return KalturaUser.from_kaltura(answer)

    def existing_user_ids(self, service_url: str | ServiceUrl, token: TokenRef, user_ids: Iterable[str]) -> set[str]:
        """Which of ``user_ids`` Kaltura has (one ``user.list idIn`` per 500 ids; needs a role that reads users)."""
        wanted = list(dict.fromkeys(i for i in user_ids if i))
        found: set[str] = set()
        for start in range(0, len(wanted), MAX_PAGE_SIZE):
            chunk = wanted[start : start + MAX_PAGE_SIZE]
            params = {
                "filter": {"objectType": "KalturaUserFilter", "idIn": ",".join(chunk)},
                "pager": {"objectType": "KalturaFilterPager", "pageSize": MAX_PAGE_SIZE, "pageIndex": 1},
            }
            answer = self.call(service_url, token, "user", "list", params, optional=True)
            objects = answer.get("objects") if isinstance(answer, dict) else None
            found.update(str(item["id"]) for item in objects or () if isinstance(item, dict) and item.get("id"))
        return found

    def get_own_user(self, service_url: str | ServiceUrl, token: TokenRef, user_id: str) -> KalturaUser | None:
        """The Kaltura user ``user_id`` as that user sees itself (``user.get`` with an empty id in a USER
        session for ``user_id``), or ``None`` when Kaltura has no such user yet.

        Every USER session may read its own user (BASE_USER_SESSION_PERMISSION, reference §7), so this
        works with the client token when the server token's role may not read other users. Starting
        the session does not create the user (only an action that needs it does, such as an upload).
        """
        try:
            answer = self.call(
                service_url, token, "user", "get", {"userId": ""}, user_id=user_id, session_type=SessionType.USER
            )
        except KalturaApiError as error:
            if error.code in ("INVALID_USER_ID", "USER_NOT_FOUND"):
                return None
            raise
        if not isinstance(answer, dict) or answer.get("status") == 2:  # deleted
            return None
        return KalturaUser.from_kaltura(answer)

    # --- conversion profiles and 4K --------------------------------------------------------

    def default_conversion_profile(self, service_url: str | ServiceUrl, token: TokenRef) -> ConversionProfile:
        """``conversionProfile.getDefault``: the profile Kaltura applies to new uploads."""
        answer = self.call(service_url, token, "conversionProfile", "getDefault", optional=True)
        if not isinstance(answer, dict):
            raise KalturaUnavailable("invalid_body", "no conversion profile", call="conversionProfile.getDefault")
        return ConversionProfile.from_kaltura(answer)

    def flavor_params(self, service_url: str | ServiceUrl, token: TokenRef, ids: Iterable[int]) -> list[FlavorParams]:
        """``flavorParams.list(idIn=ids)``. Kaltura hides params the account may not use (4K without the feature)."""
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return []
        params = {
            "filter": {"objectType": "KalturaFlavorParamsFilter", "idIn": ",".join(map(str, wanted))},
            "pager": {"objectType": "KalturaFilterPager", "pageSize": MAX_PAGE_SIZE, "pageIndex": 1},
        }
        answer = self.call(service_url, token, "flavorParams", "list", params, optional=True)
        objects = answer.get("objects") if isinstance(answer, dict) else None
        return [FlavorParams.from_kaltura(item) for item in objects or () if isinstance(item, dict)]

    def check_4k(self, service_url: str | ServiceUrl, token: TokenRef) -> FourKResult:
        """Whether new uploads get a 4K (2160p) flavor, from the default conversion profile.

        ``supported`` is ``None`` ("could not verify") when Kaltura refuses to show the profile,
        typically ``SERVICE_FORBIDDEN`` for a session whose role lacks transcoding permissions.
        Transport failures still raise.
        """
        try:
            profile = self.default_conversion_profile(service_url, token)
            params = self.flavor_params(service_url, token, profile.flavor_params_ids)
        except KalturaApiError as error:
            why = (
                "the token's session may not read conversion profiles"
                if error.is_forbidden
                else "Kaltura would not show the default conversion profile"
            )
            return FourKResult(
                None,
                f"4K support could not be verified: {why} ({error.code}). To verify it, give the server token a "
                "role that can read conversion profiles and flavor params, or ask your Kaltura account manager "
                "whether 4K flavors are enabled.",
                error_code=error.code,
            )
        uhd = tuple(p.name or str(p.id) for p in params if p.is_uhd)
        if uhd:
            return FourKResult(
                True,
                f"The default conversion profile {profile.name!r} makes 4K flavors ({', '.join(uhd)}).",
                profile.name,
                uhd,
            )
        return FourKResult(
            False,
            f"The default conversion profile {profile.name!r} makes no 4K (2160p) flavor. Ask Kaltura to enable 4K "
            "flavors for the account and add one to the default conversion profile.",
            profile.name,
        )

    # --- internals ----------------------------------------------------------------------

    def _unsealed(self, token: TokenRef) -> AppToken:
        # The one place a saved token's secret is decrypted: for the call being made, never kept.
        if isinstance(token, AppToken):
            return token
        if self.vault is None:
            raise RuntimeError("This gateway has no token vault, so it cannot use saved tokens.")
        return self.vault.unseal(token)

    def _target(self, service_url: str | ServiceUrl) -> ServiceUrl:
        return service_url if isinstance(service_url, ServiceUrl) else self.policy.check_url(service_url)

    # --- recording (issue 10): each call's outcome per hub ------------------------------------

    @contextlib.contextmanager
    def _scoped(self, token: TokenRef) -> Iterator[None]:
        """Attribute the calls made with ``token`` to its hub: a saved token names its hub and slot;
        a pasted one keeps the hub the caller set with :func:`calls.for_hub`."""
        if isinstance(token, SealedToken):
            with calls.for_hub(token.hub_id, token.slot, token.id):
                yield
        else:
            outer = calls.current_scope()
            if outer is None or outer.slot is None:
                yield
                return
            with calls.for_hub(outer.hub_id):
                yield

    def _call_finished(self, label: str, error: KalturaError | None, duration_ms: float) -> None:
        scope = calls.current_scope()
        if self.recorder is None or scope is None:
            return
        outcome, code = calls.classify(error)
        if outcome == "kaltura_error" and calls.is_optional():
            outcome = "refused"
        self.recorder.call_finished(scope, label, outcome, code, duration_ms)

    def _session_started(self, info: SessionInfo) -> None:
        scope = calls.current_scope()
        if self.recorder is not None and scope is not None and scope.slot is not None:
            self.recorder.session_started(scope, info)

    # --- the picker (issue 11): browse, preview, import --------------------------------------
    # Each goes through ``call`` (the cached session and its one re-mint), except the playback
    # session, which is minted on purpose outside the cache (see ``playback_source``).

    def browse_media(
        self, service_url: str | ServiceUrl, token: TokenRef, user_id: str | None, query: MediaQuery
    ) -> MediaPage:
        """One picker page as ``user_id``: one ``media.list`` with the query's filters, sort and fields."""
        answer = self.call(
            service_url, token, "media", "list", query.params(), user_id=user_id, session_type=SessionType.USER
        )
        objects = answer.get("objects") if isinstance(answer, dict) else None
        entries = tuple(MediaEntry.from_kaltura(item) for item in objects or () if isinstance(item, dict))
        total = as_int(answer.get("totalCount"), len(entries)) if isinstance(answer, dict) else len(entries)
        return MediaPage(entries, total or 0, query.page, query.page_size)

    def get_entry(
        self, service_url: str | ServiceUrl, token: TokenRef, user_id: str | None, entry_id: str
    ) -> MediaEntry | None:
        """``media.get`` as ``user_id``; ``None`` when it does not exist or the user may not see it."""
        try:
            answer = self.call(
                service_url,
                token,
                "media",
                "get",
                {"entryId": entry_id},
                user_id=user_id,
                session_type=SessionType.USER,
            )
        except KalturaApiError as error:
            if error.is_not_found:
                return None
            raise
        return MediaEntry.from_kaltura(answer) if isinstance(answer, dict) else None

    def entries_by_id(
        self, service_url: str | ServiceUrl, token: TokenRef, user_id: str | None, entry_ids: Sequence[str]
    ) -> list[MediaEntry]:
        """The entries among ``entry_ids`` that ``user_id`` may see, with fresh metadata: one ``media.list``
        (``idIn`` makes Kaltura check each entry's entitlement, reference §5)."""
        wanted = list(dict.fromkeys(entry_ids))[:MAX_PAGE_SIZE]
        if not wanted:
            return []
        params = {
            "filter": {
                "objectType": "KalturaMediaEntryFilter",
                "idIn": ",".join(wanted),
                "statusIn": ",".join(str(int(s)) for s in BROWSE_STATUSES),
            },
            "pager": {"objectType": "KalturaFilterPager", "pageSize": len(wanted), "pageIndex": 1},
        }
        answer = self.call(service_url, token, "media", "list", params, user_id=user_id, session_type=SessionType.USER)
        objects = answer.get("objects") if isinstance(answer, dict) else None
        return [MediaEntry.from_kaltura(item) for item in objects or () if isinstance(item, dict)]

    def flavor_assets(
        self, service_url: str | ServiceUrl, token: TokenRef, user_id: str | None, entry_id: str
    ) -> list[FlavorAsset]:
        """``flavorAsset.list(entryIdEqual)`` as ``user_id``: the entry's renditions and their status."""
        params = {
            "filter": {"objectType": "KalturaFlavorAssetFilter", "entryIdEqual": entry_id},
            "pager": {"objectType": "KalturaFilterPager", "pageSize": 100, "pageIndex": 1},
        }
        answer = self.call(
            service_url, token, "flavorAsset", "list", params, user_id=user_id, session_type=SessionType.USER
        )
        objects = answer.get("objects") if isinstance(answer, dict) else None
        return [FlavorAsset.from_kaltura(item) for item in objects or () if isinstance(item, dict)]

    def playback_source(
        self,
        service_url: str | ServiceUrl,
        token: TokenRef,
        user_id: str | None,
        entry: MediaEntry,
        flavors: Sequence[FlavorAsset],
    ) -> PlaybackSource | None:
        """A URL the browser can play ``entry`` from, or ``None`` when no web flavor is ready.

        The URL carries a session minted for it alone (two calls), USER type, living
        :data:`PLAYBACK_SESSION_SECONDS`: never the cached listing session, which lives for hours.
        """
        flavor = preview_flavor(flavors)
        if flavor is None or entry.partner_id is None:
            return None
        target = self._target(service_url)
        with self._scoped(token):
            info = mint_session(
                self.client,
                target,
                self._unsealed(token),
                user_id,
                session_type=SessionType.USER,
                expiry=PLAYBACK_SESSION_SECONDS,
            )
        ext = flavor.file_ext or ("mp3" if entry.media_type == MediaType.AUDIO else "mp4")
        return PlaybackSource(
            url=playback_url(target.origin, entry.partner_id, entry.id, flavor.id, info.ks, ext),
            mime_type=mime_type_for(entry, ext),
            expires_at=info.expiry,
            width=flavor.width,
            height=flavor.height,
        )

    # --- uploads (issue 12): prepared here, bytes from the browser, progress read back -------------
    # All as the member's USER session from the client token: Kaltura makes the session's user the
    # owner of the upload token and the entry, and shows a user only their own tokens (§6.1).
    # Calls that create something are sent once (never retried blindly); the caller makes them
    # idempotent (the entry's referenceId).

    def add_upload_token(
        self, service_url: str | ServiceUrl, token: TokenRef, user_id: str, *, file_name: str, file_size: int
    ) -> UploadToken:
        """``uploadToken.add`` with the file's name (its extension tells Kaltura the type) and size."""
        params = {
            "uploadToken": {"objectType": "KalturaUploadToken", "fileName": file_name, "fileSize": int(file_size)}
        }
        answer = self._user_call(service_url, token, user_id, "uploadToken", "add", params, retry=False)
        return self._token(answer, "uploadToken.add")

    def get_upload_token(
        self, service_url: str | ServiceUrl, token: TokenRef, user_id: str, upload_token_id: str
    ) -> UploadToken | None:
        """``uploadToken.get``; ``None`` when Kaltura no longer has it (deleted, or not this user's)."""
        try:
            answer = self._user_call(
                service_url, token, user_id, "uploadToken", "get", {"uploadTokenId": upload_token_id}
            )
        except KalturaApiError as error:
            if error.is_not_found:
                return None
            raise
        return self._token(answer, "uploadToken.get")

    def upload_tokens(
        self, service_url: str | ServiceUrl, token: TokenRef, user_id: str, upload_token_ids: Sequence[str]
    ) -> dict[str, UploadToken]:
        """Several upload tokens with one ``uploadToken.list(idIn)``, by id; missing ones are left out."""
        wanted = list(dict.fromkeys(upload_token_ids))[:MAX_PAGE_SIZE]
        if not wanted:
            return {}
        params = {
            "filter": {"objectType": "KalturaUploadTokenFilter", "idIn": ",".join(wanted)},
            "pager": {"objectType": "KalturaFilterPager", "pageSize": len(wanted), "pageIndex": 1},
        }
        answer = self._user_call(service_url, token, user_id, "uploadToken", "list", params)
        objects = answer.get("objects") if isinstance(answer, dict) else None
        found = [UploadToken.from_kaltura(item) for item in objects or () if isinstance(item, dict)]
        return {t.id: t for t in found if t.id}

    def delete_upload_token(
        self, service_url: str | ServiceUrl, token: TokenRef, user_id: str, upload_token_id: str
    ) -> bool:
        """``uploadToken.delete``; ``False`` when it was already gone."""
        try:
            self._user_call(
                service_url, token, user_id, "uploadToken", "delete", {"uploadTokenId": upload_token_id}, retry=True
            )
        except KalturaApiError as error:
            if error.is_not_found:
                return False
            raise
        return True

    def add_media_entry(
        self,
        service_url: str | ServiceUrl,
        token: TokenRef,
        user_id: str,
        *,
        name: str,
        media_type: MediaType | int,
        reference_id: str,
        description: str = "",
        tags: Sequence[str] = (),
    ) -> MediaEntry:
        """``media.add``: an entry without content yet (NO_CONTENT), owned by ``user_id``.

        ``reference_id`` ties it to the portal's upload record: :meth:`entry_by_reference` finds it
        again after a lost answer, so a retried prepare never makes a second entry.
        """
        entry = {
            "objectType": "KalturaMediaEntry",
            "name": name,
            "description": description or None,
            "tags": ",".join(tags) or None,
            "mediaType": int(media_type),
            "referenceId": reference_id,
        }
        answer = self._user_call(service_url, token, user_id, "media", "add", {"entry": entry}, retry=False)
        if not isinstance(answer, dict):
            raise KalturaUnavailable("invalid_body", "media.add returned no entry", call="media.add")
        return MediaEntry.from_kaltura(answer)

    def entry_by_reference(
        self, service_url: str | ServiceUrl, token: TokenRef, user_id: str, reference_id: str
    ) -> MediaEntry | None:
        """The member's entry with this ``referenceId`` in any status, or ``None``."""
        params = {
            "filter": {
                "objectType": "KalturaMediaEntryFilter",
                "referenceIdEqual": reference_id,
                "userIdEqual": user_id,
                "statusIn": ",".join(str(int(s)) for s in ALL_ENTRY_STATUSES),
            },
            "pager": {"objectType": "KalturaFilterPager", "pageSize": 1, "pageIndex": 1},
        }
        answer = self._user_call(service_url, token, user_id, "media", "list", params)
        objects = answer.get("objects") if isinstance(answer, dict) else None
        for item in objects or ():
            if isinstance(item, dict):
                return MediaEntry.from_kaltura(item)
        return None

    def attach_upload(
        self, service_url: str | ServiceUrl, token: TokenRef, user_id: str, entry_id: str, upload_token_id: str
    ) -> MediaEntry:
        """``media.addContent`` with an uploaded-file token resource. Before the upload is complete
        the entry waits in IMPORT and Kaltura starts processing when the last byte arrives (§6.3)."""
        params = {
            "entryId": entry_id,
            "resource": {"objectType": "KalturaUploadedFileTokenResource", "token": upload_token_id},
        }
        answer = self._user_call(service_url, token, user_id, "media", "addContent", params, retry=False)
        if not isinstance(answer, dict):
            raise KalturaUnavailable("invalid_body", "media.addContent returned no entry", call="media.addContent")
        return MediaEntry.from_kaltura(answer)

    def delete_entry(self, service_url: str | ServiceUrl, token: TokenRef, user_id: str, entry_id: str) -> bool:
        """``media.delete`` of the member's own entry; ``False`` when it was already gone."""
        try:
            self._user_call(service_url, token, user_id, "media", "delete", {"entryId": entry_id}, retry=True)
        except KalturaApiError as error:
            if error.is_not_found:
                return False
            raise
        return True

    def entries_progress(
        self, service_url: str | ServiceUrl, token: TokenRef, user_id: str, entry_ids: Sequence[str]
    ) -> dict[str, EntryProgress]:
        """Status and flavors of several entries in one request: a multirequest of ``media.list(idIn)``
        and ``flavorAsset.list(entryIdIn)`` (the filter Kaltura requires for listing flavors, §6.3).
        Entries Kaltura no longer has are left out."""
        wanted = list(dict.fromkeys(entry_ids))[:MAX_PAGE_SIZE]
        if not wanted:
            return {}
        ids = ",".join(wanted)
        calls = [
            Call(
                "media",
                "list",
                {
                    "filter": {
                        "objectType": "KalturaMediaEntryFilter",
                        "idIn": ids,
                        "statusIn": ",".join(str(int(s)) for s in ALL_ENTRY_STATUSES),
                    },
                    "pager": {"objectType": "KalturaFilterPager", "pageSize": len(wanted), "pageIndex": 1},
                },
            ),
            Call(
                "flavorAsset",
                "list",
                {
                    "filter": {"objectType": "KalturaFlavorAssetFilter", "entryIdIn": ids},
                    "pager": {"objectType": "KalturaFilterPager", "pageSize": MAX_PAGE_SIZE, "pageIndex": 1},
                },
            ),
        ]
        target = self._target(service_url)

        def operation(ks: str) -> list[Any]:
            answers = self.client.multirequest(target, calls, ks=ks, retry=True)
            for answer in answers:
                if isinstance(answer, KalturaApiError) and answer.is_invalid_session:
                    raise answer  # the session manager re-mints once and retries
            return answers

        entries_answer, flavors_answer = self.sessions.run(
            target, self._unsealed(token), user_id, SessionType.USER, operation
        )
        if isinstance(entries_answer, KalturaApiError):
            raise entries_answer
        entries = [
            MediaEntry.from_kaltura(item)
            for item in (entries_answer.get("objects") if isinstance(entries_answer, dict) else None) or ()
            if isinstance(item, dict)
        ]
        flavors: list[FlavorAsset] = []
        if isinstance(flavors_answer, dict):
            flavors = [FlavorAsset.from_kaltura(i) for i in flavors_answer.get("objects") or () if isinstance(i, dict)]
        return {
            entry.id: EntryProgress(entry, tuple(f for f in flavors if f.entry_id == entry.id)) for entry in entries
        }

    def upload_session(
        self, service_url: str | ServiceUrl, token: TokenRef, user_id: str, *, expiry: int
    ) -> SessionInfo:
        """A USER session for ``user_id`` that the browser may hold while it sends one file's chunks.

        Minted for it alone (two calls), never the cached session, and short-lived: a leaked copy is
        worth little and soon nothing. ``uploadToken.upload`` needs nothing more than a USER session
        of the token's owner (§6.1). Privileges such as ``edit:<entryId>`` cannot narrow it further:
        ``appToken.startSession`` silently drops every server-reserved privilege the App Token does
        not already carry with ``*`` (§2.3.2), and the member owns the entry anyway.
        """
        return mint_session(
            self.client,
            self._target(service_url),
            self._unsealed(token),
            user_id,
            session_type=SessionType.USER,
            expiry=expiry,
        )

    def _user_call(
        self,
        service_url: str | ServiceUrl,
        token: TokenRef,
        user_id: str,
        service: str,
        action: str,
        params: Mapping[str, Any],
        *,
        retry: bool | None = None,
    ) -> Any:
        return self.call(
            service_url, token, service, action, params, user_id=user_id, session_type=SessionType.USER, retry=retry
        )

    @staticmethod
    def _token(answer: Any, call: str) -> UploadToken:
        if not isinstance(answer, dict) or not answer.get("id"):
            raise KalturaUnavailable("invalid_body", f"{call} returned no upload token", call=call)
        return UploadToken.from_kaltura(answer)

"""What can go wrong when the portal talks to Kaltura, as a small hierarchy of exceptions.

Kaltura reports API errors in-band (HTTP 200 with a ``KalturaAPIException`` body carrying ``code``,
``message`` and ``args``); those become :class:`KalturaApiError` and keep Kaltura's three fields
apart. Anything that stops us from getting a well-formed answer at all (refused connection,
timeout, HTTP 5xx, a body that is not Kaltura's JSON) is :class:`KalturaUnavailable`. A service
URL or address the outbound policy refuses is :class:`OutboundBlocked`, raised before any
connection is opened.

Every error can explain itself to a person: :meth:`KalturaError.explain` gives one sentence that
says what happened and what to do, suitable for a settings page or a CLI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.kaltura.redaction import redact_text

# Codes that mean "try again later" (reference §9). ACTION_BLOCKED is rate limiting: the client
# waits longer before retrying it.
TRANSIENT_CODES = frozenset(
    {
        "INTERNAL_SERVERL_ERROR",  # sic: Kaltura's own spelling
        "INTERNAL_DATABASE_ERROR",
        "LOCK_TIMED_OUT",
        "SEARCH_ENGINE_QUERY_FAILED",
        "ACTION_BLOCKED",
        "DRUID_QUERY_TIMED_OUT",
    }
)

# Codes meaning the object asked for does not exist (or is hidden by entitlement, which Kaltura
# reports the same way). ``INVALID_USER_ID`` is what ``user.get`` answers for a missing user.
NOT_FOUND_CODES = frozenset(
    {
        "ENTRY_ID_NOT_FOUND",
        "INVALID_USER_ID",
        "USER_NOT_FOUND",
        "APP_TOKEN_ID_NOT_FOUND",
        "CONVERSION_PROFILE_ID_NOT_FOUND",
        "FLAVOR_PARAMS_ID_NOT_FOUND",
        "UPLOAD_TOKEN_NOT_FOUND",
        "CATEGORY_NOT_FOUND",
    }
)

FORBIDDEN_CODES = frozenset({"SERVICE_FORBIDDEN", "SERVICE_FORBIDDEN_CONTENT_BLOCKED"})

# What an admin can do about the errors they are likely to meet. Keys are Kaltura error codes.
_WHAT_TO_DO: dict[str, str] = {
    "INVALID_KS": "the Kaltura session expired or was revoked; test the connection again to start a new one, "
    "and if it keeps failing, check that the App Token was not deleted in Kaltura.",
    "MISSING_KS": "the call needs a Kaltura session; this is a portal bug, please report it to support.",
    "SERVICE_FORBIDDEN": "the App Token's role does not allow this call; create the token with a role "
    "(setrole:ROLE_ID) that includes this permission, or use the server token for it.",
    "SERVICE_FORBIDDEN_CONTENT_BLOCKED": "the Kaltura account is blocked; contact your Kaltura account manager.",
    "APP_TOKEN_ID_NOT_FOUND": "the App Token does not exist in this Kaltura account (deleted, or created in "
    "another account or region); create a new one with appToken.add and paste it again.",
    "APP_TOKEN_NOT_ACTIVE": "the App Token is disabled in Kaltura; enable it (appToken.update status 2) "
    "or create a new one.",
    "APP_TOKEN_EXPIRED": "the App Token has expired; create a new one with appToken.add and paste it.",
    "INVALID_APP_TOKEN_HASH": "Kaltura rejected the token's secret: paste the complete appToken.add response "
    "again, exactly as returned (the 'token' value and 'hashType' must match).",
    "INVALID_WIDGET_ID": "the partner id does not exist on this Kaltura server; check the service URL "
    "(region) and that the token's partnerId is right.",
    "INVALID_USER_ID": "the Kaltura user does not exist or is blocked; check the user id mapping.",
    "USER_BLOCKED": "the Kaltura user is blocked; unblock the user in the KMC.",
    "UNKNOWN_ROLE_ID": "the token's setrole privilege names a role that does not exist; fix the role id "
    "and create the token again.",
    "ACTION_BLOCKED": "Kaltura is rate-limiting this account; wait a minute and try again.",
    "INTERNAL_SERVERL_ERROR": "Kaltura had an internal error; try again in a few minutes.",
    "INTERNAL_DATABASE_ERROR": "Kaltura had a database error; try again in a few minutes.",
    "QUERY_EXCEEDED_MAX_MATCHES_ALLOWED": "Kaltura cannot page this deep; narrow the search instead.",
    "DUPLICATE_USER_BY_ID": "a Kaltura user with this id already exists; use it instead of creating it.",
    "CANNOT_RETRIEVE_ANOTHER_USER_USING_NON_ADMIN_SESSION": "looking up other users needs the server "
    "token's session; check that the server token has an admin role.",
    "ENTRY_ID_NOT_FOUND": "the media entry does not exist, or this user is not entitled to see it.",
}


class KalturaError(Exception):
    """Base class: anything the gateway could not do. ``explain()`` says why and what to do."""

    #: A short, stable identifier for the kind of failure (Kaltura's code, or ours).
    code: str = "KALTURA_ERROR"

    def summary(self) -> str:
        """One clause saying what happened, without advice."""
        return str(self)

    def what_to_do(self) -> str:
        """Advice for the person reading the error, lower-case, without a trailing full stop."""
        return "try again later, and contact support if it keeps happening"

    def explain(self) -> str:
        """``"<what happened>. What to do: <advice>."``, ready to show to an admin."""
        advice = self.what_to_do().rstrip(".")
        return f"{self.summary().rstrip('.')}. What to do: {advice}."


class KalturaApiError(KalturaError):
    """Kaltura answered with an API error (``KalturaAPIException``).

    ``code``, ``message`` and ``error_args`` are Kaltura's own ``code``, ``message`` and ``args``.
    (``args`` itself is taken by :class:`BaseException`.) Anything that looks like a session or a
    token is masked in the message and arguments, because Kaltura echoes a bad KS back in
    ``INVALID_KS`` errors.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        args: Mapping[str, Any] | None = None,
        *,
        service: str | None = None,
        action: str | None = None,
    ) -> None:
        self.code = str(code or "UNKNOWN_ERROR")
        self.message = redact_text(str(message or ""))
        self.error_args: dict[str, str] = {str(k): redact_text(str(v)) for k, v in (args or {}).items()}
        self.service = service
        self.action = action
        super().__init__(f"{self.code}: {self.message}" if self.message else self.code)

    @property
    def call(self) -> str:
        """``service.action`` of the failed call, or ``"Kaltura"`` when unknown."""
        if self.service and self.action:
            return f"{self.service}.{self.action}"
        return "Kaltura"

    @property
    def is_invalid_session(self) -> bool:
        return self.code == "INVALID_KS"

    @property
    def is_forbidden(self) -> bool:
        return self.code in FORBIDDEN_CODES

    @property
    def is_not_found(self) -> bool:
        return self.code in NOT_FOUND_CODES

    @property
    def is_transient(self) -> bool:
        return self.code in TRANSIENT_CODES

    def summary(self) -> str:
        detail = f" ({self.message})" if self.message else ""
        return f"Kaltura refused {self.call}: {self.code}{detail}"

    def what_to_do(self) -> str:
        return _WHAT_TO_DO.get(self.code, "check the App Tokens and the service URL, then test the connection again")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_api_error, (type(self), self.code, self.message, self.error_args, self.service, self.action))


class InvalidSession(KalturaApiError):
    """``INVALID_KS``: the session is expired, revoked or malformed. The gateway re-mints once."""


class Forbidden(KalturaApiError):
    """``SERVICE_FORBIDDEN``: the session's role lacks the permission for this call."""


class NotFound(KalturaApiError):
    """The object does not exist, or entitlement hides it (Kaltura does not tell the two apart)."""


def _rebuild_api_error(
    cls: type[KalturaApiError], code: str, message: str, args: dict[str, str], service: str | None, action: str | None
) -> KalturaApiError:
    return cls(code, message, args, service=service, action=action)


def api_error(
    code: str,
    message: str = "",
    args: Mapping[str, Any] | None = None,
    *,
    service: str | None = None,
    action: str | None = None,
) -> KalturaApiError:
    """Build the most specific :class:`KalturaApiError` subclass for a Kaltura error code."""
    cls: type[KalturaApiError] = KalturaApiError
    if code == "INVALID_KS":
        cls = InvalidSession
    elif code in FORBIDDEN_CODES:
        cls = Forbidden
    elif code in NOT_FOUND_CODES:
        cls = NotFound
    return cls(code, message, args, service=service, action=action)


_UNAVAILABLE_SUMMARIES = {
    "timeout": "Kaltura did not answer in time",
    "connect": "Could not connect to Kaltura",
    "dropped": "The connection to Kaltura was dropped before it answered",
    "http_status": "Kaltura answered with an HTTP error",
    "invalid_body": "Kaltura's answer was not a Kaltura API response",
    "too_large": "Kaltura's answer was larger than the portal accepts",
}


class KalturaUnavailable(KalturaError):
    """No usable answer: connection refused or dropped, timeout, HTTP 5xx, or a body that is not Kaltura's.

    ``reason`` is one of ``"timeout"``, ``"connect"``, ``"dropped"``, ``"http_status"``,
    ``"invalid_body"`` or ``"too_large"``; ``status`` is the HTTP status when there was one.
    """

    code = "KALTURA_UNAVAILABLE"

    def __init__(self, reason: str, detail: str = "", *, status: int | None = None, call: str | None = None) -> None:
        self.reason = reason
        self.detail = redact_text(detail)
        self.status = status
        self.call = call
        super().__init__(self._text())

    def _text(self) -> str:
        text = _UNAVAILABLE_SUMMARIES.get(self.reason, "Kaltura is unavailable")
        if self.call:
            text += f" ({self.call})"
        if self.status is not None:
            text += f": HTTP {self.status}"
        if self.detail:
            text += f": {self.detail}"
        return text

    @property
    def is_transient(self) -> bool:
        """Worth retrying: network trouble and server-side errors, not a 4xx or a foreign body."""
        if self.reason == "http_status":
            return self.status is not None and (self.status >= 500 or self.status == 429)
        return self.reason in {"timeout", "connect", "dropped"}

    def summary(self) -> str:
        return self._text()

    def what_to_do(self) -> str:
        if self.reason in {"invalid_body", "http_status"} and not self.is_transient:
            return "check that the service URL points at a Kaltura API server (for example https://www.kaltura.com)"
        return "check that Kaltura is reachable from the portal and try again in a few minutes"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_unavailable, (self.reason, self.detail, self.status, self.call))


def _rebuild_unavailable(reason: str, detail: str, status: int | None, call: str | None) -> KalturaUnavailable:
    return KalturaUnavailable(reason, detail, status=status, call=call)


class OutboundBlocked(KalturaError):
    """The outbound policy refused a URL or an address: no connection was made.

    ``reason`` is a stable code (e.g. ``"scheme"``, ``"host_not_allowed"``, ``"private_address"``,
    ``"redirect"``), ``message`` says what was refused, ``fix`` what to do about it.
    """

    code = "OUTBOUND_BLOCKED"

    def __init__(self, reason: str, message: str, fix: str = "") -> None:
        self.reason = reason
        self.message = message
        self.fix = fix or "choose one of the Kaltura regions offered, or ask the operator to allow your Kaltura host"
        super().__init__(message)

    def summary(self) -> str:
        return self.message

    def what_to_do(self) -> str:
        return self.fix

    def __reduce__(self) -> tuple[Any, ...]:
        return (OutboundBlocked, (self.reason, self.message, self.fix))

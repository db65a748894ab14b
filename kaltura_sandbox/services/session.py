"""``session`` service: ``start``, ``startWidgetSession``, ``get``, ``end`` (reference §2.1-§2.2),
plus ``system.ping``."""

from __future__ import annotations

from .. import ks as kslib
from .. import registry
from ..context import SESSION_ADMIN, SESSION_USER, Call, Session, parse_privileges
from ..errors import ApiError
from ..registry import action
from ..store import Partner, Store

SESSION_TYPES = (SESSION_USER, SESSION_ADMIN)
DEFAULT_EXPIRY = 86400


def capped_expiry(partner: Partner, requested: int) -> int:
    """Seconds a new KS lives: the request (0 = the maximum) capped at the partner's KS max."""
    maximum = partner.ks_max_expiry
    if maximum and (requested == 0 or requested > maximum):
        return maximum
    return requested


def check_privileges(store: Store, partner_id: int, privileges: str | None) -> None:
    """Reject ``setrole`` with an unknown/negative role and a non-positive ``actionslimit``."""
    parsed = parse_privileges(privileges)
    for ref in parsed.get("setrole", []):
        if ref.lstrip("-").isdigit() and int(ref) < 0:
            raise ApiError("INVALID_SET_ROLE")
        if store.role(partner_id, ref) is None:
            raise ApiError("UNKNOWN_ROLE_ID")
    for limit in parsed.get("actionslimit", []):
        if not limit.isdigit() or int(limit) <= 0:
            raise ApiError("INVALID_ACTIONS_LIMIT")


def session_info(ks: str, session: Session) -> dict:
    """A ``KalturaSessionInfo`` object."""
    return {
        "objectType": "KalturaSessionInfo",
        "relatedObjects": None,
        "ks": ks,
        "sessionType": session.type,
        "partnerId": session.partner_id,
        "userId": session.user_id or None,
        "expiry": session.expiry,
        "privileges": session.privileges_string(),
    }


# Permissions: deployment/permissions/service.session.ini (start).
@action("session", "start", ks="none", permissions=(registry.ALWAYS_ALLOWED,))
def start(call: Call) -> str:
    """A KS for the partner, authenticated by its admin secret (or its user secret for USER)."""
    secret = call.str("secret", required=True)
    user_id = call.str("userId", default="")
    ks_type = call.enum("type", SESSION_TYPES, "KalturaSessionType", default=SESSION_USER)
    partner_id = call.int("partnerId")
    expiry = call.int("expiry", default=DEFAULT_EXPIRY)
    privileges = call.str("privileges")
    partner = call.store.partner(partner_id)
    if partner is None or not _secret_matches(partner, secret, ks_type):
        raise ApiError("START_SESSION_ERROR", PID="" if partner_id is None else partner_id)
    check_privileges(call.store, partner.id, privileges)
    valid_until = int(call.now()) + capped_expiry(partner, expiry)
    return kslib.generate(partner, user_id, ks_type, valid_until, privileges or "")


def _secret_matches(partner: Partner, secret: str, ks_type: int) -> bool:
    if secret in partner.admin_secrets():
        return True
    return ks_type == SESSION_USER and secret == partner.secret


# Permissions: deployment/permissions/service.session.ini (startwidgetsession).
@action("session", "startWidgetSession", ks="none", permissions=(registry.ALWAYS_ALLOWED,))
def start_widget_session(call: Call) -> dict:
    """An anonymous USER KS with ``view:*,widget:1`` for the partner's default widget ``_PID``."""
    widget_id = call.str("widgetId", required=True)
    expiry = call.int("expiry", default=DEFAULT_EXPIRY)
    partner = _widget_partner(call.store, widget_id)
    if partner is None:
        raise ApiError("INVALID_WIDGET_ID", WIDGET_ID=widget_id)
    valid_until = int(call.now()) + capped_expiry(partner, expiry)
    ks = kslib.generate(partner, "0", SESSION_USER, valid_until, "view:*,widget:1")
    return {
        "objectType": "KalturaStartWidgetSessionResponse",
        "relatedObjects": None,
        "partnerId": partner.id,
        "ks": ks,
        "userId": 0,
    }


def _widget_partner(store: Store, widget_id: str) -> Partner | None:
    """The partner of a default widget id (``_<partnerId>``)."""
    if not widget_id.startswith("_") or not widget_id[1:].isdigit():
        return None
    return store.partner(int(widget_id[1:]))


# Permissions: deployment/permissions/service.session.ini (get).
@action(
    "session", "get", ks="required", permissions=(registry.SESSION_READ, registry.KMC_ACCESS, registry.KMC_READ_ONLY)
)
def get(call: Call) -> dict:
    """Details of a KS: the caller's own, or (ADMIN only) another one of the same partner."""
    assert call.session is not None and call.ks is not None
    other = call.str("session")
    if not other or other == call.ks:
        return session_info(call.ks, call.session)
    if not call.session.is_admin:
        raise ApiError("SERVICE_FORBIDDEN", SERVICE="session->get")
    session = kslib.validate(other, call.store, call.now())
    if session.partner_id != call.session.partner_id:
        raise kslib.invalid_ks(other)
    return session_info(other, session)


# Permissions: deployment/permissions/service.session.ini (end).
@action("session", "end", ks="required", permissions=(registry.ALWAYS_ALLOWED,))
def end(call: Call) -> None:
    """Log the caller's KS out: later calls with it get ``INVALID_KS "LOGOUT"``."""
    assert call.session is not None and call.ks is not None
    kslib.revoke_ks(call.store, call.session.partner_id, call.ks)


# Permissions: deployment/permissions/service.system.ini (ping).
@action("system", "ping", ks="none", permissions=(registry.ALWAYS_ALLOWED,))
def ping(call: Call) -> bool:
    """Always true: the server is up."""
    del call
    return True

"""The web side of the audit trail: where each request's events come from, and the security events.

* Every request gets an :class:`~portal.audit.AuditContext` (the portal's request id and the
  client's address, after the trusted proxies of ``PORTAL_PROXY_HOPS``), so services record it
  with every change without knowing about Flask.
* :func:`security_event` records what refused a request - a bad form token, a rate limit, a
  denied hub page, a blocked Kaltura URL - in a transaction of its own, so the row is kept even
  though the request's own work is rolled back.
* Outbound blocks (:data:`portal.kaltura.outbound.blocked`) raised while a request runs are
  written when it ends, with that request's hub, user and id; those raised by a ``portal``
  command are written at once with the command's context.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_login import current_user

from portal import audit
from portal.kaltura import outbound
from portal.models import Hub, User

log = logging.getLogger("portal.audit")
ANONYMOUS_WINDOW = 300  # seconds


def init_app(app: Flask) -> None:
    """Register the per-request context; must run before any hook that can refuse a request."""
    app.before_request(_enter_request)
    app.after_request(_write_outbound_blocks)
    app.teardown_request(_leave_request)
    outbound.blocked.connect(_on_outbound_blocked, weak=False)


def _enter_request() -> None:
    context = audit.AuditContext(source="web", request_id=g.get("request_id"), client_address=request.remote_addr)
    g.audit_context_token = audit.enter_context(context)
    g.outbound_blocks = []


def _leave_request(_exc: BaseException | None) -> None:
    token = g.pop("audit_context_token", None)
    if token is not None:
        audit.leave_context(token)


def signed_in_user() -> User | None:
    """The signed-in user, or ``None`` (also when loading them fails: this runs on error paths)."""
    try:
        return current_user._get_current_object() if current_user.is_authenticated else None
    except Exception:
        return None


def hub_of_request() -> Hub | None:
    """The hub named by the request's ``slug``, when the route has one and the hub exists."""
    slug = (request.view_args or {}).get("slug") if has_request_context() else None
    if not isinstance(slug, str):
        return None
    try:
        return _session().scalar(sa.select(Hub).where(Hub.slug == slug))
    except Exception:
        return None


def security_event(
    action: str,
    *,
    actor: User | None = None,
    actor_email: str | None = None,
    hub: Hub | None = None,
    **details: Any,
) -> None:
    """Record a security event now, in its own transaction; log (never raise) if that fails.

    In a request, the actor defaults to the signed-in user, and the route and method are added.
    """
    if has_request_context():
        actor = actor or signed_in_user()
        details = {"route": request.endpoint, "method": request.method, **details}
        if actor is None and not _within_anonymous_budget(action):
            log.warning("audit event %s not recorded: over the budget for this address", action)
            return
    session = current_app.extensions["db"]()
    try:
        # Rows of this session, not the request's: objects are merged in by id only.
        audit.record(
            session,
            action=action,
            actor=session.get(User, _id_of(actor)) if actor is not None else None,
            actor_email=actor_email,
            hub=session.get(Hub, _id_of(hub)) if hub is not None else None,
            **details,
        )
        session.commit()
    except Exception:
        log.exception("could not write the audit event %s", action)
        session.rollback()
    finally:
        session.close()


def _within_anonymous_budget(action: str) -> bool:
    """Whether an event by someone not signed in may still be written for this client address.

    Anyone can send forms without a token from anywhere: without a budget, a script could fill
    the audit table. Past ``AUDIT_ANONYMOUS_BUDGET`` events of one kind from one address in five
    minutes, further ones go to the log only (which says so).
    """
    from portal.extensions import limiter

    key = f"portal-audit-budget:{action}:{request.remote_addr}"
    try:
        count = limiter.storage.incr(key, ANONYMOUS_WINDOW)
    except Exception:  # the limiter's storage is down: record rather than lose the event
        return True
    return count <= current_app.config["AUDIT_ANONYMOUS_BUDGET"]


def _id_of(row: Any) -> Any:
    # The identity, without touching the (possibly rolled-back, expired) row's attributes.
    return sa.inspect(row).identity[0]


def _session() -> Any:
    from portal import db

    return db.session()


def _on_outbound_blocked(_sender: Any, **event: Any) -> None:
    details = {key: event.get(key) for key in ("stage", "host", "reason", "address") if event.get(key) is not None}
    if has_request_context() and "outbound_blocks" in g:
        g.outbound_blocks.append(details)
    elif has_app_context():
        security_event("security.outbound_blocked", **details)


def _write_outbound_blocks(response: Any) -> Any:
    blocks = g.pop("outbound_blocks", None) or []
    if blocks:
        hub = hub_of_request()
        for details in blocks:
            security_event("security.outbound_blocked", hub=hub, **details)
    return response

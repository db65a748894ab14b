"""The audit log: one row per change or security event, with who, where, from where and when.

No Flask here: services record events in their own transaction (so a change and its row commit
together, or neither does), and where the event came from travels in an :class:`AuditContext`
that the web layer sets for each request and the ``portal`` command for each run
(:func:`use_context`). An explicit argument always wins over the context.

Rows never hold a secret: detail values are plain scalars, cut to a readable length, with control
characters replaced, and a detail named like a secret (``token``, ``password`` ...) is a bug that
raises at once rather than a leak found in review.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from portal.models import AuditEvent, Hub, User
from portal.text import displayable

# Detail keys that would name a secret. ``token_id`` (a public id) is fine; ``token`` is not.
SECRET_KEYS = frozenset({"token", "secret", "password", "ks", "session", "hash", "token_hash", "app_token", "key"})
MAX_DETAIL_LENGTH = 300


@dataclass(frozen=True)
class AuditContext:
    """Where events come from: the web (request id, client address) or a ``portal`` command (operator)."""

    source: str  # "web" or "cli"
    request_id: str | None = None
    client_address: str | None = None
    # For `portal` commands: the operating-system user, and the email given with --actor.
    operator: str | None = None
    actor_email: str | None = None


_context: ContextVar[AuditContext | None] = ContextVar("portal_audit_context", default=None)


@contextmanager
def use_context(context: AuditContext) -> Iterator[AuditContext]:
    """Record every event inside the ``with`` block with ``context``."""
    token = enter_context(context)
    try:
        yield context
    finally:
        leave_context(token)


def enter_context(context: AuditContext) -> Token[AuditContext | None]:
    """Start recording with ``context`` until :func:`leave_context` (for hooks that cannot use ``with``)."""
    return _context.set(context)


def leave_context(token: Token[AuditContext | None]) -> None:
    """Go back to the context before the matching :func:`enter_context`."""
    _context.reset(token)


def current_context() -> AuditContext | None:
    """The context events are recorded with right now, if any."""
    return _context.get()


def update_context(**changes: Any) -> None:
    """Change fields of the current context (e.g. the request id once it is known)."""
    context = _context.get()
    if context is not None:
        _context.set(replace(context, **changes))


def record(
    db: Session,
    *,
    action: str,
    actor: User | None,
    hub: Hub | None = None,
    request_id: str | None = None,
    actor_email: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the session; the caller's transaction commits it with the change.

    ``actor_email`` names someone without an account row (the attempted email of a failed
    sign-in, the ``--actor`` of a command); a signed-in actor's own email is used otherwise.
    """
    context = _context.get() or AuditContext(source="system")
    email = actor.email if actor is not None else actor_email or context.actor_email
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_email=_clip(email, 320) if email else None,
        hub_id=hub.id if hub is not None else None,
        request_id=request_id or context.request_id,
        source=context.source,
        client_address=context.client_address,
        operator=_clip(context.operator, 64) if context.operator else None,
        details=safe_details(details),
    )
    db.add(event)
    return event


def safe_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details as stored: scalars (or lists of them) only, strings clipped and printable; a secret-named key raises."""
    safe: dict[str, Any] = {}
    for key, value in details.items():
        if key.lower() in SECRET_KEYS:
            raise ValueError(f"audit detail {key!r} would record a secret; record its public id instead")
        if isinstance(value, list | tuple | set | frozenset):
            safe[key] = [_scalar(item) for item in value]
        else:
            safe[key] = _scalar(value)
    return safe


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    return _clip(str(value), MAX_DETAIL_LENGTH)


def _clip(text: str, limit: int) -> str:
    text = displayable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"

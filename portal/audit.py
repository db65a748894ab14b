"""The audit log: one row per change, with the actor, the hub and the request id, never a secret."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from portal.models import AuditEvent, Hub, User


def record(
    db: Session,
    *,
    action: str,
    actor: User | None,
    hub: Hub | None = None,
    request_id: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the session; the caller's transaction commits it with the change."""
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        hub_id=hub.id if hub else None,
        request_id=request_id,
        details=details,
    )
    db.add(event)
    return event

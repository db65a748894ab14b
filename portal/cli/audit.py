"""`portal audit list`: read the audit log from a shell (the same service as the log pages)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click
from flask.cli import with_appcontext

from portal import db
from portal.cli.common import hub_by_slug


@click.group("audit")
def audit() -> None:
    """Read the audit log."""


@audit.command("list")
@click.option("--hub", "hub_slug", metavar="SLUG", help="Only this hub's events.")
@click.option("--who", metavar="TEXT", help="Only events whose actor's email contains TEXT.")
@click.option("--action", metavar="ACTION", help="Only this kind of event, e.g. auth.sign_in_failed.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="From this UTC day (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Until this UTC day, included.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500), help="Events per page.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1), help="Which page, newest first.")
@click.option("--json", "as_json", is_flag=True, help='Print {"events": [...], "total": N, ...} as JSON.')
@with_appcontext
def list_events(
    hub_slug: str | None,
    who: str | None,
    action: str | None,
    since: Any,
    until: Any,
    limit: int,
    page: int,
    as_json: bool,
) -> None:
    """List audit events, newest first."""
    from portal.audit_log import services

    query = services.AuditQuery(
        hub_id=hub_by_slug(hub_slug).id if hub_slug else None,
        actor=who,
        action=action,
        since=_day(since),
        until=_day(until),
        page=page,
        per_page=limit,
    )
    found = services.search(db.session(), query, visible_hubs=None)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "events": [_as_dict(event) for event in found.events],
                    "total": found.total,
                    "page": found.page,
                    "pages": found.pages,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if not found.events:
        click.echo("No events match.")
        return
    for event in found.events:
        who_text = event.actor_email or "-"
        if event.source == "cli":
            who_text += f" (portal command, OS user {event.operator})"
        details = " ".join(f"{key}={value}" for key, value in sorted(event.details.items()))
        hub = event.hub.slug if event.hub else "-"
        click.echo(
            f"{event.created_at:%Y-%m-%d %H:%M:%S}Z  {event.action:<26} {hub:<16} {who_text}  {details}"
            f"  [{event.client_address or '-'} {event.request_id or '-'}]"
        )
    click.echo(f"Page {found.page} of {found.pages} ({found.total} event{'' if found.total == 1 else 's'}).")


def _day(value: Any) -> date | None:
    return value.date() if value is not None else None


def _as_dict(event: Any) -> dict[str, Any]:
    from portal.audit_log.services import action_label

    return {
        "id": event.id,
        "at": event.created_at.isoformat(),
        "action": event.action,
        "label": action_label(event.action),
        "actor_email": event.actor_email,
        "hub": event.hub.slug if event.hub else None,
        "source": event.source,
        "operator": event.operator,
        "client_address": event.client_address,
        "request_id": event.request_id,
        "details": event.details,
    }

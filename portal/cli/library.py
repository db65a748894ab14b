"""`portal library list SLUG [--json]`: what is in a hub's media library."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from portal import db
from portal.cli.common import hub_by_slug


@click.group("library")
def library() -> None:
    """A hub's media library."""


@library.command("list")
@click.argument("hub_slug")
@click.option("--json", "as_json", is_flag=True, help="Print the items as a JSON list.")
@with_appcontext
def list_items(hub_slug: str, as_json: bool) -> None:
    """Print the items of hub HUB_SLUG's media library, newest first."""
    from portal.library.services import all_items, as_dict
    from portal.library.views import duration

    items = all_items(db.session(), hub_by_slug(hub_slug))
    if as_json:
        click.echo(json.dumps([as_dict(item) for item in items], indent=2))
        return
    if not items:
        click.echo(f"The media library of {hub_slug} is empty.")
        return
    for item in items:
        kind = item.media_type.value + (" 360°" if item.is_360 else "")
        length = duration(item.duration) if item.duration else ""
        who = item.imported_by.email if item.imported_by else "-"
        click.echo(f"{item.id:>6}  {item.entry_id:<12} {kind:<10} {length:>8}  {item.name}  ({who})")

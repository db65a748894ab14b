"""`portal uploads list SLUG [--email EMAIL] [--json]`: uploads made through a hub's picker."""

from __future__ import annotations

import json

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from portal import db
from portal.cli.common import fail, hub_by_slug
from portal.models import User


@click.group("uploads")
def uploads() -> None:
    """Uploads from the picker to Kaltura."""


@uploads.command("list")
@click.argument("hub_slug")
@click.option("--email", default=None, help="Only this member's uploads.")
@click.option("--json", "as_json", is_flag=True, help="Print the uploads as a JSON list.")
@with_appcontext
def list_uploads(hub_slug: str, email: str | None, as_json: bool) -> None:
    """Print hub HUB_SLUG's uploads, newest first, as the portal last read them from Kaltura."""
    from portal.uploads.services import as_dict, member_uploads, size_text

    session = db.session()
    hub = hub_by_slug(hub_slug)
    user = None
    if email:
        user = session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
        if user is None:
            fail(f"No user has the email {email!r}.")
    rows = member_uploads(session, hub, user, limit=10_000)
    if as_json:
        click.echo(json.dumps([as_dict(u) for u in rows], indent=2))
        return
    if not rows:
        click.echo(f"No uploads in {hub_slug}" + (f" by {email}." if email else "."))
        return
    click.echo(f"{'file':<32} {'size':>10}  {'entry':<12} {'state':<11} {'uploaded':>12}  flavors  member")
    for u in rows:
        flavors = f"{u.flavors_ready}/{u.flavors_total}" if u.flavors_total else "-"
        click.echo(
            f"{u.file_name[:32]:<32} {size_text(u.file_size):>10}  {(u.entry_id or '-'):<12} {u.state.value:<11} "
            f"{u.uploaded_bytes:>12,}  {flavors:>7}  {u.user.email}" + (f"  ({u.error})" if u.error else "")
        )

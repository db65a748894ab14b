"""`portal embed ...`: let host applications embed a hub's picker, and mint launch tokens to try it.

Each command calls the same services as hub settings → Embedding and is audited the same way.
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from portal import db, registry
from portal.cli.common import fail, hub_by_slug
from portal.validation import FieldError


@click.group("embed")
def embed() -> None:
    """Allowed origins, launch secrets and launch tokens of the embedded picker."""


@embed.command("allow-origin")
@click.argument("hub_slug")
@click.argument("origin")
@with_appcontext
def allow_origin(hub_slug: str, origin: str) -> None:
    """Let the application at ORIGIN (scheme://host[:port]) embed the picker of hub HUB_SLUG."""
    from portal.embed import services
    from portal.embed.origins import canonical_origin

    hub = hub_by_slug(hub_slug)
    try:
        canonical = canonical_origin(origin)
        settings = services.settings_of(db.session(), hub)
        if settings is not None and canonical in (settings.allowed_origins or []):
            click.echo(f"{canonical} may already embed the picker of {hub_slug}.")  # idempotent for scripts
            return
        services.add_origin(db.session(), hub=hub, origin=canonical, actor=None)
    except FieldError as error:
        fail(error.message)
    click.echo(f"{canonical} may now embed the picker of {hub_slug}.")


@embed.command("remove-origin")
@click.argument("hub_slug")
@click.argument("origin")
@with_appcontext
def remove_origin(hub_slug: str, origin: str) -> None:
    """Stop ORIGIN from embedding the picker of hub HUB_SLUG (its open pickers close)."""
    from portal.embed import services

    try:
        canonical = services.remove_origin(db.session(), hub=hub_by_slug(hub_slug), origin=origin, actor=None)
    except FieldError as error:
        fail(error.message)
    click.echo(f"{canonical} can no longer embed the picker of {hub_slug}.")


@embed.command("new-secret")
@click.argument("hub_slug")
@with_appcontext
def new_secret(hub_slug: str) -> None:
    """Generate (or rotate) the hub's HS256 launch secret and print it, this once.

    The secret alone goes to standard output (details to standard error), so scripts can capture it.
    """
    from portal.embed import services

    grace = timedelta(hours=current_app.config["EMBED_SECRET_GRACE_HOURS"])
    created = services.new_secret(
        db.session(), hub=hub_by_slug(hub_slug), keyring=registry.vault().keyring, actor=None, grace=grace
    )
    click.echo(created.secret)
    click.echo(f"New launch secret {created.kid} for {hub_slug}; it is not shown again.", err=True)
    if created.previous_kid and created.previous_valid_until:
        until = created.previous_valid_until.strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"The previous secret {created.previous_kid} keeps working until {until}.", err=True)


@embed.command("launch-token")
@click.argument("hub_slug")
@click.argument("email")
@click.option("--origin", required=True, help="The embedding page's origin, e.g. https://lms.example.org.")
@click.option("--name", default=None, help="The person's display name (used if the launch adds them).")
@click.option("--ttl", default=300, show_default=True, type=click.IntRange(1, 600), help="Seconds the token lives.")
@with_appcontext
def launch_token(hub_slug: str, email: str, origin: str, name: str | None, ttl: int) -> None:
    """Mint a launch token for EMAIL in hub HUB_SLUG, as a host application's backend would."""
    from portal.embed import services
    from portal.embed.launch import mint_launch_token
    from portal.embed.origins import canonical_origin

    hub = hub_by_slug(hub_slug)
    try:
        origin = canonical_origin(origin)
    except FieldError as error:
        fail(f"--origin: {error.message}")
    settings = services.settings_of(db.session(), hub)
    if settings is None or origin not in (settings.allowed_origins or []):
        fail(
            f"{origin} is not allowed to embed {hub_slug}'s picker; "
            f"run `portal embed allow-origin {hub_slug} {origin}` first."
        )
    current = services.current_secret(registry.vault().keyring, settings)
    if current is None:
        fail(f"{hub_slug} has no launch secret; run `portal embed new-secret {hub_slug}` first.")
    kid, secret = current
    click.echo(
        mint_launch_token(
            secret,
            kid=kid,
            hub=hub.slug,
            email=email,
            name=name,
            origin=origin,
            audience=current_app.config["EMBED_AUDIENCE"],
            ttl=ttl,
        )
    )

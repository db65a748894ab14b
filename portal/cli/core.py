"""`portal migrate | create-user | create-hub | add-member | set-plan | seed-demo`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal import db
from portal.cli.common import audited, current_actor, fail, hub_by_slug
from portal.models import Plan, Role


@click.command("migrate")
@click.option("--revision", default="head", show_default=True, help="Target revision (e.g. -1 to step back).")
@with_appcontext
def migrate(revision: str) -> None:
    """Bring the database schema to REVISION (upgrade or downgrade)."""
    from portal import migrations

    migrations.migrate(db.engine(), revision)
    click.echo(f"Database at {migrations.current_revision(db.engine())}.")


@click.command("create-user")
@click.argument("email")
@click.option("--name", default="", help="Display name (defaults to the part before @).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--support", is_flag=True, help="Make the user support staff (read-only everywhere).")
@with_appcontext
@audited
def create_user(email: str, name: str, password: str, support: bool) -> None:
    """Create a portal user who can sign in with EMAIL (invitations to that address then show)."""
    from portal.accounts.services import create_user as create
    from portal.validation import FieldError

    try:
        user = create(
            db.session(), email=email, display_name=name, password=password, is_support=support, actor=current_actor()
        )
    except FieldError as error:
        fail(error.message)
    click.echo(f"Created {user.email}{' (support)' if support else ''}.")


@click.command("create-hub")
@click.argument("slug")
@click.argument("name")
@click.option("--plan", type=click.Choice([p.value for p in Plan]), default=Plan.FREE.value, show_default=True)
@with_appcontext
@audited
def create_hub(slug: str, name: str, plan: str) -> None:
    """Create a hub called NAME at /hubs/SLUG."""
    from portal.hubs.services import create_hub as create
    from portal.validation import FieldError

    try:
        hub = create(db.session(), name=name, slug=slug, plan=Plan(plan), actor=current_actor())
    except FieldError as error:
        fail(error.message)
    click.echo(f"Created hub {hub.slug} ({hub.plan.label}).")


@click.command("add-member")
@click.argument("slug")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.PARTICIPANT.value, show_default=True)
@with_appcontext
@audited
def add_member(slug: str, email: str, role: str) -> None:
    """Add the user with EMAIL to hub SLUG at once (admins invite on the Members tab instead)."""
    from portal.hubs.services import add_member as add
    from portal.validation import FieldError

    try:
        add(db.session(), hub=hub_by_slug(slug), email=email, role=Role(role), actor=current_actor())
    except FieldError as error:
        fail(error.message)
    click.echo(f"Added {email} to {slug} as {role}.")


@click.command("set-plan")
@click.argument("slug")
@click.argument("plan", type=click.Choice([p.value for p in Plan]))
@with_appcontext
@audited
def set_plan(slug: str, plan: str) -> None:
    """Put hub SLUG on PLAN."""
    from portal.hubs.services import set_plan as change

    change(db.session(), hub=hub_by_slug(slug), plan=Plan(plan), actor=current_actor())
    click.echo(f"{slug} is on the {Plan(plan).label} plan.")


@click.command("seed-demo")
@with_appcontext
@audited
def seed_demo() -> None:
    """Create the demo users, hubs and memberships (safe to run again)."""
    from portal.demo import DEMO_PASSWORD, HARBOUR_PARTICIPANT, USERS
    from portal.demo import seed_demo as seed

    created = seed(db.session())
    click.echo("Demo data: " + (f"created {len(created)} records." if created else "already in place."))
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for user in (*USERS, HARBOUR_PARTICIPANT):
        click.echo(f"  {user.email:<28} {user.description}")

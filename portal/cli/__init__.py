"""The `portal` command: one module per area, each command a thin wrapper over the services the views call."""

from __future__ import annotations

from flask import Flask
from flask.cli import FlaskGroup


def main() -> None:
    """Entry point of the `portal` console script."""
    from portal import create_app

    FlaskGroup(create_app=lambda: create_app(), help="Kaltura Hub Portal administration.")(prog_name="portal")


def register(app: Flask) -> None:
    """Add every `portal` command to the app's CLI."""
    from portal.cli import audit, core, embed, kaltura, library, uploads

    for command in (
        core.migrate,
        core.create_user,
        core.create_hub,
        core.add_member,
        core.set_plan,
        core.seed_demo,
        kaltura.kaltura,
        audit.audit,
        embed.embed,
        library.library,
        uploads.uploads,
    ):
        app.cli.add_command(command)

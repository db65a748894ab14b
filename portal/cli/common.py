"""What every `portal` command shares: failing with a message, and finding a hub by its slug."""

from __future__ import annotations

from typing import NoReturn

import click
import sqlalchemy as sa

from portal import db
from portal.models import Hub


def fail(message: str) -> NoReturn:
    """Stop the command with ``message`` and a non-zero exit status."""
    raise click.ClickException(message)


def hub_by_slug(slug: str) -> Hub:
    """The hub at ``slug``, or a ClickException saying there is none."""
    hub = db.session().scalar(sa.select(Hub).where(Hub.slug == slug))
    if hub is None:
        fail(f"No hub has the slug {slug!r}.")
    return hub

"""What every `portal` command shares: failing with a message, finding a hub, and naming the operator."""

from __future__ import annotations

import functools
import getpass
import os
import secrets
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click
import sqlalchemy as sa
from flask import g

from portal import audit, db
from portal.models import Hub, User

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> NoReturn:
    """Stop the command with ``message`` and a non-zero exit status."""
    raise click.ClickException(message)


def hub_by_slug(slug: str) -> Hub:
    """The hub at ``slug``, or a ClickException saying there is none."""
    hub = db.session().scalar(sa.select(Hub).where(Hub.slug == slug))
    if hub is None:
        fail(f"No hub has the slug {slug!r}.")
    return hub


def operating_system_user() -> str:
    """Who runs this process, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry or login variables
        return f"uid:{os.getuid()}"


def audited(command: F) -> F:
    """Record everything ``command`` changes as done by its operator; adds ``--actor EMAIL``.

    The audit rows name the OS user who ran the command (always: that is evidence, not a claim)
    and, with ``--actor`` (or ``PORTAL_ACTOR``), the person on whose behalf; when a portal account
    uses that email it is the row's actor. Use it below ``with_appcontext``.
    """

    @click.option(
        "--actor",
        "actor_email",
        metavar="EMAIL",
        envvar="PORTAL_ACTOR",
        help="Who is making this change, for the audit log (the OS user is always recorded too).",
    )
    @functools.wraps(command)
    def wrapper(*args: Any, actor_email: str | None = None, **kwargs: Any) -> Any:
        from portal.accounts.services import find_by_email, normalise_email
        from portal.validation import FieldError

        email = None
        if actor_email:
            try:
                email = normalise_email(actor_email)
            except FieldError as error:
                fail(f"--actor: {error.message}")
        g.cli_actor = find_by_email(db.session(), email) if email else None
        context = audit.AuditContext(
            source="cli", request_id="cli-" + secrets.token_hex(6), operator=operating_system_user(), actor_email=email
        )
        with audit.use_context(context):
            return command(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_actor() -> User | None:
    """The portal account named by ``--actor``, if any (inside an :func:`audited` command)."""
    return g.get("cli_actor")

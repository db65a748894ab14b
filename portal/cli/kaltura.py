"""`portal kaltura ...`: diagnose and manage Kaltura connections from a shell.

Support and operators use these where a browser is not at hand; each command calls the same
services as the Kaltura tab, and exits non-zero when anything fails.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from portal import db, registry
from portal.cli.common import audited, current_actor, hub_by_slug
from portal.models import UserIdMode

LEVELS = {"pass": "ok", "warn": "warning", "fail": "error", "skip": "warning"}


@click.group("kaltura")
def kaltura() -> None:
    """Validate App Tokens, check and connect hubs, rotate the encryption key."""


@kaltura.command("validate-tokens")
@click.argument("client_json_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("server_json_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help='Print {"findings": [...]} as JSON.')
def validate_tokens(client_json_file: Path, server_json_file: Path, as_json: bool) -> None:
    """Check two pasted App Token JSON files without contacting Kaltura."""
    from portal.kaltura import validate_pair

    result = validate_pair(_read(client_json_file), _read(server_json_file))
    findings = [{"level": f.level, "code": f.code, "message": f.message, "field": f.field} for f in result.findings]
    _report(findings, as_json)


@kaltura.command("check")
@click.argument("hub_slug", required=False)
@click.option("--all", "every_hub", is_flag=True, help="Check every connected hub on a paid plan (for cron).")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON (with --all, per hub).")
@with_appcontext
def check(hub_slug: str | None, every_hub: bool, as_json: bool) -> None:
    """Run the live connection checks for a saved hub (as support does: no Kaltura user is created).

    With --all, every connected hub on a paid plan is checked in turn, which refreshes the figures
    of the status pages; old call statistics are pruned too. Exits non-zero when any check fails.
    """
    if every_hub == bool(hub_slug):
        raise click.UsageError("Give one hub's slug, or --all.")
    if not every_hub:
        assert hub_slug is not None
        hub = hub_by_slug(hub_slug)
        _report(_check_findings(hub, hub_slug), as_json)
        return
    _check_all(as_json)


def _check_findings(hub: Any, hub_slug: str) -> list[dict[str, Any]]:
    from portal.integrations import services

    if services.connection_of(db.session(), hub) is None:
        raise click.ClickException(f"Hub {hub_slug!r} has no Kaltura connection. Connect it on its Kaltura tab first.")
    report = services.test_connection(
        db.session(),
        gateway=registry.kaltura(),
        vault=registry.vault(),
        hub=hub,
        tester=None,
        may_change=False,
        typed=services.Typed(),
    )
    if report.problems:
        raise click.ClickException(" ".join(problem.message for problem in report.problems))
    return [
        {"level": LEVELS[row.status], "code": row.key, "message": _row_message(row), "kaltura_error": row.code}
        for row in report.rows
    ]


def _check_all(as_json: bool) -> None:
    import sqlalchemy as sa

    from portal.models import Hub, KalturaConnection
    from portal.status.recording import prune

    with db.engine().begin() as connection:
        pruned = prune(connection, datetime.now(UTC))
    hubs = db.session().scalars(
        sa.select(Hub).join(KalturaConnection, KalturaConnection.hub_id == Hub.id).order_by(Hub.slug)
    )
    results: dict[str, Any] = {}
    failed = False
    for hub in [hub for hub in hubs if hub.plan.is_paid]:
        try:
            findings = _check_findings(hub, hub.slug)
        except click.ClickException as error:  # not connected (tokens removed): say so and go on
            results[hub.slug] = {"error": error.message}
            failed = True
            continue
        results[hub.slug] = {"findings": findings}
        failed = failed or any(f["level"] == "error" for f in findings)
    registry.recorder().flush()  # the checks' own calls are in the figures before the command ends
    if as_json:
        click.echo(json.dumps({"hubs": results, "prunedRows": pruned}, indent=2))
    else:
        for slug, result in results.items():
            if "error" in result:
                click.echo(f"{slug}: {result['error']}")
                continue
            levels = [f["level"] for f in result["findings"]]
            verdict = "failed" if "error" in levels else "passed with warnings" if "warning" in levels else "passed"
            click.echo(f"{slug}: {verdict}")
            for finding in result["findings"]:
                if finding["level"] != "ok":
                    click.echo(f"  {finding['level']:<8} {finding['code']:<28} {finding['message']}")
        click.echo(f"Checked {len(results)} hub(s); pruned {pruned} old call-statistics row(s).")
    if failed:
        raise SystemExit(1)


@kaltura.command("diagnostics")
@click.argument("hub_slug")
@with_appcontext
def diagnostics(hub_slug: str) -> None:
    """Print the hub's diagnostic bundle as JSON, as support downloads it (no secret in it, no Kaltura call)."""
    from portal.status.services import bundle

    registry.recorder().flush()
    click.echo(json.dumps(bundle(db.session(), hub_by_slug(hub_slug)), indent=2))


@kaltura.command("connect")
@click.argument("hub_slug")
@click.argument("service_url")
@click.argument("client_json_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("server_json_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user-id-mode", type=click.Choice(["email", "email_prefix"]), default=None)
@with_appcontext
@audited
def connect(
    hub_slug: str, service_url: str, client_json_file: Path, server_json_file: Path, user_id_mode: str | None
) -> None:
    """Connect a hub exactly as an admin would on its Kaltura tab (validate, test live, save)."""
    from portal.integrations import services

    report = services.save_connection(
        db.session(),
        gateway=registry.kaltura(),
        vault=registry.vault(),
        hub=hub_by_slug(hub_slug),
        actor=current_actor(),
        typed=services.Typed(
            service_url=service_url,
            client_text=_read(client_json_file),
            server_text=_read(server_json_file),
            mode=UserIdMode(user_id_mode) if user_id_mode else None,
        ),
    )
    for problem in report.problems:
        click.echo(f"error: {problem.field or 'connection'}: {problem.message}", err=True)
    for finding in report.notes:
        if finding.level == "warning":
            click.echo(f"warning: {finding.message}", err=True)
    for row in report.rows:
        if row.status != "pass":
            click.echo(f"{LEVELS[row.status]}: {_row_message(row)}", err=True)
    if not report.saved:
        raise click.ClickException(f"Hub {hub_slug!r} was not connected; nothing was saved.")
    click.echo(f"Connected {hub_slug} to Kaltura at {service_url}.")


@kaltura.command("identity")
@click.argument("hub_slug")
@click.argument("email")
@click.option("--json", "as_json", is_flag=True, help="Print the link as JSON.")
@with_appcontext
@audited
def identity(hub_slug: str, email: str, as_json: bool) -> None:
    """Show a member's Kaltura identity link, provisioning it first if needed."""
    import sqlalchemy as sa

    from portal.accounts.services import normalise_email
    from portal.identity.links import IdentityError, ensure_link
    from portal.models import User
    from portal.validation import FieldError

    hub = hub_by_slug(hub_slug)
    try:
        address = normalise_email(email)
    except FieldError as error:
        raise click.ClickException(f"{email!r} is not an email address: {error.message}") from None
    member = db.session().scalar(sa.select(User).where(User.email == address))
    if member is None:
        raise click.ClickException(f"{address} is not a member of hub {hub_slug!r} (no portal account uses it).")
    try:
        link = ensure_link(db.session(), registry.kaltura(), hub, member, actor=current_actor())
    except IdentityError as error:
        raise click.ClickException(f"{address} in hub {hub_slug!r}: {error.message}") from None
    record = {
        "hub": hub.slug,
        "email": member.email,
        "kalturaUserId": link.kaltura_user_id,
        "state": link.state.value,
        "linkedAt": link.linked_at.isoformat(),
        "verifiedAt": link.verified_at.isoformat() if link.verified_at else None,
    }
    if as_json:
        click.echo(json.dumps(record, indent=2))
    else:
        for key, value in record.items():
            click.echo(f"{key:<14} {value if value is not None else '-'}")


@kaltura.command("rotate-keys")
@with_appcontext
@audited
def rotate_keys() -> None:
    """Re-encrypt every saved App Token under the first (primary) key of PORTAL_ENCRYPTION_KEYS."""
    from portal.embed.services import rotate_keys as rotate_launch_secrets
    from portal.integrations import services
    from portal.secrets import SecretsError

    try:
        # Launch secrets first: services.rotate_keys commits, and both then move to the new key together.
        secrets_rotated, secrets_current = rotate_launch_secrets(db.session(), registry.vault().keyring)
        rotated, current = services.rotate_keys(db.session(), registry.vault())
    except SecretsError as error:
        raise click.ClickException(f"Stopped, nothing saved: {error}") from None
    click.echo(f"Re-encrypted {rotated} token(s); {current} already used the primary key.")
    click.echo(f"Re-encrypted {secrets_rotated} launch secret(s); {secrets_current} already used the primary key.")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig", errors="replace")


def _row_message(row: Any) -> str:
    parts = [f"{row.title}: {row.detail}"]
    if row.code:
        parts.append(f"(Kaltura error {row.code})")
    if row.what_to_do:
        parts.append(f"What to do: {row.what_to_do}")
    return " ".join(parts)


def _report(findings: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"findings": findings}, indent=2))
    else:
        for finding in findings:
            click.echo(f"{finding['level']:<8} {finding['code']:<28} {finding['message']}")
    if any(f["level"] == "error" for f in findings):
        raise SystemExit(1)

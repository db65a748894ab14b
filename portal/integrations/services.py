"""A hub's Kaltura connection: validate what an admin typed, test it live, save it, remove it. No Flask here.

Views, the CLI and the demo all call these functions, so an admin's paste, an operator's
`portal kaltura connect` and `make demo` go through the same checks and the same audit trail. Each
function returns what it found (a :class:`Report`) instead of filling an argument. Saved tokens stay
sealed here: the gateway unseals them for the calls that need them (DESIGN §3.5). The user-id
mapping lives in :mod:`portal.identity`, key rotation next to the vault.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal import audit
from portal.identity import check_rule, collision_errors, mapped_user_id, mapping_collisions
from portal.kaltura import (
    AppToken,
    CheckRow,
    Finding,
    KalturaGateway,
    OutboundBlocked,
    calls,
    run_live_checks,
    validate_pair,
)
from portal.kaltura.gateway import TokenRef
from portal.kaltura.tokens import pair_findings, parse_app_token
from portal.kaltura.vault import SLOTS, SealedToken, Slot, TokenVault, rotate
from portal.models import PAID_PLAN_NEEDED, Hub, KalturaConnection, User, UserIdMode
from portal.secrets import SecretsError
from portal.validation import FieldError

NOT_CONNECTED = "Not connected: no App Tokens are saved for this hub, so there is nothing to test."
SUPPORT_TESTS_SAVED = (
    "Support staff test the saved connection only. Pasted tokens and other service URLs are not accepted here; "
    "a hub admin can test and save new ones."
)


class NotPermitted(Exception):
    """The caller may not do this at all (not a mistake in what they typed); the message says why."""


@dataclass(frozen=True)
class Typed:
    """What an admin typed on the Kaltura tab (or gave the CLI). Nothing in it is trusted yet."""

    service_url: str | None = None
    client_text: str = ""
    server_text: str = ""
    mode: UserIdMode | None = None

    @property
    def pastes_tokens(self) -> bool:
        return bool(self.client_text.strip() or self.server_text.strip())


@dataclass(frozen=True)
class Report:
    """What a test or save found: refusals, token findings, live check rows, and whether it was saved."""

    errors: tuple[FieldError, ...] = ()
    findings: tuple[Finding, ...] = ()
    rows: tuple[CheckRow, ...] = ()
    saved: bool = False

    @property
    def ok(self) -> bool:
        """Nothing refused and nothing failed (warnings allowed)."""
        return not self.problems and not any(row.failed for row in self.rows)

    @property
    def problems(self) -> tuple[FieldError, ...]:
        """Every refusal, each once: the service's own and the token findings that are errors."""
        found = tuple(FieldError(f.field, f.message) for f in self.findings if f.level == "error")
        return (*self.errors, *found)

    @property
    def warnings(self) -> tuple[str, ...]:
        """What works but deserves attention: token warnings, then the live checks that warned."""
        tokens = tuple(f.message for f in self.findings if f.level == "warning")
        rows = tuple(f"{row.title}: {row.detail}" for row in self.rows if row.status == "warn")
        return (*tokens, *rows)

    @property
    def notes(self) -> tuple[Finding, ...]:
        """The findings that are not errors (errors are shown on their fields): warnings and what was fine."""
        return tuple(f for f in self.findings if f.level != "error")


@dataclass(frozen=True)
class Candidate:
    """The URL and tokens a test or save would use (pasted, or saved where nothing was pasted)."""

    service_url: str | None
    client: TokenRef | None
    server: TokenRef | None
    errors: tuple[FieldError, ...]
    findings: tuple[Finding, ...]
    #: Every part comes from the saved connection: a test of it is a test of what is saved.
    is_saved: bool

    @property
    def testable(self) -> bool:
        return bool(
            self.service_url
            and self.client
            and self.server
            and not self.errors
            and not any(f.level == "error" for f in self.findings)
        )


def connection_of(db: Session, hub: Hub) -> KalturaConnection | None:
    """The hub's Kaltura connection row, if it has one."""
    return db.scalar(sa.select(KalturaConnection).where(KalturaConnection.hub_id == hub.id))


def test_connection(
    db: Session,
    *,
    gateway: KalturaGateway,
    vault: TokenVault,
    hub: Hub,
    tester: User | None,
    may_change: bool,
    typed: Typed,
    request_id: str | None = None,
) -> Report:
    """Run the live checks on what was typed, or on the saved connection, without saving anything.

    Admins (``may_change``) may test tokens they have just pasted, as their own Kaltura user.
    Support (and the CLI) test only the saved connection, with an anonymous client session, so a
    test never creates a Kaltura user for someone who is not a member; pasted tokens from them are
    refused with :class:`NotPermitted`. A test of the saved connection is recorded on it (time and
    rows), so "Last tested" shows when and how it last ran.
    """
    if not hub.plan.is_paid:
        return Report(errors=(FieldError(None, PAID_PLAN_NEEDED),))
    connection = connection_of(db, hub)
    saved_url = connection.service_url if connection else None
    if not may_change and (typed.pastes_tokens or (typed.service_url and typed.service_url != saved_url)):
        raise NotPermitted(SUPPORT_TESTS_SAVED)
    if not typed.pastes_tokens and not (connection and connection.has_tokens) and not may_change:
        return Report(errors=(FieldError(None, NOT_CONNECTED),))
    chosen = _candidate(gateway, vault, connection, typed)
    errors = [*chosen.errors, *(_mode_errors(db, hub, connection, typed.mode) if may_change else [])]
    user_id = _tester_id(tester, connection, typed.mode) if may_change else None
    rows = _run(gateway, hub, chosen, user_id) if chosen.testable and not errors else ()
    if rows and chosen.is_saved and connection is not None:
        _record_check(connection, rows)
        audit.record(db, action="kaltura.test", actor=tester, hub=hub, request_id=request_id, result=_verdict(rows))
        db.commit()
    return Report(tuple(errors), chosen.findings, rows)


def save_connection(
    db: Session,
    *,
    gateway: KalturaGateway,
    vault: TokenVault,
    hub: Hub,
    actor: User | None,
    typed: Typed,
    request_id: str | None = None,
) -> Report:
    """Validate, test live, and save only if every check passes (warnings allowed). Nothing is half-written.

    Each pasted token's warnings are kept in its public summary, so the token's card shows them
    until the token is replaced.
    """
    if not hub.plan.is_paid:
        return Report(errors=(FieldError(None, PAID_PLAN_NEEDED),))
    connection = connection_of(db, hub)
    chosen = _candidate(gateway, vault, connection, typed)
    errors = (*chosen.errors, *_mode_errors(db, hub, connection, typed.mode))
    user_id = _tester_id(actor, connection, typed.mode) if actor else None
    rows = _run(gateway, hub, chosen, user_id) if chosen.testable and not errors else ()
    report = Report(errors, chosen.findings, rows)
    if not report.ok or not rows:
        return report
    connection = connection or KalturaConnection(hub_id=hub.id)
    changed = _apply(connection, vault, hub, chosen, typed.mode)
    _record_check(connection, rows)
    db.add(connection)
    assert chosen.client is not None and chosen.server is not None  # testable
    audit.record(
        db,
        action="kaltura.save",
        actor=actor,
        hub=hub,
        request_id=request_id,
        changed=changed,
        service_url=chosen.service_url,
        client_token_id=chosen.client.id,
        server_token_id=chosen.server.id,
    )
    db.commit()
    return replace(report, saved=True)


def remove_token(db: Session, *, hub: Hub, slot: Slot, actor: User | None, request_id: str | None = None) -> str | None:
    """Forget one saved token; returns its id (for the message), or None when none was saved.

    The last test result goes too: it was about a connection that no longer exists.
    """
    connection = connection_of(db, hub)
    info = connection.token_info(slot) if connection else None
    if connection is None or info is None:
        return None
    connection.forget_token(slot)
    connection.last_check = None
    connection.last_checked_at = None
    audit.record(
        db, action="kaltura.remove_token", actor=actor, hub=hub, request_id=request_id, slot=slot, token_id=info["id"]
    )
    db.commit()
    return str(info["id"])


def set_custom_rule(
    db: Session, *, hub: Hub, rule: str, actor: User, request_id: str | None = None
) -> KalturaConnection:
    """Support defines (or, with an empty rule, clears) the hub's custom user-id rule."""
    connection = connection_of(db, hub)
    if connection is None:
        raise FieldError("custom_rule", "Connect the hub to Kaltura first; the rule belongs to its connection.")
    if rule.strip():
        rule = check_rule(rule)
        for user_id, emails in mapping_collisions(db, hub, UserIdMode.CUSTOM, rule).items():
            raise FieldError(
                "custom_rule",
                f"{' and '.join(emails)} would share the Kaltura user id '{user_id}'. "
                "Use a rule that keeps every member's id different (e.g. include {domain}).",
            )
        connection.custom_rule = rule
        connection.user_id_mode = UserIdMode.CUSTOM
    else:
        connection.custom_rule = None
        if connection.user_id_mode is UserIdMode.CUSTOM:
            connection.user_id_mode = UserIdMode.EMAIL
    audit.record(
        db, action="kaltura.user_id_rule", actor=actor, hub=hub, request_id=request_id, rule=connection.custom_rule
    )
    db.commit()
    return connection


def rotate_keys(db: Session, vault: TokenVault) -> tuple[int, int]:
    """Re-encrypt every saved token under the primary key; returns (rotated, already current).

    One transaction: either every token moves to the new key or none does.
    """
    rotations = rotate(vault, db.scalars(sa.select(KalturaConnection)))
    for rotation in rotations:
        if rotation.rotated:
            assert isinstance(rotation.row, KalturaConnection)
            audit.record(
                db,
                action="kaltura.rotate_key",
                actor=None,
                hub=rotation.row.hub,
                slots=list(rotation.rotated),
                key_id=vault.keyring.primary,
            )
    db.commit()
    return sum(len(r.rotated) for r in rotations), sum(r.current for r in rotations)


def example_user_id(user: User, connection: KalturaConnection | None, mode: UserIdMode | None = None) -> str:
    """``user``'s own Kaltura id under ``mode`` (the saved mode by default): the example the tab shows them."""
    mode = mode or (connection.user_id_mode if connection else UserIdMode.EMAIL)
    return mapped_user_id(user.email, mode, connection.custom_rule if connection else None)


# --- internals ----------------------------------------------------------------------------


def _candidate(
    gateway: KalturaGateway, vault: TokenVault, connection: KalturaConnection | None, typed: Typed
) -> Candidate:
    """Validate what was typed; the saved token stands in for an empty field (still sealed)."""
    errors: list[FieldError] = []
    url_text = typed.service_url or (connection.service_url if connection else None)
    url = _checked_url(gateway, url_text, errors)
    texts = {"client": typed.client_text.strip(), "server": typed.server_text.strip()}
    is_saved = not any(texts.values()) and connection is not None and url == connection.service_url
    if all(texts.values()):
        pair = validate_pair(texts["client"], texts["server"])
        return Candidate(url, pair.client, pair.server, tuple(errors), pair.findings, False)
    findings: list[Finding] = []
    tokens: dict[Slot, TokenRef | None] = {}
    for slot in SLOTS:
        if texts[slot]:
            tokens[slot], found = parse_app_token(texts[slot], slot)
            findings.extend(found)
            continue
        # Only an empty field falls back to the saved token, so a pasted replacement is never
        # blocked by an old token that no longer decrypts.
        tokens[slot] = _saved_token(vault, connection, slot, errors)
    client, server = tokens["client"], tokens["server"]
    if client and server:
        findings.extend(pair_findings(client, server))
    return Candidate(url, client, server, tuple(errors), tuple(findings), is_saved)


def _saved_token(
    vault: TokenVault, connection: KalturaConnection | None, slot: Slot, errors: list[FieldError]
) -> SealedToken | None:
    sealed = connection.sealed_token(slot) if connection else None
    if sealed is None:
        errors.append(FieldError(f"{slot}_token", f"Paste the {slot} App Token: the JSON that appToken.add returned."))
        return None
    try:
        vault.verify(sealed)
    except SecretsError:
        errors.append(
            FieldError(
                f"{slot}_token",
                f"The saved {slot} token cannot be decrypted (the encryption key changed or the "
                "row was altered). Paste the token again to replace it.",
            )
        )
        return None
    return sealed


def _checked_url(gateway: KalturaGateway, url: str | None, errors: list[FieldError]) -> str | None:
    if not url:
        errors.append(FieldError("service_url", "Choose the Kaltura region (service URL) your account is in."))
        return None
    try:
        return str(gateway.check_service_url(url))
    except OutboundBlocked as error:
        errors.append(FieldError("service_url", str(error)))
        return None


def _mode_errors(
    db: Session, hub: Hub, connection: KalturaConnection | None, mode: UserIdMode | None
) -> list[FieldError]:
    rule = connection.custom_rule if connection else None
    if mode is UserIdMode.CUSTOM and not rule:
        return [FieldError("user_id_mode", "Only support can choose a custom rule. Pick one of the email options.")]
    if connection and connection.user_id_mode is UserIdMode.CUSTOM and mode not in (None, UserIdMode.CUSTOM):
        return [FieldError("user_id_mode", "Support set a custom rule for this hub; contact support to change it.")]
    return collision_errors(db, hub, mode, rule) if mode is not None else []


def _tester_id(user: User | None, connection: KalturaConnection | None, mode: UserIdMode | None) -> str | None:
    return example_user_id(user, connection, mode) if user else None


def _run(gateway: KalturaGateway, hub: Hub, chosen: Candidate, user_id: str | None) -> tuple[CheckRow, ...]:
    assert chosen.service_url and chosen.client and chosen.server
    # The checks' calls count as the hub's (pasted tokens and the ping carry no hub of their own).
    with calls.for_hub(hub.id):
        return tuple(run_live_checks(gateway, chosen.service_url, chosen.client, chosen.server, user_id))


def _record_check(connection: KalturaConnection, rows: tuple[CheckRow, ...]) -> None:
    connection.last_check = [row.as_dict() for row in rows]
    connection.last_checked_at = datetime.now(UTC)


def _verdict(rows: tuple[CheckRow, ...]) -> str:
    statuses = {row.status for row in rows}
    return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"


def _apply(
    connection: KalturaConnection, vault: TokenVault, hub: Hub, chosen: Candidate, mode: UserIdMode | None
) -> list[str]:
    changed = []
    assert chosen.service_url is not None
    if connection.service_url != chosen.service_url:
        connection.service_url = chosen.service_url
        changed.append("service_url")
    for slot, token in zip(SLOTS, (chosen.client, chosen.server), strict=True):
        if isinstance(token, AppToken):
            warnings = [f.message for f in chosen.findings if f.field == f"{slot}_token" and f.level == "warning"]
            info = {**token.public_summary(), "warnings": warnings}
            if connection.token_info(slot) != info:
                changed.append(f"{slot}_token")
            # Sealed afresh even when unchanged: a re-pasted token repairs a row that no longer decrypts.
            connection.store_token(slot, vault.seal(token, hub.id, slot), info)
        elif token is not None:
            # A kept token moves to the primary key without leaving the vault in clear.
            connection.replace_ciphertext(slot, vault.rotate(token.ciphertext, hub.id, slot))
    if mode is not None and connection.user_id_mode is not mode:
        connection.user_id_mode = mode
        changed.append("user_id_mode")
    return changed

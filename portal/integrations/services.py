"""A hub's Kaltura connection: validate, test, save, remove. No Flask here.

Views, the CLI and the demo seed all call these functions, so an admin's paste, an operator's
`portal kaltura connect` and `make demo` go through the same checks and the same audit trail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal import audit
from portal.kaltura import AppToken, CheckRow, Finding, KalturaGateway, OutboundBlocked, run_live_checks, validate_pair
from portal.kaltura.tokens import pair_findings, parse_app_token
from portal.kaltura.vault import Slot, TokenVault
from portal.models import Hub, KalturaConnection, Membership, User, UserIdMode
from portal.secrets import SecretsError
from portal.validation import FieldError

SLOTS: tuple[Slot, ...] = ("client", "server")
# Kaltura's own rule for user ids (reference §7).
KALTURA_USER_ID = re.compile(r"^[A-Za-z0-9,!#$%&'*+?^_`{|}~.@-]{1,320}$")
RULE_FIELDS = {"email", "local", "domain"}
RULE_PLACEHOLDERS = "{email}, {local} or {domain}"


@dataclass
class Outcome:
    """What a validate/test/save produced: token findings, live check rows, and whether it was saved."""

    findings: list[Finding] = field(default_factory=list)
    rows: list[CheckRow] = field(default_factory=list)
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    saved: bool = False

    @property
    def ok(self) -> bool:
        return (
            not self.field_errors
            and not any(f.level == "error" for f in self.findings)
            and not any(r.failed for r in self.rows)
        )

    def error(self, field_name: str | None, message: str) -> None:
        self.field_errors.setdefault(field_name or "__all__", []).append(message)


@dataclass(frozen=True)
class Candidate:
    """The tokens and URL a test or save would use: pasted ones, or the saved ones where none was pasted."""

    service_url: str | None
    client: AppToken | None
    server: AppToken | None


def connection_of(db: Session, hub: Hub) -> KalturaConnection | None:
    return db.scalar(sa.select(KalturaConnection).where(KalturaConnection.hub_id == hub.id))


def mapped_user_id(email: str, mode: UserIdMode, rule: str | None = None) -> str:
    """The Kaltura user id for a portal email under the hub's mapping mode."""
    local, _, domain = email.partition("@")
    if mode is UserIdMode.EMAIL_PREFIX:
        return local
    if mode is UserIdMode.CUSTOM and rule:
        return rule.format(email=email, local=local, domain=domain)
    return email


def mapping_collisions(db: Session, hub: Hub, mode: UserIdMode, rule: str | None = None) -> dict[str, list[str]]:
    """Kaltura user ids that two or more of the hub's members would share under ``mode``.

    Two people on one Kaltura id would see and own each other's media, so this must be empty.
    """
    members = _members_by_kaltura_id(db, hub, mode, rule)
    return {user_id: emails for user_id, emails in members.items() if len(emails) > 1}


def clash_for_new_member(db: Session, hub: Hub, email: str) -> tuple[str, str] | None:
    """(member email, Kaltura id) when adding ``email`` would give two members one Kaltura user."""
    connection = connection_of(db, hub)
    if connection is None or connection.user_id_mode is UserIdMode.EMAIL:
        return None
    new_id = mapped_user_id(email, connection.user_id_mode, connection.custom_rule).lower()
    owners = _members_by_kaltura_id(db, hub, connection.user_id_mode, connection.custom_rule).get(new_id)
    return (owners[0], new_id) if owners else None


def _members_by_kaltura_id(db: Session, hub: Hub, mode: UserIdMode, rule: str | None) -> dict[str, list[str]]:
    # Kaltura user ids are compared case-insensitively, so "Pat" and "pat" collide.
    emails = db.scalars(sa.select(User.email).join(Membership).where(Membership.hub_id == hub.id).order_by(User.email))
    members: dict[str, list[str]] = {}
    for email in emails:
        members.setdefault(mapped_user_id(email, mode, rule).lower(), []).append(email)
    return members


def check_rule(rule: str) -> str:
    """A custom user-id rule must use our placeholders only and give valid Kaltura ids."""
    rule = rule.strip()
    names = set(re.findall(r"{([^{}]*)}", rule))
    if not names:
        raise FieldError("custom_rule", f"Use at least one of {RULE_PLACEHOLDERS} in the rule, e.g. '{{local}}@corp'.")
    unknown = sorted(names - RULE_FIELDS)
    if unknown:
        placeholder = "{" + unknown[0] + "}"
        raise FieldError("custom_rule", f"Unknown placeholder {placeholder}: use {RULE_PLACEHOLDERS}.")
    example = rule.format(email="pat.lee@example.com", local="pat.lee", domain="example.com")
    if not KALTURA_USER_ID.match(example):
        raise FieldError(
            "custom_rule",
            f"The rule makes '{example}' from pat.lee@example.com, which Kaltura does not accept as a user id "
            "(letters, digits and . @ _ - + and a few other signs; no spaces).",
        )
    return rule


def candidate(
    *,
    gateway: KalturaGateway,
    vault: TokenVault,
    hub: Hub,
    connection: KalturaConnection | None,
    service_url: str | None,
    client_text: str,
    server_text: str,
    outcome: Outcome,
) -> Candidate:
    """Validate what was pasted (and the saved token for any empty field), recording findings in ``outcome``."""
    url = _checked_url(gateway, service_url or (connection.service_url if connection else None), outcome)
    texts = {"client": client_text.strip(), "server": server_text.strip()}
    if all(texts.values()):
        pair = validate_pair(texts["client"], texts["server"])
        outcome.findings.extend(pair.findings)
        return Candidate(url, pair.client, pair.server)
    tokens: dict[str, AppToken | None] = {}
    for slot in SLOTS:
        if texts[slot]:
            tokens[slot], found = parse_app_token(texts[slot], slot)
            outcome.findings.extend(found)
            continue
        # Only an empty field falls back to the saved token, so a pasted replacement is never
        # blocked by an old token that no longer decrypts.
        tokens[slot] = _saved_token(vault, hub, connection, slot, outcome)
        if tokens[slot] is None and f"{slot}_token" not in outcome.field_errors:
            outcome.error(f"{slot}_token", f"Paste the {slot} App Token: the JSON that appToken.add returned for it.")
    if tokens["client"] and tokens["server"]:
        outcome.findings.extend(pair_findings(tokens["client"], tokens["server"]))
    return Candidate(url, tokens["client"], tokens["server"])


def test_connection(gateway: KalturaGateway, chosen: Candidate, user_id: str | None, outcome: Outcome) -> None:
    """Run the live checks when the candidate is complete and valid (they never raise)."""
    if chosen.service_url and chosen.client and chosen.server and outcome.ok:
        outcome.rows = run_live_checks(gateway, chosen.service_url, chosen.client, chosen.server, user_id)


def save_connection(
    db: Session,
    *,
    gateway: KalturaGateway,
    vault: TokenVault,
    hub: Hub,
    actor: User | None,
    service_url: str | None,
    client_text: str,
    server_text: str,
    mode: UserIdMode | None,
    request_id: str | None = None,
) -> Outcome:
    """Validate, test live, and save only if every check passes (warnings allowed). Nothing is half-written."""
    outcome = Outcome()
    if not hub.plan.is_paid:
        outcome.error(None, "The Kaltura integration needs a paid plan. Contact support to upgrade this hub.")
        return outcome
    connection = connection_of(db, hub)
    chosen = candidate(
        gateway=gateway,
        vault=vault,
        hub=hub,
        connection=connection,
        service_url=service_url,
        client_text=client_text,
        server_text=server_text,
        outcome=outcome,
    )
    if mode is UserIdMode.CUSTOM and not (connection and connection.custom_rule):
        outcome.error("user_id_mode", "Only support can choose a custom rule. Pick one of the email options.")
    elif connection and connection.user_id_mode is UserIdMode.CUSTOM and mode not in (None, UserIdMode.CUSTOM):
        outcome.error("user_id_mode", "Support set a custom rule for this hub; contact support to change it.")
    elif mode is not None:
        _check_collisions(db, hub, mode, connection.custom_rule if connection else None, outcome)
    user_id = (
        mapped_user_id(actor.email, mode or UserIdMode.EMAIL, connection.custom_rule if connection else None)
        if actor
        else None
    )
    test_connection(gateway, chosen, user_id, outcome)
    if not outcome.ok:
        return outcome
    assert chosen.service_url and chosen.client and chosen.server
    connection = connection or KalturaConnection(hub_id=hub.id)
    changed = _apply(connection, vault, hub, chosen, mode)
    connection.last_check = [row.as_dict() for row in outcome.rows]
    connection.last_checked_at = datetime.now(UTC)
    db.add(connection)
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
    outcome.saved = True
    return outcome


def remove_token(db: Session, *, hub: Hub, slot: Slot, actor: User | None, request_id: str | None = None) -> str | None:
    """Forget one saved token; returns its id (for the message), or None when none was saved."""
    connection = connection_of(db, hub)
    info = getattr(connection, f"{slot}_token_info", None) if connection else None
    if connection is None or info is None:
        return None
    setattr(connection, f"{slot}_token_sealed", None)
    setattr(connection, f"{slot}_token_info", None)
    connection.last_check = None
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


def saved_tokens(vault: TokenVault, hub: Hub, connection: KalturaConnection) -> tuple[AppToken, AppToken]:
    """Both saved tokens, unsealed (for live checks from the CLI or status pages)."""
    outcome = Outcome()
    client = _saved_token(vault, hub, connection, "client", outcome)
    server = _saved_token(vault, hub, connection, "server", outcome)
    if client is None or server is None:
        raise FieldError(
            None,
            " ".join(m for messages in outcome.field_errors.values() for m in messages)
            or "The hub has no complete Kaltura connection.",
        )
    return client, server


def rotate_keys(db: Session, vault: TokenVault) -> tuple[int, int]:
    """Re-encrypt every saved token under the primary key; returns (rotated, already current)."""
    rotated = current = 0
    for connection in db.scalars(sa.select(KalturaConnection)):
        slots = []
        for slot in SLOTS:
            sealed = getattr(connection, f"{slot}_token_sealed")
            if sealed is None:
                continue
            if vault.needs_rotation(sealed):
                setattr(connection, f"{slot}_token_sealed", vault.rotate(sealed, connection.hub_id, slot))
                slots.append(slot)
            else:
                vault.rotate(sealed, connection.hub_id, slot)  # proves it still decrypts
                current += 1
        if slots:
            rotated += len(slots)
            audit.record(
                db,
                action="kaltura.rotate_key",
                actor=None,
                hub=connection.hub,
                slots=slots,
                key_id=vault.keyring.primary,
            )
    # One transaction: either every token moves to the new key or none does.
    db.commit()
    return rotated, current


def _check_collisions(db: Session, hub: Hub, mode: UserIdMode, rule: str | None, outcome: Outcome) -> None:
    for user_id, emails in mapping_collisions(db, hub, mode, rule).items():
        outcome.error(
            "user_id_mode",
            f"{' and '.join(emails)} would share the Kaltura user id '{user_id}' and see each "
            "other's media. Use full email addresses, or ask support for a custom rule.",
        )


def _checked_url(gateway: KalturaGateway, url: str | None, outcome: Outcome) -> str | None:
    if not url:
        outcome.error("service_url", "Choose the Kaltura region (service URL) your account is in.")
        return None
    try:
        return str(gateway.check_service_url(url))
    except OutboundBlocked as error:
        outcome.error("service_url", str(error))
        return None


def _saved_token(
    vault: TokenVault, hub: Hub, connection: KalturaConnection | None, slot: Slot, outcome: Outcome
) -> AppToken | None:
    sealed = getattr(connection, f"{slot}_token_sealed", None) if connection else None
    if sealed is None:
        return None
    try:
        return vault.unseal(sealed, hub.id, slot)
    except SecretsError:
        outcome.error(
            f"{slot}_token",
            f"The saved {slot} token cannot be decrypted (the encryption key changed or the "
            "row was altered). Paste the token again to replace it.",
        )
        return None


def _apply(
    connection: KalturaConnection, vault: TokenVault, hub: Hub, chosen: Candidate, mode: UserIdMode | None
) -> list[str]:
    changed = []
    if connection.service_url != chosen.service_url:
        connection.service_url = chosen.service_url  # type: ignore[assignment]
        changed.append("service_url")
    for slot, token in (("client", chosen.client), ("server", chosen.server)):
        info = token.public_summary()  # type: ignore[union-attr]
        if getattr(connection, f"{slot}_token_info") != info:
            setattr(connection, f"{slot}_token_info", info)
            changed.append(f"{slot}_token")
        # Sealed afresh on every save: a re-pasted token repairs a row that no longer decrypts,
        # and a kept one moves to the primary key.
        setattr(connection, f"{slot}_token_sealed", vault.seal(token, hub.id, slot))  # type: ignore[arg-type]
    if mode is not None and connection.user_id_mode is not mode:
        connection.user_id_mode = mode
        changed.append("user_id_mode")
    return changed

"""Portal email → Kaltura user id, and the rules that keep two members from sharing one Kaltura user.

A hub maps its members' emails to Kaltura user ids in one of three ways (``UserIdMode``): the full
email, the part before the @, or a custom rule that support defines, such as ``{local}@corp``.
Rules are parsed here, never handed to ``str.format``: a stray brace is a field error, and only the
three placeholders exist (no attribute access, conversions or format specs).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.models import Hub, KalturaConnection, Membership, User, UserIdMode
from portal.validation import FieldError

# Kaltura's own rule for user ids (reference §7).
KALTURA_USER_ID = re.compile(r"^[A-Za-z0-9,!#$%&'*+?^_`{|}~.@-]{1,320}$")
RULE_FIELDS = ("email", "local", "domain")
RULE_PLACEHOLDERS = "{email}, {local} or {domain}"
# Shown when a rule is checked: an address at a reserved domain, so no real member is quoted.
EXAMPLE_EMAIL = "jane.doe@example.com"


@dataclass(frozen=True)
class UserIdRule:
    """A parsed custom rule: literal text and placeholders, in order."""

    text: str
    parts: tuple[tuple[str, str | None], ...]  # (literal, placeholder or None)

    @classmethod
    def parse(cls, text: str) -> UserIdRule:
        """The rule in ``text``, or a :class:`FieldError` on ``custom_rule`` saying what is wrong with it."""
        text = text.strip()
        try:
            pieces = list(string.Formatter().parse(text))
        except ValueError:
            raise FieldError(
                "custom_rule",
                "The rule has a { or } without its partner. Write placeholders as {local}, {email} or {domain}; "
                "for a literal brace write it twice ({{ or }}).",
            ) from None
        parts: list[tuple[str, str | None]] = []
        for literal, name, spec, conversion in pieces:
            if name is None:
                parts.append((literal, None))
                continue
            if name not in RULE_FIELDS or spec or conversion:
                shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
                raise FieldError("custom_rule", f"Unknown placeholder {shown}: use {RULE_PLACEHOLDERS}.")
            parts.append((literal, name))
        if not any(name for _, name in parts):
            raise FieldError(
                "custom_rule", f"Use at least one of {RULE_PLACEHOLDERS} in the rule, e.g. '{{local}}@corp'."
            )
        return cls(text, tuple(parts))

    def apply(self, email: str) -> str:
        """The Kaltura user id this rule makes from ``email``."""
        local, _, domain = email.partition("@")
        values = {"email": email, "local": local, "domain": domain}
        return "".join(literal + (values[name] if name else "") for literal, name in self.parts)


def check_rule(text: str) -> str:
    """A custom rule that parses and gives valid Kaltura ids, stripped; :class:`FieldError` otherwise."""
    rule = UserIdRule.parse(text)
    example = rule.apply(EXAMPLE_EMAIL)
    if not KALTURA_USER_ID.match(example):
        raise FieldError(
            "custom_rule",
            f"The rule makes '{example}' from {EXAMPLE_EMAIL}, which Kaltura does not accept as a user id "
            "(letters, digits and . @ _ - + and a few other signs; no spaces).",
        )
    return rule.text


def mapped_user_id(email: str, mode: UserIdMode, rule: str | None = None) -> str:
    """The Kaltura user id for a portal email under the hub's mapping mode."""
    if mode is UserIdMode.EMAIL_PREFIX:
        return email.partition("@")[0]
    if mode is UserIdMode.CUSTOM and rule:
        return UserIdRule.parse(rule).apply(email)
    return email


def mapping_collisions(db: Session, hub: Hub, mode: UserIdMode, rule: str | None = None) -> dict[str, list[str]]:
    """Kaltura user ids that two or more of the hub's members would share under ``mode``.

    Two people on one Kaltura id would see and own each other's media, so this must be empty.
    """
    members = _members_by_kaltura_id(db, hub, mode, rule)
    return {user_id: emails for user_id, emails in members.items() if len(emails) > 1}


def collision_errors(db: Session, hub: Hub, mode: UserIdMode, rule: str | None = None) -> list[FieldError]:
    """One error on ``user_id_mode`` per Kaltura id that ``mode`` would give to several members."""
    return [
        FieldError(
            "user_id_mode",
            f"{' and '.join(emails)} would share the Kaltura user id '{user_id}' and see each "
            "other's media. Use full email addresses, or ask support for a custom rule.",
        )
        for user_id, emails in mapping_collisions(db, hub, mode, rule).items()
    ]


def clash_for_new_member(db: Session, hub: Hub, email: str) -> tuple[str, str] | None:
    """(member email, Kaltura id) when adding ``email`` would give two members one Kaltura user."""
    connection = db.scalar(sa.select(KalturaConnection).where(KalturaConnection.hub_id == hub.id))
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

"""Accounts: creating users and checking passwords. No Flask here."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal import audit
from portal.models import User, new_session_token
from portal.text import text_problem
from portal.validation import FieldError

MIN_PASSWORD_LENGTH = 10

# werkzeug's scrypt by default. The test suite sets PORTAL_PASSWORD_HASH_METHOD to a cheap pbkdf2 so
# thousands of sign-ins stay fast; create_app applies the setting through configure_hashing().
_hash_method = "scrypt"


def configure_hashing(method: str) -> None:
    """Hash new passwords with ``method``; the dummy hash for unknown emails is made now, not on first use."""
    global _hash_method
    _hash_method = method
    _dummy_hash(method)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_hash_method)


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash made with ``method``, checked when the email is unknown.

    With the configured method (not the default), so an unknown email costs exactly one hash
    computation of the same kind as a wrong password, and response times do not reveal which
    accounts exist.
    """
    return generate_password_hash("not-a-real-password", method=method)


def normalise_email(raw: str) -> str:
    """The canonical form we store and compare: syntax-checked, lower-cased.

    Raises a FieldError in our words (a validation library's own messages are not for people).
    """
    text = raw.strip()
    problem = _email_problem(text)
    if problem is None:
        try:
            return validate_email(text, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            problem = "is not an email address we can use"
    shown = text if len(text) <= 80 else text[:79] + "…"
    raise FieldError("email", f"“{shown}” {problem}. Enter it like name@example.com.")


def _email_problem(text: str) -> str | None:
    """What is wrong with an address, for the mistakes people make; ``None`` if none of them."""
    if any(char.isspace() for char in text):
        return "contains a space"
    if "@" not in text:
        return "has no @: enter the whole address, not only the name"
    local, _, domain = text.rpartition("@")
    if "@" in local:
        return "has more than one @"
    if not local:
        return "has nothing before the @"
    if not domain:
        return "has nothing after the @"
    if "." not in domain or domain.startswith(".") or domain.endswith(".") or ".." in domain:
        return f"has no complete domain after the @ (“{domain}” needs a dot, as in example.com)"
    return None


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the user, or why not (for the audit log, never the page)."""

    user: User | None
    reason: str | None = None  # "unknown_account" or "wrong_password" when user is None


def find_by_email(db: Session, email: str) -> User | None:
    return db.scalar(sa.select(User).where(User.email == email.strip().lower()))


def authenticate(db: Session, email: str, password: str) -> SignIn:
    """The user with this email and password; otherwise why not, at the same cost either way."""
    user = find_by_email(db, email)
    if user is None:
        check_password_hash(_dummy_hash(_hash_method), password)
        return SignIn(None, "unknown_account")
    if check_password_hash(user.password_hash, password):
        return SignIn(user)
    return SignIn(None, "wrong_password")


def create_user(
    db: Session, *, email: str, display_name: str, password: str, is_support: bool = False, actor: User | None = None
) -> User:
    """Create and commit a user; raises FieldError for a bad email, a weak password or a duplicate."""
    email = normalise_email(email)
    problem = text_problem(display_name)
    if problem:
        raise FieldError("name", problem)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise FieldError("password", f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if find_by_email(db, email) is not None:
        raise FieldError("email", f"An account with {email} already exists.")
    user = User(
        email=email,
        display_name=display_name.strip() or email.split("@")[0],
        password_hash=hash_password(password),
        is_support=is_support,
    )
    db.add(user)
    db.flush()
    audit.record(db, action="user.create", actor=actor, email=email, support=is_support)
    db.commit()
    return user


def load_by_session_token(db: Session, token: str) -> User | None:
    return db.scalar(sa.select(User).where(User.session_token == token))


def end_all_sessions(db: Session, user: User) -> None:
    """Invalidate every session cookie of this user (sign-out is server-side, not just a cookie delete)."""
    user.session_token = new_session_token()
    db.commit()


def change_email(db: Session, *, user: User, new_email: str, actor: User, request_id: str | None = None) -> str:
    """Support changes a person's portal email (the one way emails change here); returns the old one.

    FieldError on ``email`` for an address that is not one, is unchanged, or belongs to another account.
    The person's Kaltura identity links keep their ids (their media stays theirs): the hubs' admins see
    the difference as drift and may move them to the id the new email maps to.
    """
    email = normalise_email(new_email)
    if email == user.email:
        raise FieldError("email", f"{email} is already this account's email; enter the new address.")
    other = find_by_email(db, email)
    if other is not None:
        raise FieldError(
            "email",
            f"Another portal account already uses {email}. Each email belongs to one account: "
            "pick another address, or ask that account's owner to change theirs first.",
        )
    old = user.email
    user.email = email
    try:
        with db.begin_nested():  # another change to the same address at the same moment: the unique index decides
            db.flush()
    except IntegrityError:
        user.email = old
        raise FieldError("email", f"Another portal account already uses {email}; nothing was changed.") from None
    audit.record(db, action="user.email_change", actor=actor, request_id=request_id, old_email=old, new_email=email)
    db.commit()
    return old

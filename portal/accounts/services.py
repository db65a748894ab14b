"""Accounts: creating users and checking passwords. No Flask here."""

from __future__ import annotations

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal.models import User, new_session_token
from portal.validation import FieldError

MIN_PASSWORD_LENGTH = 10

# werkzeug's scrypt by default. The test suite sets PORTAL_PASSWORD_HASH_METHOD to a cheap pbkdf2 so
# thousands of sign-ins stay fast; create_app applies the setting through configure_hashing().
_hash_method = "scrypt"


def configure_hashing(method: str) -> None:
    global _hash_method
    _hash_method = method


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_hash_method)


# Checked when the email is unknown, so a wrong email costs as much time as a wrong password
# and response times do not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalise_email(raw: str) -> str:
    """The canonical form we store and compare: syntax-checked, lower-cased."""
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        reason = str(error).rstrip(".")
        raise FieldError(
            "email", f"“{raw.strip()}” is not a valid email address ({reason}). Enter it like name@example.com."
        ) from None
    return checked.normalized.lower()


def find_by_email(db: Session, email: str) -> User | None:
    return db.scalar(sa.select(User).where(User.email == email.strip().lower()))


def authenticate(db: Session, email: str, password: str) -> User | None:
    """The user with this email and password, or None (without saying which was wrong)."""
    user = find_by_email(db, email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def create_user(db: Session, *, email: str, display_name: str, password: str, is_support: bool = False) -> User:
    """Create and commit a user; raises FieldError for a bad email, a weak password or a duplicate."""
    email = normalise_email(email)
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
    db.commit()
    return user


def load_by_session_token(db: Session, token: str) -> User | None:
    return db.scalar(sa.select(User).where(User.session_token == token))


def end_all_sessions(db: Session, user: User) -> None:
    """Invalidate every session cookie of this user (sign-out is server-side, not just a cookie delete)."""
    user.session_token = new_session_token()
    db.commit()

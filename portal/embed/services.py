"""Hub settings → Embedding: allowed origins, launch-signing secrets, JWKS, and who a launch may add.

Secrets are generated here, returned once to the caller (the page or CLI shows them once) and
stored sealed with the portal's keyring, bound to the hub and to the secret's own id, exactly like
the App Tokens. Rotating keeps the previous secret valid for a grace period
(``EMBED_SECRET_GRACE_HOURS``, 24 hours by default) so host applications can switch without a
moment where launches fail. No Flask here: views and the CLI call these functions.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session

from portal import audit
from portal.embed.jwks import JwksError, JwksFetcher, key_set
from portal.embed.origins import MAX_ORIGINS, canonical_origin
from portal.models import EmbedSettings, Hub, User
from portal.secrets import DecryptionError, Keyring
from portal.validation import FieldError

#: How long cached JWKS keys are used before they are fetched again.
JWKS_TTL = timedelta(hours=1)
#: A token naming an unknown ``kid`` refetches the JWKS at most this often (no fetch storms).
JWKS_REFRESH_INTERVAL = timedelta(minutes=5)


@dataclass(frozen=True)
class NewSecret:
    """A freshly generated launch secret: shown once, never stored in clear."""

    kid: str
    secret: str
    previous_kid: str | None
    previous_valid_until: datetime | None

    def __repr__(self) -> str:
        return f"NewSecret(kid={self.kid!r}, secret='[REDACTED]')"


def settings_of(db: Session, hub: Hub) -> EmbedSettings | None:
    """The hub's embedding settings, or ``None`` when nothing was configured yet."""
    return db.scalar(sa.select(EmbedSettings).where(EmbedSettings.hub_id == hub.id))


def allowed_origins(db: Session, hub: Hub) -> list[str]:
    """The origins allowed to embed the hub's picker (empty when nothing was configured)."""
    origins = db.scalar(sa.select(EmbedSettings.allowed_origins).where(EmbedSettings.hub_id == hub.id))
    return list(origins or [])


def _ensure(db: Session, hub: Hub) -> EmbedSettings:
    settings = settings_of(db, hub)
    if settings is None:
        settings = EmbedSettings(hub_id=hub.id, allowed_origins=[], auto_add_participants=True)
        db.add(settings)
    return settings


def add_origin(db: Session, *, hub: Hub, origin: str, actor: User | None, request_id: str | None = None) -> str:
    """Allow ``origin`` to embed the picker; returns it canonicalised. FieldError when invalid or listed."""
    canonical = canonical_origin(origin)
    settings = _ensure(db, hub)
    current = list(settings.allowed_origins or [])
    if canonical in current:
        raise FieldError("origin", f"{canonical} is already allowed.")
    if len(current) >= MAX_ORIGINS:
        raise FieldError("origin", f"A hub can allow at most {MAX_ORIGINS} origins; remove one first.")
    settings.allowed_origins = sorted([*current, canonical])
    audit.record(db, action="embed.origin_add", actor=actor, hub=hub, request_id=request_id, origin=canonical)
    db.commit()
    return canonical


def remove_origin(db: Session, *, hub: Hub, origin: str, actor: User | None, request_id: str | None = None) -> str:
    """Stop ``origin`` from embedding the picker (its open pickers stop working at once)."""
    try:
        canonical = canonical_origin(origin)
    except FieldError:
        canonical = origin.strip()
    settings = settings_of(db, hub)
    if settings is None or canonical not in (settings.allowed_origins or []):
        raise FieldError("origin", f"{canonical} is not in this hub's allowed origins.")
    settings.allowed_origins = [o for o in settings.allowed_origins if o != canonical]
    audit.record(db, action="embed.origin_remove", actor=actor, hub=hub, request_id=request_id, origin=canonical)
    db.commit()
    return canonical


def new_secret(
    db: Session,
    *,
    hub: Hub,
    keyring: Keyring,
    actor: User | None,
    grace: timedelta,
    request_id: str | None = None,
    now: datetime | None = None,
) -> NewSecret:
    """Generate the hub's launch-signing secret (HS256); the current one becomes the previous one,
    accepted until ``now + grace``. Returns the new secret: the only time it is ever visible."""
    now = now or datetime.now(UTC)
    settings = _ensure(db, hub)
    kid = f"ls_{secrets.token_hex(6)}"
    secret = secrets.token_urlsafe(32)  # 256 bits, URL-safe: pastes cleanly into any config file
    if settings.secret_sealed and settings.secret_id:
        settings.previous_secret_id = settings.secret_id
        settings.previous_secret_sealed = settings.secret_sealed  # sealed for its own kid, so it moves as is
        settings.previous_secret_expires_at = now + grace
    settings.secret_id = kid
    settings.secret_sealed = keyring.encrypt(secret, hub.id, _slot(kid))
    settings.secret_created_at = now
    audit.record(
        db,
        action="embed.secret_new",
        actor=actor,
        hub=hub,
        request_id=request_id,
        kid=kid,
        previous_kid=settings.previous_secret_id,
        previous_valid_until=settings.previous_secret_expires_at.isoformat()
        if settings.previous_secret_expires_at
        else None,
    )
    db.commit()
    return NewSecret(kid, secret, settings.previous_secret_id, settings.previous_secret_expires_at)


def end_grace(db: Session, *, hub: Hub, actor: User | None, request_id: str | None = None) -> str | None:
    """Stop accepting the previous secret now (e.g. it leaked); returns its id, or None if there was none."""
    settings = settings_of(db, hub)
    if settings is None or settings.previous_secret_id is None:
        return None
    kid = settings.previous_secret_id
    settings.previous_secret_id = settings.previous_secret_sealed = settings.previous_secret_expires_at = None
    audit.record(db, action="embed.secret_previous_revoked", actor=actor, hub=hub, request_id=request_id, kid=kid)
    db.commit()
    return kid


def launch_secrets(keyring: Keyring, settings: EmbedSettings, now: datetime | None = None) -> list[tuple[str, bytes]]:
    """The secrets a launch token may be signed with now: ``[(kid, secret)]``, current first."""
    now = now or datetime.now(UTC)
    found: list[tuple[str, bytes]] = []
    if settings.secret_id and settings.secret_sealed:
        found.append(
            (settings.secret_id, _unseal(keyring, settings.hub_id, settings.secret_id, settings.secret_sealed))
        )
    if (
        settings.previous_secret_id
        and settings.previous_secret_sealed
        and settings.previous_secret_expires_at
        and settings.previous_secret_expires_at > now
    ):
        found.append(
            (
                settings.previous_secret_id,
                _unseal(keyring, settings.hub_id, settings.previous_secret_id, settings.previous_secret_sealed),
            )
        )
    return [(kid, secret) for kid, secret in found if secret]


def current_secret(keyring: Keyring, settings: EmbedSettings | None) -> tuple[str, str] | None:
    """``(kid, secret)`` of the current secret, for the operator CLI's ``launch-token``."""
    if settings is None or not settings.secret_id or not settings.secret_sealed:
        return None
    return settings.secret_id, keyring.decrypt(
        settings.secret_sealed, settings.hub_id, _slot(settings.secret_id)
    ).reveal()


def set_jwks_url(
    db: Session,
    *,
    hub: Hub,
    url: str | None,
    fetcher: JwksFetcher,
    actor: User | None,
    request_id: str | None = None,
    now: datetime | None = None,
) -> EmbedSettings:
    """Set (fetching and validating it now) or clear the hub's JWKS URL. FieldError saying what is wrong."""
    settings = _ensure(db, hub)
    text = (url or "").strip()
    if not text:
        settings.jwks_url = settings.jwks_keys = settings.jwks_fetched_at = settings.jwks_error = None
    else:
        if len(text) > 500:
            raise FieldError("jwks_url", "The JWKS URL is too long (500 characters at most).")
        try:
            document = fetcher.fetch(text)
        except JwksError as error:
            db.rollback()
            raise FieldError("jwks_url", str(error)) from None
        settings.jwks_url = text
        settings.jwks_keys = document
        settings.jwks_fetched_at = now or datetime.now(UTC)
        settings.jwks_error = None
    audit.record(db, action="embed.jwks_url", actor=actor, hub=hub, request_id=request_id, jwks_url=settings.jwks_url)
    db.commit()
    return settings


def jwks_key_set(
    settings: EmbedSettings, fetcher: JwksFetcher, *, refresh: bool, now: datetime | None = None
) -> KeySet | None:
    """The hub's JWKS keys from the database cache, fetched again when older than :data:`JWKS_TTL`, or
    when ``refresh`` (an unknown kid) and the last fetch is older than :data:`JWKS_REFRESH_INTERVAL`.

    A failed fetch keeps the cached keys (a host's outage must not lock its users out) and records
    the error for the settings page. The caller commits the updated cache.
    """
    now = now or datetime.now(UTC)
    if not settings.jwks_url:
        return None
    age = now - settings.jwks_fetched_at if settings.jwks_fetched_at else None
    stale = age is None or age > JWKS_TTL or (refresh and age > JWKS_REFRESH_INTERVAL)
    if stale:
        try:
            settings.jwks_keys = fetcher.fetch(settings.jwks_url)
            settings.jwks_error = None
        except JwksError as error:
            settings.jwks_error = str(error)[:300]
        settings.jwks_fetched_at = now
    return key_set(settings.jwks_keys)


def set_auto_add(
    db: Session, *, hub: Hub, enabled: bool, actor: User | None, request_id: str | None = None
) -> EmbedSettings:
    """Whether a launch naming a non-member adds them as a participant (audited either way)."""
    settings = _ensure(db, hub)
    changed = settings.auto_add_participants != enabled
    settings.auto_add_participants = enabled
    if changed:
        audit.record(db, action="embed.auto_add", actor=actor, hub=hub, request_id=request_id, enabled=enabled)
    db.commit()
    return settings


def rotate_keys(db: Session, keyring: Keyring) -> tuple[int, int]:
    """Re-encrypt every launch secret under the keyring's primary key; returns (rotated, already current).

    Called by ``portal kaltura rotate-keys`` in the same run as the App Tokens, before its commit.
    """
    rotated = current = 0
    for settings in db.scalars(sa.select(EmbedSettings)):
        for id_field, sealed_field in (
            ("secret_id", "secret_sealed"),
            ("previous_secret_id", "previous_secret_sealed"),
        ):
            kid, sealed = getattr(settings, id_field), getattr(settings, sealed_field)
            if not kid or not sealed:
                continue
            if keyring.needs_rotation(sealed):
                setattr(settings, sealed_field, keyring.rotate(sealed, settings.hub_id, _slot(kid)))
                rotated += 1
            else:
                keyring.rotate(sealed, settings.hub_id, _slot(kid))  # proves it still decrypts
                current += 1
    return rotated, current


def frame_ancestors(origins: Sequence[str]) -> str:
    """The CSP ``frame-ancestors`` value for exactly these origins (``'none'`` when there are none)."""
    return " ".join(origins) if origins else "'none'"


def _slot(kid: str) -> str:
    # Bound to the secret's own id: a sealed value moved between the current and previous columns,
    # or to another hub, does not decrypt.
    return f"embed_secret_{kid}"


def _unseal(keyring: Keyring, hub_id: int, kid: str, sealed: str) -> bytes:
    try:
        return keyring.decrypt(sealed, hub_id, _slot(kid)).reveal().encode()
    except DecryptionError:
        return b""  # a secret that no longer decrypts verifies nothing; the settings page says so

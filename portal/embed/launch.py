"""Launch tokens: how a host application opens a hub's picker for one person (LTI-style).

The host's backend signs a short-lived JWT; its page POSTs it (``launch_token=``) into the picker
iframe. :func:`verify_launch` accepts a token only when all of this holds (docs/embedding.md lists
the claims):

* the algorithm is allowed for the key that must have signed it: HS256 with the hub's launch
  secret (or, during the grace period, the previous one), RS256/ES256 with a key from the hub's
  JWKS, HS256 with the portal's own per-hub key for launches from the portal's Media Library page.
  The key is chosen from the hub's configuration, never from the token (``jku``/``jwk``/``x5u``
  headers are ignored), so ``alg: none`` and HS/RS confusion fail;
* the signature, ``aud`` (the portal's embed audience), ``exp`` (at most 10 minutes after
  ``iat``), ``iat`` and ``nbf``, with :data:`LEEWAY` seconds for clock skew;
* the claimed ``origin`` is one of the hub's allowed origins (or the portal itself) and equals
  the request's ``Origin`` header when the browser sent one;
* the ``jti`` was never used for this hub: recorded in the database with a unique constraint, so
  every worker shares the check and two simultaneous uses of one token let exactly one through;
* the named person is a member of the hub, or is added as a participant when the hub allows it.

A refusal is a :class:`LaunchRefused` with a coarse category for the person (what the page may say)
and a precise detail for the audit log (what the operator needs). No Flask here.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet, OctKey
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.services import create_user, find_by_email, normalise_email
from portal.embed.jwks import ASYMMETRIC_ALGORITHMS
from portal.embed.origins import canonical_origin, same_origin
from portal.hubs.services import add_member
from portal.models import EmbedSettings, Hub, Membership, Role, UsedLaunchToken, User
from portal.validation import FieldError

#: Longest life a launch token may have (``exp - iat``), in seconds.
MAX_LIFETIME = 600
#: Clock skew tolerated on ``exp``, ``nbf`` and ``iat``, in seconds.
LEEWAY = 30
#: Anything longer is not a launch token (a real one is well under 2 KB).
MAX_TOKEN_LENGTH = 8192
MAX_JTI_LENGTH = 128
HS256 = "HS256"
REQUIRED_CLAIMS = ("hub", "sub", "email", "origin", "aud", "iat", "exp", "jti")


class Refusal(enum.StrEnum):
    """What the person is told about a refused launch: a category, never the detail."""

    EXPIRED = "expired"
    NOT_ALLOWED = "not_allowed"
    ALREADY_USED = "already_used"
    NOT_MEMBER = "not_member"

    @property
    def status(self) -> int:
        """401 for a token that does not authenticate; 403 for one that does but may not open here."""
        return 403 if self in (Refusal.NOT_ALLOWED, Refusal.NOT_MEMBER) else 401


class LaunchRefused(Exception):
    """A launch that must not open the picker. ``detail`` is for the audit log only."""

    def __init__(
        self, category: Refusal, detail: str, *, hub: Hub | None = None, claims: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(f"{category}: {detail}")
        self.category = category
        self.detail = detail
        self.hub = hub
        self.claims = dict(claims or {})


@dataclass(frozen=True)
class LaunchContext:
    """What verification needs from the running portal."""

    audience: str
    #: The portal's own origin: its Media Library page is a host like any other.
    own_origin: str | None
    #: Returns the hub's current and grace-period HS256 secrets as ``(kid, secret)`` pairs.
    secrets_for: Callable[[EmbedSettings], Sequence[tuple[str, bytes]]]
    #: The portal's own per-hub HS256 key (for launches from the Media Library page).
    own_key_for: Callable[[Hub], bytes]
    #: The hub's JWKS as a KeySet; ``refresh=True`` when the token names a kid the cache lacks.
    jwks_for: Callable[[EmbedSettings, bool], KeySet | None]
    now: Callable[[], float] = time.time


@dataclass(frozen=True)
class Launch:
    """A verified launch: who opens the picker of which hub, from which origin."""

    hub: Hub
    user: User
    origin: str
    claims: dict[str, Any] = field(repr=False)
    added_member: bool = False


def verify_launch(
    db: Session,
    token: str,
    *,
    request_origin: str | None,
    context: LaunchContext,
    request_id: str | None = None,
) -> Launch:
    """Verify a launch token and make sure its person is a member; raises :class:`LaunchRefused`.

    Consumes the token's ``jti`` (flushed, not committed: the caller commits it together with
    the picker session it opens).
    """
    header, unverified = _peek(token)
    hub = _hub(db, unverified)
    settings = db.scalar(sa.select(EmbedSettings).where(EmbedSettings.hub_id == hub.id))
    claimed_origin = _claimed_origin(unverified, hub)
    own = bool(context.own_origin) and claimed_origin == context.own_origin
    claims = _verified_claims(token, header, hub, settings, own, context)
    _check_times(claims, hub, context)
    _check_origin(claims, claimed_origin, request_origin, settings, own, hub)
    _consume_jti(db, hub, claims, context)
    user, added = _member(db, hub, settings, claims, request_id)
    return Launch(hub=hub, user=user, origin=claimed_origin, claims=claims, added_member=added)


def mint_launch_token(
    secret: bytes | str,
    *,
    hub: str,
    email: str,
    origin: str,
    audience: str,
    name: str | None = None,
    sub: str | None = None,
    ttl: int = 300,
    kid: str | None = None,
    now: float | None = None,
) -> str:
    """An HS256 launch token, exactly as a host application's backend makes one (see docs/embedding.md)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": "kaltura-hub-portal-cli",
        "aud": audience,
        "sub": sub or email,
        "hub": hub,
        "email": email,
        "origin": origin,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(ttl),
        "jti": secrets.token_urlsafe(18),
    }
    if name:
        claims["name"] = name
    header = {"alg": HS256, **({"kid": kid} if kid else {})}
    key = OctKey.import_key(secret.encode() if isinstance(secret, str) else secret)
    return jwt.encode(header, claims, key, algorithms=[HS256])


def own_launch_key(secret_key: str, hub_id: int) -> bytes:
    """The portal's own HS256 key for a hub, derived from ``SECRET_KEY``; it never leaves the server."""
    return hmac.new(secret_key.encode(), f"embed-own-launch:{hub_id}".encode(), hashlib.sha256).digest()


# -- steps -----------------------------------------------------------------------------------------


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims *before* verification: only to find the hub and the key to verify with."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise LaunchRefused(Refusal.NOT_ALLOWED, "the launch_token is missing or is not a compact JWS")
    try:
        compact = jws.extract_compact(token.encode("ascii"))
        header = dict(compact.headers())
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError, TypeError) as error:
        raise LaunchRefused(
            Refusal.NOT_ALLOWED, f"the launch_token cannot be decoded ({type(error).__name__})"
        ) from None
    if not isinstance(claims, dict):
        raise LaunchRefused(Refusal.NOT_ALLOWED, "the launch_token's payload is not a JSON object")
    return header, claims


def _hub(db: Session, claims: Mapping[str, Any]) -> Hub:
    slug = claims.get("hub")
    if not isinstance(slug, str) or not slug or len(slug) > 60:
        raise LaunchRefused(Refusal.NOT_ALLOWED, "the hub claim is missing", claims=claims)
    hub = db.scalar(sa.select(Hub).where(Hub.slug == slug))
    if hub is None:
        raise LaunchRefused(Refusal.NOT_ALLOWED, f"no hub has the slug {slug!r}", claims=claims)
    return hub


def _claimed_origin(claims: Mapping[str, Any], hub: Hub) -> str:
    raw = claims.get("origin")
    if not isinstance(raw, str):
        raise LaunchRefused(Refusal.NOT_ALLOWED, "the origin claim is missing", hub=hub, claims=claims)
    try:
        return canonical_origin(raw)
    except FieldError as error:
        raise LaunchRefused(
            Refusal.NOT_ALLOWED, f"the origin claim is not an origin: {error.message}", hub=hub
        ) from None


def _verified_claims(
    token: str,
    header: Mapping[str, Any],
    hub: Hub,
    settings: EmbedSettings | None,
    own: bool,
    context: LaunchContext,
) -> dict[str, Any]:
    """Check the signature with a key chosen from the hub's configuration for the header's algorithm."""
    alg = header.get("alg")
    kid = header.get("kid")
    keys: list[Any]
    if own:
        if alg != HS256:
            raise LaunchRefused(
                Refusal.NOT_ALLOWED, f"algorithm {alg!r} is not allowed for the portal's own launches", hub=hub
            )
        keys = [OctKey.import_key(context.own_key_for(hub))]
    elif alg == HS256:
        candidates = list(context.secrets_for(settings)) if settings else []
        if kid is not None:
            candidates = [c for c in candidates if c[0] == kid]
        if not candidates:
            detail = "the hub has no launch secret" if kid is None else f"no current launch secret has kid {kid!r}"
            raise LaunchRefused(Refusal.NOT_ALLOWED, detail, hub=hub)
        keys = [OctKey.import_key(secret) for _, secret in candidates]
    elif alg in ASYMMETRIC_ALGORITHMS:
        if settings is None or not settings.jwks_url:
            raise LaunchRefused(Refusal.NOT_ALLOWED, f"{alg} needs a JWKS URL, and the hub has none", hub=hub)
        key_set = context.jwks_for(settings, False)
        if kid is not None and (key_set is None or not any(k.kid == kid for k in key_set)):
            key_set = context.jwks_for(settings, True)  # the host may have rotated its keys
        if key_set is None:
            raise LaunchRefused(Refusal.NOT_ALLOWED, "the hub's JWKS could not be loaded", hub=hub)
        keys = [key_set]
    else:
        raise LaunchRefused(Refusal.NOT_ALLOWED, f"algorithm {alg!r} is not allowed", hub=hub)
    for key in keys:
        try:
            return dict(jwt.decode(token, key, algorithms=[str(alg)]).claims)
        except (JoseError, ValueError, TypeError):
            continue
    raise LaunchRefused(Refusal.NOT_ALLOWED, f"the signature does not verify ({alg}, kid {kid!r})", hub=hub)


def _check_times(claims: dict[str, Any], hub: Hub, context: LaunchContext) -> None:
    now = int(context.now())
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=LEEWAY,
        aud={"essential": True, "value": context.audience},
        **{name: {"essential": True} for name in REQUIRED_CLAIMS if name != "aud"},  # type: ignore[arg-type]
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise LaunchRefused(
            Refusal.EXPIRED, f"expired at {claims.get('exp')} (now {now})", hub=hub, claims=claims
        ) from None
    except MissingClaimError as error:
        raise LaunchRefused(
            Refusal.NOT_ALLOWED, f"missing claims: {error.description}", hub=hub, claims=claims
        ) from None
    except InvalidClaimError as error:
        name = str(error.claim)
        category = Refusal.EXPIRED if name in ("nbf", "iat") else Refusal.NOT_ALLOWED
        raise LaunchRefused(category, f"invalid claim {name}: {error.description}", hub=hub, claims=claims) from None
    lifetime = claims["exp"] - claims["iat"]
    if lifetime > MAX_LIFETIME:
        raise LaunchRefused(
            Refusal.NOT_ALLOWED, f"lives {lifetime} s; at most {MAX_LIFETIME} s are allowed", hub=hub, claims=claims
        )
    for name in ("hub", "sub", "email", "origin", "jti"):
        if not isinstance(claims.get(name), str):
            raise LaunchRefused(Refusal.NOT_ALLOWED, f"the {name} claim must be a string", hub=hub, claims=claims)
    if len(claims["jti"]) > MAX_JTI_LENGTH or len(claims["sub"]) > 255:
        raise LaunchRefused(Refusal.NOT_ALLOWED, "the jti or sub claim is too long", hub=hub, claims=claims)
    if "name" in claims and not (isinstance(claims["name"], str) and len(claims["name"]) <= 120):
        raise LaunchRefused(Refusal.NOT_ALLOWED, "the name claim must be a string of at most 120 characters", hub=hub)


def _check_origin(
    claims: Mapping[str, Any],
    origin: str,
    request_origin: str | None,
    settings: EmbedSettings | None,
    own: bool,
    hub: Hub,
) -> None:
    allowed = set(settings.allowed_origins or ()) if settings else set()
    if not own and origin not in allowed:
        raise LaunchRefused(
            Refusal.NOT_ALLOWED, f"origin {origin} is not in the hub's allowed origins", hub=hub, claims=claims
        )
    # Browsers send Origin on a cross-site form POST; "null" (an opaque origin) never matches.
    if request_origin is not None and not same_origin(request_origin, origin):
        raise LaunchRefused(
            Refusal.NOT_ALLOWED,
            f"the request came from {request_origin[:100]!r}, not from the claimed origin {origin}",
            hub=hub,
            claims=claims,
        )


def _consume_jti(db: Session, hub: Hub, claims: Mapping[str, Any], context: LaunchContext) -> None:
    now = datetime.fromtimestamp(context.now(), UTC)
    # Expired ids can never be replayed (their tokens fail on exp first), so they are dropped here.
    db.execute(sa.delete(UsedLaunchToken).where(UsedLaunchToken.expires_at < now))
    expires = datetime.fromtimestamp(float(claims["exp"]) + LEEWAY, UTC)
    db.add(UsedLaunchToken(hub_id=hub.id, jti=claims["jti"], expires_at=expires))
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise LaunchRefused(
            Refusal.ALREADY_USED, f"jti {claims['jti']!r} was already used", hub=hub, claims=claims
        ) from None


def _member(
    db: Session, hub: Hub, settings: EmbedSettings | None, claims: Mapping[str, Any], request_id: str | None
) -> tuple[User, bool]:
    try:
        email = normalise_email(str(claims["email"]))
    except FieldError:
        raise LaunchRefused(
            Refusal.NOT_ALLOWED, "the email claim is not an email address", hub=hub, claims=claims
        ) from None
    user = find_by_email(db, email)
    role = None
    if user is not None:
        role = db.scalar(sa.select(Membership.role).where(Membership.hub_id == hub.id, Membership.user_id == user.id))
    if role is not None:
        return user, False  # type: ignore[return-value]
    auto_add = settings.auto_add_participants if settings else True
    if not auto_add:
        raise LaunchRefused(Refusal.NOT_MEMBER, f"{email} is not a member and the hub adds no one on launch", hub=hub)
    try:
        if user is None:
            # A portal account for someone who arrives through a host application: they never
            # sign in with a password, so it gets a random one nobody knows.
            user = create_user(
                db, email=email, display_name=str(claims.get("name") or ""), password=secrets.token_urlsafe(32)
            )
        add_member(db, hub=hub, email=email, role=Role.PARTICIPANT, actor=None, request_id=request_id)
    except FieldError as error:
        db.rollback()
        raise LaunchRefused(Refusal.NOT_MEMBER, f"{email} could not be added: {error.message}", hub=hub) from None
    audit.record(
        db,
        action="embed.participant_added",
        actor=user,
        hub=hub,
        request_id=request_id,
        email=email,
        sub=str(claims.get("sub")),
        origin=str(claims.get("origin")),
    )
    return user, True

"""The portal's data: users, hubs, memberships, invitations and the audit log."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.kaltura.vault import SealedToken, Slot


class Plan(enum.StrEnum):
    FREE = "free"
    PRO = "pro"
    ENTERPRISE = "enterprise"

    @property
    def is_paid(self) -> bool:
        return self is not Plan.FREE

    @property
    def label(self) -> str:
        return self.value.capitalize()


#: Why a free hub cannot use (or test) the Kaltura integration; one sentence, shown wherever it is refused.
PAID_PLAN_NEEDED = "The Kaltura integration needs a paid plan (Pro or Enterprise). Contact support to upgrade this hub."


class Role(enum.StrEnum):
    ADMIN = "admin"
    PARTICIPANT = "participant"

    @property
    def label(self) -> str:
        return "Hub admin" if self is Role.ADMIN else "Participant"


def _enum(kind: type[enum.Enum], name: str) -> sa.Enum:
    # Stored as VARCHAR plus a CHECK constraint: portable, and adding a value is a simple migration.
    return sa.Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (lower-case) so the unique index is case-insensitive on every database.
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_support: Mapped[bool] = mapped_column(default=False)
    # What the session cookie carries instead of the id: rotating it signs the user out everywhere.
    session_token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def get_id(self) -> str:
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Hub(Base):
    __tablename__ = "hubs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    plan: Mapped[Plan] = mapped_column(_enum(Plan, "plan"), default=Plan.FREE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="hub", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Hub {self.slug}>"


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("hub_id", "user_id", name="uq_memberships_hub_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    hub: Mapped[Hub] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")


class AuditEvent(Base):
    """Who did what, where, from where and when. ``details`` never holds a secret (see ``portal.audit``).

    ``actor_email`` keeps who acted even after the account is gone, and names the attempted
    account of a failed sign-in (``actor_id`` is then empty). Web events carry the client's
    address (after the trusted proxies) and the portal's own request id; ``portal`` commands
    carry the operating-system user who ran them (``operator``).
    """

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_hub_id_created_at", "hub_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_email: Mapped[str | None] = mapped_column(sa.String(320), index=True)
    hub_id: Mapped[int | None] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(sa.String(80), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    source: Mapped[str] = mapped_column(sa.String(10), default="web", server_default="web")
    client_address: Mapped[str | None] = mapped_column(sa.String(64))
    operator: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()
    hub: Mapped[Hub | None] = relationship()


class Invitation(Base):
    """A hub admin's invitation for an email address; the person with that address accepts or declines.

    Adding someone by email never reveals whether they have an account: every addition is an
    invitation, shown to the person on their Account page once they sign in (or once their
    account is created), and it becomes a membership only when they accept.
    """

    __tablename__ = "invitations"
    __table_args__ = (sa.UniqueConstraint("hub_id", "email", name="uq_invitations_hub_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"), index=True)
    # Normalised like User.email, so the invited person is found by an exact match.
    email: Mapped[str] = mapped_column(sa.String(320), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    hub: Mapped[Hub] = relationship()
    invited_by: Mapped[User | None] = relationship()


class UserIdMode(enum.StrEnum):
    """How a portal user's email becomes their Kaltura user id."""

    EMAIL = "email"
    EMAIL_PREFIX = "email_prefix"
    CUSTOM = "custom"

    @property
    def label(self) -> str:
        return {
            UserIdMode.EMAIL: "Full email address (pat@example.com)",
            UserIdMode.EMAIL_PREFIX: "Email prefix (pat)",
            UserIdMode.CUSTOM: "Custom rule set up by support",
        }[self]


class KalturaConnection(Base):
    """A hub's Kaltura integration. Tokens are stored sealed (see portal.kaltura.vault), never in clear."""

    __tablename__ = "kaltura_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"), unique=True)
    service_url: Mapped[str] = mapped_column(sa.String(255))
    user_id_mode: Mapped[UserIdMode] = mapped_column(_enum(UserIdMode, "user_id_mode"), default=UserIdMode.EMAIL)
    # A template such as "{local}@corp" that support defines; only then can the mode be custom.
    custom_rule: Mapped[str | None] = mapped_column(sa.String(200))
    client_token_sealed: Mapped[str | None] = mapped_column(sa.Text)
    client_token_info: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    server_token_sealed: Mapped[str | None] = mapped_column(sa.Text)
    server_token_info: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_check: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    hub: Mapped[Hub] = relationship()

    @property
    def is_complete(self) -> bool:
        """Both tokens are saved: the integration can work."""
        return bool(self.client_token_sealed and self.server_token_sealed)

    @property
    def has_tokens(self) -> bool:
        """At least one token is saved: there is something to test or to remove."""
        return bool(self.client_token_sealed or self.server_token_sealed)

    # The two token slots, addressed by name ("client" or "server") through these methods only.

    def token_info(self, slot: Slot) -> dict[str, Any] | None:
        """The public summary of the token saved in ``slot`` (never its secret), or None."""
        return self.client_token_info if slot == "client" else self.server_token_info

    def sealed_token(self, slot: Slot) -> SealedToken | None:
        """The token saved in ``slot``, still sealed, for the gateway to unseal; None when there is none."""
        from portal.kaltura.vault import SealedToken

        ciphertext = self.client_token_sealed if slot == "client" else self.server_token_sealed
        info = self.token_info(slot)
        if ciphertext is None or info is None:
            return None
        return SealedToken(self.hub_id, slot, ciphertext, str(info["id"]), int(info["partner_id"]))

    def store_token(self, slot: Slot, ciphertext: str, info: dict[str, Any]) -> None:
        """Keep a sealed token and its public summary in ``slot``."""
        if slot == "client":
            self.client_token_sealed, self.client_token_info = ciphertext, info
        else:
            self.server_token_sealed, self.server_token_info = ciphertext, info

    def replace_ciphertext(self, slot: Slot, ciphertext: str) -> None:
        """The same token sealed anew (key rotation); its summary stays."""
        if slot == "client":
            self.client_token_sealed = ciphertext
        else:
            self.server_token_sealed = ciphertext

    def forget_token(self, slot: Slot) -> None:
        """Remove the token in ``slot`` (ciphertext and summary)."""
        if slot == "client":
            self.client_token_sealed, self.client_token_info = None, None
        else:
            self.server_token_sealed, self.server_token_info = None, None


# -- Embedding the picker and the hub's media library (issue 11) -----------------------------------


class EmbedSettings(Base):
    """How other applications may embed a hub's "From Kaltura" picker (hub settings → Embedding).

    Launch-signing secrets are stored sealed with the portal's keyring (like the App Tokens), each
    bound to its hub and its own id; only ids and dates are kept in clear. A rotated-out secret
    keeps working until ``previous_secret_expires_at`` (the documented grace period).
    """

    __tablename__ = "embed_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"), unique=True)
    # Exact origins (scheme://host[:port]) allowed to frame the picker, canonical and sorted.
    allowed_origins: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    secret_id: Mapped[str | None] = mapped_column(sa.String(40))
    secret_sealed: Mapped[str | None] = mapped_column(sa.Text)
    secret_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    previous_secret_id: Mapped[str | None] = mapped_column(sa.String(40))
    previous_secret_sealed: Mapped[str | None] = mapped_column(sa.Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optional: the host's public keys (RS256/ES256), fetched through the outbound policy and cached.
    jwks_url: Mapped[str | None] = mapped_column(sa.String(500))
    jwks_keys: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    jwks_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    jwks_error: Mapped[str | None] = mapped_column(sa.String(300))
    # A launch naming someone who is not yet a member adds them as a participant (audited).
    auto_add_participants: Mapped[bool] = mapped_column(default=True)
    # The largest file a member may upload through the picker, in MB (issue 12); None: the
    # operator's maximum (PORTAL_UPLOAD_MAX_MB), which also bounds this value.
    upload_max_mb: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    hub: Mapped[Hub] = relationship()


class UsedLaunchToken(Base):
    """A launch token's ``jti``, kept until the token expires so it can be used once only.

    The unique constraint makes the check atomic for every worker sharing the database: the second
    insert of the same (hub, jti) fails, whichever process tries it.
    """

    __tablename__ = "used_launch_tokens"
    __table_args__ = (sa.UniqueConstraint("hub_id", "jti", name="uq_used_launch_tokens_hub_jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"))
    jti: Mapped[str] = mapped_column(sa.String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PickerSession(Base):
    """An open picker: what its bearer token (stored as a SHA-256 hash only) lets the browser do."""

    __tablename__ = "picker_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The verified launch origin: the only target of postMessage and of frame-ancestors.
    origin: Mapped[str] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LibraryMediaType(enum.StrEnum):
    VIDEO = "video"
    IMAGE = "image"
    AUDIO = "audio"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class LibrarySource(enum.StrEnum):
    """How an item came into the library: picked in the picker, or uploaded through it (issue 12)."""

    IMPORT = "import"
    UPLOAD = "upload"


class LibraryItem(Base):
    """One Kaltura entry in a hub's media library. A hub holds an entry at most once."""

    __tablename__ = "library_items"
    __table_args__ = (sa.UniqueConstraint("hub_id", "entry_id", name="uq_library_items_hub_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[str] = mapped_column(sa.String(40))
    partner_id: Mapped[int | None] = mapped_column()
    media_type: Mapped[LibraryMediaType] = mapped_column(_enum(LibraryMediaType, "library_media_type"))
    is_360: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str] = mapped_column(sa.String(500))
    duration: Mapped[int | None] = mapped_column()  # seconds, video and audio
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    thumbnail_url: Mapped[str | None] = mapped_column(sa.String(1000))
    source: Mapped[LibrarySource] = mapped_column(_enum(LibrarySource, "library_source"), default=LibrarySource.IMPORT)
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    hub: Mapped[Hub] = relationship()
    imported_by: Mapped[User | None] = relationship()


# -- Kaltura identities (issue 10) ---------------------------------------------------------------


class IdentityState(enum.StrEnum):
    """How a member's Kaltura user came to exist (or why it does not yet)."""

    EXISTED = "existed"  # Kaltura already had a user with the mapped id
    CREATED = "created"  # created for the member (by the portal, or by Kaltura on their first upload)
    PENDING = "pending"  # the server token may not add users: Kaltura creates it on the first upload
    FAILED = "failed"  # Kaltura refused; ``error_code`` says why, the next use tries again

    @property
    def label(self) -> str:
        return {
            IdentityState.EXISTED: "Existed in Kaltura",
            IdentityState.CREATED: "Created for you",
            IdentityState.PENDING: "Will be created on your first upload",
            IdentityState.FAILED: "Could not be set up",
        }[self]


class KalturaIdentity(Base):
    """The link between a hub member and their Kaltura user: one per (hub, member), enforced here.

    The id is fixed when the link is made: a later change of the member's email or of the hub's
    mapping does not move it (their media stays theirs); that difference is "drift", which an admin
    resolves explicitly (``portal.identity.links.move_member``).
    """

    __tablename__ = "kaltura_identities"
    __table_args__ = (sa.UniqueConstraint("hub_id", "user_id", name="uq_kaltura_identities_hub_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kaltura_user_id: Mapped[str] = mapped_column(sa.String(320))
    state: Mapped[IdentityState] = mapped_column(_enum(IdentityState, "identity_state"))
    # Kaltura's error code (or ours, e.g. KALTURA_UNAVAILABLE) when the state is failed.
    error_code: Mapped[str | None] = mapped_column(sa.String(80))
    # The member's email the id was derived from (drift shows when it no longer matches).
    email: Mapped[str] = mapped_column(sa.String(320))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    hub: Mapped[Hub] = relationship()
    user: Mapped[User] = relationship()


# -- Uploads from the picker (issue 12) ----------------------------------------------------------------


class UploadState(enum.StrEnum):
    """Where an upload is, as the portal last learned it from Kaltura."""

    UPLOADING = "uploading"  # prepared; the browser sends chunks (or stopped: "interrupted")
    PROCESSING = "processing"  # every byte is in Kaltura; it is converting
    READY = "ready"  # READY in Kaltura and an item of the hub's library
    FAILED = "failed"  # Kaltura refused or could not convert it (``error`` says why)
    CANCELLED = "cancelled"  # the member cancelled; token and empty entry deleted


class Upload(Base):
    """One file a member uploads to their Kaltura account through a hub's picker.

    ``reference_id`` is the entry's Kaltura ``referenceId``: a retried prepare finds the entry it
    made even if the answer to ``media.add`` was lost. ``fingerprint`` (SHA-256 of the file's first
    bytes) with the name and size recognises the same file chosen again, to resume it.
    """

    __tablename__ = "uploads"
    __table_args__ = (sa.Index("ix_uploads_hub_user_state", "hub_id", "user_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    reference_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kaltura_user_id: Mapped[str] = mapped_column(sa.String(320))
    file_name: Mapped[str] = mapped_column(sa.String(255))
    file_size: Mapped[int] = mapped_column(sa.BigInteger)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    media_type: Mapped[LibraryMediaType] = mapped_column(_enum(LibraryMediaType, "upload_media_type"))
    format_label: Mapped[str] = mapped_column(sa.String(60), default="")
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    tags: Mapped[str] = mapped_column(sa.String(1000), default="")
    is_360: Mapped[bool] = mapped_column(default=False)
    upload_token_id: Mapped[str | None] = mapped_column(sa.String(64))
    entry_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    state: Mapped[UploadState] = mapped_column(_enum(UploadState, "upload_state"), default=UploadState.UPLOADING)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    uploaded_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    flavors_ready: Mapped[int] = mapped_column(default=0)
    flavors_total: Mapped[int] = mapped_column(default=0)
    library_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("library_items.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    hub: Mapped[Hub] = relationship()
    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.state in (UploadState.UPLOADING, UploadState.PROCESSING)


# -- Integration status (issue 10): what the gateway measured, shared by every worker ----------------

#: Upper bounds (milliseconds) of the latency histogram's buckets; a last bucket takes the rest.
#: Fixed, so the buckets of every hour, call and worker add up, and p50/p95 come from the sums.
LATENCY_BOUNDS_MS = (50, 100, 200, 400, 800, 1600, 3200, 6400, 12800)
LATENCY_BUCKETS = len(LATENCY_BOUNDS_MS) + 1


class KalturaCallStat(Base):
    """Kaltura calls of one hub in one UTC hour, for one ``service.action``, outcome and code.

    One row per combination, upserted by the gateway's recorder (``count``, ``total_ms`` and one
    histogram bucket grow by one call), and deleted after a bounded time (``status.recording``).
    ``slot`` is the saved token's slot (``""`` for calls made with pasted tokens or none);
    ``code`` is Kaltura's error code or the transport reason (``""`` for a success).
    """

    __tablename__ = "kaltura_call_stats"
    __table_args__ = (
        sa.UniqueConstraint("hub_id", "hour", "slot", "call", "outcome", "code", name="uq_kaltura_call_stats_key"),
        sa.Index("ix_kaltura_call_stats_hour", "hour"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"))
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    slot: Mapped[str] = mapped_column(sa.String(10), default="")
    call: Mapped[str] = mapped_column(sa.String(80))
    outcome: Mapped[str] = mapped_column(sa.String(20))
    code: Mapped[str] = mapped_column(sa.String(80), default="")
    count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total_ms: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    h0: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    h1: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    h2: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    h3: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    h4: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    h5: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    h6: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    h7: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    h8: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    h9: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    def histogram(self) -> list[int]:
        return [getattr(self, f"h{i}") for i in range(LATENCY_BUCKETS)]


class KalturaTokenHealth(Base):
    """How a saved App Token fares with Kaltura: last success, last failure (with its code), last session.

    Keyed by the token's public id as well as its slot, so a replaced token starts with a clean slate.
    """

    __tablename__ = "kaltura_token_health"
    __table_args__ = (sa.UniqueConstraint("hub_id", "slot", "token_id", name="uq_kaltura_token_health_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"), index=True)
    slot: Mapped[str] = mapped_column(sa.String(10))
    token_id: Mapped[str] = mapped_column(sa.String(80))
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_call: Mapped[str | None] = mapped_column(sa.String(80))
    last_failure_code: Mapped[str | None] = mapped_column(sa.String(80))
    session_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

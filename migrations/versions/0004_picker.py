"""The "From Kaltura" picker: embedding settings, launch replay guard, picker sessions, media library

Revision ID: 0004_picker
Revises: 0003_hardening
Create Date: 2026-11-30 04:27:06.054749
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_picker"
down_revision = "0003_hardening"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        "embed_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("allowed_origins", sa.JSON(), nullable=False),
        sa.Column("secret_id", sa.String(length=40), nullable=True),
        sa.Column("secret_sealed", sa.Text(), nullable=True),
        sa.Column("secret_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("previous_secret_id", sa.String(length=40), nullable=True),
        sa.Column("previous_secret_sealed", sa.Text(), nullable=True),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("jwks_url", sa.String(length=500), nullable=True),
        sa.Column("jwks_keys", sa.JSON(), nullable=True),
        sa.Column("jwks_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("jwks_error", sa.String(length=300), nullable=True),
        sa.Column("auto_add_participants", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_id"], ["hubs.id"], name=op.f("fk_embed_settings_hub_id_hubs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embed_settings")),
        sa.UniqueConstraint("hub_id", name=op.f("uq_embed_settings_hub_id")),
    )
    op.create_table(
        "used_launch_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("jti", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_id"], ["hubs.id"], name=op.f("fk_used_launch_tokens_hub_id_hubs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_used_launch_tokens")),
        sa.UniqueConstraint("hub_id", "jti", name="uq_used_launch_tokens_hub_jti"),
    )
    op.create_index(op.f("ix_used_launch_tokens_expires_at"), "used_launch_tokens", ["expires_at"], unique=False)
    op.create_table(
        "picker_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_id"], ["hubs.id"], name=op.f("fk_picker_sessions_hub_id_hubs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_picker_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_picker_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_picker_sessions_token_hash")),
    )
    op.create_index(op.f("ix_picker_sessions_expires_at"), "picker_sessions", ["expires_at"], unique=False)
    op.create_index(op.f("ix_picker_sessions_hub_id"), "picker_sessions", ["hub_id"], unique=False)
    op.create_index(op.f("ix_picker_sessions_user_id"), "picker_sessions", ["user_id"], unique=False)
    op.create_table(
        "library_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("media_type", _enum("library_media_type", "video", "image", "audio"), nullable=False),
        sa.Column("is_360", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("thumbnail_url", sa.String(length=1000), nullable=True),
        sa.Column("source", _enum("library_source", "import", "upload"), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["hub_id"], ["hubs.id"], name=op.f("fk_library_items_hub_id_hubs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["imported_by_id"], ["users.id"], name=op.f("fk_library_items_imported_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_items")),
        sa.UniqueConstraint("hub_id", "entry_id", name="uq_library_items_hub_entry"),
    )
    op.create_index(op.f("ix_library_items_hub_id"), "library_items", ["hub_id"], unique=False)
    op.create_index(op.f("ix_library_items_imported_at"), "library_items", ["imported_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_library_items_imported_at"), table_name="library_items")
    op.drop_index(op.f("ix_library_items_hub_id"), table_name="library_items")
    op.drop_table("library_items")
    op.drop_index(op.f("ix_picker_sessions_user_id"), table_name="picker_sessions")
    op.drop_index(op.f("ix_picker_sessions_hub_id"), table_name="picker_sessions")
    op.drop_index(op.f("ix_picker_sessions_expires_at"), table_name="picker_sessions")
    op.drop_table("picker_sessions")
    op.drop_index(op.f("ix_used_launch_tokens_expires_at"), table_name="used_launch_tokens")
    op.drop_table("used_launch_tokens")
    op.drop_table("embed_settings")

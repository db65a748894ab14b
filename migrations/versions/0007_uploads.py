"""Uploads from the picker: the upload record and the hub's upload size limit

Revision ID: 0007_uploads
Revises: 0006_status
Create Date: 2026-11-30 08:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_uploads"
down_revision = "0006_status"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    with op.batch_alter_table("embed_settings") as batch:
        batch.add_column(sa.Column("upload_max_mb", sa.Integer(), nullable=True))
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("reference_id", sa.String(length=64), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kaltura_user_id", sa.String(length=320), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("media_type", _enum("upload_media_type", "video", "image", "audio"), nullable=False),
        sa.Column("format_label", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.String(length=1000), nullable=False),
        sa.Column("is_360", sa.Boolean(), nullable=False),
        sa.Column("upload_token_id", sa.String(length=64), nullable=True),
        sa.Column("entry_id", sa.String(length=40), nullable=True),
        sa.Column(
            "state",
            _enum("upload_state", "uploading", "processing", "ready", "failed", "cancelled"),
            nullable=False,
        ),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("uploaded_bytes", sa.BigInteger(), nullable=False),
        sa.Column("flavors_ready", sa.Integer(), nullable=False),
        sa.Column("flavors_total", sa.Integer(), nullable=False),
        sa.Column("library_item_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["hub_id"], ["hubs.id"], name=op.f("fk_uploads_hub_id_hubs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_uploads_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["library_item_id"],
            ["library_items.id"],
            name=op.f("fk_uploads_library_item_id_library_items"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
        sa.UniqueConstraint("public_id", name=op.f("uq_uploads_public_id")),
        sa.UniqueConstraint("reference_id", name=op.f("uq_uploads_reference_id")),
    )
    op.create_index("ix_uploads_hub_user_state", "uploads", ["hub_id", "user_id", "state"], unique=False)
    op.create_index(op.f("ix_uploads_entry_id"), "uploads", ["entry_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_uploads_entry_id"), table_name="uploads")
    op.drop_index("ix_uploads_hub_user_state", table_name="uploads")
    op.drop_table("uploads")
    with op.batch_alter_table("embed_settings") as batch:
        batch.drop_column("upload_max_mb")

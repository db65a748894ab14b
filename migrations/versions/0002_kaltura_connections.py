"""kaltura connections

Revision ID: 0002_kaltura_connections
Revises: 0001_foundation
Create Date: 2026-11-27 12:01:48.185644
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_kaltura_connections"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kaltura_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("service_url", sa.String(length=255), nullable=False),
        sa.Column(
            "user_id_mode",
            sa.Enum(
                "email",
                "email_prefix",
                "custom",
                name="user_id_mode",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("custom_rule", sa.String(length=200), nullable=True),
        sa.Column("client_token_sealed", sa.Text(), nullable=True),
        sa.Column("client_token_info", sa.JSON(), nullable=True),
        sa.Column("server_token_sealed", sa.Text(), nullable=True),
        sa.Column("server_token_info", sa.JSON(), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_check", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_id"], ["hubs.id"], name=op.f("fk_kaltura_connections_hub_id_hubs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kaltura_connections")),
        sa.UniqueConstraint("hub_id", name=op.f("uq_kaltura_connections_hub_id")),
    )


def downgrade() -> None:
    op.drop_table("kaltura_connections")

"""hardening: a complete audit trail (who, from where, by which route) and hub invitations

Revision ID: 0003_hardening
Revises: 0002_kaltura_connections
Create Date: 2026-11-30 04:29:56.336697
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_hardening"
down_revision = "0002_kaltura_connections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "role",
            sa.Enum("admin", "participant", name="role", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["hub_id"], ["hubs.id"], name=op.f("fk_invitations_hub_id_hubs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["invited_by_id"], ["users.id"], name=op.f("fk_invitations_invited_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("hub_id", "email", name="uq_invitations_hub_email"),
    )
    with op.batch_alter_table("invitations") as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitations_hub_id"), ["hub_id"], unique=False)

    # Rows written before this revision came from the web (the CLI recorded no actor then).
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.add_column(sa.Column("actor_email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=10), server_default="web", nullable=False))
        batch_op.add_column(sa.Column("client_address", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("operator", sa.String(length=64), nullable=True))
        # The hub's log is read newest first: one index serves both the filter and the order.
        batch_op.drop_index(batch_op.f("ix_audit_events_hub_id"))
        batch_op.create_index("ix_audit_events_hub_id_created_at", ["hub_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_actor_email"), ["actor_email"], unique=False)
    # Existing rows name their actor by email too, so the actor filter finds them.
    op.execute(
        "UPDATE audit_events SET actor_email = (SELECT email FROM users WHERE users.id = audit_events.actor_id) "
        "WHERE actor_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_actor_email"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))
        batch_op.drop_index("ix_audit_events_hub_id_created_at")
        batch_op.create_index(batch_op.f("ix_audit_events_hub_id"), ["hub_id"], unique=False)
        batch_op.drop_column("operator")
        batch_op.drop_column("client_address")
        batch_op.drop_column("source")
        batch_op.drop_column("actor_email")

    with op.batch_alter_table("invitations") as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_hub_id"))
        batch_op.drop_index(batch_op.f("ix_invitations_email"))
    op.drop_table("invitations")

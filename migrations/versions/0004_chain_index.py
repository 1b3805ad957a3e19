"""chain_index: the contract's Indexed events, as sync reads them

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 03:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_index",
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=66), nullable=False),
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=True),
        sa.Column("submitter", sa.String(length=42), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("tx_hash", "log_index", name=op.f("pk_chain_index")),
    )
    for column in ("subject", "entry_id", "block_number"):
        op.create_index(op.f(f"ix_chain_index_{column}"), "chain_index", [column], unique=False)


def downgrade() -> None:
    for column in ("subject", "entry_id", "block_number"):
        op.drop_index(op.f(f"ix_chain_index_{column}"), table_name="chain_index")
    op.drop_table("chain_index")

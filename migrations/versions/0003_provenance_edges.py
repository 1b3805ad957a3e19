"""edges: the provenance graph in one indexed table, filled from existing entries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "edges",
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("child", sa.String(length=66), nullable=False),
        sa.Column("parent", sa.String(length=66), nullable=False),
        sa.Column("child_kind", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=True),
        sa.Column("valid_to", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.entry_id"],
            name=op.f("fk_edges_entry_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "child", name=op.f("pk_edges")),
    )
    op.create_index(op.f("ix_edges_parent"), "edges", ["parent"], unique=False)
    op.execute(
        "INSERT INTO edges (entry_id, child, parent, child_kind) "
        "SELECT i.entry_id, i.input, t.output, 'batch' "
        "FROM transformations t JOIN transformation_inputs i ON i.entry_id = t.entry_id"
    )
    op.execute(
        "INSERT INTO edges (entry_id, child, parent, child_kind, valid_from, valid_to) "
        "SELECT entry_id, supplier, buyer, 'facility', valid_from, valid_to FROM supply_links"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_edges_parent"), table_name="edges")
    op.drop_table("edges")

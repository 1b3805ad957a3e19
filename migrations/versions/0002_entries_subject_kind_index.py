"""entries: one index on (subject, kind) instead of subject alone

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 18:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_entries_subject_kind", "entries", ["subject", "kind"], unique=False)
    op.drop_index("ix_entries_subject", table_name="entries")


def downgrade() -> None:
    op.create_index("ix_entries_subject", "entries", ["subject"], unique=False)
    op.drop_index("ix_entries_subject_kind", table_name="entries")

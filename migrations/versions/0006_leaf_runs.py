"""leaf_runs: an anchor made here stored as runs of consecutive entries, not a row per leaf

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 11:10:00

The proofs stored without a path (the leaves of anchors made here) become runs; proofs
carried in with their path stay rows of `proofs`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leaf_runs",
        sa.Column("first_seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("first_leaf", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["root"], ["anchors.root"], name=op.f("fk_leaf_runs_root"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("first_seq", name=op.f("pk_leaf_runs")),
    )
    op.create_index(op.f("ix_leaf_runs_root"), "leaf_runs", ["root"], unique=False)
    conn = op.get_bind()
    leaves = conn.execute(
        sa.text(
            "SELECT p.root, p.leaf_index, e.seq FROM proofs p"
            " JOIN entries e ON e.entry_id = p.entry_id"
            " WHERE p.path IS NULL ORDER BY p.root, p.leaf_index"
        )
    )
    runs: list[dict[str, object]] = []
    for root, leaf, seq in leaves:
        last = runs[-1] if runs else None
        if (
            last is not None
            and last["root"] == root
            and last["last_seq"] == seq - 1
            and last["next_leaf"] == leaf
        ):
            last["last_seq"], last["next_leaf"] = seq, leaf + 1
        else:
            runs.append(
                {"first_seq": seq, "last_seq": seq, "root": root, "first_leaf": leaf,
                 "next_leaf": leaf + 1}
            )  # fmt: skip
    if runs:
        conn.execute(
            sa.text(
                "INSERT INTO leaf_runs (first_seq, last_seq, root, first_leaf)"
                " VALUES (:first_seq, :last_seq, :root, :first_leaf)"
            ),
            runs,
        )
    conn.execute(sa.text("DELETE FROM proofs WHERE path IS NULL"))


def downgrade() -> None:
    # The older schema reads a row per leaf, without a path, as before.
    op.get_bind().execute(
        sa.text(
            "INSERT INTO proofs (entry_id, root, leaf_index)"
            " SELECT e.entry_id, r.root, r.first_leaf + e.seq - r.first_seq"
            " FROM leaf_runs r JOIN entries e ON e.seq BETWEEN r.first_seq AND r.last_seq"
        )
    )
    op.drop_index(op.f("ix_leaf_runs_root"), table_name="leaf_runs")
    op.drop_table("leaf_runs")

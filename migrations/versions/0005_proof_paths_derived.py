"""proofs: path may be NULL, for a batch anchored here (its rows are the tree's leaves)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 08:40:00

Paths stored before stay: they are still valid, and read as they are.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("proofs", schema=None) as batch_op:
        batch_op.alter_column("path", existing_type=sa.JSON(), nullable=True)


def downgrade() -> None:
    from labourledger.merkle import MerkleTree

    # The older schema needs every path stored: each tree anchored since is rebuilt once.
    conn = op.get_bind()
    roots = conn.execute(sa.text("SELECT DISTINCT root FROM proofs WHERE path IS NULL"))
    for (root,) in roots.all():
        leaves = conn.execute(
            sa.text("SELECT entry_id FROM proofs WHERE root = :r ORDER BY leaf_index"), {"r": root}
        ).scalars()
        tree = MerkleTree([bytes.fromhex(leaf[2:]) for leaf in leaves])
        conn.execute(
            sa.text("UPDATE proofs SET path = :path WHERE root = :r AND leaf_index = :i"),
            [
                {
                    "path": json.dumps(["0x" + h.hex() for h in tree.inclusion_proof(i)]),
                    "r": root,
                    "i": i,
                }
                for i in range(tree.size)
            ],
        )
    with op.batch_alter_table("proofs", schema=None) as batch_op:
        batch_op.alter_column("path", existing_type=sa.JSON(), nullable=False)

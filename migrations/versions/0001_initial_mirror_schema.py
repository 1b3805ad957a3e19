"""initial mirror schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 14:59:51.385423
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anchors",
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(length=66), nullable=True),
        sa.Column("timestamp", sa.BigInteger(), nullable=True),
        sa.Column("submitter", sa.String(length=42), nullable=True),
        sa.PrimaryKeyConstraint("root", name=op.f("pk_anchors")),
    )
    with op.batch_alter_table("anchors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_anchors_block_number"), ["block_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_anchors_status"), ["status"], unique=False)

    op.create_table(
        "blocks",
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_blocks")),
    )
    op.create_table(
        "entries",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("issuer", sa.String(length=42), nullable=False),
        sa.Column("subject", sa.String(length=66), nullable=False),
        sa.Column("refs", sa.JSON(), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=66), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("salt", sa.String(length=66), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_entries")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_entries_entry_id")),
    )
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.create_index("ix_entries_kind", ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_entries_subject"), ["subject"], unique=False)

    op.create_table(
        "role_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_events")),
        sa.UniqueConstraint("tx_hash", "log_index", name="uq_role_events_position"),
    )
    with op.batch_alter_table("role_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_events_account"), ["account"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_role_events_block_number"), ["block_number"], unique=False
        )

    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "attestations",
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("facility", sa.String(length=66), nullable=False),
        sa.Column("claim", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=False),
        sa.Column("valid_until", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.entry_id"],
            name=op.f("fk_attestations_entry_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_attestations")),
    )
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attestations_facility"), ["facility"], unique=False)

    op.create_table(
        "audits",
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("facility", sa.String(length=66), nullable=False),
        sa.Column("standard", sa.String(length=32), nullable=False),
        sa.Column("audit_type", sa.String(length=16), nullable=False),
        sa.Column("notice", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.String(length=10), nullable=False),
        sa.Column("end_date", sa.String(length=10), nullable=False),
        sa.Column("valid_until", sa.String(length=10), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.entry_id"], name=op.f("fk_audits_entry_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_audits")),
    )
    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audits_facility"), ["facility"], unique=False)

    op.create_table(
        "batches",
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("batch_id", sa.String(length=66), nullable=False),
        sa.Column("product", sa.String(length=66), nullable=False),
        sa.Column("lot", sa.Text(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("produced_at", sa.String(length=10), nullable=False),
        sa.Column("facility", sa.String(length=66), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.entry_id"], name=op.f("fk_batches_entry_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_batches")),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batches_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_batches_facility"), ["facility"], unique=False)

    op.create_table(
        "entry_refs",
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("ref", sa.String(length=66), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.entry_id"],
            name=op.f("fk_entry_refs_entry_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "ref", name=op.f("pk_entry_refs")),
    )
    with op.batch_alter_table("entry_refs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entry_refs_ref"), ["ref"], unique=False)

    op.create_table(
        "facilities",
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("facility_id", sa.String(length=66), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("os_id", sa.String(length=15), nullable=True),
        sa.Column("facility_type", sa.String(length=64), nullable=True),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("worker_count", sa.Integer(), nullable=True),
        sa.Column("worker_band", sa.String(length=32), nullable=True),
        sa.Column("parent_company", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.entry_id"],
            name=op.f("fk_facilities_entry_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_facilities")),
    )
    with op.batch_alter_table("facilities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_facilities_country"), ["country"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_facilities_facility_id"), ["facility_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_facilities_tier"), ["tier"], unique=False)

    op.create_table(
        "finding_updates",
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("audit", sa.String(length=66), nullable=False),
        sa.Column("finding_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("verified_on", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.entry_id"],
            name=op.f("fk_finding_updates_entry_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_finding_updates")),
    )
    with op.batch_alter_table("finding_updates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_finding_updates_audit"), ["audit"], unique=False)

    op.create_table(
        "findings",
        sa.Column("audit", sa.String(length=66), nullable=False),
        sa.Column("finding_id", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ilo_indicators", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit"], ["entries.entry_id"], name=op.f("fk_findings_audit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("audit", "finding_id", name=op.f("pk_findings")),
    )
    op.create_table(
        "products",
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("product_id", sa.String(length=66), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("sku", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("brand", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.entry_id"],
            name=op.f("fk_products_entry_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_gtin"), ["gtin"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_product_id"), ["product_id"], unique=False)

    op.create_table(
        "proofs",
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("leaf_index", sa.Integer(), nullable=False),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.entry_id"], name=op.f("fk_proofs_entry_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["root"], ["anchors.root"], name=op.f("fk_proofs_root"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_proofs")),
    )
    with op.batch_alter_table("proofs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proofs_root"), ["root"], unique=False)

    op.create_table(
        "revocations",
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("target", sa.String(length=66), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.entry_id"],
            name=op.f("fk_revocations_entry_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_revocations")),
    )
    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revocations_target"), ["target"], unique=False)

    op.create_table(
        "supply_links",
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("supplier", sa.String(length=66), nullable=False),
        sa.Column("buyer", sa.String(length=66), nullable=False),
        sa.Column("material", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.String(length=10), nullable=False),
        sa.Column("valid_to", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.entry_id"],
            name=op.f("fk_supply_links_entry_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_supply_links")),
    )
    with op.batch_alter_table("supply_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supply_links_buyer"), ["buyer"], unique=False)
        batch_op.create_index(batch_op.f("ix_supply_links_supplier"), ["supplier"], unique=False)

    op.create_table(
        "transformation_inputs",
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("input", sa.String(length=66), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.entry_id"],
            name=op.f("fk_transformation_inputs_entry_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "input", name=op.f("pk_transformation_inputs")),
    )
    with op.batch_alter_table("transformation_inputs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transformation_inputs_input"), ["input"], unique=False)

    op.create_table(
        "transformations",
        sa.Column("entry_id", sa.String(length=66), nullable=False),
        sa.Column("output", sa.String(length=66), nullable=False),
        sa.Column("facility", sa.String(length=66), nullable=False),
        sa.Column("date", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.entry_id"],
            name=op.f("fk_transformations_entry_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_transformations")),
    )
    with op.batch_alter_table("transformations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transformations_output"), ["output"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("transformations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transformations_output"))

    op.drop_table("transformations")
    with op.batch_alter_table("transformation_inputs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transformation_inputs_input"))

    op.drop_table("transformation_inputs")
    with op.batch_alter_table("supply_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_links_supplier"))
        batch_op.drop_index(batch_op.f("ix_supply_links_buyer"))

    op.drop_table("supply_links")
    with op.batch_alter_table("revocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revocations_target"))

    op.drop_table("revocations")
    with op.batch_alter_table("proofs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proofs_root"))

    op.drop_table("proofs")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_product_id"))
        batch_op.drop_index(batch_op.f("ix_products_gtin"))

    op.drop_table("products")
    op.drop_table("findings")
    with op.batch_alter_table("finding_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_finding_updates_audit"))

    op.drop_table("finding_updates")
    with op.batch_alter_table("facilities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_facilities_tier"))
        batch_op.drop_index(batch_op.f("ix_facilities_facility_id"))
        batch_op.drop_index(batch_op.f("ix_facilities_country"))

    op.drop_table("facilities")
    with op.batch_alter_table("entry_refs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entry_refs_ref"))

    op.drop_table("entry_refs")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batches_facility"))
        batch_op.drop_index(batch_op.f("ix_batches_batch_id"))

    op.drop_table("batches")
    with op.batch_alter_table("audits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audits_facility"))

    op.drop_table("audits")
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestations_facility"))

    op.drop_table("attestations")
    op.drop_table("sync_state")
    with op.batch_alter_table("role_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_events_block_number"))
        batch_op.drop_index(batch_op.f("ix_role_events_account"))

    op.drop_table("role_events")
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entries_subject"))
        batch_op.drop_index("ix_entries_kind")

    op.drop_table("entries")
    op.drop_table("blocks")
    with op.batch_alter_table("anchors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anchors_status"))
        batch_op.drop_index(batch_op.f("ix_anchors_block_number"))

    op.drop_table("anchors")

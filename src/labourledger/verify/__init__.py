"""Judging a batch: `verify_batch` (in `verify.batch`) over any `EvidenceSource` (a
workspace's mirror, or a bundle), with the checks of `Policy` (`verify.policy`).

See docs/architecture.md, "Verifying a batch", for the order of the work."""

"""The completeness index: which entries are indexed on chain, under which subject.

An entry whose omission would change a verdict (an audit, a finding update, a
revocation, a grievance and its updates, a transformation) is anchored with an
`Indexed` event naming a subject, so a verifier holding only a bundle and chain
access can ask the chain what exists about a facility, a lot or an entry, and
notice what was left out. The event reveals that such an entry exists and when;
never its content.

A transformation is indexed under the lot it made: left out of a bundle, the lot's
inputs would be traced over its facility's supply links instead, which the brand
chooses.
"""

from __future__ import annotations

from labourledger.hashing import keccak256

__all__ = ["INDEXED_KINDS", "index_subject", "revocation_subject"]

INDEXED_KINDS = frozenset(
    {"audit", "finding_update", "revocation", "grievance", "grievance_update", "transformation"}
)


def revocation_subject(target: bytes) -> bytes:
    """The subject a revocation of `target` is indexed under: distinct from the target's own
    id, so "was this entry revoked?" is one topic to ask for, apart from its updates."""
    return keccak256(b"labourledger:revocation:" + target)


def index_subject(kind: str, subject: bytes) -> bytes | None:
    """The subject an entry of `kind` with envelope `subject` is indexed under, or None for
    kinds that are not indexed. Audits and grievances are indexed by facility, updates by
    what they update, transformations by the lot they made: each is already the
    envelope's subject."""
    if kind not in INDEXED_KINDS:
        return None
    return revocation_subject(subject) if kind == "revocation" else subject

"""Signing with a wallet: an entry's EIP-712 typed data out (as `eth_signTypedData_v4`
takes it), the wallet's 65-byte signature back in.

The unsigned entry (body and salt included) waits in the workspace's `drafts/` folder
between the two steps, so only the typed data leaves the machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labourledger.envelope import (
    Domain,
    Entry,
    ExternalSigner,
    SignatureRequested,
    SignedEntry,
    UnsignedEntry,
    to_hex,
)
from labourledger.errors import InputError

__all__ = ["DRAFTS", "WalletSigner", "complete_signature"]

DRAFTS = "drafts"


@dataclass(frozen=True)
class WalletSigner(ExternalSigner):
    """An external signer that writes the typed data to `typed_data_out` and keeps the
    unsigned entry under `drafts` until `complete_signature`."""

    typed_data_out: Path
    drafts: Path

    def hand_over(self, request: SignatureRequested) -> str:
        """Write the typed data for the wallet and keep the draft; returns the entry id."""
        draft = request.draft
        entry_id = to_hex(draft.entry_id)
        typed = json.dumps(draft.typed_data_json(request.domain), indent=2) + "\n"
        try:
            self.typed_data_out.write_text(typed, encoding="utf-8")
        except OSError as exc:
            raise InputError(
                f"typed_data_out: cannot write {self.typed_data_out} ({exc.strerror})"
            ) from None
        self.drafts.mkdir(parents=True, exist_ok=True)
        (self.drafts / f"{entry_id}.json").write_text(
            draft.model_dump_json(indent=2) + "\n", encoding="utf-8"
        )
        return entry_id


def _signature(text: str) -> bytes:
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise InputError("signature: not a hex string") from None


def complete_signature(
    drafts: Path, typed_data: Any, signature: str, domain: Domain
) -> tuple[SignedEntry, Path]:
    """The signed entry from typed data a wallet signed and its signature (v 0/1 or 27/28,
    low s only), checked against the draft kept in `drafts` and the workspace's `domain`;
    returns it with the draft's file, to delete once the entry is delivered."""
    header, signed_for = Entry.from_typed_data(typed_data)
    entry_id = "0x" + header.compute_id(signed_for).hex()
    draft_file = drafts / f"{entry_id}.json"
    try:
        draft = UnsignedEntry.model_validate_json(draft_file.read_text(encoding="utf-8"))
    except OSError:
        raise InputError(f"entry {entry_id}: not begun in this workspace (no draft)") from None
    if draft.header != header:
        raise InputError(f"entry {entry_id}: the typed data differs from its draft")
    if signed_for != domain:
        raise InputError(f"entry {entry_id}: for another chain or contract than this workspace")
    return draft.complete(_signature(signature)), draft_file

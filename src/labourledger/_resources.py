"""Folders shipped in the wheel from the checkout's top level (see pyproject's force-include)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["shipped_dir"]


def shipped_dir(packaged: str, checkout: str) -> Path:
    """`labourledger/<packaged>` in an installed wheel, else `<checkout>` in a source checkout."""
    shipped = resources.files("labourledger").joinpath(packaged)
    if shipped.is_dir():
        return Path(str(shipped))
    return Path(__file__).resolve().parents[2] / checkout

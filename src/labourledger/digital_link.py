"""GS1 Digital Link URIs for batches, and the QR codes that carry them.

A product's QR code holds `{base}/01/{GTIN-14}/10/{lot}`: application identifier 01 is
the GTIN, zero-padded to 14 digits, and 10 the batch or lot number, percent-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from labourledger.errors import InputError
from labourledger.identifiers import validate_gtin

__all__ = [
    "BatchLink",
    "batch_path",
    "check_base_url",
    "gtin14",
    "gtin_forms",
    "qr_svg",
    "write_batch_qr",
    "write_qr",
]

#: GTIN-8, -12, -13 and -14: the lengths a GTIN may have before padding.
GTIN_LENGTHS = (8, 12, 13, 14)
#: The suffixes (less the dot) `write_qr` writes: segno's other formats are not images a
#: label or page can take, and some need options of their own.
QR_FORMATS = ("svg", "png", "pdf")


def gtin14(gtin: str) -> str:
    """The GTIN as 14 digits (InputError naming it when it is not a valid GTIN)."""
    if len(gtin) not in GTIN_LENGTHS or not gtin.isascii() or not gtin.isdigit():
        raise InputError(f"gtin: expected 8, 12, 13 or 14 digits, got {gtin!r}")
    validate_gtin(gtin)
    return gtin.rjust(14, "0")


def gtin_forms(gtin: str) -> list[str]:
    """The ways a product may have recorded this GTIN: 14 digits, or fewer without the
    leading zeros of padding."""
    full = gtin14(gtin)
    return [full[14 - n :] for n in GTIN_LENGTHS if not full[: 14 - n].strip("0")]


def batch_path(gtin: str | None, lot: str) -> str:
    """The batch's path: its Digital Link when the product has a GTIN, else `/batches/{lot}`."""
    encoded = quote(lot, safe="")
    return f"/01/{gtin14(gtin)}/10/{encoded}" if gtin else f"/batches/{encoded}"


def qr_svg(url: str) -> str:
    """The QR code of `url` as an inline SVG element (no XML declaration)."""
    import segno

    code = segno.make_qr(url, error="m")
    svg: str = code.svg_inline(scale=4)
    return svg


def write_qr(url: str, path: Path) -> Path:
    """Write the QR code of `url` to `path`, whole or not at all; its suffix (.svg, .png or
    .pdf) chooses the format."""
    import io

    import segno

    from labourledger.exchange import write_output

    kind = path.suffix.lower().removeprefix(".")
    if kind not in QR_FORMATS:
        raise InputError(f"path: expected a .svg, .png or .pdf file name, got {str(path)!r}")
    code = io.BytesIO()
    segno.make_qr(url, error="m").save(code, kind=kind, scale=8, border=4)
    return write_output(path, code.getvalue())


def check_base_url(base_url: str) -> str:
    """`base_url`, the public address links and QR codes use, if it is an http(s) URL of a
    host (and path) that links can be appended to; InputError naming it otherwise."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problem = "expected an http(s) URL with a host"
    elif "?" in base_url or "#" in base_url:  # a query or fragment, even an empty one
        problem = "a query or fragment would end up before the page's path"
    elif any(c.isspace() for c in base_url):
        problem = "a URL has no spaces"
    else:
        return base_url
    raise InputError(f"base_url: {problem}, got {base_url!r}")


@dataclass(frozen=True)
class BatchLink:
    """The address of a batch's page, and its product's GTIN (None: the address is
    `/batches/{lot}`, not a Digital Link)."""

    url: str
    gtin: str | None


def write_batch_qr(root: Path, ref: str, base_url: str, path: Path) -> BatchLink:
    """Write to `path` the QR code of the page of a batch (its lot or 0x id) of the
    workspace at `root` (opened read-only), as served at `base_url`."""
    from labourledger.web.service import ReadOnlyWorkspace

    check_base_url(base_url)
    workspace = ReadOnlyWorkspace(root)
    batch_id = workspace.batch_id(ref)
    found = workspace.ledger.mirror.lookup("batches", "batch_id", [batch_id])[batch_id]
    gtin = workspace.gtin_of(batch_id)
    url = base_url.rstrip("/") + batch_path(gtin, str(found["lot"]))
    write_qr(url, path)
    return BatchLink(url, gtin)

"""The bad-input corpus, as data: each case is a command, the files it reads, the exit code
it must end with and a fragment of the one-line reason it must give.

Cases are generated from tables (a CSV column times a bad value, an entry-file field
times a way of breaking it, a command option times a bad value), so adding a row to a
table adds cases. Placeholders in arguments and file texts are filled from the world
`test_bad_inputs.py` builds: `{dir}` is the case's own folder, `{mill}` a registered
facility's OS id, `{mill_id}` its 0x id, `{ghost_id}` a 0x id nobody registered,
`{knit_id}` another registered facility's 0x id, `{lot_in}` and `{lot_out}` registered
batches' lots and `{gtin}` their product's GTIN.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

USAGE = 2  # bad input, including the CLI's own usage errors
UNREACHABLE = 3

CSV_COLUMNS = [
    "os_id", "name", "address", "country_code", "facility_type",
    "processing_type", "number_of_workers", "parent_company", "tier",
]  # fmt: skip
GOOD_ROWS = [
    ["BD2024001KNTR4D", "Dhaka Knitwear Ltd", "Plot 7, Gazipur", "BD",
     "Final Product Assembly", "Cut and sew", "2400", "Dhaka Knit Group", "1"],
    ["IN2024002CTNM1H", "Tiruppur Cotton Mills", "SIDCO Estate, Tiruppur", "IN",
     "Textile or Material Production", "Spinning|Knitting", "1001-5000", "", "2"],
]  # fmt: skip


@dataclass(frozen=True)
class Case:
    """One bad input: `args` after `--workspace`, the `files` written first (name to bytes,
    in the case's folder), the exit code, and text the error line must contain."""

    id: str
    args: tuple[str, ...]
    exit: int = USAGE
    expect: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    #: Run in its own process: a regression here crashes the interpreter itself.
    subprocess: bool = False


def _csv(rows: list[list[str]], header: list[str] = CSV_COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _import_csv(name: str, data: bytes, expect: str) -> Case:
    return Case(
        f"csv-{name}",
        ("supplier", "import", "{dir}/f.csv", "--key", "brand"),
        expect=expect,
        files={"f.csv": data},
    )


# -- CSV: each column times bad values; the bad row is line 4, after two good rows -----------

CSV_BAD_VALUES: dict[str, list[tuple[str, str]]] = {
    "os_id": [("BD123", "os_id"), ("BD2024001KNTR4X", "os_id"), ("bd2024001kntr4d!", "os_id")],
    "name": [("", "name"), ("Mill\x00One", "control character"), ("Bell\x07", "control"),
             ("   ", "name")],
    "address": [("", "address"), ("Road\x00 1", "control character"), ("\x1b[31m", "control")],
    "country_code": [("ZZ", "country"), ("Bangladesh", "country"), ("B", "country"),
                     ("", "country")],
    "facility_type": [("Spaceship yard", "facility_type"), ("final product assembly",
                      "facility_type")],
    "processing_type": [("Dye\x00ing", "control character")],
    "number_of_workers": [("-5", "number_of_workers"), ("abc", "number_of_workers"),
                          ("1.5", "number_of_workers"), ("5000-", "number_of_workers"),
                          ("1e3", "number_of_workers"), ("-1-5", "number_of_workers"),
                          ("More than lots", "number_of_workers")],
    "parent_company": [("Group\x00", "control character")],
    "tier": [("0", "tier"), ("5", "tier"), ("-1", "tier"), ("two", "tier"), ("1.0", "tier")],
}  # fmt: skip


def csv_cases() -> Iterator[Case]:
    """A CSV whose third row has one bad value, per column and value; and broken files."""
    for column, values in CSV_BAD_VALUES.items():
        for number, (value, expect) in enumerate(values):
            row = list(GOOD_ROWS[0])
            row[CSV_COLUMNS.index(column)] = value
            yield _import_csv(f"{column}-{number}", _csv([*GOOD_ROWS, row]), expect)
    latin1 = _csv(GOOD_ROWS).decode() + "BD2024001KNTR4D,Café Ñandú,Rua 1,VN,,,,,3\n"
    yield _import_csv("latin-1", latin1.encode("latin-1"), "not UTF-8")
    yield _import_csv("utf-16", _csv(GOOD_ROWS).decode().encode("utf-16"), "UTF-8")
    yield _import_csv("binary", bytes(range(256)) * 8, "UTF-8")
    yield _import_csv("nul-bytes", b"name,address,country_code,facility_type\n\x00\x00,\x00,BD,\n",
                      "control character")  # fmt: skip
    huge = [[*GOOD_ROWS[0][:1], "x" * 140_000, *GOOD_ROWS[0][2:]]]
    yield _import_csv("field-over-limit", _csv(huge), "field larger than field limit")
    extra = _csv(GOOD_ROWS).decode() + ",".join([*GOOD_ROWS[0][:-1], "1", "surplus", "x"]) + "\n"
    yield _import_csv("extra-columns", extra.encode(), "more value(s) than the header's 9")
    unquoted = _csv(GOOD_ROWS).decode() + GOOD_ROWS[0][0] + ",Mill,Plot 7, Gazipur,BD,,,,,1\n"
    yield _import_csv("unquoted-comma", unquoted.encode(), "more value(s)")
    yield _import_csv("missing-columns", b"name,address\nMill,Road 1\n", "missing column")
    yield _import_csv("empty-file", b"", "missing column")
    yield _import_csv("json-not-csv", b'{"name": "Mill"}\n', "missing column")
    yield Case("csv-no-such-file", ("supplier", "import", "{dir}/absent.csv", "--key", "brand"),
               expect="cannot read")  # fmt: skip
    yield Case("csv-a-folder", ("supplier", "import", "{dir}", "--key", "brand"),
               expect="cannot read")  # fmt: skip


# -- entry files: each field times ways of breaking it --------------------------------------


def _flip_hex(value: str) -> str:
    last = value[-1]
    return value[:-1] + ("0" if last != "0" else "1")


#: An edit's result meaning "remove the field".
DROP = object()


def _signed_entry_edits() -> dict[str, list[tuple[str, Callable[[Any], Any], str]]]:
    """Per field of an entry: (name, how to change its value, expected reason); an empty
    reason means the entry parses but fails a check, so the file is refused."""
    drop = DROP
    hex_edits = [
        ("altered", _flip_hex, ""),
        ("not-hex", lambda v: "0x" + "zz" * ((len(v) - 2) // 2), "malformed"),
        ("short", lambda v: v[:-2], "malformed"),
        ("number", lambda v: 12345, "malformed"),
        ("missing", lambda v: drop, "malformed"),
    ]
    return {
        "kind": [("unknown", lambda v: "wish", "malformed"), ("other-kind", lambda v: "audit", ""),
                 ("missing", lambda v: drop, "malformed"), ("number", lambda v: 7, "malformed")],
        "issuer": [("other-address", lambda v: "0x" + "11" * 20, ""),
                   ("not-address", lambda v: "0x1234", "malformed"),
                   ("missing", lambda v: drop, "malformed")],
        "subject": hex_edits,
        "refs": [("extra-ref", lambda v: [*v, "0x" + "22" * 32], ""),
                 ("string", lambda v: "0x" + "22" * 32, "malformed"),
                 ("bad-item", lambda v: ["nope"], "malformed")],
        "issued_at": [("earlier", lambda v: v - 1, ""), ("negative", lambda v: -1, "malformed"),
                      ("text", lambda v: "yesterday", "malformed"),
                      ("huge", lambda v: 2**80, "malformed"),
                      ("missing", lambda v: drop, "malformed")],
        "schema_version": [("other", lambda v: 2, ""), ("text", lambda v: "one", "malformed"),
                           ("missing", lambda v: drop, "malformed")],
        "content_hash": hex_edits,
        "entry_id": hex_edits,
        "salt": hex_edits,
        "signature": [("altered", _flip_hex, ""), ("short", lambda v: v[:-4], "malformed"),
                      ("missing", lambda v: drop, "malformed"),
                      ("zeros", lambda v: "0x" + "00" * 65, "")],
        "body": [("string", lambda v: "{}", "malformed"), ("empty", lambda v: {}, ""),
                 ("missing", lambda v: drop, "malformed"),
                 ("extra-field", lambda v: v | {"note": "added later"}, ""),
                 ("claim-changed", lambda v: v | {"claim": "freedom_of_movement"}, ""),
                 ("facility-changed", lambda v: v | {"facility": "0x" + "33" * 32}, ""),
                 ("until-changed", lambda v: v | {"valid_until": "2099-12-30"}, "")],
        "issued_at_iso": [("wrong", lambda v: "2001-01-01T00:00:00+00:00", "issued_at_iso")],
    }  # fmt: skip


FileEdit = Callable[[dict[str, Any]], Any]


def _edit_entry(fieldname: str, edit: Callable[[Any], Any]) -> FileEdit:
    def apply(base: dict[str, Any]) -> Any:
        data = json.loads(json.dumps(base))
        entry = data["entries"][0]
        changed = edit(entry.get(fieldname))
        if changed is DROP:
            entry.pop(fieldname, None)
        else:
            entry[fieldname] = changed
        return data

    return apply


def _edit_file(change: dict[str, Any], drop: str | None = None) -> FileEdit:
    def apply(base: dict[str, Any]) -> Any:
        return {k: v for k, v in base.items() if k != drop} | change

    return apply


def entry_file_edits() -> list[tuple[str, FileEdit, str]]:
    """(name, how to break a valid signed entry file, expected reason), per field."""
    edits = [
        (f"entry-{fieldname}-{name}", _edit_entry(fieldname, edit), expect or "refused")
        for fieldname, changes in _signed_entry_edits().items()
        for name, edit, expect in changes
    ]
    edits.append(("entry-unknown-field", _edit_entry("memo", lambda v: "not signed"), "'memo'"))
    edits += [
        (f"file-{name}", _edit_file(change), expect)
        for name, change, expect in [
            ("format", {"format": "labourledger-entries/2"}, "format"),
            ("chain-id", {"chain_id": 1}, "signed for chain 1"),
            ("chain-id-text", {"chain_id": "a lot"}, "chain_id"),
            ("contract", {"contract": "0x" + "44" * 20}, "contract"),
            ("entries-string", {"entries": "all of them"}, "entries"),
            ("entries-numbers", {"entries": [1, 2]}, "entries"),
            ("extra-top-field", {"signed_by": "me"}, "signed_by"),
        ]
    ]
    edits += [
        (f"file-no-{missing}", _edit_file({}, drop=missing), missing)
        for missing in ("chain_id", "contract", "entries")
    ]
    return edits


def raw_json_cases(command: tuple[str, ...], prefix: str) -> Iterator[Case]:
    """Files that are not JSON, or JSON too big or deep to parse, for a command reading one."""
    deep = b"[" * 200_000 + b"]" * 200_000
    raws = [
        ("binary", bytes(range(256)) * 4, "not UTF-8", False),
        ("latin-1", '{"name": "Café"}'.encode("latin-1"), "not UTF-8", False),
        ("not-json", b"name: Mill\n", "not JSON", False),
        ("empty", b"", "not JSON", False),
        ("truncated", b'{"format": "labourledger-entries/1", "entries": [', "not JSON", False),
        ("deep-array", deep, "nested more than", True),
        ("deep-object", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested more than", True),
        ("deep-in-string-ok-then-deep", b'["[[[[",' + b"[" * 5000 + b"]" * 5000 + b"]",
         "nested more than", False),
        ("huge-integer", b'{"n": ' + b"7" * 5000 + b"}", "too many digits", False),
        ("array-top", b"[]", "", False),
        ("number-top", b"42", "", False),
    ]  # fmt: skip
    for name, data, expect, own_process in raws:
        yield Case(
            f"{prefix}-{name}",
            tuple(a.replace("FILE", "{dir}/in.json") for a in command),
            expect=expect,
            files={"in.json": data},
            subprocess=own_process,
        )
    absent = tuple(a.replace("FILE", "{dir}/absent.json") for a in command)
    yield Case(f"{prefix}-no-such-file", absent, expect="cannot read")


# -- command options times bad values -------------------------------------------------------

SUPPLIER_ADD = ("supplier", "add", "--name", "Mill", "--country", "IN", "--address", "Road 1",
                "--tier", "3", "--key", "brand")  # fmt: skip


def _with(args: tuple[str, ...], option: str, value: str) -> tuple[str, ...]:
    """`args` with `option`'s value replaced, or the option added."""
    if option in args:
        i = args.index(option)
        return (*args[: i + 1], value, *args[i + 2 :])
    return (*args, option, value)


OPTION_CASES: list[tuple[str, tuple[str, ...], str, str | None, str]] = [
    # (name, base command, option, bad value or None for a flag, expected reason)
    ("supplier-country", SUPPLIER_ADD, "--country", "ZZ", "country"),
    ("supplier-country-long", SUPPLIER_ADD, "--country", "India", "country"),
    ("supplier-tier-0", SUPPLIER_ADD, "--tier", "0", "tier"),
    ("supplier-tier-5", SUPPLIER_ADD, "--tier", "5", "tier"),
    ("supplier-tier-text", SUPPLIER_ADD, "--tier", "three", "tier"),
    ("supplier-name-nul", SUPPLIER_ADD, "--name", "Mill\x00", "control character"),
    ("supplier-name-empty", SUPPLIER_ADD, "--name", "", "name"),
    ("supplier-address-blank", SUPPLIER_ADD, "--address", "   ", "address"),
    ("supplier-os-id", SUPPLIER_ADD, "--os-id", "IN123", "os_id"),
    ("supplier-gln", SUPPLIER_ADD, "--gln", "1234567890123", "gln"),
    ("supplier-lei", SUPPLIER_ADD, "--lei", "NOTALEI", "lei"),
    ("supplier-workers", SUPPLIER_ADD, "--workers", "-5", "worker_count"),
    ("supplier-type", SUPPLIER_ADD, "--type", "Spaceship yard", "--type"),
    ("supplier-operator", SUPPLIER_ADD, "--operator", "0x1234", "operators"),
    ("supplier-processing-nul", SUPPLIER_ADD, "--processing", "Dye\x00", "control character"),
    ("supplier-parent-nul", SUPPLIER_ADD, "--parent", "\x00", "control character"),
]

LINK_ADD = ("link", "add", "--supplier", "{mill}", "--buyer", "{knit_id}", "--material", "yarn",
            "--key", "brand")  # fmt: skip
OPTION_CASES += [
    ("link-unregistered-supplier", LINK_ADD, "--supplier", "{ghost_id}", "registered here"),
    ("link-unregistered-buyer", LINK_ADD, "--buyer", "{ghost_id}", "registered here"),
    ("link-short-id", LINK_ADD, "--supplier", "0x1234", "64 hex digits"),
    ("link-not-hex", LINK_ADD, "--buyer", "0x" + "zz" * 32, "64 hex digits"),
    ("link-bad-os-id", LINK_ADD, "--supplier", "IN2024007SPNC3X", "os"),
    ("link-material-empty", LINK_ADD, "--material", "", "material"),
    ("link-material-nul", LINK_ADD, "--material", "yarn\x00", "control character"),
    ("link-from-date", LINK_ADD, "--from", "2026-13-01", "--from: expected a date"),
    ("link-to-before-from", (*LINK_ADD, "--from", "2026-05-01"), "--to", "2026-04-01", "valid_to"),
]

ATTEST = ("attest", "{mill}", "--claim", "no_recruitment_fees", "--from", "2026-01-01",
          "--until", "2026-12-31", "--key", "supplier", "-o", "{dir}/out.json")  # fmt: skip
OPTION_CASES += [
    ("attest-claim", ATTEST, "--claim", "no_problems_at_all", "--claim"),
    ("attest-until-before-from", ATTEST, "--until", "2025-12-31", "valid_until"),
    ("attest-from-date", ATTEST, "--from", "01/01/2026", "--from: expected a date"),
    ("attest-certificate-bare", ATTEST, "--claim", "certificate", "standard"),
    ("attest-other-bare", ATTEST, "--claim", "other", "statement"),
    ("attest-statement-nul", (*ATTEST, "--claim", "other"), "--statement", "x\x00", "control"),
    ("attest-evidence-missing", ATTEST, "--evidence", "{dir}/absent.pdf", "cannot read"),
    ("attest-output-dir-missing", ATTEST, "-o", "/nonexistent/dir/out.json", "cannot write"),
]

PRODUCT_ADD = ("product", "add", "--name", "Tee", "--brand", "Acme", "--sku", "NEW-1",
               "--key", "brand")  # fmt: skip
BATCH_ADD = ("batch", "add", "--product", "{gtin}", "--lot", "NEW-LOT", "--quantity", "10",
             "--produced-at", "2026-05-01", "--facility", "{mill}", "--key", "brand")  # fmt: skip
OPTION_CASES += [
    ("product-gtin", PRODUCT_ADD, "--gtin", "4006381333932", "gtin"),
    ("product-gtin-letters", PRODUCT_ADD, "--gtin", "40063813339AB", "gtin"),
    ("product-name-empty", PRODUCT_ADD, "--name", "", "name"),
    ("product-brand-nul", PRODUCT_ADD, "--brand", "Ac\x00me", "control character"),
    ("product-hs-code", PRODUCT_ADD, "--hs-code", "12", "hs_code"),
    ("batch-quantity-negative", BATCH_ADD, "--quantity", "-3", "quantity"),
    ("batch-quantity-text", BATCH_ADD, "--quantity", "many", "quantity"),
    ("batch-unknown-product", BATCH_ADD, "--product", "NO-SUCH-SKU", "not found"),
    ("batch-date", BATCH_ADD, "--produced-at", "2026-02-30", "--produced-at: expected a date"),
    ("batch-unregistered-facility", BATCH_ADD, "--facility", "{ghost_id}", "registered here"),
    ("batch-unit-long", BATCH_ADD, "--unit", "u" * 17, "unit"),
    ("batch-lot-nul", BATCH_ADD, "--lot", "L\x00", "control character"),
]

TRANSFORM = ("transform", "--input", "{lot_in}", "--output", "{lot_out}", "--facility", "{mill}",
             "--date", "2026-05-01", "--document", "invoice:INV-1={dir}/invoice.txt",
             "--key", "brand")  # fmt: skip
OPTION_CASES += [
    ("transform-date", TRANSFORM, "--date", "2026-05-32", "date"),
    ("transform-after-output", TRANSFORM, "--date", "2026-05-02", "--date: 2026-05-02 is after"),
    ("transform-before-input", TRANSFORM, "--date", "2026-04-30", "inputs[0]: batch"),
    ("transform-other-facility", TRANSFORM, "--facility", "{knit_id}", "--facility: batch"),
    ("transform-unknown-input", TRANSFORM, "--input", "NO-SUCH-LOT", "not found"),
    ("transform-unknown-output", TRANSFORM, "--output", "NO-SUCH-LOT", "not found"),
    ("transform-unregistered-facility", TRANSFORM, "--facility", "{ghost_id}", "registered here"),
    ("transform-document-spec", TRANSFORM, "--document", "invoice.txt", "TYPE[:NUMBER]=FILE"),
    (
        "transform-document-missing",
        TRANSFORM,
        "--document",
        "invoice={dir}/absent.pdf",
        "cannot read",
    ),
    ("transform-wrong-key", TRANSFORM, "--key", "nobody", "no key named"),
]

OPTION_CASES += [
    (
        "roles-grant-by-supplier",
        ("roles", "grant", "AUDITOR", "supplier", "--key", "supplier"),
        "--key",
        "supplier",
        "may not grant AUDITOR",
    ),
    (
        "roles-grant-by-auditor",
        ("roles", "grant", "BRAND", "auditor", "--key", "auditor"),
        "--key",
        "auditor",
        "may not grant BRAND",
    ),
    (
        "roles-revoke-by-supplier",
        ("roles", "revoke", "BRAND", "brand", "--key", "supplier"),
        "--key",
        "supplier",
        "may not revoke BRAND",
    ),
    (
        "roles-grant-unknown-role",
        ("roles", "grant", "KING", "supplier", "--key", "admin"),
        "--key",
        "admin",
        "'KING' is not one of",
    ),
    (
        "roles-grant-unknown-key",
        ("roles", "grant", "BRAND", "nobody", "--key", "admin"),
        "--key",
        "admin",
        "no key named",
    ),
    (
        "export-missing-dir",
        ("export", "{lot_out}", "-o", "/nonexistent/dir/b.json"),
        "--format",
        "bundle",
        "cannot write",
    ),
    ("export-format", ("export", "{lot_out}", "-o", "{dir}/b.json"), "--format", "pdf", "--format"),
    (
        "export-unknown-batch",
        ("export", "NO-SUCH-LOT", "-o", "{dir}/b.json"),
        "--format",
        "bundle",
        "not found",
    ),
    ("export-output-empty", ("export", "{lot_out}"), "-o", "", "not a file name"),
    ("export-output-dot", ("export", "{lot_out}"), "-o", ".", "not a file name"),
    ("export-output-root", ("export", "{lot_out}"), "-o", "/", "not a file name"),
    ("entry-show-unknown", ("entry", "show", "0x" + "55" * 32), "--json", None, "not in this"),
    ("proof-unknown", ("proof", "0x" + "55" * 32), "--json", None, "not in this"),
    (
        "revoke-unknown",
        ("revoke", "0x" + "55" * 32, "--reason", "x", "--key", "brand"),
        "--record",
        None,
        "not in this",
    ),
    ("keys-new-bad-name", ("keys", "new", "../escape"), "--json", None, "key name"),
    ("keys-new-existing", ("keys", "new", "brand"), "--json", None, "already exists"),
    ("supplier-show-ghost", ("supplier", "show", "{ghost_id}"), "--json", None, "not registered"),
    ("trace-unknown", ("trace", "NO-SUCH-LOT"), "--json", None, "not found"),
    ("verify-unknown", ("verify", "NO-SUCH-LOT"), "--json", None, "not found"),
    # 0x and 64 characters, not all hex: a lot nobody has, not an id.
    ("verify-id-not-hex", ("verify", "0x" + "g" * 64), "--json", None, "not found"),
    ("supplier-list-tier", ("supplier", "list"), "--tier", "9" * 23, "--tier: expected 1 to 4"),
    ("keys-fund-amount-huge", ("keys", "fund", "brand"), "--amount", "1e400", "can hold"),
]

#: A file name longer than any file system's limit (255 bytes a name on Linux): the
#: system refuses even to look for it, with an error other than "not found".
TOO_LONG = "{dir}/" + "n" * 300
OPTION_CASES += [
    ("audit-new-output-too-long", ("audit", "new", "{mill}"), "-o", TOO_LONG, "cannot write"),
    ("contracts-source-too-long", ("contracts", "build"), "--source", TOO_LONG, "cannot read"),
    ("workspace-too-long", ("status",), "--workspace", TOO_LONG, "cannot read"),
    ("init-workspace-too-long", ("init",), "--workspace", TOO_LONG, "cannot create"),
]

VERIFY = ("verify", "{lot_out}")
OPTION_CASES += [
    (
        "verify-audit-months-huge",
        VERIFY,
        "--audit-months",
        "100000",
        "--audit-months: must be 1 to 120",
    ),
    (
        "verify-audit-months-overflow",
        VERIFY,
        "--audit-months",
        "9" * 20,
        "--audit-months: must be 1 to 120",
    ),
]

QR = ("qr", "{lot_out}", "--base-url", "https://verify.example.com", "-o", "{dir}/q.svg")
QR_FORMATS = "-o: expected a .svg, .png or .pdf"
OPTION_CASES += [
    *((f"qr-output-{kind}", QR, "-o", f"{{dir}}/q.{kind}", QR_FORMATS)
      for kind in ("txt", "ans", "eps", "xbm", "tex", "svgz")),
    ("qr-output-no-suffix", QR, "-o", "{dir}/q", QR_FORMATS),
    ("qr-output-folder", QR, "-o", "{dir}", QR_FORMATS),
    ("qr-output-dir-missing", QR, "-o", "/nonexistent/dir/q.svg", "cannot write"),
    ("qr-output-under-a-file", QR, "-o", "{dir}/invoice.txt/q.svg", "cannot write"),
    ("qr-unknown-batch", ("qr", "{ghost_id}", *QR[2:]), "-o", "{dir}/q.svg", "batch 0x6666"),
]  # fmt: skip


def option_cases() -> Iterator[Case]:
    """Each command with one option set to a bad value."""
    for name, base, option, value, expect in OPTION_CASES:
        args = (*base, option) if value is None else _with(base, option, value)
        yield Case(f"option-{name}", args, expect=expect,
                   files={"invoice.txt": b"invoice INV-1 for 100 kg of yarn\n"})  # fmt: skip


def file_reading_cases() -> Iterator[Case]:
    """Every command that reads a JSON file, given files that are not what it expects."""
    yield from raw_json_cases(("import", "FILE"), "import")
    yield from raw_json_cases(("audit", "sign", "FILE", "--key", "auditor", "-o", "{dir}/s.json"),
                              "audit-sign")  # fmt: skip
    yield from raw_json_cases(("keys", "import", "imported", "FILE"), "keys-import")
    yield from raw_json_cases(("verify", "--bundle", "FILE"), "verify-bundle")
    yield from raw_json_cases(("import-epcis", "FILE", "--key", "brand"), "import-epcis")
    yield from raw_json_cases(("verify", "{lot_out}", "--goods-list", "FILE"), "goods-list")


def all_cases() -> list[Case]:
    """The whole corpus but the entry-file variants, which need a signed base file."""
    return [*csv_cases(), *option_cases(), *file_reading_cases()]

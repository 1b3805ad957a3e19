"""The brand's product, batch and transformation verbs, and trace, through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelp import Cli, brand_with_facilities

pytestmark = pytest.mark.integration

SPINNER, KNITTER = "IN2024007SPNC3S", "IN2024002CTNM1H"  # in examples/facilities.csv


def test_product_batches_transform_and_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    brand_with_facilities(cli)
    product = cli.json(
        "product", "add", "--sku", "YARN-30S", "--name", "30s yarn", "--brand", "Acme"
    )
    code, _, err = cli.run("product", "add", "--name", "x", "--brand", "Acme")
    assert code == 2 and "gtin or a sku" in err
    cli.ok("batch", "add", "--product", "YARN-30S", "--lot", "Y-1", "--quantity", "900",
           "--unit", "kg", "--produced-at", "2026-04-01", "--facility", SPINNER)  # fmt: skip
    fabric = cli.json(
        "batch", "add", "--product", product["id"], "--lot", "F-1", "--quantity", "800",
        "--unit", "kg", "--produced-at", "2026-04-10", "--facility", KNITTER,
    )  # fmt: skip
    # A transformation the batches' own records contradict is refused, naming the option.
    transform = ("transform", "--input", "Y-1", "--output", "F-1", "--facility")
    pending = cli.json("status")["pending"]
    for where, day, says in (
        (SPINNER, "2026-04-10", "--facility: batch F-1 was produced at facility 0x"),
        (KNITTER, "2026-04-11", "--date: 2026-04-11 is after batch F-1 was produced"),
        (KNITTER, "2026-03-31", "inputs[0]: batch Y-1 was produced on 2026-04-01, after"),
    ):
        code, _, err = cli.run(*transform, where, "--date", day)
        assert code == 2 and err.startswith(f"error: {says}"), err
    assert cli.json("status")["pending"] == pending  # nothing half-written
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF invoice INV-9")
    made = cli.json(
        "transform", "--input", "Y-1", "--output", "F-1", "--facility", KNITTER,
        "--date", "2026-04-10", "--document", f"invoice:INV-9={invoice}",
    )  # fmt: skip
    [document] = made["body"]["documents"]
    assert (document["type"], document["number"], document["size"]) == ("invoice", "INV-9", 18)
    assert (
        tmp_path / "ws" / "evidence" / document["hash"][2:]
    ).read_bytes() == invoice.read_bytes()
    code, _, err = cli.run("transform", "--input", "F-1", "--output", "F-1", "--facility",
                           KNITTER, "--date", "2026-04-10")  # fmt: skip
    assert code == 2 and "own input" in err

    graph = cli.json("trace", "F-1")
    assert graph["batch"] == fabric["id"]
    # Where an entry's id belongs, a lot or a batch's id is named for what it is.
    for given, says in (("F-1", "not an entry id"), (fabric["id"], "the id of a batch here")):
        for command in (("entry", "show"), ("proof",)):
            code, _, err = cli.run(*command, given)
            assert code == 2 and f"error: entry {given}: {says}" in err, err
    assert [(e["kind"], e["via"]) for e in graph["edges"]] == [("transformation", made["entry_id"])]
    [gap] = graph["problems"]  # the spinner (tier 3) has nothing upstream
    assert gap["kind"] == "missing_link" and "Coimbatore Spinning Co" in gap["reason"]
    tree = cli.ok("trace", "F-1")
    assert "tier 2 lot F-1: Tiruppur Cotton Mills (IN) no anchored audit" in tree
    assert "tier 3 lot Y-1: Coimbatore Spinning Co (IN)" in tree
    code, out, _ = cli.run("verify", "F-1")
    assert code == 5 and "FAIL" in out
    # A well-formed id nothing here registers: no "None" where its lot would be.
    unknown = "0x" + "ab" * 32
    tree = cli.ok("trace", unknown)
    assert "tier ? batch: 0xabab" in tree and "None" not in tree
    code, out, _ = cli.run("verify", unknown)
    assert code == 5 and "batch 0xabababababab..." in out and "None" not in out
    # A facility's id where a batch's belongs: named as such, not traced as an unknown batch.
    knitter = cli.json("supplier", "show", KNITTER)["facility_id"]
    for command in ("trace", "verify"):
        code, _, err = cli.run(command, knitter)
        assert code == 2 and f"batch {knitter}: the id of a facility here, not of a batch" in err

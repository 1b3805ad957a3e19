"""Products and batches named by GTIN, SKU, lot or 0x id: a name several share is refused
asking for the 0x id, and recording refuses a 0x id nobody registered as that kind, naming
the field, while trace and verify report such a batch themselves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from clihelp import PASSPHRASE, Cli, brand_with_facilities
from eth_account import Account

from labourledger.envelope import HashSigner, to_hex
from labourledger.errors import InputError
from labourledger.ledger import Ledger
from labourledger.provenance import record_batch, record_product, record_transformation

pytestmark = pytest.mark.integration

MILL = {"name": "Reference Mill", "country": "IN", "address": "Mill Road", "tier": 3}
GTIN = "4006381333931"
SPINNER = "IN2024007SPNC3S"  # in examples/facilities.csv
GHOST = "0x" + "ab" * 32  # nobody registered it
MADE = dt.date(2026, 4, 1)


class Asked:
    """A signer that remembers whether it was asked for, so a refusal is seen to come before
    anything is signed."""

    def __init__(self) -> None:
        self.account = Account.create()
        self.asked = 0

    def __call__(self, role: str) -> HashSigner:
        self.asked += 1
        return self.account


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger.init(tmp_path / "ws", admin_passphrase=PASSPHRASE)


def _refused(record: Callable[..., object], ledger: Ledger, message: str, **given: object) -> None:
    signer = Asked()
    with pytest.raises(InputError, match=message):
        record(ledger, signer, **given)
    assert signer.asked == 0


def test_a_gtin_or_lot_several_share_is_refused_asking_for_the_0x_id(ledger: Ledger) -> None:
    facility = to_hex(ledger.register_facility(Account.create(), **MILL).subject)
    first, second = (
        to_hex(record_product(ledger, Account.create(), name="Tee", brand=b, gtin=GTIN).subject)
        for b in ("Acme", "Other")
    )
    batch = {"lot": "L1", "quantity": 5, "produced_at": MADE, "facility": facility}
    _refused(
        record_batch,
        ledger,
        f"product {GTIN}: matches 2 products; give its 0x id",
        product=GTIN,
        **batch,
    )

    for product in (first, second):
        record_batch(ledger, Account.create(), product=product, **batch)
    move = {"facility": facility, "date": MADE}
    record_batch(ledger, Account.create(), product=first, **batch | {"lot": "L2"})
    _refused(
        record_transformation,
        ledger,
        r"inputs\[0\]: batch L1: matches 2 batches; give its 0x id",
        inputs=["L1"],
        output="L2",
        **move,
    )
    _refused(
        record_transformation,
        ledger,
        "output: batch L1: matches 2 batches; give its 0x id",
        inputs=["L2"],
        output="L1",
        **move,
    )
    for reads in (ledger.trace, ledger.verify, ledger.registered_batch_id):
        with pytest.raises(InputError, match="batch L1: matches 2 batches"):
            reads("L1")


def test_recording_refuses_a_0x_id_not_registered_as_that_kind(ledger: Ledger) -> None:
    facility = to_hex(ledger.register_facility(Account.create(), **MILL).subject)
    product = to_hex(
        record_product(ledger, Account.create(), name="Tee", brand="A", sku="T").subject
    )
    batch = {"quantity": 5, "produced_at": MADE, "facility": facility}
    for ghost, message in ((GHOST, "not registered here"), (facility, "the id of a facility here")):
        _refused(
            record_batch,
            ledger,
            f"product {ghost}: {message}",
            product=ghost,
            lot="L0",
            **batch,
        )
    made = to_hex(
        record_batch(ledger, Account.create(), product=product, lot="L1", **batch).subject
    )
    move = {"facility": facility, "date": MADE}
    _refused(
        record_transformation,
        ledger,
        rf"inputs\[1\]: batch {GHOST}: not registered here",
        inputs=[made, GHOST],
        output="L1",
        **move,
    )
    _refused(
        record_transformation,
        ledger,
        f"output: batch {product}: the id of a product here, not of a batch",
        inputs=[made],
        output=product,
        **move,
    )
    # Reading, an id nobody registered is reported on rather than refused.
    assert ledger.trace(GHOST)["batch"] == GHOST
    assert ledger.verify(GHOST)["verdict"] == "FAIL"


def test_the_cli_refuses_an_ambiguous_gtin_and_an_unregistered_product_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "ws", capsys, monkeypatch)
    brand_with_facilities(cli)
    cli.ok("keys", "new", "other")
    cli.ok("roles", "grant", "BRAND", "other", "--key", "admin")
    for brand in ("brand", "other"):
        cli.ok("product", "add", "--gtin", GTIN, "--name", "Tee", "--brand", brand, "--key", brand)
    add = (
        "batch",
        "add",
        "--lot",
        "L1",
        "--quantity",
        "5",
        "--produced-at",
        "2026-04-01",
        "--facility",
        SPINNER,
    )
    for product, message in ((GTIN, "matches 2 products"), (GHOST, "not registered here")):
        code, out, err = cli.run(*add, "--product", product)
        assert code == 2 and out == "", err
        assert err.startswith(f"error: product {product}: {message}") and err.count("\n") == 1
    code, _, err = cli.run("trace", GHOST)
    assert code == 0, err

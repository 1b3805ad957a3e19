"""Names for addresses: an admin's accreditation names an account's organisation in reports,
pages and `audit show`; nobody else's word does, and unnamed accounts say so."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from clihelp import FAST_ENV, PASSPHRASE, Cli
from eth_account import Account
from eth_utils import to_checksum_address

from labourledger.accreditations import accredited
from labourledger.demo import DemoResult, run_demo
from labourledger.errors import InputError
from labourledger.kinds import canonical_body
from labourledger.ledger import Ledger
from labourledger.presentation import annotate, batch_view

pytestmark = pytest.mark.integration

BV = "Bureau Veritas"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in FAST_ENV.items():
            mp.setenv(name, value)
        yield run_demo(tmp_path_factory.mktemp("names") / "demo", admin_passphrase=PASSPHRASE)


def _spinning_audit(demo: DemoResult) -> dict[str, object]:
    [stage] = [s for s in demo.after["stages"] if s["tier"] == 3]
    audit: dict[str, object] = stage["audits"][0]
    return audit


def test_accreditation_bodies_are_checked_field_by_field() -> None:
    good = {"account": "0x" + "ab" * 20, "organisation": BV, "role": "AUDITOR",
            "valid_from": "2026-01-01"}  # fmt: skip
    assert canonical_body("accreditation", good)["account"] == to_checksum_address("0x" + "ab" * 20)
    for bad, field in (
        (good | {"account": "0x12"}, "account"),
        (good | {"role": "ADMIN"}, "role"),
        (good | {"valid_until": "2025-12-31"}, "valid_until"),
        (good | {"organisation": " "}, "organisation"),
    ):
        with pytest.raises(InputError, match=field):
            canonical_body("accreditation", bad)


def test_roles_grant_names_the_auditor_everywhere_once_anchored(
    demo: DemoResult, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(demo.workspace, capsys, monkeypatch)
    audit = _spinning_audit(demo)
    auditor = str(audit["issuer"])
    # Nothing half-done on a bad date: the role transaction is not even sent.
    code, _, err = cli.run("roles", "grant", "AUDITOR", auditor, "--name", BV,
                           "--valid-from", "2026-02-30", "--key", "admin")  # fmt: skip
    assert code == 2 and "--valid-from" in err
    code, _, err = cli.run("roles", "grant", "AUDITOR", auditor, "--number", "X")
    assert code == 2 and "--name" in err

    granted = cli.json("roles", "grant", "AUDITOR", auditor, "--name", BV,
                       "--number", "BV-IN-0117", "--key", "admin")  # fmt: skip
    assert granted["accreditation"].startswith("0x")
    ledger = Ledger.open(demo.workspace)
    assert accredited(ledger, [auditor]) == {}  # pending: not yet anyone's word
    cli.ok("roles", "grant", "BRAND", "admin", "--key", "admin")
    cli.ok("anchor", "--key", "admin")

    [named] = accredited(ledger, [auditor.upper().replace("0X", "0x")]).values()
    listed = {(r["role"], r["account"]): r["organisation"] for r in cli.json("roles", "list")}
    admin = ledger.workspace.keys.address("admin")
    assert listed[("AUDITOR", auditor)] == BV and listed[("ADMIN", admin)] is None
    assert (named.organisation, named.number) == (BV, "BV-IN-0117")
    shown = cli.json("audit", "show", str(audit["entry_id"]))
    assert shown["issuer_organisation"] == BV
    human = cli.ok("audit", "show", str(audit["entry_id"]))
    assert f"by {BV} (auditor, accreditation BV-IN-0117)" in human
    assert human.index(BV) < human.index(auditor)  # the address beneath the name

    report = ledger.verify(demo.batch)
    view = batch_view(report, annotate(ledger, report))
    firms = {c.name: c.audits[0].firm for c in view.cards}
    assert firms["Coimbatore Spinning Mills"].label == BV
    assert firms["Coimbatore Spinning Mills"].address == auditor
    assert firms["Gazipur Garments Ltd"].label.startswith("unnamed account 0x")
    out = demo.workspace / "report.html"
    cli.ok("export", demo.batch, "--format", "report", "-o", str(out))
    html = out.read_text()
    assert f'Audit firm: <span class="party">{BV}<small>{auditor}</small>' in html


def test_only_an_admins_word_in_force_names_an_account(demo: DemoResult) -> None:
    ledger = Ledger.open(demo.workspace)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    impostor = Account.create()
    victim, expired = Account.create().address, Account.create().address
    today = dt.date.today()
    ledger.record("accreditation", {"account": victim, "organisation": "Fake Audits Ltd",
                                    "role": "AUDITOR", "valid_from": today.isoformat()},
                  impostor)  # fmt: skip
    ledger.record("accreditation", {"account": expired, "organisation": "Gone Ltd",
                                    "role": "AUDITOR", "valid_from": "2020-01-01",
                                    "valid_until": "2021-01-01"}, admin)  # fmt: skip
    ledger.chain.fund(admin.address, 10**18)
    ledger.anchor(admin)
    assert ledger.mirror.counts()["pending"] == 0  # anchored, and still nobody's name
    assert accredited(ledger, [victim, expired]) == {}
    assert accredited(ledger, [expired], on=dt.date(2020, 6, 1))[expired.lower()].organisation == (
        "Gone Ltd"
    )

"""Small inputs refused with a one-line reason naming the field (a reversed worker band, a
mistyped mixed-case address, a file given as the workspace), and harmless ones accepted (an
entry file with no entries, a JSON file starting with a UTF-8 byte-order mark)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from clihelp import PASSPHRASE
from harness import cheap_keys, footprint, run, succeeding
from pydantic import ValidationError

from labourledger import kinds
from labourledger.envelope import Domain
from labourledger.errors import InputError
from labourledger.exchange import read_json
from labourledger.verify.goods import SHIPPED
from labourledger.verify.policy import Policy

pytestmark = pytest.mark.integration

GOOD = "0x4B20993Bc481177ec7E8f571ceCaE8A9e22C02db"
#: GOOD with its first letter's case flipped: mixed case, so a checksum is claimed, and wrong.
TYPO = "0x4b20993Bc481177ec7E8f571ceCaE8A9e22C02db"
BOM = b"\xef\xbb\xbf"
FACILITY: dict[str, Any] = {"name": "Mill", "country": "IN", "address": "Road 1", "tier": 1}
SUPPLIER_ADD = ("supplier", "add", "--name", "Mill", "--country", "IN", "--address", "Road 1",
                "--tier", "2", "--key", "brand")  # fmt: skip


@dataclass(frozen=True)
class World:
    """A workspace with a funded BRAND key, and the chain id and contract its files name."""

    workspace: Path
    chain_id: int
    contract: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with cheap_keys():
        ws = tmp_path_factory.mktemp("small-inputs") / "ws"
        ok = succeeding(ws)
        ok("init")
        ok("keys", "new", "brand")
        ok("keys", "fund", "brand")
        ok("roles", "grant", "BRAND", "brand", "--key", "admin")
        status = json.loads(ok("status", "--json"))
        yield World(ws, status["chain_id"], status["contract"])


def _refused(world: World, args: list[str], names: str, lines: int = 1) -> str:
    before = footprint(world.workspace)
    code, _, err = run(world.workspace, args)
    assert code == 2, err
    assert err.strip().startswith("error:") and len(err.strip().splitlines()) == lines, err
    assert names in err, err
    assert footprint(world.workspace) == before
    return err


def _empty_entry_file(world: World, path: Path, prefix: bytes = b"") -> Path:
    content = {"chain_id": world.chain_id, "contract": world.contract, "entries": []}
    path.write_bytes(prefix + json.dumps(content).encode())
    return path


# 1. Worker bands


def test_a_worker_band_is_refused_when_its_low_end_exceeds_its_high_end() -> None:
    for band in ("1001-5000", "1000 - 1000", "Less than 1000", "More than 10"):
        body = kinds.canonical_body("facility", FACILITY | {"worker_band": band})
        assert body["worker_band"] == band
    for band in ("5000-1001", "1001 - 1000"):
        with pytest.raises(InputError, match=r"worker_band: .*low end exceeds the high end"):
            kinds.canonical_body("facility", FACILITY | {"worker_band": band})


def test_a_csv_row_with_a_reversed_band_is_refused_naming_its_line(
    world: World, tmp_path: Path
) -> None:
    csv = tmp_path / "f.csv"
    csv.write_text(
        "name,address,country_code,facility_type,number_of_workers,tier\n"
        "Mill,Road 1,IN,Final Product Assembly,1001-5000,1\n"
        "Knit,Road 2,BD,Final Product Assembly,5000-1001,1\n"
    )
    # A CSV's refusal lists each invalid row on a line of its own.
    args = ["supplier", "import", str(csv), "--key", "brand"]
    assert "5000-1001" in _refused(world, args, "line 3: body.worker_band", lines=2)


# 2. Mixed-case addresses


def test_a_mixed_case_address_with_a_wrong_checksum_is_refused_naming_the_field() -> None:
    # All lower or all upper case claims no checksum; mixed case claims one.
    for account in (GOOD, GOOD.lower(), "0x" + GOOD[2:].upper()):
        assert kinds.checksum_address(account, "account") == GOOD
        assert Domain(chain_id=1, verifying_contract=account).verifying_contract == GOOD
    with pytest.raises(InputError, match=r"^account: .*checksum"):
        kinds.checksum_address(TYPO, "account")
    with pytest.raises(InputError, match=r"operators\[0\]: .*checksum"):
        kinds.canonical_body("facility", FACILITY | {"operators": [TYPO]})
    with pytest.raises(ValidationError, match="checksum"):
        Domain(chain_id=1, verifying_contract=TYPO)
    with pytest.raises(InputError, match=r"^policy trusted_admins: .*checksum"):
        Policy(trusted_admins=(TYPO,))


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["roles", "grant", "SUPPLIER", TYPO, "--key", "brand"], "WHO"),
        (["roles", "revoke", "SUPPLIER", TYPO, "--key", "brand"], "WHO"),
        ([*SUPPLIER_ADD, "--operator", TYPO], "operators"),
        (["verify", "--trust-admin", TYPO, "L-1"], "--trust-admin"),
    ],
    ids=["grant", "revoke", "operator", "trust-admin"],
)
def test_the_cli_refuses_a_mistyped_address(world: World, args: list[str], names: str) -> None:
    assert "checksum" in _refused(world, args, names)


# 3. A file as the workspace


def test_init_in_a_file_is_bad_input_naming_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABOURLEDGER_PASSPHRASE", PASSPHRASE)
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    for workspace in (file, file / "ws"):
        code, _, err = run(workspace, ["init"])
        assert code == 2, err
        assert err.startswith("error: --workspace:") and len(err.strip().splitlines()) == 1, err
    assert file.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt"
    ]


# 4. An entry file with no entries


def test_importing_a_file_without_entries_says_so(world: World, tmp_path: Path) -> None:
    path = _empty_entry_file(world, tmp_path / "f.json")
    code, out, err = run(world.workspace, ["import", str(path)])
    assert code == 0, err
    assert " ".join(out.split()) == f"{path}: no entries in it, nothing imported"  # unwrapped
    code, out, err = run(world.workspace, ["--json", "import", str(path)])
    assert code == 0, err
    [result] = json.loads(out)
    assert result["file"] == str(path) and result["entries"] == [] and result["new"] == 0


# 5. A UTF-8 byte-order mark


def test_a_json_file_may_start_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(BOM + b'{"a": [1]}')
    assert read_json(path) == {"a": [1]}
    goods = tmp_path / "goods.json"
    shipped = resources.files("labourledger").joinpath("data", SHIPPED).read_bytes()
    goods.write_bytes(BOM + shipped)
    assert Policy(goods_list=str(goods)).goods() == Policy().goods()


def test_import_reads_an_entry_file_with_a_byte_order_mark(world: World, tmp_path: Path) -> None:
    path = _empty_entry_file(world, tmp_path / "bom.json", BOM)
    code, out, err = run(world.workspace, ["import", str(path)])
    assert code == 0, err
    assert "nothing imported" in out

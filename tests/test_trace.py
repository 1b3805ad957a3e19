"""`trace`: one recursive query walks transformations and supply links, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelp import FAST_ENV, PASSPHRASE
from eth_account import Account
from eth_account.signers.local import LocalAccount

from labourledger import recording
from labourledger.identifiers import make_os_id
from labourledger.ledger import Ledger

pytestmark = pytest.mark.integration


class Story:
    """A brand's records, built through the library."""

    def __init__(self, ledger: Ledger, brand: LocalAccount) -> None:
        self.ledger, self.brand = ledger, brand
        self.product = (
            "0x"
            + ledger.record(
                "product", {"sku": "TEE-01", "name": "Tee", "brand": "Acme"}, brand
            ).subject.hex()
        )

    def facility(self, n: int, tier: int, country: str = "IN") -> str:
        body = {
            "name": f"Site {n}",
            "country": country,
            "address": f"Road {n}",
            "tier": tier,
            "os_id": make_os_id(country, f"{n:07d}", "AAAAA"),
        }
        return "0x" + self.ledger.record("facility", body, self.brand).subject.hex()

    def batch(self, lot: str, facility: str) -> str:
        body = {
            "product": self.product,
            "lot": lot,
            "quantity": 10,
            "produced_at": "2026-05-01",
            "facility": facility,
        }
        return "0x" + self.ledger.record("batch", body, self.brand).subject.hex()

    def transform(self, inputs: list[str], output: str, facility: str) -> str:
        body = {"inputs": inputs, "output": output, "facility": facility, "date": "2026-05-01"}
        return "0x" + self.ledger.record("transformation", body, self.brand).entry_id.hex()

    def link(self, supplier: str, buyer: str, until: str | None = None) -> str:
        body = {"supplier": supplier, "buyer": buyer, "material": "m", "valid_from": "2026-01-01"}
        if until:
            body["valid_to"] = until
        return "0x" + self.ledger.record("supply_link", body, self.brand).entry_id.hex()


@pytest.fixture
def story(tmp_path: Path, mirror_url: str, monkeypatch: pytest.MonkeyPatch) -> Story:
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    ledger = Ledger.init(tmp_path / "ws", admin_passphrase=PASSPHRASE, db=mirror_url)
    keys = ledger.workspace.keys
    keys.new("brand", PASSPHRASE)
    return Story(ledger, keys.unlock("brand", PASSPHRASE))


def test_four_tiers_through_transformations_and_supply_links(story: Story) -> None:
    farm, gin, mill, factory = (story.facility(n, t) for n, t in ((1, 4), (2, 3), (3, 2), (4, 1)))
    second_farm = story.facility(5, 4, "VN")
    cotton, yarn = story.batch("COT-1", farm), story.batch("YRN-1", gin)
    fabric, tees = story.batch("FAB-1", mill), story.batch("TEE-1", factory)
    story.transform([cotton], yarn, gin)
    story.transform([yarn], fabric, mill)
    story.transform([fabric], tees, factory)
    story.link(second_farm, gin)  # not followed: yarn's making is recorded as a transformation

    graph = story.ledger.trace("TEE-1")
    assert graph["batch"] == tees
    by_id = {n["id"]: n for n in graph["nodes"]}
    assert set(by_id) == {tees, fabric, yarn, cotton}
    assert [by_id[b]["tier"] for b in (tees, fabric, yarn, cotton)] == [1, 2, 3, 4]
    assert {(e["from"], e["to"]) for e in graph["edges"]} == {
        (tees, fabric),
        (fabric, yarn),
        (yarn, cotton),
    }
    assert graph["problems"] == []


def test_supply_links_fill_in_where_no_transformation_is_recorded(story: Story) -> None:
    farm, gin, factory = story.facility(1, 4), story.facility(2, 3), story.facility(3, 1)
    tees = story.batch("TEE-1", factory)
    story.link(gin, factory)
    story.link(farm, gin)
    graph = story.ledger.trace(tees)
    assert {(e["from"], e["to"], e["kind"]) for e in graph["edges"]} == {
        (tees, gin, "supply_link"),
        (gin, farm, "supply_link"),
    }
    assert graph["problems"] == []


def test_cycles_and_gaps_are_reported_not_followed(story: Story) -> None:
    a, b, c = story.facility(1, 3), story.facility(2, 2), story.facility(3, 1)
    tees = story.batch("TEE-1", c)
    story.link(b, c)
    story.link(a, b)
    closing = story.link(b, a)  # a and b supply each other
    graph = story.ledger.trace(tees)
    cycles = [p for p in graph["problems"] if p["kind"] == "cycle"]
    assert [p["node"] for p in cycles] == [b] and closing in cycles[0]["reason"]
    gaps = [p["node"] for p in graph["problems"] if p["kind"] == "missing_link"]
    assert gaps == []  # every node has something upstream, if only the cycle

    lonely = story.batch("TEE-2", story.facility(4, 1))
    [gap] = story.ledger.trace(lonely)["problems"]
    assert gap["kind"] == "missing_link" and "stops short of raw material" in gap["reason"]


def test_revoked_links_are_not_followed(story: Story) -> None:
    farm, factory = story.facility(1, 4), story.facility(2, 1)
    tees = story.batch("TEE-1", factory)
    link = story.link(farm, factory)
    story.ledger.record("revocation", {"target": link, "reason": "ended"}, story.brand)
    graph = story.ledger.trace(tees)
    assert graph["edges"] == [] and graph["problems"][0]["kind"] == "missing_link"


def test_a_revoked_transformation_gives_way_to_the_supply_links(story: Story) -> None:
    farm, other_farm, factory = story.facility(1, 4), story.facility(2, 4), story.facility(3, 1)
    cotton, tees = story.batch("COT-1", farm), story.batch("TEE-1", factory)
    made = story.transform([cotton], tees, factory)
    story.link(other_farm, factory)
    assert [e["to"] for e in story.ledger.trace(tees)["edges"]] == [cotton]
    story.ledger.record("revocation", {"target": made, "reason": "wrong lot"}, story.brand)
    [edge] = story.ledger.trace(tees)["edges"]
    assert (edge["to"], edge["kind"]) == (other_farm, "supply_link")


def test_a_bulk_store_refreshes_the_planner_statistics(
    story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "ANALYZE_AFTER", 3)
    mirror = story.ledger.mirror
    is_sqlite = mirror.engine.dialect.name == "sqlite"
    stats = (
        "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
        if is_sqlite
        else "SELECT count(*) FROM pg_stat_user_tables "
        "WHERE schemaname = current_schema() AND relname = 'edges' AND last_analyze IS NOT NULL"
    )

    def analysed() -> bool:
        with mirror.engine.connect() as conn:
            return bool(conn.exec_driver_sql(stats).scalar_one())

    farms = [story.facility(n, 4) for n in (1, 2)]  # one entry a store: below the threshold
    assert not analysed()
    factory = story.facility(3, 1)
    body = {"buyer": factory, "material": "cotton", "valid_from": "2026-01-01"}
    story.ledger.record_many("supply_link", [body | {"supplier": f} for f in farms], story.brand)
    assert not analysed()
    bodies = [body | {"supplier": story.facility(n, 4), "material": "yarn"} for n in (4, 5, 6)]
    story.ledger.record_many("supply_link", bodies, story.brand)
    assert analysed()


def test_links_not_valid_on_the_production_date_are_not_followed(story: Story) -> None:
    old_farm, farm, factory = story.facility(1, 4), story.facility(2, 4), story.facility(3, 1)
    tees = story.batch("TEE-1", factory)  # produced 2026-05-01
    story.link(old_farm, factory, until="2026-03-31")
    story.link(farm, factory)
    graph = story.ledger.trace(tees)
    assert [e["to"] for e in graph["edges"]] == [farm]


def test_only_revocations_that_count_cut_the_trace(story: Story) -> None:
    # Neither the target's issuer nor the admin: a brand's revocation of another brand's
    # entries, stored past `record` (as a hand-edited mirror or an old import could).
    ledger = story.ledger
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    rival = Account.create()
    for account in (rival, story.brand):
        ledger.chain.fund(account.address, 10**18)
        ledger.grant_role(admin, "BRAND", account.address)
    farm, gin, factory = story.facility(1, 4), story.facility(2, 3), story.facility(3, 1)
    yarn, tees = story.batch("YRN-1", gin), story.batch("TEE-1", factory)
    made = story.transform([yarn], tees, factory)
    link = story.link(farm, gin)  # yarn's making is not recorded: the gin's link stands in
    before = ledger.trace(tees)
    assert [(e["to"], e["via"]) for e in before["edges"]] == [(yarn, made), (farm, link)]

    forged = [
        ledger.sign("revocation", {"target": target, "reason": "not ours"}, rival)
        for target in (made, link)
    ]
    ledger.store(forged)
    ledger.anchor(story.brand)
    assert set(ledger.mirror.revocations([made, link])) == {made, link}  # stored, anchored
    assert ledger.trace(tees) == before
    report = ledger.verify(tees)
    assert farm in {n["id"] for n in report["graph"]["nodes"]}
    assert {c["entry_id"] for c in report["ignored"]} >= {"0x" + f.entry_id.hex() for f in forged}

    # The admin's revocation of the link counts: the trace stops at the yarn.
    ledger.record("revocation", {"target": link, "reason": "ended"}, admin)
    assert [e["to"] for e in ledger.trace(tees)["edges"]] == [yarn]

"""`labourledger serve` as its readers meet it: the real server on a loopback port, driven
over HTTP and by headless Chromium; the QR code decoded from a picture of it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from browser import chromium
from clihelp import FAST_ENV, PASSPHRASE, console_script, subprocess_env
from eth_account import Account
from openapi_spec_validator import validate
from PIL import Image
from pyzbar.pyzbar import decode
from selenium.webdriver.common.by import By
from serving import running_server
from web3.types import RPCEndpoint

from labourledger.chain import open_rpc
from labourledger.demo import DemoResult, run_demo

pytestmark = pytest.mark.integration

LOT = "TEE-26-0519"
GTIN14 = "04006381333931"


@dataclass(frozen=True)
class Served:
    """The demo's workspace (on anvil) and the server reading it."""

    demo: DemoResult
    url: str
    chain: str


def _snapshot(root: Path) -> dict[str, str]:
    """Every file of the workspace by content; SQLite's shared-memory index excluded, since
    readers keep it whatever they do."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(("-shm", "-wal"))
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> Iterator[Served]:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in FAST_ENV.items():
            mp.setenv(name, value)
        demo = run_demo(
            tmp_path_factory.mktemp("serve") / "demo", admin_passphrase=PASSPHRASE, chain=anvil_url
        )
    # A bundle checked elsewhere wants 12 confirmations; a dev node mines when asked.
    open_rpc(anvil_url).w3.provider.make_request(RPCEndpoint("anvil_mine"), [12])
    with running_server(demo.workspace) as url:
        yield Served(demo, url, anvil_url)


def test_digital_link_page_in_chromium_then_check_it_yourself(
    served: Served, tmp_path: Path
) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with chromium(1280, 1600, downloads) as browser:
        browser.get(f"{served.url}/01/{GTIN14}/10/{LOT}")
        verdict = browser.find_element(By.ID, "verdict").text
        assert verdict.startswith("Verdict: PASS — no forced-labour indicator open at 4 facilities")
        first = browser.find_elements(By.CSS_SELECTOR, "#reasons li")[0].text
        assert first == "PASS Recent independent audit (Upstream facilities): all 4 facilities"
        # anvil on loopback is a development chain, whatever its chain id says.
        assert "local development chain" in browser.find_element(By.ID, "dev-chain").text
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "Edition\n2024 (as of September 5, 2024)" in body
        assert "Tier 3: Coimbatore Spinning Mills (IN)" in body

        shot = tmp_path / "page.png"
        assert browser.save_screenshot(str(shot))
        # The QR as painted on screen holds the Digital Link of this very page.
        [code] = decode(Image.open(shot))
        assert code.data.decode() == f"{served.url}/01/{GTIN14}/10/{LOT}"

        command = browser.find_element(By.ID, "verify-command").text
        assert command == f"labourledger verify --bundle bundle-{LOT}.json --chain {served.chain}"
        browser.find_element(By.LINK_TEXT, "Download the evidence bundle").click()
        bundle = downloads / f"bundle-{LOT}.json"
        deadline = time.monotonic() + 10
        while not bundle.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert json.loads(bundle.read_text())["format"].startswith("labourledger-bundle")

    # Where the bundle landed, with no workspace there: the command the page shows, as is.
    assert not (downloads / ".labourledger").exists()
    done = subprocess.run(
        [*console_script(), *command.split()[1:], "--json"],
        cwd=downloads, env=subprocess_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verdict"] == "PASS"


def test_the_page_fits_a_phone_and_prints_without_colour(served: Served) -> None:
    with chromium(420, 1400) as browser:  # Chromium's narrowest window: 500 CSS pixels
        browser.get(f"{served.url}/batches/{LOT}")
        width, viewport = browser.execute_script(
            "return [document.documentElement.scrollWidth, innerWidth]"
        )
        assert width <= viewport  # no sideways scrolling to read the verdict or reasons
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        banner = browser.find_element(By.ID, "verdict")
        assert banner.value_of_css_property("background-color") == "rgba(0, 0, 0, 0)"
        assert not browser.find_element(By.ID, "bundle-link").is_displayed()


def test_api_answers_as_the_page_does_and_the_openapi_document_validates(served: Served) -> None:
    page = httpx.get(f"{served.url}/batches/{LOT}")
    api = httpx.get(f"{served.url}/api/v1/01/{GTIN14}/10/{LOT}").json()
    assert api["verdict"] == "PASS" and api["headline"] in page.text
    assert api["page"] == f"{served.url}/01/{GTIN14}/10/{LOT}"
    assert [r["outcome"] for r in api["reasons"]] == sorted(
        (r["outcome"] for r in api["reasons"]), key=["fail", "attention", "pass"].index
    )
    assert api["chain"]["development"] and api["goods_list"]["Edition"].startswith("2024")
    bundle = httpx.get(api["bundle"])
    assert bundle.headers["content-disposition"] == f"attachment; filename=bundle-{LOT}.json"
    assert bundle.json()["batch"] == api["batch_id"]
    trace = httpx.get(f"{served.url}/api/v1/batches/{api['batch_id']}/trace").json()
    assert trace["batch"] == api["batch_id"]
    audit_id = httpx.get(f"{served.url}/api/v1/batches/{api['batch_id']}/report").json()["stages"][
        1
    ]["audits"][0]["entry_id"]
    assert httpx.get(f"{served.url}/api/v1/audits/{audit_id}").json()["entry_id"] == audit_id
    facility = httpx.get(f"{served.url}/api/v1/facilities/IN0052118SPN02E").json()
    assert facility["facility"]["name"] == "Coimbatore Spinning Mills"
    # Shown to anyone: no body, and no salt to test guesses of it against its content hash.
    assert facility["entries"]
    assert all(e["body"] is None and e["salt"] is None for e in facility["entries"])
    assert all(e["content_hash"] and e["signature"] for e in facility["entries"])
    document = httpx.get(f"{served.url}/api/v1/openapi.json").json()
    validate(document)
    assert document["info"]["version"] == "v1"
    assert "/api/v1/batches/{lot}" in document["paths"]


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        (f"/01/4006381333932/10/{LOT}", 422, "gtin: '4006381333932' is not valid"),
        (f"/01/12345/10/{LOT}", 422, "gtin"),
        (f"/01/{GTIN14}/10/NO-SUCH-LOT", 404, "lot NO-SUCH-LOT of GTIN"),
        ("/01/00000000000000/10/x", 404, "not found here"),
        ("/batches/..%2F..%2Fconfig.toml", 404, "batch ../../config.toml: not found"),
        ("/api/v1/batches/0x12/bundle", 422, "batch_id"),
        # An id nobody registered as a batch: a facility's, or none at all.
        ("/api/v1/batches/" + "0x" + "00" * 32 + "/bundle", 404, "not registered here"),
        ("/batches/" + "0x" + "00" * 32, 404, "not registered here"),
        ("/api/v1/audits/" + "0x" + "ab" * 32, 404, "not in this workspace"),
        ("/api/v1/facilities/nowhere", 422, "not an OS id"),
        ("/api/v1/facilities/IN0052118SPN03F", 404, "not registered here"),
        ("/static/", 404, "Not Found"),
        ("/keys/", 404, "Not Found"),
        ("/batches/" + "L" * 3000, 414, "small GET requests"),
    ],
)
def test_bad_input_is_a_problem_document_never_a_traceback(
    served: Served, path: str, status: int, says: str
) -> None:
    answer = httpx.get(served.url + path)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status and says in problem["detail"]
    assert "Traceback" not in answer.text and 'File "' not in answer.text


def test_every_answer_carries_the_security_headers_and_bodies_are_refused(served: Served) -> None:
    for answer in (
        httpx.get(f"{served.url}/batches/{LOT}"),
        httpx.get(f"{served.url}/nothing"),
        httpx.post(f"{served.url}/batches/{LOT}", content=b"x" * 4096),
    ):
        csp = answer.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.status_code == 413
    page = httpx.get(f"{served.url}/batches/{LOT}").text
    assert "<script" not in page and " style=" not in page
    assert httpx.head(f"{served.url}/batches/{LOT}").status_code == 200


def test_no_request_writes_to_the_workspace(served: Served) -> None:
    before = _snapshot(served.demo.workspace)
    for path in (f"/01/{GTIN14}/10/{LOT}", f"/api/v1/batches/{LOT}", "/batches/NOPE",
                 "/api/v1/openapi.json", "/static/style.css"):  # fmt: skip
        httpx.get(served.url + path)
    httpx.post(f"{served.url}/api/v1/batches/{LOT}", json={"verdict": "PASS"})
    assert _snapshot(served.demo.workspace) == before


def test_qr_command_writes_the_digital_link(served: Served, tmp_path: Path) -> None:
    base = "https://verify.example.com"
    for name in ("qr.png", "qr.svg"):
        done = subprocess.run(
            [*console_script(), "--workspace", str(served.demo.workspace), "--json", "qr", LOT,
             "--base-url", base, "-o", str(tmp_path / name)],
            env=subprocess_env(), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["url"] == f"{base}/01/{GTIN14}/10/{LOT}"
    [code] = decode(Image.open(tmp_path / "qr.png"))
    assert code.data.decode() == f"{base}/01/{GTIN14}/10/{LOT}"
    assert (tmp_path / "qr.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    bad = subprocess.run(
        [*console_script(), "--workspace", str(served.demo.workspace), "qr", LOT,
         "--base-url", "verify.example.com", "-o", str(tmp_path / "x.svg")],
        env=subprocess_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2 and "--base-url" in bad.stderr
    assert not (tmp_path / "x.svg").exists()


def test_verification_is_cached_until_the_chain_moves(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labourledger.web import service
    from labourledger.web.service import ReadOnlyWorkspace

    # A head window longer than one verification takes on a loaded machine (the product's
    # one second lapsed mid-test there), so only the sleep below lets it lapse.
    monkeypatch.setattr(service, "HEAD_SECONDS", 10.0)
    workspace = ReadOnlyWorkspace(served.demo.workspace)
    assert workspace.cached(LOT, GTIN14) is None
    first = workspace.verified(workspace.batch_id(LOT, GTIN14))
    assert workspace.cached(LOT, GTIN14) is first
    open_rpc(served.chain).w3.provider.make_request(RPCEndpoint("anvil_mine"), [1])
    # The head is read at most once every HEAD_SECONDS; the new block counts after that.
    assert workspace.verified(workspace.batch_id(LOT, GTIN14)) is first
    time.sleep(service.HEAD_SECONDS)
    assert workspace.cached(LOT, GTIN14) is None
    again = workspace.verified(workspace.batch_id(LOT, GTIN14))
    assert again is not first and again.view.verdict == first.view.verdict == "PASS"
    assert workspace.gtin_of(again.view.batch_id) == GTIN14[1:]


def test_a_worker_checks_a_grievance_receipt_without_putting_it_in_a_url(served: Served) -> None:
    # Last in the module: the grievance it records changes the batch's verdict.
    from labourledger import grievances
    from labourledger.kinds.grievances import format_receipt
    from labourledger.ledger import Ledger

    ledger = Ledger.open(served.demo.workspace)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    channel = Account.create()
    ledger.grant_role(admin, "GRIEVANCE_CHANNEL", channel.address)
    ledger.grant_role(admin, "BRAND", admin.address)
    month = time.strftime("%Y-%m", time.gmtime())
    recorded = grievances.record(
        ledger, channel, facility="IN0052118SPN02E", received_month=month, channel="hotline",
        categories=["wages"], severity="minor", workers="2-5", report=b"interview notes",
    )  # fmt: skip
    ledger.anchor(admin)
    check = f"{served.url}/api/v1/receipts/check"
    found = httpx.post(check, json={"code": recorded.receipt.lower()})
    assert found.status_code == 200, found.text
    assert found.json() | {"history": None} == {
        "received_month": month, "anchored": True, "block_number": found.json()["block_number"],
        "proof_verified": True, "channel_accredited": True, "status": "acknowledged",
        "history": None,
    }  # fmt: skip
    other = format_receipt(bytes(10))
    missing = httpx.post(check, json={"code": other})
    assert missing.status_code == 404 and other not in missing.text
    malformed = httpx.post(check, json={"code": "not-a-code"})
    assert malformed.status_code == 422 and "Crockford" in malformed.json()["detail"]
    assert httpx.get(check).status_code == 405

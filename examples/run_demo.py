"""The demo's story through the library API, then a look around the workspace it leaves.

    python examples/run_demo.py /tmp/labourledger-story

`labourledger.demo.run_demo` holds the story itself (facilities from
examples/demo/facilities.csv, audits from examples/demo/audits.json); this
script shows how a brand's own code reads the results.
"""

from __future__ import annotations

import sys
from pathlib import Path

from labourledger import Ledger
from labourledger.demo import run_demo

root = Path(sys.argv[1] if len(sys.argv) > 1 else "labourledger-story")
result = run_demo(root / "workspace", say=print)

ledger = Ledger.open(result.workspace)
for node in sorted(ledger.trace(result.batch)["nodes"], key=lambda n: -n["tier"]):
    print(f"tier {node['tier']}: lot {node['lot']} at {node['facility_name']} ({node['country']})")
report = ledger.verify(result.batch)
print("verdict:", report["verdict"])
for check in report["checks"]:
    if check["check"] == "forced_labour_findings":
        print(" ", check["reason"])
print("tracing report:", result.report)
print("bundle:", result.bundle)

"""docs/threat-model.md names, for each claim, the test that shows it: each must exist."""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REFERENCE = re.compile(r"`([\w/]+\.py)::(test_\w+)(?:\[([^\]]+)\])?`")


def test_every_test_the_threat_model_names_exists() -> None:
    sys.path.insert(0, str(REPO / "tests" / "reliability"))
    from badinputs import all_cases, entry_file_edits

    cases = {c.id for c in all_cases()} | {name for name, _, _ in entry_file_edits()}
    text = (REPO / "docs" / "threat-model.md").read_text(encoding="utf-8")
    references = REFERENCE.findall(text)
    assert len(references) >= 30
    missing = [
        f"{file}::{name}[{case}]"
        for file, name, case in references
        if not re.search(rf"^def {name}\(", (REPO / "tests" / file).read_text(), re.MULTILINE)
        or (case and case not in cases)
    ]
    assert not missing, missing

"""docs/architecture.md is a map of the code: every file, module member and name it shows in
backticks must still exist, so the map fails here rather than misleading a newcomer."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import labourledger

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "labourledger"
DOC = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
SPANS = set(re.findall(r"`([^`\n]+)`", DOC))
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def _modules() -> dict[str, ModuleType]:
    """Every module of the package, by its name less `labourledger.`."""
    found = {}
    for info in pkgutil.walk_packages(labourledger.__path__, "labourledger."):
        found[info.name.removeprefix("labourledger.")] = importlib.import_module(info.name)
    return found


MODULES = _modules()
CLASSES = {
    name: member
    for module in MODULES.values()
    for name, member in vars(module).items()
    if inspect.isclass(member)
}
SOURCE_TEXT = "\n".join(
    path.read_text(encoding="utf-8")
    for folder in ("src", "tests", "benchmarks", "contracts", ".ci")
    for path in (REPO / folder).rglob("*")
    if path.is_file() and path.suffix in {".py", ".sol", ""} and "node_modules" not in path.parts
)


def test_every_file_and_folder_it_names_exists() -> None:
    paths = [s for s in SPANS if re.fullmatch(r"[\w./*-]+(\.py|\.md|/)", s) and "*" not in s]
    assert len(paths) >= 100
    names = {p.name for root in ("src", "tests", "benchmarks") for p in (REPO / root).rglob("*")}
    missing = [
        path
        for path in paths
        if not any((base / path).exists() for base in (PACKAGE, REPO, REPO / "src", REPO / "tests"))
        and ("/" in path.rstrip("/") or path.rstrip("/") not in names)
    ]
    assert not missing, missing


def test_every_module_member_it_names_exists() -> None:
    dotted = [
        s.split("(")[0]
        for s in SPANS
        if re.fullmatch(r"\w+(\.\w+)+(\(.*\))?", s) and not s.endswith((".py", ".md"))
    ]
    assert len(dotted) >= 50
    missing = []
    for name in dotted:
        head, _, attr = name.rpartition(".")
        owner = MODULES.get(head) or CLASSES.get(head)
        if owner is None:
            missing.append(f"{name}: no module or class {head}")
        elif not hasattr(owner, attr) and attr not in getattr(owner, "__annotations__", {}):
            missing.append(name)
    assert not missing, missing


def test_every_other_name_it_shows_is_in_the_code() -> None:
    # Functions, classes, fixtures, events and states named alone: each must still be
    # written somewhere in the code (a rename or removal leaves the map behind).
    words = [s for s in SPANS if IDENTIFIER.fullmatch(s) and ("_" in s or s != s.lower())]
    assert len(words) >= 50
    missing = [w for w in words if not re.search(rf"\b{re.escape(w)}\b", SOURCE_TEXT)]
    assert not missing, missing

"""The CLI starts without the chain and database libraries, and the package has no import
cycle. Start-up times are measured in benchmarks/run.py, not here."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import labourledger

PACKAGE = Path(labourledger.__file__).parent
#: Libraries that take most of a second to import; only the commands that use them load them.
HEAVY = ("web3", "eth", "eth_tester", "sqlalchemy", "alembic")
#: The entry models would double `--help`'s start-up: help texts take their choices from
#: `labourledger.vocabulary` instead.
MODELS = ("labourledger.kinds", "labourledger.envelope", "labourledger.ledger")


def _imported_by(*args: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "LABOURLEDGER_WORKSPACE"}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "labourledger", *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "Usage: labourledger" in done.stdout or done.stdout.startswith("labourledger ")
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }


def test_help_and_version_import_no_chain_or_database_library() -> None:
    for args in (["--help"], ["--version"], ["supplier", "add", "--help"], ["grievance", "--help"]):
        modules = _imported_by(*args)
        loaded = {name.split(".")[0] for name in modules}
        assert loaded.isdisjoint(HEAVY), (args, sorted(loaded & set(HEAVY)))
        assert modules.isdisjoint(MODELS), (args, sorted(modules & set(MODELS)))


def test_version_alone_imports_no_command_line() -> None:
    loaded = {name.split(".")[0] for name in _imported_by("--version")}
    assert loaded.isdisjoint({"typer", "rich", "click"}), sorted(loaded)


def test_a_command_runs_with_the_collector_off_and_serve_turns_it_back_on(
    tmp_path: Path,
) -> None:
    from clihelp import PASSPHRASE

    from labourledger.ledger import Ledger

    Ledger.init(tmp_path / "ws", admin_passphrase=PASSPHRASE)
    probe = (
        "import gc, sys, uvicorn\n"
        "from labourledger import __main__ as entry\n"
        "seen = []\n"
        "uvicorn.Server.run = lambda *a, **k: seen.append(gc.isenabled())  # not serving for real\n"
        "for argv in (['--help'], ['serve', '--port', '0']):\n"
        f"    sys.argv = ['labourledger', '--workspace', {str(tmp_path / 'ws')!r}, *argv]\n"
        "    try:\n"
        "        entry.main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "    seen.append(gc.isenabled())\n"
        "print(seen, file=sys.stderr)\n"
    )
    argv = [sys.executable, "-c", probe]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    # Off after --help; on once serve starts its server (and after).
    assert done.stderr.strip().splitlines()[-1] == "[False, True, True]", done.stderr


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports run when the module loads: not those in functions or under TYPE_CHECKING."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            pending.extend(node.orelse if _is_type_checking(node) else node.body + node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)
    return found


def import_graph() -> dict[str, set[str]]:
    """labourledger's modules and the labourledger modules each imports at load time."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _module_level_imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in paths else base)
        # A package's own __init__ runs before its submodules: not an edge back.
        graph[name] = {
            t for t in targets if t in paths and t != name and not name.startswith(t + ".")
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One path around each strongly connected group of modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_cycle_finder_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_graph_follows_module_level_imports_only() -> None:
    graph = import_graph()
    assert "labourledger.errors" in graph["labourledger.cli.context"]
    # Loaded inside State.ledger and under TYPE_CHECKING only.
    assert "labourledger.ledger" not in graph["labourledger.cli.context"]


def test_labourledger_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_verification_never_imports_the_ledger() -> None:
    # Verification reads through an EvidenceSource; importing the Ledger, even lazily or for
    # types, would bring back the ledger -> verify -> ledger loop.
    for path in (PACKAGE / "verify").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.startswith("labourledger.ledger") for n in names), path
            if isinstance(node, ast.ImportFrom) and node.module == "labourledger":
                assert "ledger" not in {a.name for a in node.names}, path


def test_no_module_is_over_500_lines_and_the_facade_stays_under_300() -> None:
    sizes = {
        str(path.relative_to(PACKAGE)): len(path.read_text().splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 500} == {}
    assert sizes["ledger.py"] < 300

"""What the package declares: one version, every directly imported library with both bounds,
and its licence."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions, version
from pathlib import Path

import pytest
from clihelp import Cli

import labourledger

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    """The normalised distribution name of a PEP 508 requirement."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert name is not None, requirement
    return re.sub(r"[-_.]+", "-", name[0]).lower()


def _third_party_imports() -> set[str]:
    found: set[str] = set()
    for path in Path(labourledger.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"labourledger", "__future__"}


def test_every_dependency_has_a_lower_and_an_upper_bound() -> None:
    project = PYPROJECT["project"]
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        spec = requirement.split(";")[0]
        assert ">=" in spec and "<" in spec.replace("<=", ""), requirement


def test_every_library_the_package_imports_is_declared() -> None:
    dependencies = PYPROJECT["project"]["dependencies"]
    declared = {_name(r) for r in dependencies}
    providers = packages_distributions()
    for module in sorted(_third_party_imports()):
        names = {_name(d) for d in providers.get(module, [])}
        assert names, f"{module}: no installed distribution provides it"
        assert names & declared, f"{module} (from {sorted(names)}) is imported but not declared"


def test_version_comes_from_the_installed_metadata(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert labourledger.__version__ == version("labourledger") == PYPROJECT["project"]["version"]
    code, out, _ = Cli(tmp_path, capsys, monkeypatch).run("--version")
    assert code == 0 and out == f"labourledger {labourledger.__version__}\n"


def test_the_licence_file_matches_the_declared_licence() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    text = (REPO / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_the_declared_python_is_the_one_lint_and_types_check() -> None:
    # The code uses what its oldest declared Python has (StrEnum, tomllib: 3.11); lint and
    # types must judge it as that Python, or an install on an older one breaks at import.
    oldest = re.fullmatch(r">=(\d+)\.(\d+)", PYPROJECT["project"]["requires-python"])
    assert oldest is not None
    tools = PYPROJECT["tool"]
    assert tools["mypy"]["python_version"] == f"{oldest[1]}.{oldest[2]}"
    assert tools["ruff"]["target-version"] == f"py{oldest[1]}{oldest[2]}"
    assert sys.version_info >= (int(oldest[1]), int(oldest[2]))

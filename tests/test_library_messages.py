"""The library's messages name its own fields and carry remedies as facts: only the CLI
knows its commands and flags, and words them (`labourledger.cli.hints`)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import labourledger
from labourledger.cli.hints import hint_for, step
from labourledger.errors import NextStep, WrongChain

PACKAGE = Path(labourledger.__file__).parent
#: Front ends, whose words are commands and flags: the CLI and its `__main__` entry point,
#: and the verification page that tells a visitor the command that checks a bundle offline.
FRONT_ENDS = ("cli", "web", "__main__.py")
COMMAND = "`labourledger "
FLAG = re.compile(r"(?:^|[\s(`'\"\[])--[a-z][a-z-]*")
#: Another program's command line keeps its own flags.
OTHER_PROGRAMS = ("`npm install --prefix tools --no-package-lock`",)


def _messages(tree: ast.Module) -> Iterator[ast.Constant]:
    """Every string literal but documentation: a bare string statement (a docstring of a
    module, class or function, or of an attribute) is read in the source, never shown."""
    bare = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare:
            yield node


def _offending(text: str) -> str | None:
    if text.startswith("#!"):  # a script for another interpreter, with its own arguments
        return None
    for other in OTHER_PROGRAMS:
        text = text.replace(other, "")
    if COMMAND in text:
        return COMMAND
    flag = FLAG.search(text)
    return flag[0].strip(" (`'\"[") if flag else None


def test_no_library_message_names_a_command_or_a_flag() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in FRONT_ENDS:
            continue
        for node in _messages(ast.parse(path.read_text(encoding="utf-8"))):
            if (what := _offending(node.value)) is not None:
                found.append(f"{relative}:{node.lineno}: {what} in {node.value!r}")
    assert found == [], "\n".join(found)


def test_the_rule_catches_a_command_a_flag_and_spares_prose() -> None:
    assert _offending("entry 0x12 is pending: run `labourledger anchor`") == COMMAND
    assert _offending("--key: may not grant BRAND") == "--key"
    assert _offending("fix them, or pass --skip-invalid") == "--skip-invalid"
    assert _offending("name it (--output FILE)") == "--output"
    assert _offending("sender: may not grant BRAND; a well-formed 0x-prefixed id") is None
    assert _offending("install it with `npm install --prefix tools --no-package-lock`") is None


def test_every_next_step_is_worded_as_a_command_or_a_flag() -> None:
    for next_step in NextStep:
        assert COMMAND in step(next_step) or FLAG.search(step(next_step)), next_step


def test_a_bundle_from_another_chain_says_which_and_the_cli_how_to_reach_it() -> None:
    error = WrongChain(1, "embedded", 31337)
    assert str(error) == "bundle: anchored on chain 1, but embedded is chain 31337"
    assert hint_for(error) == "pass --chain with an RPC URL of that chain"

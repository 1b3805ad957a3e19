"""Every command's --help: an example to copy, and choices that come from the models."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer

from labourledger.cli import app, main
from labourledger.vocabulary import FindingStatus


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subcommands = getattr(group, "commands", None)
    if subcommands is None:
        yield path, group
        return
    for name, command in subcommands.items():
        yield from _commands(command, (*path, name))


def test_every_command_help_has_an_example() -> None:
    root = typer.main.get_command(app)
    commands = list(_commands(root))
    assert len(commands) > 40
    missing = [
        " ".join(path)
        for path, command in commands
        if f"Example: labourledger {' '.join(path)}" not in (command.help or "")
    ]
    assert missing == []


def test_options_offer_the_models_choices_and_say_the_os_id_format(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["finding", "update", "0x" + "11" * 32, "F-1", "--status", "fixed"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "'--status'" in err and ", ".join(f"'{s}'" for s in FindingStatus) in err
    with pytest.raises(SystemExit):
        main(["supplier", "add", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "15 characters" in help_text and "Crockford" in help_text

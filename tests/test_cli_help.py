"""Every command's --help: an example to copy, and choices that come from the models."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from clihelp import cli_commands

from labourledger.cli import app, main
from labourledger.vocabulary import FindingStatus


def test_every_command_help_has_an_example() -> None:
    root = typer.main.get_command(app)
    commands = list(cli_commands(root))
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


def _help(command: Any) -> str:
    with typer.Context(command, info_name="labourledger") as ctx:
        return str(command.get_help(ctx))


def test_the_root_lists_its_commands_as_typer_would_without_building_them() -> None:
    from labourledger.cli.lazy import lazy_root

    root = lazy_root(app)
    eager = typer.main.get_command(app)
    assert _help(root) == _help(eager)
    assert list(root.commands) == list(eager.commands)  # type: ignore[attr-defined]
    built = [n for n, c in root.commands.items() if type(c) is not type(root.commands["audit"])]
    assert built == []  # listing built nothing: every command is still deferred


def test_a_deferred_command_becomes_the_command_typer_builds() -> None:
    from labourledger.cli.lazy import lazy_root

    root = lazy_root(app)
    eager = typer.main.get_command(app)
    for name in ("verify", "audit"):
        deferred, real = root.commands[name], eager.commands[name]  # type: ignore[attr-defined]
        assert [p.name for p in deferred.params] == [p.name for p in real.params]
        assert type(deferred) is type(real)
        assert getattr(deferred, "commands", {}).keys() == getattr(real, "commands", {}).keys()

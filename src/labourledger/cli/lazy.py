"""The root command with its sub-commands built on first use.

typer turns every command's signature into click options before parsing anything: for
`labourledger --help` (or any one command) that is some fifty functions inspected for one
used. Here the root lists each sub-command by name and help alone; the one that runs is
built by typer as usual, then takes that command's place.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

import typer
from typer.core import TyperGroup
from typer.main import (
    get_command_from_info,
    get_command_name,
    get_group_from_info,
    solve_typer_info_defaults,
    solve_typer_info_help,
)

__all__ = ["lazy_root"]


class _Deferred(TyperGroup):
    """A sub-command known by name and help until used: its first `make_context` (or a look
    at its options or sub-commands) builds the real command, which this object becomes."""

    def __init__(self, build: Callable[[], Any], **listing: Any) -> None:
        self._build = build
        super().__init__(**listing)

    def _become(self) -> None:
        real = self._build()
        self.__class__ = type(real)
        self.__dict__.clear()
        self.__dict__.update(real.__dict__)

    # click's constructor assigns both; until built they are the placeholders it gave.
    @property
    def params(self) -> list[Any]:
        self._become()
        return self.params

    @params.setter
    def params(self, value: list[Any]) -> None:
        self.__dict__["_listed_params"] = value

    @property  # type: ignore[override]
    def commands(self) -> dict[str, Any]:
        self._become()
        return self.commands

    @commands.setter
    def commands(self, value: dict[str, Any]) -> None:
        self.__dict__["_listed_commands"] = value

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        self._become()
        return self.make_context(*args, **kwargs)


def lazy_root(app: typer.Typer) -> TyperGroup:
    """`app` as a click group whose commands and groups are built when first used."""
    commands, groups = app.registered_commands, app.registered_groups
    app.registered_commands, app.registered_groups = [], []
    try:
        root = typer.main.get_command(app)  # the callback's options and completion
    finally:
        app.registered_commands, app.registered_groups = commands, groups
    assert isinstance(root, TyperGroup)
    short, markup = app.pretty_exceptions_short, app.rich_markup_mode
    # (how to build it, its name, its help, and where its listing flags are)
    listed: list[tuple[Callable[[], Any], str | None, str | None, Any]] = []
    for info in commands:
        assert info.callback is not None
        listed.append((
            partial(
                get_command_from_info,
                info,
                pretty_exceptions_short=short,
                rich_markup_mode=markup,
            ),
            info.name or get_command_name(info.callback.__name__),
            inspect.cleandoc(info.help) if info.help else inspect.getdoc(info.callback),
            info,
        ))  # fmt: skip
    for group in groups:
        solved = solve_typer_info_defaults(group)
        listed.append((
            partial(
                get_group_from_info,
                group,
                suggest_commands=app.suggest_commands,
                pretty_exceptions_short=short,
                rich_markup_mode=markup,
            ),
            solved.name,
            solve_typer_info_help(group),
            solved,
        ))  # fmt: skip
    for build, name, help_text, flags in listed:
        root.add_command(
            _Deferred(
                build,
                name=name,
                help=help_text,
                short_help=flags.short_help,
                hidden=flags.hidden,
                deprecated=flags.deprecated,
                rich_help_panel=flags.rich_help_panel,
                rich_markup_mode=markup,
            )
        )
    return root

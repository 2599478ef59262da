"""Docs that cannot drift: every top-level command is in the README's command table."""

from __future__ import annotations

from pathlib import Path

import typer

from unitecon.cli.main import application

README = Path(__file__).parents[2] / "README.md"


def _commands() -> set[str]:
    group = typer.main.get_command(application())
    return {name for name, cmd in group.commands.items() if not cmd.hidden}  # type: ignore[attr-defined]


def test_every_command_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = sorted(c for c in _commands() if f"unitecon {c}" not in text)
    assert not missing, f"README.md does not mention: {', '.join(missing)}"

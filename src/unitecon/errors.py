"""Exceptions a user can act on.

UniteconError                 base; the CLI prints its message, never a traceback
├── ConfigError               the project file is invalid (names file:line and field)
├── InputError                a source cannot be read at all (names the file)
├── LookupFailed              an unknown model, GPU, customer...; carries "did you mean"
└── LedgerError               the store is missing, locked or from a newer version
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UniteconError(Exception):
    """Base class: the message is meant for the user."""


class ConfigError(UniteconError):
    pass


class InputError(UniteconError):
    pass


class LedgerError(UniteconError):
    pass


class LookupFailed(UniteconError, LookupError):
    def __init__(self, what: str, name: str, choices: Iterable[str] = ()) -> None:
        close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        super().__init__(f"Unknown {what} {name!r}.{hint}")
        self.name = name
        self.suggestions = close

"""Errors raised for user mistakes.

Every user-facing problem (bad YAML, impossible layer, config over the FPGA's resources) is an
:class:`AccelsimError` carrying one line per problem. The CLI prints those lines to stderr and
exits with status 2; library callers can inspect :attr:`AccelsimError.problems`.
"""

from __future__ import annotations


def one_line(text: str) -> str:
    """``text`` with every control character (newline, NUL, escape ...) written as its escape,
    so a name taken from a user's file cannot break a message over several lines."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class AccelsimError(ValueError):
    """One or more user mistakes, each described by one line (control characters in a problem,
    e.g. from a key in the user's file, are escaped)."""

    def __init__(self, problems: list[str] | str) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems: list[str] = [one_line(str(p)) for p in problems]
        super().__init__("\n".join(self.problems))

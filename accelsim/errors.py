"""Errors raised for user mistakes.

Every user-facing problem (bad YAML, impossible layer, config over the FPGA's resources) is an
:class:`AccelsimError` carrying one line per problem. The CLI prints those lines to stderr and
exits with status 2; library callers can inspect :attr:`AccelsimError.problems`.
"""

from __future__ import annotations


class AccelsimError(ValueError):
    """One or more user mistakes, each described by one line."""

    def __init__(self, problems: list[str] | str) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems: list[str] = list(problems)
        super().__init__("\n".join(self.problems))

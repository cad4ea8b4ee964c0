"""Errors that stop a run, worded for the person who has to fix the extract."""

from __future__ import annotations


class ExtractError(Exception):
    """A structural problem with an extract (missing file or column, wrong
    encoding or delimiter, empty mandatory extract): the run cannot go on.

    The message is one line: the file, the problem, what the contract expects.
    """

    def __init__(self, file: str, problem: str, expected: str) -> None:
        self.file = file
        self.problem = problem
        self.expected = expected
        super().__init__(f"{file}: {problem} (the contract expects {expected}; see docs/extracts.md)")

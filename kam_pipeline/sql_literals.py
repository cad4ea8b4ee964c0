"""Quoting values and names into DuckDB SQL text, in one place.

Prepared-statement parameters are used wherever DuckDB accepts them; these
helpers are for the places it does not (file lists of `read_parquet`,
`ATTACH` paths, `COMMENT ON` text in generated DDL).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def literal(text: str | Path) -> str:
    """A string literal: `it's` -> `'it''s'`."""
    return "'" + str(text).replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A quoted identifier: `order` -> `"order"`."""
    return '"' + name.replace('"', '""') + '"'


def file_list(paths: Iterable[Path]) -> str:
    """A list of file names for read_parquet: `['a.parquet', 'b.parquet']`."""
    return "[" + ", ".join(literal(p) for p in paths) + "]"

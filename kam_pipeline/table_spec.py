"""Declaring a table once: its name, meaning, and each column's type and meaning.

Every table the pipeline computes is declared next to the code that builds it
(kam_pipeline/segmentation/tables.py, kam_pipeline/kam/tables.py, ...) and
the extracts' staging tables by the contract. kam_pipeline/warehouse/ddl.py
renders these declarations into sql/ (the contract BI users read, comments
included) and a test fails when sql/ is stale. The domain conforms its
frames to the declaration (`Table.conform`); the working database and the
publish step refuse a frame or table whose types differ from it
(`Table.check`), so a type drift fails loudly instead of being cast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Column:
    """One column: its type and what it holds, as BI users read it."""

    name: str
    dtype: pl.DataType
    description: str


class SchemaMismatchError(TypeError):
    """A frame or table does not have the declared columns and types."""


class HasColumns:
    """Names and types of anything with declared `columns` (a table, an extract)."""

    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}


@dataclass(frozen=True)
class Table(HasColumns):
    """A declared table: `schema.name`, its meaning and its columns in order."""

    name: str
    description: str
    columns: tuple[Column, ...]

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The declared columns of `frame`, in order, cast to their declared types."""
        return frame.select(pl.col(c.name).cast(c.dtype) for c in self.columns)

    def check(self, frame_schema: dict[str, pl.DataType]) -> None:
        """Raise SchemaMismatchError naming every difference from the declaration."""
        problems = mismatches(self.schema, frame_schema)
        if problems:
            raise SchemaMismatchError(f"{self.name} does not match its declaration: {'; '.join(problems)}")


def mismatches(declared: Mapping[str, object], found: Mapping[str, object]) -> list[str]:
    """Differences between declared and found columns (name -> type, both as
    Polars types or both as DuckDB type names): missing, unexpected or
    retyped columns. The order is the declaration's wherever columns are
    written, so it is not compared."""
    problems = [f"missing column {name}" for name in declared if name not in found]
    problems += [f"unexpected column {name}" for name in found if name not in declared]
    problems += [
        f"{name} is {found[name]}, declared {dtype}"
        for name, dtype in declared.items()
        if name in found and found[name] != dtype
    ]
    return problems


def duckdb_type(dtype: pl.DataType) -> str:
    """The DuckDB type a Polars type is stored as."""
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision},{dtype.scale})"
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMP WITH TIME ZONE" if dtype.time_zone else "TIMESTAMP"
    names = {
        pl.String: "VARCHAR",
        pl.Int64: "BIGINT",
        pl.Int32: "INTEGER",
        pl.Float64: "DOUBLE",
        pl.Date: "DATE",
        pl.Boolean: "BOOLEAN",
    }
    return names[dtype.base_type()]

"""Dagster metadata built from the project's own declarations."""

from __future__ import annotations

import dagster as dg
import polars as pl

from kam_pipeline.contract import Extract


def column_schema(extract: Extract) -> dg.TableSchema:
    """The staging table's columns with the contract's descriptions."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                c.name,
                str(c.dtype),
                description=c.description,
                constraints=dg.TableColumnConstraints(nullable=not c.required),
            )
            for c in extract.columns
        ]
    )


def markdown_table(frame: pl.DataFrame) -> str:
    """A small frame as a Markdown table for the Dagster UI."""
    if frame.is_empty():
        return "_no rows_"
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = [
        "| " + " | ".join("" if v is None else str(v).replace("|", "\\|") for v in row) + " |"
        for row in frame.iter_rows()
    ]
    return "\n".join([header, rule, *rows])

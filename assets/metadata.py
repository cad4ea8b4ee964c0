"""Dagster metadata built from the project's own declarations."""

from __future__ import annotations

import dagster as dg
import polars as pl

from kam_pipeline.report.html import chart_metadata
from kam_pipeline.warehouse.schema import declared_tables, table_comments

#: Who answers for an asset, by its warehouse schema (the first part of its key).
OWNERS = {
    "staging": ["team:data-engineering"],
    "quality": ["team:data-engineering"],
    "warehouse": ["team:data-engineering"],
    "marts": ["team:sales-operations", "team:data-engineering"],
}


def warehouse_table(key: dg.AssetKey) -> str | None:
    """`schema.table` of an asset whose key is its table's path, if declared in sql/."""
    name = ".".join(key.path)
    return name if name in declared_tables() else None


def column_schema(table: str) -> dg.TableSchema:
    """The published table's columns with the `COMMENT ON` text of sql/, so
    the Dagster UI and BI tools show the same descriptions."""
    return dg.TableSchema(
        columns=[dg.TableColumn(c.name, c.data_type, description=c.comment) for c in declared_tables()[table]]
    )


def with_warehouse_metadata(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Owners, table name and column schema for every asset, from one place."""
    table = warehouse_table(spec.key)
    metadata = dict(spec.metadata)
    if table is not None:
        metadata |= {
            "dagster/table_name": table,
            "dagster/column_schema": column_schema(table),
            "table_description": table_comments()[table],
        }
    owners = OWNERS.get(spec.key.path[0], ["team:data-engineering"])
    return spec.replace_attributes(owners=owners, metadata=metadata)


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


def chart(png: bytes, title: str) -> dg.MetadataValue:
    """A chart shown inline in the Dagster UI."""
    return dg.MetadataValue.md(chart_metadata(png, title))


def check_result(spec: dg.AssetCheckSpec, outcome: tuple[bool, dict[str, object]]) -> dg.AssetCheckResult:
    """A domain check's (passed, evidence) as the result of `spec`: ERROR when
    the check blocks publishing, WARN otherwise, so the severity cannot
    drift from the declaration; lists and dicts of the evidence shown as JSON."""
    passed, evidence = outcome
    return dg.AssetCheckResult(
        asset_key=spec.asset_key,
        check_name=spec.name,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            name: dg.MetadataValue.json(value) if isinstance(value, list | dict) else value
            for name, value in evidence.items()
        },
    )

"""The shape of a quarantined row (`quality.rejected_rows`), defined once.

One quarantine row per broken rule per source row, so that someone fixing the
source system sees every problem of a record at once; reconciliation counts
distinct source rows.
"""

from __future__ import annotations

import polars as pl

from kam_pipeline.ingest.contract import Extract
from kam_pipeline.ingest.contract.extracts import REJECTED_ROW, SOURCE_FILE, SOURCE_ROW
from kam_pipeline.ingest.contract.rules import Rule
from kam_pipeline.ingest.tables import REJECTED_ROWS

#: The quarantine's own columns; the staging asset adds the run's id and date.
REJECTED_ROWS_SCHEMA: dict[str, pl.DataType] = {
    name: dtype for name, dtype in REJECTED_ROWS.schema.items() if name not in ("run_id", "as_of_date")
}

PARSE_RAGGED = "parse.ragged"
PARSE_TYPE = "parse.type"
PARSE_TEXT = "parse.text"


def empty_rejections() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECTED_ROWS_SCHEMA)


def record_key_expr(key: tuple[str, ...]) -> pl.Expr:
    """`invoice_id=INV-1, line_no=2`: what identifies the record in the source."""
    parts = [pl.concat_str([pl.lit(f"{col}="), pl.col(col).cast(pl.String).fill_null("")]) for col in key]
    return pl.concat_str(parts, separator=", ")


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast to the quarantine schema (columns in its order)."""
    return frame.select([pl.col(name).cast(dtype) for name, dtype in REJECTED_ROWS_SCHEMA.items()])


def quarantine_rows(
    frame: pl.DataFrame,
    extract: Extract,
    *,
    rule: str,
    group: str,
    column: str,
    message: pl.Expr,
    source_file: pl.Expr,
    raw: pl.Expr | None = None,
) -> pl.DataFrame:
    """Quarantine rows for the rows of `frame` that broke `rule` on `column`
    (`frame` holds the extract's columns and `_source_row`)."""
    return conform(
        frame.select(
            pl.lit(extract.name).alias("extract"),
            source_file.alias("source_file"),
            pl.col(SOURCE_ROW).alias(REJECTED_ROW),
            record_key_expr(extract.key).alias("record_key"),
            pl.lit(rule).alias("rule"),
            pl.lit(group).alias("rule_group"),
            pl.lit(column).alias("column_name"),
            pl.col(column).cast(pl.String).alias("value"),
            message.alias("message"),
            (raw if raw is not None else pl.lit(None, pl.String)).alias("raw_record"),
        )
    )


def rule_rows(frame: pl.DataFrame, extract: Extract, rule: Rule) -> pl.DataFrame:
    """Quarantine rows of a contract rule; the raw record is attached later."""
    return quarantine_rows(
        frame,
        extract,
        rule=rule.name,
        group=rule.group,
        column=rule.column,
        message=pl.lit(rule.describe()),
        source_file=pl.col(SOURCE_FILE),
    )

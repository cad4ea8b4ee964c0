"""The shape of a quarantined row (`quality.rejected_rows`), defined once.

One quarantine row per broken rule per source row, so that someone fixing the
source system sees every problem of a record at once; reconciliation counts
distinct source rows.
"""

from __future__ import annotations

import polars as pl

REJECTED_ROWS_SCHEMA: dict[str, pl.DataType] = {
    "extract": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "record_key": pl.String(),
    "rule": pl.String(),
    "rule_group": pl.String(),
    "column_name": pl.String(),
    "value": pl.String(),
    "message": pl.String(),
    "raw_record": pl.String(),
}

PARSE_RAGGED = "parse.ragged"
PARSE_TYPE = "parse.type"


def empty_rejections() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECTED_ROWS_SCHEMA)


def record_key_expr(key: tuple[str, ...]) -> pl.Expr:
    """`invoice_id=INV-1, line_no=2`: what identifies the record in the source."""
    parts = [pl.concat_str([pl.lit(f"{col}="), pl.col(col).cast(pl.String).fill_null("")]) for col in key]
    return pl.concat_str(parts, separator=", ")


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast to the quarantine schema (columns in its order)."""
    return frame.select([pl.col(name).cast(dtype) for name, dtype in REJECTED_ROWS_SCHEMA.items()])

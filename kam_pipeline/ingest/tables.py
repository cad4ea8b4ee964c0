"""The quality tables of ingestion, declared once (kam_pipeline.table_spec):
what was rejected and why, and the proof that nothing was lost
(docs/validation.md). sql/20_quality.sql is rendered from here.
"""

import polars as pl

from kam_pipeline.table_spec import Column, Table

REJECTED_ROWS = Table(
    "quality.rejected_rows",
    (
        "Quarantine: one row per broken rule per source row of the latest run of each extract. Fix these in the"
        " source system."
    ),
    columns=(
        Column(
            "extract",
            pl.String,
            (
                "Extract the row came from (fx_rates, account_managers, crm_accounts, erp_customers, "
                "invoice_lines, opportunities)."
            ),
        ),
        Column("source_file", pl.String, "Landing file, relative to the landing directory."),
        Column("source_row", pl.Int64, "Data row number in that file (header not counted; CSV line = row + 1)."),
        Column(
            "record_key",
            pl.String,
            (
                "Key of the record in the source system, e.g. invoice_id=INV-1, line_no=2 (empty when the row "
                "could not be parsed)."
            ),
        ),
        Column(
            "rule",
            pl.String,
            ("Contract rule broken (docs/extracts.md), or parse.ragged / parse.type for rows that do not parse."),
        ),
        Column(
            "rule_group",
            pl.String,
            (
                "Rule group, one Dagster asset check each: types, completeness, uniqueness, allowed_values, "
                "ranges, dates, references."
            ),
        ),
        Column("column_name", pl.String, "Column the rule checks."),
        Column("value", pl.String, "Offending value as text."),
        Column("message", pl.String, "What the contract expects."),
        Column("raw_record", pl.String, "The original row: the CSV line as written, or the Parquet row as JSON."),
        Column("run_id", pl.String, "Dagster run that rejected the row."),
        Column("as_of_date", pl.Date, "As-of date of that run."),
    ),
)


RECONCILIATION = Table(
    "quality.reconciliation",
    (
        "Per run and extract: rows read = rows accepted + rows rejected. One row per run and extract, kept for "
        "every run."
    ),
    columns=(
        Column("run_id", pl.String, "Dagster run id."),
        Column("as_of_date", pl.Date, "As-of date of the run."),
        Column("extract", pl.String, "Extract name."),
        Column("files", pl.Int64, "Number of landing files read."),
        Column("rows_read", pl.Int64, "Data rows in the files (blank lines not counted)."),
        Column("rows_accepted", pl.Int64, "Rows written to the staging table."),
        Column("rows_rejected", pl.Int64, "Distinct source rows in quarantine."),
        Column(
            "balanced",
            pl.Boolean,
            "True when rows_read = rows_accepted + rows_rejected; a false value fails the run.",
        ),
    ),
)

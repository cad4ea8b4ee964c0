"""The warehouse's own tables, declared once (kam_pipeline.table_spec): the run
log and what the large tables were built from. sql/50_meta.sql is rendered from here.
"""

import polars as pl

from kam_pipeline.table_spec import Column, Table

RUNS = Table(
    "meta.runs",
    "One row per run: published runs (SUCCESS) and failed runs recorded by the failure sensor.",
    columns=(
        Column("run_id", pl.String, "Dagster run id."),
        Column("as_of_date", pl.Date, "As-of date of the run."),
        Column("started_at", pl.Datetime("us", "UTC"), "When the run started."),
        Column("finished_at", pl.Datetime("us", "UTC"), "When the run published (or failed)."),
        Column("status", pl.String, "SUCCESS or FAILURE."),
        Column("row_counts", pl.String, "JSON object: published table -> row count."),
        Column("rejected_rows", pl.Int64, "Source rows quarantined by the run (all extracts)."),
        Column(
            "reporting_currency",
            pl.String,
            (
                "ISO 4217 code of the currency every amount the run published is in (segmentation."
                "reporting_currency); null on failed runs and on runs logged before it was recorded."
            ),
        ),
    ),
)


TABLE_VERSIONS = Table(
    "meta.table_versions",
    (
        "What each staging table was built from: a table is copied into a new published file only when its "
        "version changes."
    ),
    columns=(
        Column("table_name", pl.String, "Qualified table name, for example staging.invoice_lines."),
        Column(
            "version",
            pl.String,
            (
                "Digest of the parsed files, rule context, settings and code its rows derive from "
                "(kam_pipeline/ingest/validation_store.py)."
            ),
        ),
        Column("written_by_run", pl.String, "The run that wrote the current rows."),
        Column("row_count", pl.Int64, "Rows of the table at that version."),
    ),
)


STAGED_FILES = Table(
    "meta.staged_files",
    (
        "The landing files each staging table is made of, as of the latest staging: a file whose version did "
        "not change keeps its published rows; only the rows of changed files are replaced."
    ),
    columns=(
        Column("table_name", pl.String, "Staging table, for example staging.invoice_lines."),
        Column("source_file", pl.String, "Landing file, relative to the landing directory."),
        Column(
            "version",
            pl.String,
            "Digest of the file's parse and of its rows in quarantine: equal versions mean equal accepted rows.",
        ),
        Column("rows_read", pl.Int64, "Data rows in the file."),
        Column("rows_rejected", pl.Int64, "Distinct rows of the file in quarantine."),
        Column("parsed_by_run", pl.Boolean, "True when this run parsed the file (else its stored parse was reused)."),
        Column(
            "validated_by_run",
            pl.Boolean,
            "True when this run evaluated the file's rules (else its stored outcome was reused).",
        ),
        Column("run_id", pl.String, "The run that staged the table."),
    ),
)


#: written_by_run of a snapshot kept before snapshot versions were recorded.
UNRECORDED = "unrecorded"

SNAPSHOT_VERSIONS = Table(
    "meta.snapshot_versions",
    (
        "The as-of dates each history table holds and the run that wrote each: a date whose run did not change "
        "keeps its published rows; only the rows of the dates written since the last publish are replaced."
    ),
    columns=(
        Column("table_name", pl.String, "History table, for example history.customer_segments."),
        Column("as_of_date", pl.Date, "As-of date of the snapshot."),
        Column(
            "written_by_run",
            pl.String,
            f"The run that wrote the snapshot's rows ('{UNRECORDED}' for dates kept before versions were recorded).",
        ),
        Column("row_count", pl.Int64, "Rows of the snapshot."),
    ),
)

"""The accepted invoice lines' daily totals, kept per version of the lines.

The segmentation and the unmapped-revenue report read the invoice lines only
through their daily totals (kam_pipeline.segmentation.daily_totals). The
totals are computed once per version of `staging.invoice_lines`
(meta.table_versions) from the parsed Parquet files minus the quarantine,
and kept as Parquet in the working folder, so a run on unchanged lines, such
as the next night's, does not read the lines at all.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl

from kam_pipeline.ingest.contract.extracts import INVOICE_LINES
from kam_pipeline.ingest.staging import accepted_rows
from kam_pipeline.segmentation.daily_totals import daily_totals
from kam_pipeline.settings import Settings
from kam_pipeline.warehouse.database import table_version


def _accepted_lines(con: duckdb.DuckDBPyConnection, parsed_dir: Path) -> pl.LazyFrame:
    """The accepted invoice lines of the latest staging: a lazy scan of the
    parsed files minus their rows in quality.rejected_rows."""
    rejected = con.sql(
        "SELECT source_file, source_row FROM quality.rejected_rows WHERE extract = $extract",
        params={"extract": INVOICE_LINES.name},
    ).pl()
    return accepted_rows(INVOICE_LINES, sorted(parsed_dir.glob("*.parquet")), rejected)


def invoice_days(con: duckdb.DuckDBPyConnection, settings: Settings) -> pl.LazyFrame:
    """The daily totals of the current staging.invoice_lines, computed once
    per table version (written to a temporary name and renamed, so a reader
    never sees half a file)."""
    lines = lambda: _accepted_lines(con, settings.parsed_dir(INVOICE_LINES.name))  # noqa: E731
    version = table_version(con, INVOICE_LINES.table)
    if version is None:  # a table written without a version: nothing to key the totals by
        return daily_totals(lines())
    cache_dir = settings.work_dir / "invoice_days"
    path = cache_dir / f"{version}.parquet"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cache_dir / f"{version}.{os.getpid()}.partial"
        daily_totals(lines()).sink_parquet(partial)
        partial.replace(path)
        for old in cache_dir.iterdir():  # totals of older versions, and partial files of killed runs
            if not old.name.startswith(version):
                old.unlink(missing_ok=True)
    return pl.scan_parquet(path)

"""The accepted invoice lines' daily totals, kept per landing file.

The segmentation and the unmapped-revenue report read the invoice lines only
through their daily totals (kam_pipeline.segmentation.daily_totals). Each
landing file's totals are computed once per version of the file
(meta.staged_files: its parse and its rows in quarantine) from its parsed
rows minus the quarantine, and kept as Parquet in the working folder. A run
on unchanged lines, such as the next night's, does not read the lines at
all; a night where the current month's file grew reads that file only.
Every figure the totals feed is a sum, an `any` or a `max` over the rows, so
the files' totals are read side by side, never merged.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl

from kam_pipeline.ingest.contract.extracts import INVOICE_LINES
from kam_pipeline.ingest.parse_cache import source_of
from kam_pipeline.ingest.staging import accepted_rows
from kam_pipeline.segmentation.daily_totals import daily_totals
from kam_pipeline.settings import Settings
from kam_pipeline.warehouse.database import table_exists

FOLDER = "invoice_days"


def _rejected(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql(
        "SELECT source_file, source_row FROM quality.rejected_rows WHERE extract = $extract",
        params={"extract": INVOICE_LINES.name},
    ).pl()


def _staged_files(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Landing file -> version of the latest staging of the invoice lines."""
    if not table_exists(con, "meta.staged_files"):
        return {}
    rows = con.execute(
        "SELECT source_file, version FROM meta.staged_files WHERE table_name = ?", [INVOICE_LINES.table]
    ).fetchall()
    return dict(rows)


def invoice_days(con: duckdb.DuckDBPyConnection, settings: Settings) -> pl.LazyFrame:
    """The daily totals of the current staging.invoice_lines: one stored
    Parquet file per landing file and version, each written under a
    temporary name and renamed (a reader never sees half a file)."""
    parsed = sorted(settings.parsed_dir(INVOICE_LINES.name).glob("*.parquet"))
    files = _staged_files(con)
    if not files:  # lines staged without a record of their files: nothing to key the totals by
        return daily_totals(accepted_rows(INVOICE_LINES, parsed, _rejected(con)))
    folder = settings.work_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stored = {name: folder / f"{version}.parquet" for name, version in files.items()}
    missing = [name for name, path in stored.items() if not path.exists()]
    if missing:
        rejected = _rejected(con)
        parse_of = {source_of(path): path for path in parsed}
        for name in missing:
            lines = accepted_rows(INVOICE_LINES, [parse_of[name]], rejected.filter(pl.col("source_file") == name))
            partial = folder / f"{stored[name].stem}.{os.getpid()}.partial"
            daily_totals(lines).sink_parquet(partial)
            partial.replace(stored[name])
    wanted = {path.name for path in stored.values()}
    for old in folder.iterdir():  # totals of older versions, and partial files of killed runs
        if old.name not in wanted:
            old.unlink(missing_ok=True)
    return pl.scan_parquet(sorted(stored.values(), key=Path.as_posix))

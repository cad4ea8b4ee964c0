"""Parsed files are reused until they change; keys are unique across files."""

import os
from datetime import date
from pathlib import Path

from kam_pipeline.ingest.contract import EXTRACTS_BY_NAME
from kam_pipeline.ingest.staging import rule_context, stage_extract

from .conftest import TINY, write_landing

LINES = EXTRACTS_BY_NAME["invoice_lines"]
CUSTOMERS = EXTRACTS_BY_NAME["erp_customers"]
AS_OF = date(2026, 11, 28)


def _stage(landing: Path, cache: Path):
    from kam_pipeline.ingest.parsing import parse_file

    customers = parse_file(CUSTOMERS, landing / "erp" / "customers.csv", "c").rows
    fx = parse_file(EXTRACTS_BY_NAME["fx_rates"], landing / "erp" / "fx_rates.csv", "f").rows
    ctx = rule_context(LINES, {"erp_customers": customers, "fx_rates": fx}, AS_OF, "EUR")
    return stage_extract(LINES, landing, ctx, cache)


def test_unchanged_files_are_not_parsed_again_and_changed_ones_are(tmp_path: Path) -> None:
    landing = write_landing(tmp_path / "landing", TINY)
    first = _stage(landing, tmp_path / "cache")
    assert first.cache_hits == 0
    accepted = first.accepted.collect()
    again = _stage(landing, tmp_path / "cache")
    assert again.cache_hits == 2
    assert again.accepted.collect().equals(accepted)
    november = landing / "erp" / "invoice_lines" / "2026-11.csv"
    november.write_text(november.read_text() + "I4,1,INVOICE,2026-11-05,C1,P1,1,5,1,EUR\n")
    os.utime(november, ns=(november.stat().st_atime_ns, november.stat().st_mtime_ns + 10**9))
    changed = _stage(landing, tmp_path / "cache")
    assert changed.cache_hits == 1
    assert changed.accepted.collect().height == accepted.height + 1
    assert len(list((tmp_path / "cache").glob("*.parquet"))) == 2  # the old parse of the changed file is gone


def test_a_key_repeated_in_a_later_file_is_quarantined_there(tmp_path: Path) -> None:
    files = dict(TINY)
    files["erp/invoice_lines/2026-11.csv"] += "I1,1,INVOICE,2026-11-06,C1,P1,1,100.5,50,EUR\n"
    landing = write_landing(tmp_path / "landing", files)
    staged = _stage(landing, tmp_path / "cache")
    duplicates = staged.rejected.filter(staged.rejected["rule"] == "invoice_lines.key.unique")
    assert duplicates.select("source_file", "source_row", "record_key").rows() == [
        ("erp/invoice_lines/2026-11.csv", 2, "invoice_id=I1, line_no=1")
    ]
    assert duplicates.get_column("raw_record").to_list() == ["I1,1,INVOICE,2026-11-06,C1,P1,1,100.5,50,EUR"]
    assert staged.rows_read == staged.accepted.collect().height + staged.rows_rejected


def _as_parquet(landing: Path, cast: dict | None = None) -> list[Path]:
    """The landing's invoice-line CSV files rewritten as Parquet in the contract's types (or `cast`)."""
    from kam_pipeline.ingest.parsing import parse_file

    written = []
    for csv in sorted((landing / "erp" / "invoice_lines").glob("*.csv")):
        rows = parse_file(LINES, csv, csv.name).rows.select(LINES.column_names)
        target = csv.with_suffix(".parquet")
        rows.with_columns(**(cast or {})).write_parquet(target)
        csv.unlink()
        written.append(target)
    return written


def test_a_parquet_file_in_the_contract_types_is_read_in_place_and_kept_as_parsed(tmp_path: Path) -> None:
    import polars as pl
    import pytest

    from kam_pipeline.errors import ExtractError
    from kam_pipeline.ingest.parse_cache import check_in_place

    landing = write_landing(tmp_path / "csv", TINY)
    from_csv = _stage(landing, tmp_path / "csv_cache").accepted.collect()
    files = _as_parquet(landing)
    staged = _stage(landing, tmp_path / "cache")
    assert [p.rows_path.stat().st_ino for p in staged.parses] == [f.stat().st_ino for f in files]  # no copy
    renamed = from_csv.with_columns(pl.col("_source_file").str.replace(r"\.csv$", ".parquet"))
    assert staged.accepted.collect().sort(pl.all()).equals(renamed.sort(pl.all()))

    # The exporter replaces a file (new file, rename): the run keeps reading the version it parsed.
    replaced = tmp_path / "new.parquet"
    pl.read_parquet(files[0]).head(1).write_parquet(replaced)
    os.replace(replaced, files[0])
    assert staged.accepted.collect().height == from_csv.height
    check_in_place(tmp_path / "cache")
    # A file rewritten where it is would change what was validated: the publish is refused.
    pl.read_parquet(files[1]).head(1).write_parquet(files[1])
    with pytest.raises(ExtractError, match="file changed while reading"):
        check_in_place(tmp_path / "cache")


def test_a_key_repeated_in_a_later_parquet_file_read_in_place_is_quarantined_at_its_row(tmp_path: Path) -> None:
    """The row of a copy comes from the in-place scan's row index, as from a CSV's parse."""
    files = dict(TINY)
    files["erp/invoice_lines/2026-11.csv"] += "I1,1,INVOICE,2026-11-06,C1,P1,1,100.5,50,EUR\n"
    landing = write_landing(tmp_path / "landing", files)
    parquet = _as_parquet(landing)
    staged = _stage(landing, tmp_path / "cache")
    assert [p.rows_path.stat().st_ino for p in staged.parses] == [f.stat().st_ino for f in parquet]  # in place
    duplicates = staged.rejected.filter(staged.rejected["rule"] == "invoice_lines.key.unique")
    assert duplicates.select("source_file", "source_row", "record_key").rows() == [
        ("erp/invoice_lines/2026-11.parquet", 2, "invoice_id=I1, line_no=1")
    ]


def test_a_parquet_file_in_other_types_or_with_padded_codes_is_copied(tmp_path: Path) -> None:
    import polars as pl

    landing = write_landing(tmp_path / "landing", TINY)
    files = _as_parquet(landing, {"quantity": pl.col("quantity").cast(pl.Float64)})
    staged = _stage(landing, tmp_path / "cache")
    assert all(p.rows_path.stat().st_ino != f.stat().st_ino for p, f in zip(staged.parses, files, strict=True))
    padded = pl.read_parquet(files[0]).with_columns(pl.col("quantity").cast(LINES.staging_table.schema["quantity"]))
    padded.with_columns(currency=pl.col("currency") + " ").write_parquet(files[0])
    restaged = _stage(landing, tmp_path / "cache2")
    assert restaged.parses[0].rows_path.stat().st_ino != files[0].stat().st_ino  # trimmed: not the file itself
    assert restaged.accepted.collect().get_column("currency").str.ends_with(" ").sum() == 0

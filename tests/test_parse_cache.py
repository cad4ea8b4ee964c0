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

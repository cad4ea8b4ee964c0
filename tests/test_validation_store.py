"""A validation is reused exactly when nothing it depends on changed."""

import os
from datetime import date
from pathlib import Path

import polars as pl

from kam_pipeline.ingest import validation_store
from kam_pipeline.ingest.contract import EXTRACTS_BY_NAME
from kam_pipeline.ingest.parsing import parse_file
from kam_pipeline.ingest.staging import StagedExtract, rule_context, stage_extract

from .conftest import TINY, write_landing

LINES = EXTRACTS_BY_NAME["invoice_lines"]
AS_OF = date(2026, 11, 28)  # the newest invoice line in TINY is dated 2026-11-02
FUTURE_LINE = "I9,1,INVOICE,2026-12-05,C1,P1,1,5,1,EUR\n"


def _references(landing: Path) -> dict[str, pl.DataFrame]:
    customers = parse_file(EXTRACTS_BY_NAME["erp_customers"], landing / "erp" / "customers.csv", "c").rows
    fx = parse_file(EXTRACTS_BY_NAME["fx_rates"], landing / "erp" / "fx_rates.csv", "f").rows
    return {"erp_customers": customers, "fx_rates": fx}


def _stage(
    landing: Path, cache: Path, as_of: date = AS_OF, references: dict | None = None, settings: str = "s"
) -> StagedExtract:
    ctx = rule_context(LINES, references or _references(landing), as_of, "EUR")
    return stage_extract(LINES, landing, ctx, cache, settings_digest=settings)


def _store(staged: StagedExtract, cache: Path, run_id: str) -> None:
    validation_store.save(cache, validation_store.StoredValidation(staged.fingerprint, staged.rejected, [], "", run_id))


def _landing(tmp_path: Path, extra_line: str = "") -> Path:
    files = dict(TINY)
    files["erp/invoice_lines/2026-11.csv"] += extra_line
    return write_landing(tmp_path / "landing", files)


def test_the_same_inputs_reuse_the_stored_quarantine(tmp_path: Path) -> None:
    landing, cache = _landing(tmp_path, FUTURE_LINE), tmp_path / "cache"
    first = _stage(landing, cache)
    assert first.reused is None
    assert first.rejected.get_column("rule").to_list() == ["invoice_lines.invoice_date.not_future"]
    _store(first, cache, "run-1")
    again = _stage(landing, cache)
    assert again.reused is not None and again.reused.run_id == "run-1"
    assert again.fingerprint == first.fingerprint
    assert again.rejected.equals(first.rejected)
    assert again.accepted.collect().equals(first.accepted.collect())


def test_a_later_as_of_date_keeps_the_fingerprint_unless_a_row_lies_between(tmp_path: Path) -> None:
    landing, cache = _landing(tmp_path), tmp_path / "cache"
    nightly = _stage(landing, cache).fingerprint
    assert _stage(landing, cache, as_of=date(2026, 11, 29)).fingerprint == nightly
    assert _stage(landing, cache, as_of=date(2026, 11, 1)).fingerprint != nightly  # 2026-11-02 lies between
    future = _landing(tmp_path / "future", FUTURE_LINE)
    first = _stage(future, tmp_path / "future_cache")
    later = _stage(future, tmp_path / "future_cache", as_of=date(2026, 12, 6))
    assert later.fingerprint != first.fingerprint
    assert later.rejected.is_empty() and not first.rejected.is_empty()


def test_a_changed_file_reference_keys_or_settings_validate_again(tmp_path: Path) -> None:
    landing, cache = _landing(tmp_path), tmp_path / "cache"
    first = _stage(landing, cache)
    _store(first, cache, "run-1")
    references = _references(landing)
    fewer_customers = {
        **references,
        "erp_customers": references["erp_customers"].filter(pl.col("erp_customer_id") != "C3"),
    }
    assert _stage(landing, cache, references=fewer_customers).reused is None
    assert _stage(landing, cache, settings="other").reused is None
    november = landing / "erp" / "invoice_lines" / "2026-11.csv"
    os.utime(november, ns=(november.stat().st_atime_ns, november.stat().st_mtime_ns + 10**9))
    touched = _stage(landing, cache)
    assert touched.reused is None and touched.fingerprint != first.fingerprint


def test_an_entry_without_its_outcome_file_is_not_loaded(tmp_path: Path) -> None:
    landing, cache = _landing(tmp_path), tmp_path / "cache"
    first = _stage(landing, cache)
    _store(first, cache, "run-1")
    (cache / validation_store.FOLDER / f"{first.fingerprint}.json").unlink()
    assert _stage(landing, cache).reused is None


def test_the_code_digest_covers_the_domain_and_the_dagster_layer() -> None:
    """A change under assets/ (which passes settings into validation) must validate again too."""
    files = validation_store.source_files()
    assert "assets/staging.py" in files
    assert "kam_pipeline/ingest/validation.py" in files
    assert "kam_pipeline/ingest/contract/rules.py" in files


def test_a_validation_whose_data_docs_were_not_rendered_is_validated_again(tmp_path: Path) -> None:
    """Data Docs are rendered after every staging asset: a run that stopped
    before that must not leave a validation that links to nothing."""
    landing, cache = _landing(tmp_path), tmp_path / "cache"
    first = _stage(landing, cache)
    index = tmp_path / "docs" / "index.html"
    validation_store.save(
        cache, validation_store.StoredValidation(first.fingerprint, first.rejected, [], index.as_uri(), "run-1")
    )
    assert _stage(landing, cache).reused is None
    index.parent.mkdir()
    index.write_text("<html></html>")
    assert _stage(landing, cache).reused is not None

"""The Great Expectations check sample drawn file by file (every step-th parsed
row of each file): the same rows whether a file's share comes from the rows
its parse kept (kam_pipeline.ingest.sample_shares) or from reading the file."""

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from kam_pipeline.ingest import sample_shares
from kam_pipeline.ingest.contract import EXTRACTS_BY_NAME
from kam_pipeline.ingest.contract.extracts import SOURCE_FILE, SOURCE_ROW
from kam_pipeline.ingest.parse_cache import scan_rows
from kam_pipeline.ingest.staging import check_sample, rule_context, stage_extract
from tools.sample_data import generate

INVOICE_LINES = EXTRACTS_BY_NAME["invoice_lines"]
AS_OF = date(2026, 11, 28)
#: Small enough that each monthly file of the landing below holds more rows than this.
SAMPLE_ROWS = 100


def _expected(parses: list, step: int) -> pl.DataFrame:
    """Every step-th parsed row of each file, read from the files."""
    return pl.concat([scan_rows(INVOICE_LINES, [p.rows_path]).gather_every(step).collect() for p in parses])


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("landing")
    return generate(folder, seed=5, accounts=60, invoice_lines=8_000, as_of=AS_OF, fmt="parquet").out


def _sample(landing: Path, cache: Path, keep: int | None) -> tuple[pl.DataFrame, list]:
    accepted = {  # no customer and no rate: every line is quarantined, the sample is of parsed rows all the same
        "erp_customers": pl.DataFrame(schema={"erp_customer_id": pl.String}),
        "fx_rates": pl.DataFrame(schema={"currency": pl.String, "month": pl.String}),
    }
    ctx = rule_context(INVOICE_LINES, accepted, AS_OF, "EUR")
    staged = stage_extract(INVOICE_LINES, landing, ctx, cache, sample_rows=keep)
    sample = check_sample(INVOICE_LINES, staged.parses, SAMPLE_ROWS, staged.context, staged.cache_dir)
    return sample, staged.parses


def test_step_is_the_power_of_two_that_leaves_between_n_and_2n_rows() -> None:
    assert sample_shares.step_for(100, 100) == 1
    assert sample_shares.step_for(199, 100) == 1
    assert sample_shares.step_for(200, 100) == 2
    assert sample_shares.step_for(1_000_000, 250_000) == 4
    for rows in (101, 999, 4_096, 123_457):
        step = sample_shares.step_for(rows, 100)
        assert 100 <= -(-rows // step) < 2 * 100 + 1


def test_shares_drawn_from_the_parse_equal_shares_read_from_the_files(landing: Path, tmp_path: Path) -> None:
    kept, parses = _sample(landing, tmp_path / "kept", SAMPLE_ROWS)
    read, _ = _sample(landing, tmp_path / "read", None)
    step = sample_shares.step_for(sum(p.rows_parsed for p in parses), SAMPLE_ROWS)
    assert step > 2, "the landing should be large enough for the kept rows to be thinned again"
    stored = {
        name: [int(p.stem.rsplit("-", 1)[1]) for p in (tmp_path / name / sample_shares.FOLDER).glob("*.parquet")]
        for name in ("kept", "read")
    }
    assert stored["read"] == [step] * len(parses), "without kept rows each file is read for its share"
    assert sum(s < step for s in stored["kept"]) > len(parses) / 2, "most shares should come from kept rows"
    key = [SOURCE_FILE, SOURCE_ROW]
    assert kept.sort(key).equals(read.sort(key))
    expected = _expected(parses, step)
    assert kept.height == min(SAMPLE_ROWS, expected.height)
    assert kept.join(expected, on=key, how="anti").is_empty(), "a sampled row is not a step-th row of its file"


def test_a_stored_share_at_a_finer_step_gives_the_coarser_one(tmp_path: Path) -> None:
    rows = pl.DataFrame({SOURCE_FILE: "f", SOURCE_ROW: range(1, 1_001)})
    sample_shares.keep_base(tmp_path, "abc", rows, 100, files=4)  # as if 4 000 rows: step 32, base 16
    assert sample_shares.stored_share(tmp_path, "abc", 8) is None, "a finer step cannot come from a coarser one"
    for step in (16, 32, 128):
        share = sample_shares.stored_share(tmp_path, "abc", step)
        assert share is not None
        assert share.equals(rows.gather_every(step)), step
    sample_shares.prune(tmp_path, {"other"})
    assert list((tmp_path / sample_shares.FOLDER).glob("*")) == []


def test_an_extract_of_one_file_keeps_its_share_at_the_step_itself(tmp_path: Path) -> None:
    rows = pl.DataFrame({SOURCE_FILE: "f", SOURCE_ROW: range(1, 1_001)})
    sample_shares.keep_base(tmp_path, "one", rows, 100, files=1)  # step 8, known: no margin
    assert [p.name for p in (tmp_path / sample_shares.FOLDER).glob("*.parquet")] == ["one-8.parquet"]
    share = sample_shares.stored_share(tmp_path, "one", sample_shares.step_for(rows.height, 100))
    assert share is not None
    assert share.equals(rows.gather_every(8))

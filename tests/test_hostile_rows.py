"""Hostile extracts (issue 15): every row problem is a quarantined row with
file, row and reason; every file problem is one ExtractError naming the file.

The cases are numbered as in the issue; each reproduces the input that used
to crash or mislead and asserts what happens now."""

import gzip
import threading
import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from kam_pipeline.errors import ExtractError
from kam_pipeline.ingest.contract import EXTRACTS_BY_NAME
from kam_pipeline.ingest.contract.extracts import fx_month_key, fx_rate_key
from kam_pipeline.ingest.contract.rules import RuleContext
from kam_pipeline.ingest.dialect import CsvDialect
from kam_pipeline.ingest.parsing import LandingFile, parse_file
from kam_pipeline.ingest.snapshot import FileState
from kam_pipeline.ingest.staging import stage_extract

from .conftest import TINY, write_landing

LINES = EXTRACTS_BY_NAME["invoice_lines"]
MANAGERS = EXTRACTS_BY_NAME["account_managers"]
LINES_HEADER = TINY["erp/invoice_lines/2026-11.csv"].splitlines()[0]
MANAGERS_HEADER = TINY["crm/account_managers.csv"].splitlines()[0]


def _lines(count: int, start: int = 1) -> list[str]:
    return [f"IN-{i:07d},1,INVOICE,2026-11-10,C1,P-1,1,{i}.25,5.00,EUR" for i in range(start, start + count)]


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def _ctx(*customers: str) -> RuleContext:
    """What invoice lines are checked against: accepted customers and FX rates."""
    keys = {
        "erp_customers": pl.DataFrame({"key": list(customers)}),
        "fx_rates": pl.DataFrame({"currency": ["USD"], "month": ["2026-10"]}).select(
            fx_rate_key(pl.col("currency"), fx_month_key()).alias("key")
        ),
        "fx_currencies": pl.DataFrame({"key": ["USD"]}),
    }
    return RuleContext(date(2026, 11, 28), "EUR", keys)


def _by_row(rejected: pl.DataFrame) -> dict[int, tuple[str, str]]:
    return {r["source_row"]: (r["rule"], r["message"]) for r in rejected.iter_rows(named=True)}


def test_1_bad_numbers_at_the_end_of_a_multi_chunk_file_are_quarantined(tmp_path: Path) -> None:
    bad = [
        "IN-X-001,1,INVOICE,2026-11-10,C1,P-10287,1,1e309,50.00,EUR",
        "IN-X-002,1,INVOICE,2026-11-10,C1,P-10287,1,NaN,50.00,EUR",
    ]
    for good in (100, 500, 1000, 20_000):
        path = _write(tmp_path / f"{good}.csv", "\n".join([LINES_HEADER, *_lines(good), *bad]) + "\n")
        parsed = parse_file(LINES, path, path.name)
        assert parsed.rows_read == good + 2
        assert len(parsed.rows) == good
        rejected = _by_row(parsed.rejected)
        assert set(rejected) == {good + 1, good + 2}
        assert rejected[good + 1] == (
            "parse.type",
            "'1e309' is not a valid number (with '.' as decimal mark, below 1e+14)",
        )
        assert parsed.rejected.get_column("raw_record").to_list() == bad


def test_2_parquet_floats_beyond_the_money_range_or_not_whole_are_quarantined(tmp_path: Path) -> None:
    frame = pl.read_csv(
        ("\n".join([LINES_HEADER, *_lines(4)]) + "\n").encode(), schema_overrides={"line_no": pl.Int64}
    ).with_columns(
        line_no=pl.Series([1.0, 1.5, 2.0, 3.0]),
        net_amount=pl.Series([10.0, 20.0, 1e14, float("nan")]),
        cost_amount=pl.Series([1.0, 2.0, 3.0, float("inf")]),
        invoice_date=pl.lit(date(2026, 11, 10)),
    )
    path = tmp_path / "lines.parquet"
    frame.write_parquet(path)
    parsed = parse_file(LINES, path, "erp/invoice_lines/2026-11.parquet")
    assert parsed.rows.get_column("invoice_id").to_list() == ["IN-0000001"]
    found = {(r["source_row"], r["column_name"]) for r in parsed.rejected.iter_rows(named=True)}
    assert found == {(2, "line_no"), (3, "net_amount"), (4, "net_amount"), (4, "cost_amount")}
    assert set(parsed.rejected.get_column("rule")) == {"parse.type"}
    assert parsed.rejected.get_column("source_file").unique().to_list() == ["erp/invoice_lines/2026-11.parquet"]


@pytest.mark.parametrize("value", ["NaN", "nan", "inf", "-Infinity", "1e400"])
def test_3_non_finite_capacity_is_quarantined_from_csv(tmp_path: Path, value: str) -> None:
    path = _write(tmp_path / "m.csv", f"{MANAGERS_HEADER}\nAM1,Ann,AM,DACH,{value},90\nAM2,Bo,AM,DACH,1200,90\n")
    parsed = parse_file(MANAGERS, path, "crm/account_managers.csv")
    assert parsed.rows.get_column("owner_id").to_list() == ["AM2"]
    assert _by_row(parsed.rejected)[1][0] == "parse.type"
    assert "finite number" in _by_row(parsed.rejected)[1][1]


def test_3_non_finite_capacity_is_quarantined_from_parquet(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "owner_id": ["AM1", "AM2", "AM3"],
            "name": ["Ann", "Bo", "Cy"],
            "role": ["AM", "AM", "KAM"],
            "region": ["DACH"] * 3,
            "capacity_hours": [float("nan"), 1200.0, float("inf")],
            "hourly_cost": [pl.Series([90.0])[0]] * 3,
        }
    ).with_columns(pl.col("hourly_cost").cast(pl.Decimal(18, 4)))
    path = tmp_path / "m.parquet"
    frame.write_parquet(path)
    parsed = parse_file(MANAGERS, path, "crm/account_managers.parquet")
    assert parsed.rows.get_column("owner_id").to_list() == ["AM2"]
    assert sorted(_by_row(parsed.rejected)) == [1, 3]


def test_4_a_padded_key_is_the_same_key_and_its_copy_is_a_duplicate(tmp_path: Path) -> None:
    landing = write_landing(tmp_path / "landing", TINY)
    month = landing / "erp" / "invoice_lines" / "2026-11.csv"
    first = TINY["erp/invoice_lines/2026-11.csv"].splitlines()[1]
    _write(
        month,
        TINY["erp/invoice_lines/2026-11.csv"] + " " + first.replace(",C2,", ", C2 ,").replace("I3,", "I3 ,") + "\n",
    )
    staged = stage_extract(LINES, landing, _ctx("C1", "C2", "C3"), tmp_path / "parsed")
    assert staged.rows_read == 5
    rules = staged.rejected.select("source_file", "source_row", "rule").rows()
    assert rules == [("erp/invoice_lines/2026-11.csv", 2, "invoice_lines.key.unique")]
    accepted = staged.accepted.collect()
    assert accepted.filter(pl.col("invoice_id") == "I3").height == 1


def test_5_a_file_growing_while_it_is_read_is_one_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "lines.csv", "\n".join([LINES_HEADER, *_lines(3000)]) + "\n")
    file = LandingFile.at(path, "erp/invoice_lines/2026-11.csv")
    stop = threading.Event()

    def append() -> None:
        row = 10_000
        while not stop.is_set():
            with path.open("a") as handle:
                handle.write(_lines(1, row)[0] + "\n")
            row += 1
            time.sleep(0.001)

    writer = threading.Thread(target=append)
    writer.start()
    try:
        time.sleep(0.01)
        with pytest.raises(ExtractError, match=r"erp/invoice_lines/2026-11\.csv: file changed while reading"):
            parse_file(LINES, file.path, file.name, file.dialect, file.state)
    finally:
        stop.set()
        writer.join()


def test_9_a_file_appended_during_staging_stops_the_extract(tmp_path: Path) -> None:
    """The parse saw one version; the file changed before staging finished."""
    landing = write_landing(tmp_path / "landing", TINY)
    month = landing / "erp" / "invoice_lines" / "2026-11.csv"
    _write(month, "\n".join([LINES_HEADER, *_lines(20_000)]) + "\n")
    ctx = _ctx("C1", "C3")
    stop = threading.Event()

    def append_slowly() -> None:
        row = 50_000
        while not stop.is_set():
            time.sleep(0.02)
            with month.open("a") as handle:
                handle.write(_lines(1, row)[0] + "\n")
            row += 1

    writer = threading.Thread(target=append_slowly)
    writer.start()
    try:
        with pytest.raises(ExtractError, match=r"2026-11\.csv: file changed while reading"):
            stage_extract(LINES, landing, ctx, tmp_path / "parsed")
    finally:
        stop.set()
        writer.join()


def test_a_state_taken_before_a_change_is_never_parsed_as_the_new_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "lines.csv", "\n".join([LINES_HEADER, *_lines(3)]) + "\n")
    state = FileState.of(path)
    with path.open("a") as handle:
        handle.write(_lines(1, 99)[0] + "\n")
    with pytest.raises(ExtractError, match="file changed while reading"):
        parse_file(LINES, path, "lines.csv", None, state)


@pytest.mark.parametrize("content", ["header", "empty"])
def test_8_a_header_only_or_empty_month_file_stops_the_extract(tmp_path: Path, content: str) -> None:
    landing = write_landing(tmp_path / "landing", TINY)
    _write(landing / "erp" / "invoice_lines" / "2026-11.csv", LINES_HEADER + "\n" if content == "header" else "")
    ctx = _ctx("C1", "C2", "C3")
    expected = "no data rows" if content == "header" else "file is empty"
    with pytest.raises(ExtractError, match=f"erp/invoice_lines/2026-11.csv: .*{expected}"):
        stage_extract(LINES, landing, ctx, tmp_path / "parsed")


def test_8_a_header_only_file_is_valid_for_an_extract_that_may_be_empty(tmp_path: Path) -> None:
    path = _write(tmp_path / "fx.csv", "currency,month,rate_to_reporting\r\n")
    parsed = parse_file(EXTRACTS_BY_NAME["fx_rates"], path, "erp/fx_rates.csv")
    assert parsed.rows_read == 0 and parsed.rejected.is_empty()


def test_14_more_than_four_decimals_is_rejected_not_rounded(tmp_path: Path) -> None:
    rows = [
        "I1,1,INVOICE,2026-11-10,C1,P1,1,12.34567,5,EUR",
        "I2,1,INVOICE,2026-11-10,C1,P1,1,12.34560,5,EUR",
        "I3,1,INVOICE,2026-11-10,C1,P1,1,99999999999999.9999,5,EUR",
    ]
    path = _write(tmp_path / "l.csv", "\n".join([LINES_HEADER, *rows]) + "\n")
    parsed = parse_file(LINES, path, "l.csv")
    assert _by_row(parsed.rejected) == {1: ("parse.type", "'12.34567' has more than 4 decimals")}
    assert [str(v) for v in parsed.rows.get_column("net_amount")] == ["12.3456", "99999999999999.9999"]


def test_14_control_characters_in_text_are_quarantined(tmp_path: Path) -> None:
    text = f"{MANAGERS_HEADER}\nAM1,Ann\x00Smith,AM,DACH,1200,90\nAM2,Bo\x07,AM,DACH,1200,90\nAM3,Cy\tDe,AM,DACH,1,2\nAM4,Dee,AM,DACH,1,2\n"
    parsed = parse_file(MANAGERS, _write(tmp_path / "m.csv", text), "crm/account_managers.csv")
    assert parsed.rows.get_column("owner_id").to_list() == ["AM4"]
    rejected = _by_row(parsed.rejected)
    assert {rule for rule, _ in rejected.values()} == {"parse.text"}
    assert rejected[1][1] == "'Ann\u2400Smith' contains a control character"
    assert parsed.rejected.get_column("raw_record").to_list()[0] == "AM1,Ann\x00Smith,AM,DACH,1200,90"


def test_14_a_padded_currency_is_the_currency(tmp_path: Path) -> None:
    path = _write(tmp_path / "l.csv", f"{LINES_HEADER}\nI1,1,INVOICE,2026-11-10, C1 ,P1,1,12.5,5,EUR \n")
    parsed = parse_file(LINES, path, "l.csv")
    assert parsed.rejected.is_empty()
    assert parsed.rows.select("erp_customer_id", "currency").row(0) == ("C1", "EUR")


def test_free_text_is_kept_as_written_and_blank_codes_are_missing(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.csv", f"{MANAGERS_HEADER}\nAM1 ,  Ann Smith ,AM,   ,1200,90\n")
    parsed = parse_file(MANAGERS, path, "m.csv")
    assert parsed.rows.select("owner_id", "name", "region").row(0) == ("AM1", "  Ann Smith ", None)


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (gzip.compress(b"invoice_id,line_no\n"), "gzip-compressed"),
        (b"PK\x03\x04rest-of-a-workbook", "a ZIP archive"),
        (b"PAR1\x00\x00", "a Parquet file"),
    ],
)
def test_14_a_compressed_file_named_csv_says_what_it_is(tmp_path: Path, payload: bytes, kind: str) -> None:
    path = _write(tmp_path / "2026-11.csv", payload)
    with pytest.raises(ExtractError, match=f"2026-11.csv: file is {kind}"):
        parse_file(LINES, path, "erp/invoice_lines/2026-11.csv")


def test_an_invalid_byte_names_its_row_and_the_encoding_setting(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "m.csv",
        f"{MANAGERS_HEADER}\nAM1,Ann,AM,DACH,1,2\n".encode() + "AM2,Zoë,AM,DACH,1,2\n".encode("cp1252"),
    )
    with pytest.raises(ExtractError, match=r"not UTF-8 text: byte 0xeb in row 2 \(line 3\).*\[csv\]"):
        parse_file(MANAGERS, path, "m.csv")
    parsed = parse_file(MANAGERS, path, "m.csv", CsvDialect(encoding="cp1252"))
    assert parsed.rows.get_column("name").to_list() == ["Ann", "Zoë"]

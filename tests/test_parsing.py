"""CSV and Parquet parsing against the contract: every row is typed or quarantined."""

from pathlib import Path

import polars as pl
import pytest

from kam_pipeline.errors import ExtractError
from kam_pipeline.ingest.contract import EXTRACTS_BY_NAME
from kam_pipeline.ingest.parsing import LandingFile, attach_raw, parse_file

MANAGERS = EXTRACTS_BY_NAME["account_managers"]
HEADER = "owner_id,name,role,region,capacity_hours,hourly_cost"


def _write(tmp_path: Path, text: str | bytes, name: str = "m.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_bom_crlf_quotes_and_empty_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, f'\ufeff{HEADER}\r\nAM1,"Doe, Jane",AM,DACH,1200,90.5\r\nAM2,"Say ""hi""",KAM,,800,\r\n')
    parsed = parse_file(MANAGERS, path, "crm/m.csv")
    assert parsed.rejected.is_empty()
    assert parsed.rows_read == 2
    rows = parsed.rows.to_dicts()
    assert rows[0]["name"] == "Doe, Jane"
    assert rows[1]["name"] == 'Say "hi"'
    assert rows[1]["region"] is None and rows[1]["hourly_cost"] is None
    assert parsed.rows.schema["capacity_hours"] == pl.Float64
    assert parsed.rows.schema["hourly_cost"] == pl.Decimal(18, 4)
    assert parsed.rows.get_column("_source_row").to_list() == [1, 2]


def test_ragged_and_unparseable_rows_are_quarantined_with_raw_text(tmp_path: Path) -> None:
    text = f'{HEADER}\nAM1,A,AM,DACH,1200,90\nAM2,B,AM,DACH,12x0,90\nAM3,C,AM,DACH,1,2,3\nAM4,"D,AM,X,1,2\nAM5,E,AM\n'
    parsed = parse_file(MANAGERS, _write(tmp_path, text), "crm/m.csv")
    assert parsed.rows.get_column("owner_id").to_list() == ["AM1"]
    bad = parsed.rejected.sort("source_row").select("source_row", "rule", "column_name", "value", "raw_record")
    assert bad.get_column("source_row").to_list() == [2, 3, 4, 5]
    assert bad.row(0) == (2, "parse.type", "capacity_hours", "12x0", "AM2,B,AM,DACH,12x0,90")
    assert bad.get_column("rule").to_list()[1:] == ["parse.ragged"] * 3
    assert bad.row(3)[-1] == "AM5,E,AM"
    assert parsed.rows_read == len(parsed.rows) + parsed.rejected.get_column("source_row").n_unique()


def test_bad_dates_and_booleans_are_type_rejections(tmp_path: Path) -> None:
    accounts = EXTRACTS_BY_NAME["crm_accounts"]
    header = ",".join(accounts.column_names)
    text = f"{header}\nA,a,,Retail,DE,DACH,AM1,1,,3,true,2024-02-30\nB,b,,Retail,DE,DACH,AM1,1,,3,maybe,\n"
    parsed = parse_file(accounts, _write(tmp_path, text), "crm/accounts.csv")
    assert parsed.rows.is_empty()
    assert sorted(parsed.rejected.get_column("column_name").to_list()) == ["is_key_account", "key_account_since"]


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "owner_id,name,role,region,hourly_cost\nAM1,A,AM,DACH,90\n")
    with pytest.raises(ExtractError, match=r"crm/m\.csv: missing column capacity_hours"):
        parse_file(MANAGERS, path, "crm/m.csv")


def test_semicolon_file_gets_a_delimiter_hint(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER.replace(",", ";") + "\nAM1;A;AM;DACH;1;2\n")
    with pytest.raises(ExtractError, match="separated by ';'"):
        parse_file(MANAGERS, path, "crm/m.csv")


def test_latin1_file_is_a_clear_encoding_error(tmp_path: Path) -> None:
    path = _write(tmp_path, f"{HEADER}\nAM1,Jos\xe9,AM,DACH,1,2\n".encode("latin-1"))
    with pytest.raises(ExtractError, match="not UTF-8"):
        parse_file(MANAGERS, path, "crm/m.csv")


def test_parquet_gives_the_same_rows_as_csv(tmp_path: Path) -> None:
    csv = _write(tmp_path, f"{HEADER}\nAM1,A,AM,DACH,1200,90.5\nAM2,B,KAM,,800,\n")
    from_csv = parse_file(MANAGERS, csv, "m").rows
    parquet = tmp_path / "m.parquet"
    from_csv.drop("_source_file", "_source_row").write_parquet(parquet)
    from_parquet = parse_file(MANAGERS, parquet, "m").rows
    assert from_parquet.equals(from_csv)


def test_attach_raw_reads_back_the_original_line(tmp_path: Path) -> None:
    path = _write(tmp_path, f"{HEADER}\nAM1,A,AM,DACH,1200,90\nAM2,B,XX,DACH,1,2\n")
    rejected = pl.DataFrame(
        {"source_file": ["m.csv"], "source_row": [2], "raw_record": [None]}, schema_overrides={"raw_record": pl.String}
    )
    filled = attach_raw(rejected, {"m.csv": LandingFile.at(path, "m.csv")})
    assert filled.get_column("raw_record").to_list() == ["AM2,B,XX,DACH,1,2"]

"""The working database: staging views (the accepted rows without a second copy), tables written in parts."""

from pathlib import Path

import polars as pl

from kam_pipeline.table_spec import Column, Table
from kam_pipeline.warehouse import database as warehouse


def _parsed(tmp_path: Path) -> Path:
    path = tmp_path / "parsed.parquet"
    pl.DataFrame({"_source_file": ["a.csv"] * 3, "_source_row": [1, 2, 3], "x": [10, 20, 30]}).write_parquet(path)
    return path


SPEC = Table("staging.e", "a test extract", (Column("_source_row", pl.Int64, "row"), Column("x", pl.Int64, "x")))


def _reject(con, row: int) -> None:
    frame = pl.DataFrame({"extract": ["e"], "source_file": ["a.csv"], "source_row": [row]})
    warehouse.replace_rows(con, "quality.rejected_rows", frame, {"extract": "e"})


def test_a_staging_view_is_the_parsed_rows_minus_the_quarantine(tmp_path: Path) -> None:
    parsed = _parsed(tmp_path)
    with warehouse.connect(tmp_path / "work.duckdb") as con:
        con.execute("CREATE TABLE staging.e AS SELECT 1 AS x")  # a working database from before views
        _reject(con, 2)
        rows = warehouse.stage_view(con, SPEC, "v1", "run-1", [parsed], "e")
        assert rows == 2
        assert con.execute("SELECT list(x ORDER BY x) FROM staging.e").fetchall()[0][0] == [10, 30]
        assert con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'e'").fetchall()[0][0] == 1
        assert con.execute("SELECT version FROM meta.table_versions").fetchall() == [("v1",)]
        _reject(con, 3)  # another quarantine is another version
        assert warehouse.stage_view(con, SPEC, "v2", "run-2", [parsed], "e") == 2
        assert con.execute("SELECT list(x ORDER BY x) FROM staging.e").fetchall()[0][0] == [10, 20]
        recorded = con.execute("SELECT version, written_by_run, row_count FROM meta.table_versions").fetchall()
        assert recorded == [("v2", "run-2", 2)]


def test_an_optional_extract_without_files_is_an_empty_typed_view(tmp_path: Path) -> None:
    with warehouse.connect(tmp_path / "work.duckdb") as con:
        assert warehouse.stage_view(con, SPEC, "v0", "run-1", [], "e") == 0
        types = con.execute(
            "SELECT list(data_type ORDER BY column_index) FROM duckdb_columns() WHERE table_name = 'e'"
        ).fetchone()[0]
        assert types == ["BIGINT", "BIGINT"]


def test_a_table_written_in_parts_and_a_table_scanned_lazily(tmp_path: Path) -> None:
    with warehouse.connect(tmp_path / "work.duckdb") as con:
        warehouse.replace_table(con, "marts.parts", pl.DataFrame(schema={"part": pl.String, "n": pl.Int64}))
        warehouse.append_rows(con, "marts.parts", pl.DataFrame({"n": [1, 2], "part": ["a", "a"]}))  # by name
        warehouse.append_rows(con, "marts.parts", pl.DataFrame({"part": ["b"], "n": [3]}))
        scan = warehouse.scan_table(con, "marts.parts")
        assert warehouse.read_table(con, "marts.parts").rows() == [("a", 1), ("a", 2), ("b", 3)]
        assert scan.filter(pl.col("part") == "b").collect().rows() == [("b", 3)]

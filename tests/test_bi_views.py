"""The bi views document themselves: every column has a comment, amounts name
their currency, names say what a column holds, and bi.data_quality reports
the newest run. Built from sql/ in a fresh in-memory DuckDB, as a publish does."""

from collections.abc import Iterator

import duckdb
import pytest

from kam_pipeline.warehouse.schema import create_tables, create_views, view_sources

DOCUMENTED_SCHEMAS = ("bi", "marts", "quality", "history", "meta")


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as con:
        create_tables(con)
        create_views(con)
        yield con


def _bi_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str | None]]:
    return con.execute(
        "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
        "WHERE schema_name = 'bi' ORDER BY table_name, column_index"
    ).fetchall()


def test_every_published_column_has_a_comment(con: duckdb.DuckDBPyConnection) -> None:
    undocumented = con.execute(
        "SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns() "
        "WHERE schema_name IN (SELECT unnest(?)) AND (comment IS NULL OR comment = '')",
        [list(DOCUMENTED_SCHEMAS)],
    ).fetchall()
    assert not undocumented
    views = con.execute("SELECT view_name FROM duckdb_views() WHERE schema_name = 'bi' AND comment IS NULL").fetchall()
    assert not views


def test_the_new_views_exist(con: duckdb.DuckDBPyConnection) -> None:
    views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE schema_name = 'bi'").fetchall()}
    assert {"kam_programme", "resource_allocation", "segment_summary", "kam_overrides", "scenarios"} <= views


def test_every_amount_names_the_reporting_currency(con: duckdb.DuckDBPyConnection) -> None:
    columns = _bi_columns(con)
    with_amounts = {view for view, _, data_type, _ in columns if data_type.startswith("DECIMAL")}
    with_currency = {view for view, column, _, _ in columns if column == "reporting_currency"}
    assert with_amounts <= with_currency
    silent = [
        f"{view}.{column}"
        for view, column, data_type, comment in columns
        if data_type.startswith("DECIMAL") and "reporting currency" not in (comment or "")
    ]
    assert not silent


def test_fractions_are_named_share_rate_or_ratio(con: duckdb.DuckDBPyConnection) -> None:
    misnamed = [
        f"{view}.{column}" for view, column, _, _ in _bi_columns(con) if column.endswith(("_pct", "utilisation"))
    ]
    assert not misnamed


def test_a_view_column_takes_the_comment_of_the_table_it_reads_before_a_lookup_view() -> None:
    sql = "SELECT (SELECT x FROM bi.current_run) AS x FROM ((marts.a AS a LEFT JOIN staging.b AS b USING (k)))"
    assert view_sources(sql) == ["marts.a", "staging.b", "bi.current_run"]


def test_the_currency_comes_from_the_run_that_published(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "INSERT INTO meta.runs (run_id, finished_at, status, reporting_currency) VALUES "
        "('old', '2026-11-01 00:00:00+00', 'SUCCESS', 'USD'), ('new', '2026-11-02 00:00:00+00', 'SUCCESS', 'CHF'), "
        "('failed', '2026-11-03 00:00:00+00', 'FAILURE', NULL)"
    )
    con.execute("INSERT INTO marts.segment_summary (level, tier, customers) VALUES ('GLOBAL', 'CORE', 3)")
    assert con.execute("SELECT reporting_currency FROM bi.segment_summary").fetchall() == [("CHF",)]


def test_data_quality_reports_the_newest_run_not_the_latest_as_of_date(con: duckdb.DuckDBPyConnection) -> None:
    """A rerun of an earlier as-of date is the newest run: its counts and only its rejected rows."""
    con.execute(
        "INSERT INTO meta.runs (run_id, as_of_date, finished_at, status) VALUES "
        "('run-later-date', '2026-11-28', '2026-11-28 02:00:00+00', 'SUCCESS'), "
        "('rerun', '2026-11-27', '2026-11-28 09:00:00+00', 'SUCCESS')"
    )
    con.execute(
        "INSERT INTO quality.reconciliation VALUES "
        "('run-later-date', '2026-11-28', 'invoice_lines', 1, 10, 8, 2, true), "
        "('rerun', '2026-11-27', 'invoice_lines', 1, 10, 9, 1, true)"
    )
    con.execute(
        "INSERT INTO quality.rejected_rows (extract, source_file, source_row, rule_group, run_id) VALUES "
        "('invoice_lines', 'a.csv', 1, 'ranges', 'run-later-date'), "
        "('invoice_lines', 'a.csv', 2, 'dates', 'run-later-date'), "
        "('invoice_lines', 'a.csv', 5, 'types', 'rerun')"
    )
    rows = con.execute(
        "SELECT run_id, rows_rejected, rule_group, rows_rejected_in_group FROM bi.data_quality"
    ).fetchall()
    assert rows == [("rerun", 1, "types", 1)]

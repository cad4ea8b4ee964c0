"""publish(): what the swap keeps and cleans (the process-level safety tests are in test_publish_safety.py)."""

import os
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from kam_pipeline.table_spec import SchemaMismatchError
from kam_pipeline.warehouse import database as warehouse
from kam_pipeline.warehouse.publish import RunRecord, publish


def _work_db(tmp_path: Path, rate_type: str = "DECIMAL(18,8)") -> Path:
    path = tmp_path / "work.duckdb"
    with warehouse.connect(path) as con:
        con.execute(
            "CREATE TABLE staging.fx_rates AS SELECT 'f.csv' AS _source_file, 1::BIGINT AS _source_row, "
            f"'USD' AS currency, '2026-01' AS month, 0.912345678912::{rate_type} AS rate_to_reporting"
        )
    return path


def _run(run_id: str) -> RunRecord:
    now = datetime.now(UTC)
    return RunRecord(run_id, date(2026, 11, 28), now, now)


def test_swap_keeps_previous_file_permissions_and_run_log(tmp_path: Path) -> None:
    work = _work_db(tmp_path)
    target = tmp_path / "bi" / "kam.duckdb"
    first = publish(work, target, _run("run-1"))
    assert first.tables["staging.fx_rates"] == 1
    assert "marts.customer_segments" in first.missing
    os.chmod(target, 0o640)
    publish(work, target, _run("run-2"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    previous = target.with_name(".kam.duckdb.previous")
    with duckdb.connect(str(previous), read_only=True) as con:
        assert con.execute("SELECT list(run_id) FROM meta.runs").fetchone()[0] == ["run-1"]
    with duckdb.connect(str(target), read_only=True) as con:
        # run-1 was never written to the working database's log: it is carried over from the published file
        assert sorted(con.execute("SELECT list(run_id) FROM meta.runs").fetchone()[0]) == ["run-1", "run-2"]
    assert not list(target.parent.glob("*.building*"))


def test_a_stale_wal_of_the_old_file_is_set_aside(tmp_path: Path) -> None:
    work = _work_db(tmp_path)
    target = tmp_path / "kam.duckdb"
    publish(work, target, _run("run-1"))
    target.with_name("kam.duckdb.wal").write_bytes(b"not a wal of the new file")
    publish(work, target, _run("run-2"))
    assert not target.with_name("kam.duckdb.wal").exists()
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM meta.runs").fetchone()[0] == 2


def test_a_failed_build_leaves_the_published_file_and_no_temporary_file(tmp_path: Path) -> None:
    work = _work_db(tmp_path)
    target = tmp_path / "kam.duckdb"
    publish(work, target, _run("run-1"))
    with warehouse.connect(work) as con:  # a column the published schema declares is gone
        con.execute("ALTER TABLE staging.fx_rates DROP COLUMN rate_to_reporting")
    with pytest.raises(SchemaMismatchError, match="missing column rate_to_reporting"):
        publish(work, target, _run("run-2"))
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT list(run_id) FROM meta.runs").fetchone()[0] == ["run-1"]
    assert not list(tmp_path.glob(".*building*"))


def _set_version(work: Path, version: str) -> None:
    """Record a version of staging.fx_rates as the staging step does (with its row count)."""
    with warehouse.connect(work) as con:
        con.execute(
            "CREATE TABLE IF NOT EXISTS meta.table_versions "
            "(table_name VARCHAR, version VARCHAR, written_by_run VARCHAR, row_count BIGINT)"
        )
        con.execute("DELETE FROM meta.table_versions")
        con.execute(
            "INSERT INTO meta.table_versions SELECT 'staging.fx_rates', ?, 'r', count(*) FROM staging.fx_rates",
            [version],
        )


def _rates(target: Path) -> list[tuple]:
    with duckdb.connect(str(target), read_only=True) as con:
        return con.execute("SELECT currency, month, rate_to_reporting FROM staging.fx_rates ORDER BY ALL").fetchall()


def test_an_unchanged_table_is_carried_over_and_a_changed_one_rewritten(tmp_path: Path) -> None:
    work, target = _work_db(tmp_path), tmp_path / "kam.duckdb"
    _set_version(work, "v1")
    assert publish(work, target, _run("run-1")).kept == []  # no previous file
    carried = publish(work, target, _run("run-2"))
    assert carried.kept == ["staging.fx_rates"]
    assert carried.tables["staging.fx_rates"] == 1
    with duckdb.connect(str(target), read_only=True) as con:
        assert sorted(con.execute("SELECT list(run_id) FROM meta.runs").fetchone()[0]) == ["run-1", "run-2"]
        assert con.execute("SELECT count(*) FROM bi.data_quality").fetchall()  # views were created again
        assert con.execute("SELECT version FROM meta.table_versions").fetchall() == [("v1",)]
    with warehouse.connect(work) as con:
        con.execute("INSERT INTO staging.fx_rates VALUES ('f.csv', 2, 'GBP', '2026-01', 1.1)")
    _set_version(work, "v2")
    rewritten = publish(work, target, _run("run-3"))
    assert rewritten.kept == []
    assert [r[0] for r in _rates(target)] == ["GBP", "USD"]


def test_a_published_table_whose_rows_changed_is_not_carried_over(tmp_path: Path) -> None:
    work, target = _work_db(tmp_path), tmp_path / "kam.duckdb"
    _set_version(work, "v1")
    publish(work, target, _run("run-1"))
    with duckdb.connect(str(target)) as con:  # somebody edited the published file
        con.execute("DELETE FROM staging.fx_rates")
    assert publish(work, target, _run("run-2")).kept == []
    assert [r[0] for r in _rates(target)] == ["USD"]


def test_a_type_drift_in_the_working_database_is_refused_not_cast(tmp_path: Path) -> None:
    """An amount that became a double upstream must not be rounded into DECIMAL silently."""
    work = _work_db(tmp_path, rate_type="DOUBLE")
    target = tmp_path / "kam.duckdb"
    with pytest.raises(SchemaMismatchError, match=r"staging\.fx_rates: rate_to_reporting is DOUBLE, declared DECIMAL"):
        publish(work, target, _run("run-1"))
    assert not target.exists()

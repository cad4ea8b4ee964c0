"""publish(): what the swap keeps and cleans (the process-level safety tests are in test_publish_safety.py)."""

import errno
import os
import shutil
import stat
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from kam_pipeline.table_spec import SchemaMismatchError
from kam_pipeline.warehouse import database as warehouse
from kam_pipeline.warehouse import publish as publish_module
from kam_pipeline.warehouse import schema
from kam_pipeline.warehouse.publish import DiskFullError, RunRecord, disk_space_problem, publish
from kam_pipeline.warehouse.tables import UNRECORDED


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
    return RunRecord(run_id, date(2026, 11, 28), now, now, "EUR")


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
        # the log comes from the working database, where each publish records its run
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


def _set_files(work: Path, versions: dict[str, str]) -> None:
    """Record staging.fx_rates' landing files as the staging step does (meta.staged_files)."""
    with warehouse.connect(work) as con:
        con.execute(
            "CREATE OR REPLACE TABLE meta.staged_files (table_name VARCHAR, source_file VARCHAR, version VARCHAR, "
            "rows_read BIGINT, rows_rejected BIGINT, parsed_by_run BOOLEAN, validated_by_run BOOLEAN, run_id VARCHAR)"
        )
        for name, version in versions.items():
            con.execute(
                "INSERT INTO meta.staged_files VALUES ('staging.fx_rates', ?, ?, 1, 0, true, true, 'r')",
                [name, version],
            )


def test_a_table_whose_files_changed_in_part_gets_only_those_files_rows_replaced(tmp_path: Path) -> None:
    work, target = _work_db(tmp_path), tmp_path / "kam.duckdb"
    with warehouse.connect(work) as con:
        con.execute("INSERT INTO staging.fx_rates VALUES ('g.csv', 1, 'GBP', '2026-01', 1.1)")
    _set_files(work, {"f.csv": "f1", "g.csv": "g1"})
    _set_version(work, "v1")
    publish(work, target, _run("run-1"))
    with warehouse.connect(work) as con:  # g.csv grew, h.csv arrived, f.csv did not change
        con.execute(
            "INSERT INTO staging.fx_rates VALUES ('g.csv', 2, 'SEK', '2026-01', 0.09), "
            "('h.csv', 1, 'NOK', '2026-01', 0.08)"
        )
    _set_files(work, {"f.csv": "f1", "g.csv": "g2", "h.csv": "h1"})
    _set_version(work, "v2")
    refreshed = publish(work, target, _run("run-2"))
    assert refreshed.refreshed == {"staging.fx_rates": 2} and refreshed.kept == []
    assert [r[0] for r in _rates(target)] == ["GBP", "NOK", "SEK", "USD"]
    with warehouse.connect(work) as con:  # f.csv was removed
        con.execute("DELETE FROM staging.fx_rates WHERE _source_file = 'f.csv'")
    _set_files(work, {"g.csv": "g2", "h.csv": "h1"})
    _set_version(work, "v3")
    assert publish(work, target, _run("run-3")).refreshed == {"staging.fx_rates": 0}
    assert [r[0] for r in _rates(target)] == ["GBP", "NOK", "SEK"]
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT version FROM meta.table_versions").fetchall() == [("v3",)]


def test_a_refresh_that_would_not_give_the_working_rows_fills_the_table_afresh(tmp_path: Path) -> None:
    """A file version that did not change although its rows did (which the
    staging step never records) cannot leave the published table wrong: the
    row count no longer matches, and the table is filled from the working database."""
    work, target = _work_db(tmp_path), tmp_path / "kam.duckdb"
    _set_files(work, {"f.csv": "f1"})
    _set_version(work, "v1")
    publish(work, target, _run("run-1"))
    with warehouse.connect(work) as con:
        con.execute("INSERT INTO staging.fx_rates VALUES ('f.csv', 2, 'GBP', '2026-01', 1.1)")
    _set_version(work, "v2")
    assert publish(work, target, _run("run-2")).refreshed == {"staging.fx_rates": 0}
    assert [r[0] for r in _rates(target)] == ["GBP", "USD"]


def test_a_published_table_whose_rows_changed_is_not_carried_over(tmp_path: Path) -> None:
    work, target = _work_db(tmp_path), tmp_path / "kam.duckdb"
    _set_version(work, "v1")
    publish(work, target, _run("run-1"))
    with duckdb.connect(str(target)) as con:  # somebody edited the published file
        con.execute("DELETE FROM staging.fx_rates")
    assert publish(work, target, _run("run-2")).kept == []
    assert [r[0] for r in _rates(target)] == ["USD"]


HISTORY = "history.customer_segments"
NIGHTS = [date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 28)]


def _with_history(work: Path) -> None:
    """An empty history.customer_segments of the declared columns, as the segmentation step's first write makes it."""
    columns = ", ".join(f"{c.name} {c.data_type}" for c in schema.declared_tables()[HISTORY])
    with warehouse.connect(work) as con:
        con.execute(f"CREATE TABLE {HISTORY} ({columns})")


def _snapshot(work: Path, as_of: date, run_id: str, customers: list[str]) -> None:
    """Write the snapshot of `as_of` as the segmentation step does (database.replace_snapshot)."""
    frame = pl.DataFrame({"customer_id": customers, "as_of_date": [as_of] * len(customers)})
    with warehouse.connect(work) as con:
        warehouse.replace_snapshot(con, HISTORY, frame, as_of, run_id)


def _history(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT as_of_date, customer_id FROM {HISTORY} ORDER BY ALL").fetchall()


def test_history_is_carried_over_and_only_the_snapshots_written_since_are_replaced(tmp_path: Path) -> None:
    """Every night adds a snapshot; the publish copies that one, not every
    night's again, and a rerun or backfill of a published date replaces it."""
    work, target = _work_db(tmp_path), tmp_path / "kam.duckdb"
    _with_history(work)
    _snapshot(work, NIGHTS[0], "run-1", ["C1", "C2"])
    assert publish(work, target, _run("run-1")).refreshed == {}  # the first publish builds afresh
    _snapshot(work, NIGHTS[1], "run-2", ["C1", "C2", "C3"])
    assert publish(work, target, _run("run-2")).refreshed == {HISTORY: 1}
    _snapshot(work, NIGHTS[2], "run-3", ["C1"])
    assert publish(work, target, _run("run-3")).refreshed == {HISTORY: 1}
    assert _history(target) == _history(work) and len(_history(target)) == 6
    _snapshot(work, NIGHTS[1], "run-4", ["C4"])  # a backfill of an earlier date
    _snapshot(work, NIGHTS[2], "run-4", ["C1", "C5"])  # and a rerun of the latest
    assert publish(work, target, _run("run-4")).refreshed == {HISTORY: 2}
    assert (
        _history(target)
        == _history(work)
        == [
            (NIGHTS[0], "C1"),
            (NIGHTS[0], "C2"),
            (NIGHTS[1], "C4"),
            (NIGHTS[2], "C1"),
            (NIGHTS[2], "C5"),
        ]
    )
    with duckdb.connect(str(target), read_only=True) as con:
        versions = con.execute("SELECT as_of_date, written_by_run, row_count FROM meta.snapshot_versions ORDER BY 1")
        assert versions.fetchall() == [(NIGHTS[0], "run-1", 2), (NIGHTS[1], "run-4", 1), (NIGHTS[2], "run-4", 2)]


def test_history_kept_before_snapshot_versions_is_versioned_and_published_whole(tmp_path: Path) -> None:
    work, target = _work_db(tmp_path), tmp_path / "kam.duckdb"
    _with_history(work)
    with warehouse.connect(work) as con:  # an older version wrote two nights without versions
        con.execute(f"INSERT INTO {HISTORY} (customer_id, as_of_date) VALUES ('C1', ?), ('C2', ?)", NIGHTS[:2])
    _snapshot(work, NIGHTS[2], "run-3", ["C3"])
    with warehouse.connect(work) as con:
        assert con.execute(
            "SELECT as_of_date, written_by_run, row_count FROM meta.snapshot_versions ORDER BY 1"
        ).fetchall() == [(NIGHTS[0], UNRECORDED, 1), (NIGHTS[1], UNRECORDED, 1), (NIGHTS[2], "run-3", 1)]
    publish(work, target, _run("run-3"))
    assert _history(target) == _history(work) and len(_history(target)) == 3


def test_an_edited_published_history_is_filled_afresh(tmp_path: Path) -> None:
    work, target = _work_db(tmp_path), tmp_path / "kam.duckdb"
    _with_history(work)
    _snapshot(work, NIGHTS[0], "run-1", ["C1", "C2"])
    publish(work, target, _run("run-1"))
    with duckdb.connect(str(target)) as con:  # somebody deleted a customer from the published history
        con.execute(f"DELETE FROM {HISTORY} WHERE customer_id = 'C2'")
    _snapshot(work, NIGHTS[1], "run-2", ["C3"])
    assert HISTORY not in publish(work, target, _run("run-2")).refreshed
    assert _history(target) == _history(work) and len(_history(target)) == 3


def test_a_type_drift_in_the_working_database_is_refused_not_cast(tmp_path: Path) -> None:
    """An amount that became a double upstream must not be rounded into DECIMAL silently."""
    work = _work_db(tmp_path, rate_type="DOUBLE")
    target = tmp_path / "kam.duckdb"
    with pytest.raises(SchemaMismatchError, match=r"staging\.fx_rates: rate_to_reporting is DOUBLE, declared DECIMAL"):
        publish(work, target, _run("run-1"))
    assert not target.exists()


def _published_runs(target: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(target), read_only=True) as con:
        return con.execute("SELECT run_id, status FROM meta.runs ORDER BY run_id").fetchall()


def test_disk_space_problem_is_one_line_with_the_path_and_both_sizes() -> None:
    assert disk_space_problem(Path("/bi"), needed=2_000_000, free=2_000_000) is None
    assert disk_space_problem(Path("/bi"), needed=2_500_000, free=1_200_000) == (
        "not enough disk space to publish in /bi: about 2.5 MB needed "
        "(the size of the last published warehouse or of the working database), 1.2 MB available"
    )


def test_too_little_free_space_is_refused_before_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work, target = _work_db(tmp_path), tmp_path / "kam.duckdb"
    publish(work, target, _run("run-1"))
    free = shutil.disk_usage(tmp_path)._replace(free=1000)
    monkeypatch.setattr(publish_module.shutil, "disk_usage", lambda _path: free)
    with pytest.raises(DiskFullError, match=rf"^not enough disk space to publish in {tmp_path}: .* 0.0 MB available$"):
        publish(work, target, _run("run-2"))
    assert _published_runs(target) == [("run-1", "SUCCESS")]
    assert not list(tmp_path.glob(".*building*"))


def test_a_disk_full_copy_leaves_no_building_file_and_the_previous_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, target = _work_db(tmp_path), tmp_path / "kam.duckdb"
    _set_version(work, "v1")
    publish(work, target, _run("run-1"))

    def copy_until_full(source: Path, destination: Path) -> None:  # what the OS does on a full disk
        Path(destination).write_bytes(Path(source).read_bytes()[:4096])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(publish_module.shutil, "copyfile", copy_until_full)
    with pytest.raises(DiskFullError, match=rf"^not enough disk space to publish in {tmp_path}: about .* available$"):
        publish(work, target, _run("run-2"))  # staging.fx_rates is unchanged: the build starts with a copy
    assert not list(tmp_path.glob(".*building*"))
    assert _published_runs(target) == [("run-1", "SUCCESS")]
    with warehouse.connect(work) as con:  # the failed run is not in the log the next publish carries over
        assert con.execute("SELECT list(run_id) FROM meta.runs").fetchone()[0] == ["run-1"]


def test_a_publish_killed_between_its_record_and_its_swap_is_logged_as_failed(tmp_path: Path) -> None:
    """What kill -9 leaves: the working database recorded run-x, whose file is still `.building`."""
    work, target = _work_db(tmp_path), tmp_path / "kam.duckdb"
    publish(work, target, _run("run-1"))
    with warehouse.connect(work) as con:
        con.execute("UPDATE meta.last_publish SET run_id = 'run-x'")
        con.execute("INSERT INTO meta.runs SELECT * REPLACE ('run-x' AS run_id) FROM meta.runs")
    shutil.copyfile(target, tmp_path / ".kam.duckdb.run-x.building")
    publish(work, target, _run("run-2"))
    assert not list(tmp_path.glob(".*building*"))
    assert _published_runs(target) == [("run-1", "SUCCESS"), ("run-2", "SUCCESS"), ("run-x", "FAILURE")]


def test_a_client_holding_the_published_file_read_write_does_not_stop_the_publish(tmp_path: Path) -> None:
    """The published file is never opened: not to carry the run log over, not to find reusable tables."""
    work, target = _work_db(tmp_path), tmp_path / "kam.duckdb"
    _set_version(work, "v1")
    publish(work, target, _run("run-1"))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ_WRITE, str(target)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "holding\n"
        assert publish(work, target, _run("run-2")).kept == ["staging.fx_rates"]  # carried over by byte copy
        with warehouse.connect(work) as con:
            con.execute("INSERT INTO staging.fx_rates VALUES ('f.csv', 2, 'GBP', '2026-01', 1.1)")
        _set_version(work, "v2")
        assert publish(work, target, _run("run-3")).kept == []
        assert holder.poll() is None
        holder.stdin.write("\n")  # the client still sees its old file
        holder.stdin.flush()
        assert holder.stdout.readline() == "['run-1']\n"
    finally:
        holder.kill()
        holder.wait()
    assert [r[0] for r in _published_runs(target)] == ["run-1", "run-2", "run-3"]
    assert [r[0] for r in _rates(target)] == ["GBP", "USD"]


HOLD_READ_WRITE = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1])  # read-write, as a careless BI client would
print("holding", flush=True)
sys.stdin.readline()
print(con.execute("SELECT list(run_id ORDER BY run_id) FROM meta.runs").fetchone()[0], flush=True)
"""

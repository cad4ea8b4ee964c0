"""The instance's event log storage (assets/event_log.py), as dagster.yaml selects it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.event_log import SqliteEventLogStorage

from assets.event_log import MAX_ENGINES, PooledSqliteEventLogStorage

REPO_ROOT = Path(__file__).resolve().parents[1]


@dg.asset
def counted() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.DagsterInstance:
    shutil.copy(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        yield instance


def test_dagster_yaml_selects_the_pooled_storage_in_dagsters_own_directory(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    storage = instance.event_log_storage
    assert isinstance(storage, PooledSqliteEventLogStorage)
    assert Path(storage._base_dir) == tmp_path / "history" / "runs"


def test_a_run_written_through_kept_engines_reads_the_same_with_dagsters_own_class(
    instance: dg.DagsterInstance,
) -> None:
    """Same files, schema and commits: Dagster's own storage (a switch back,
    or the webserver of another version) sees every event and the asset index."""
    result = dg.materialize([counted], instance=instance)
    assert result.success
    own = SqliteEventLogStorage(instance.event_log_storage._base_dir)
    events = own.get_records_for_run(result.run_id).records
    assert len(events) == len(instance.all_logs(result.run_id)) > 5
    latest = own.get_latest_materialization_events([dg.AssetKey("counted")])[dg.AssetKey("counted")]
    assert latest is not None and latest.run_id == result.run_id
    assert latest.asset_materialization.metadata["rows"].value == 3


def test_tables_are_found_as_dagsters_own_class_finds_them(instance: dg.DagsterInstance) -> None:
    """A missing table is asked again: it appears when another process migrates the index."""
    storage = instance.event_log_storage
    own = SqliteEventLogStorage(storage._base_dir)
    assert storage.has_table("asset_check_executions") is own.has_table("asset_check_executions") is True
    assert storage.has_table("added_later") is own.has_table("added_later") is False
    with own.index_connection() as conn:
        conn.exec_driver_sql("CREATE TABLE added_later (id INTEGER)")
    assert storage.has_table("added_later") is True


def test_engines_kept_are_bounded(instance: dg.DagsterInstance) -> None:
    storage = instance.event_log_storage
    assert isinstance(storage, PooledSqliteEventLogStorage)
    runs = [dg.materialize([counted], instance=instance).run_id for _ in range(MAX_ENGINES + 2)]
    assert storage.engines_open == MAX_ENGINES
    assert all(len(instance.all_logs(run_id)) > 5 for run_id in runs)  # an evicted run's shard opens again
    storage.dispose()
    assert storage.engines_open == 0


def test_a_forked_child_opens_its_own_engines(instance: dg.DagsterInstance) -> None:
    """SQLite connections must not cross a fork: the child starts without the
    parent's engines and reads the run through its own."""
    storage = instance.event_log_storage
    run_id = dg.materialize([counted], instance=instance).run_id
    assert storage.engines_open > 0
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running the parent's clean-up
        try:
            os.write(write, f"{storage.engines_open} {len(instance.all_logs(run_id))}".encode())
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    opened, events = os.read(read, 100).decode().split()
    assert int(opened) == 0
    assert int(events) == len(instance.all_logs(run_id)) > 5

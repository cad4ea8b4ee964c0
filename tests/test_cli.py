"""`kam-pipeline run` as operators and schedulers call it: environment in, summary or one-line error out."""

import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.definitions import defs
from assets.nightly import JOB_NAME, settings_run_config
from kam_pipeline.warehouse.run_control import run_lock

from .conftest import AS_OF

KAM = Path(sys.executable).with_name("kam-pipeline")


def _run(tmp_path: Path, landing: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "kam.toml"
    config.write_text(f'[paths]\ndata_docs_dir = "{tmp_path / "docs"}"\n')
    env = {
        **os.environ,
        "KAM_LANDING_DIR": str(landing),
        "KAM_WAREHOUSE_PATH": str(tmp_path / "bi" / "kam.duckdb"),
        "KAM_AS_OF": AS_OF,
        "KAM_CONFIG": str(config),
    }
    env.pop("DAGSTER_HOME", None)
    return subprocess.run([str(KAM), "run"], env=env, capture_output=True, text=True, timeout=300, check=False)


def test_run_uses_the_environment_and_prints_the_warehouse(tmp_path: Path, tiny_landing: Path) -> None:
    result = _run(tmp_path, tiny_landing)
    assert result.returncode == 0, result.stderr[-2000:]
    warehouse = tmp_path / "bi" / "kam.duckdb"
    assert f"warehouse:  {warehouse}" in result.stdout
    assert f"as-of date: {AS_OF}" in result.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM staging.invoice_lines").fetchone() == (4,)
        assert con.execute("SELECT max(as_of_date)::VARCHAR FROM marts.customer_segments").fetchone() == (AS_OF,)
    assert (tmp_path / "bi" / ".kam.duckdb.work" / "kam_work.duckdb").exists()


def test_a_missing_column_is_one_line_without_traceback(tmp_path: Path, tiny_landing: Path) -> None:
    customers = tiny_landing / "erp" / "customers.csv"
    customers.write_text(customers.read_text().replace("crm_account_id,", "crm_account,"))
    result = _run(tmp_path, tiny_landing)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: staging__erp_customers: erp/customers.csv: missing column crm_account_id "
        "(the contract expects a header with erp_customer_id, crm_account_id, customer_name, country_code; "
        "see docs/extracts.md)"
    ]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "bi" / "kam.duckdb").exists()


def test_a_second_run_is_refused_at_start_while_another_holds_the_warehouse(tmp_path: Path, tiny_landing: Path) -> None:
    """The test process plays the run in progress: it holds the run lock, as `kam-pipeline run` does."""
    warehouse = tmp_path / "bi" / "kam.duckdb"
    with run_lock(warehouse):
        result = _run(tmp_path, tiny_landing)
    assert result.returncode == 75
    line = rf"error: another run is in progress \(pid {os.getpid()}, started at 20\d\d-\d\d-\d\dT[0-9:]+\+00:00\)\n"
    assert re.fullmatch(line, result.stderr), result.stderr
    assert sorted(p.name for p in warehouse.parent.iterdir()) == [".kam.duckdb.run.lock"]  # no working db, no file


def test_a_failed_run_still_removes_the_temporary_files_of_a_killed_one(tmp_path: Path, tiny_landing: Path) -> None:
    """Stale `.building` files go at run start, not only at publish: this run fails before publishing."""
    stale = [
        tmp_path / "bi" / ".kam.duckdb.killed-run.building",
        tmp_path / "bi" / ".kam.duckdb.killed-run.building.wal",
    ]
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left by kill -9")
    customers = tiny_landing / "erp" / "customers.csv"
    customers.write_text(customers.read_text().replace("crm_account_id,", "crm_account,"))
    result = _run(tmp_path, tiny_landing)
    assert result.returncode == 1
    assert "missing column crm_account_id" in result.stderr
    assert not any(path.exists() for path in stale)


BAD_SETTINGS = {
    "impossible date": (
        "2026-02-30",
        "",
        "KAM_AS_OF: Input should be a valid date or datetime, day value is outside expected range (got '2026-02-30')",
    ),
    "future date": ("2099-01-01", "", "KAM_AS_OF: 2099-01-01 is after the latest allowed as-of date "),
    "negative hours": (
        AS_OF,
        "[kam]\nhours_per_key_account = -300\n",
        "{config} [kam] hours_per_key_account: Input should be greater than 0 (got -300)",
    ),
}


@pytest.mark.parametrize("case", BAD_SETTINGS)
def test_a_bad_setting_is_one_line_naming_its_source(tmp_path: Path, tiny_landing: Path, case: str) -> None:
    as_of, settings_file, expected = BAD_SETTINGS[case]
    config = tmp_path / "kam.toml"
    config.write_text(settings_file, encoding="utf-8")
    env = {
        **os.environ,
        "KAM_LANDING_DIR": str(tiny_landing),
        "KAM_WAREHOUSE_PATH": str(tmp_path / "kam.duckdb"),
        "KAM_AS_OF": as_of,
        "KAM_CONFIG": str(config),
    }
    env.pop("DAGSTER_HOME", None)
    result = subprocess.run([str(KAM), "run"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: settings: " + expected.format(config=config))
    assert result.stdout == ""
    assert not (tmp_path / "kam.duckdb").exists()


def test_a_bad_setting_fails_the_run_but_not_the_code_location(
    tmp_path: Path, tiny_landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "kam.toml"
    broken.write_text("[segmentation]\nabc_a_cut = 'most'\n", encoding="utf-8")
    monkeypatch.setenv("KAM_CONFIG", str(broken))
    job = defs().resolve_job_def(JOB_NAME)  # the location loads, with the schedule's defaults
    result = job.execute_in_process(
        run_config=settings_run_config(landing_dir=str(tiny_landing), warehouse_path=str(tmp_path / "k.duckdb")),
        partition_key=AS_OF,
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    assert f"settings: {broken} [segmentation] abc_a_cut:" in str(failure.event_specific_data.error)


def test_a_partitioned_run_refuses_another_as_of_in_its_run_config(tmp_path: Path, tiny_landing: Path) -> None:
    """The partition is the run's as-of date: a launchpad `as_of` that says otherwise is a mistake, not a choice."""
    config = settings_run_config(landing_dir=str(tiny_landing), warehouse_path=str(tmp_path / "k.duckdb"), as_of=AS_OF)
    result = (
        defs()
        .resolve_job_def(JOB_NAME)
        .execute_in_process(run_config=config, partition_key="2026-11-27", raise_on_error=False)
    )
    assert not result.success
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START]
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    assert f"run config as_of {AS_OF} differs from the run's partition 2026-11-27" in str(
        failure.event_specific_data.error
    )


def test_a_run_from_the_ui_or_the_schedule_is_refused_while_another_process_holds_the_warehouse(
    tmp_path: Path, tiny_landing: Path
) -> None:
    """Runs launched by Dagster take the lock in the settings resource, before any step."""
    warehouse = tmp_path / "bi" / "kam.duckdb"
    hold = f"from pathlib import Path; from kam_pipeline.warehouse.run_control import run_lock\nwith run_lock(Path({str(warehouse)!r})):\n    print('held', flush=True); input()"
    holder = subprocess.Popen([sys.executable, "-c", hold], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        result = (
            defs()
            .resolve_job_def(JOB_NAME)
            .execute_in_process(
                run_config=settings_run_config(landing_dir=str(tiny_landing), warehouse_path=str(warehouse)),
                partition_key=AS_OF,
                raise_on_error=False,
            )
        )
    finally:
        holder.kill()
        holder.wait()
    assert not result.success
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START]
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    assert f"another run is in progress (pid {holder.pid}, started at " in str(failure.event_specific_data.error)
    assert sorted(p.name for p in warehouse.parent.iterdir()) == [".kam.duckdb.run.lock"]

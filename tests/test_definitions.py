"""The code location loads, and its shape changes only on purpose."""

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from assets.definitions import defs
from assets.nightly import AS_OF_TAG, JOB_NAME
from kam_pipeline.settings import SettingsError, load_settings, today

REPO = Path(__file__).resolve().parent.parent

EXPECTED_ASSETS = {
    "staging/account_managers",
    "staging/crm_accounts",
    "staging/erp_customers",
    "staging/kam_overrides",
    "staging/fx_rates",
    "staging/invoice_lines",
    "staging/opportunities",
    "warehouse/published",
    "reports/kam_report",
    "quality/unmapped_customers",
    "reports/data_docs",
    "marts/customer_segments",
    "marts/segment_summary",
    "marts/kam_candidates",
    "marts/resource_allocation",
    "marts/account_manager_load",
    "marts/capacity_gap",
    "marts/kam_overrides",
    "marts/kam_programme",
    "marts/kam_readiness",
    "marts/scenario_comparison",
    "marts/tier_migration",
}


def test_asset_keys_snapshot() -> None:
    keys = {key.to_user_string() for key in defs().resolve_asset_graph().get_all_asset_keys()}
    assert keys == EXPECTED_ASSETS


def test_every_asset_has_group_and_description() -> None:
    for spec in defs().resolve_all_asset_specs():
        assert spec.group_name and spec.group_name != "default", spec.key
        assert spec.description, spec.key


def test_every_asset_links_to_the_function_that_does_its_work() -> None:
    """The UI's code reference opens the asset's own function (its decorator
    line), not the wrapper that every warehouse asset shares."""
    for spec in defs().resolve_all_asset_specs():
        (reference,) = spec.metadata["dagster/code_references"].code_references
        line = Path(reference.file_path).read_text(encoding="utf-8").splitlines()[reference.line_number - 1]
        assert Path(reference.file_path).parent == REPO / "assets", spec.key
        assert Path(reference.file_path).name != "tables.py", spec.key
        assert line.lstrip().startswith(("@", "def ")), (spec.key, line)


def test_schedule_targets_the_nightly_job_at_two() -> None:
    schedule = defs().resolve_schedule_def(f"{JOB_NAME}_schedule")
    assert schedule.job_name == JOB_NAME
    assert schedule.cron_schedule == "0 2 * * *"
    job = defs().resolve_job_def(JOB_NAME)
    assert job.executor_def.name == "in_process"


def test_every_asset_is_partitioned_by_the_dates_a_run_accepts() -> None:
    """One daily partition per as-of date: from schedule.first_as_of to today in
    the schedule's timezone, exactly the dates load_settings accepts."""
    job = defs().resolve_job_def(JOB_NAME)
    partitions = job.partitions_def
    assert {spec.partitions_def for spec in defs().resolve_all_asset_specs()} == {partitions}
    first, last = partitions.get_first_partition_key(), partitions.get_last_partition_key()
    assert first == "2024-01-01"
    assert last == today("Europe/Berlin").isoformat()
    assert load_settings(as_of=first, environ={}).as_of.isoformat() == first
    assert load_settings(as_of=last, environ={}).as_of.isoformat() == last
    for outside in (
        datetime.fromisoformat(first) - timedelta(days=1),
        datetime.fromisoformat(last) + timedelta(days=1),
    ):
        with pytest.raises(SettingsError):
            load_settings(as_of=outside.date(), environ={})


def test_the_schedule_builds_the_partition_of_the_day_before_its_tick() -> None:
    definitions = defs()
    schedule = definitions.resolve_schedule_def(f"{JOB_NAME}_schedule")
    tick = datetime(2026, 11, 29, 2, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    context = dg.build_schedule_context(scheduled_execution_time=tick, repository_def=definitions.get_repository_def())
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-28"
    assert request.tags[AS_OF_TAG] == "2026-11-28"
    assert not request.run_config  # the date is the partition, nothing else


def test_staging_assets_carry_checks_per_rule_group() -> None:
    checks = {(k.asset_key.to_user_string(), k.name) for k in defs().resolve_asset_graph().asset_check_keys}
    assert ("staging/invoice_lines", "uniqueness") in checks
    assert ("staging/invoice_lines", "references") in checks
    assert ("staging/crm_accounts", "structure") in checks
    assert ("staging/opportunities", "reconciliation") in checks


def test_every_check_says_what_it_checks() -> None:
    """The UI shows a check's description next to its result: none may be blank."""
    graph = defs().resolve_asset_graph()
    specs = [graph.get_check_spec(key) for key in graph.asset_check_keys]
    assert len(specs) > 20
    blank = [spec.key.to_user_string() for spec in specs if not (spec.description or "").strip()]
    assert blank == []


def test_the_marts_carry_their_checks_blocking_where_publishing_would_mislead() -> None:
    graph = defs().resolve_asset_graph()
    specs = {
        (key.asset_key.to_user_string(), key.name): graph.get_check_spec(key).blocking for key in graph.asset_check_keys
    }
    assert specs[("marts/customer_segments", "one_row_per_customer")]
    assert specs[("marts/customer_segments", "revenue_shares_sum_to_one")]
    assert specs[("marts/customer_segments", "revenue_reconciles")]
    assert specs[("marts/kam_candidates", "one_row_per_customer")]
    assert specs[("marts/resource_allocation", "one_row_per_customer")]
    assert specs[("marts/kam_programme", "keep_add_within_seats")]
    assert not specs[("marts/account_manager_load", "allocated_within_capacity")]


def test_every_table_asset_shows_owners_and_the_published_column_comments() -> None:
    from kam_pipeline.warehouse.schema import declared_tables

    for spec in defs().resolve_all_asset_specs():
        assert spec.owners, spec.key
        table = spec.metadata.get("dagster/table_name")
        if spec.key.path[0] in {"warehouse", "reports"}:  # a file, not a table
            continue
        assert table == ".".join(spec.key.path)
        columns = spec.metadata["dagster/column_schema"].columns
        assert [(c.name, c.description) for c in columns] == [(c.name, c.comment) for c in declared_tables()[table]]


def test_marts_carry_a_freshness_policy_of_26_hours() -> None:
    marts = [s for s in defs().resolve_all_asset_specs() if s.key.path[0] == "marts"]
    assert marts
    for spec in marts:
        assert spec.freshness_policy.fail_window.to_timedelta().total_seconds() == 26 * 3600


def test_dg_check_defs_loads_the_project(tmp_path: Path) -> None:
    """`dg check defs` (the dg CLI's own loader) finds and loads the code location."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "VIRTUAL_ENV": str(bin_dir.parent)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    done = subprocess.run(
        [str(bin_dir / "dg"), "check", "defs"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "All definitions loaded successfully" in done.stdout + done.stderr


BROKEN_SETTINGS = {
    "broken TOML": "[schedule\n",
    "unknown key": '[schedule]\ncron = "0 3 * * *"\ncron_timezone = "UTC"\n',
    "wrong type": "[schedule]\ncron = 3\n",
}


@pytest.mark.parametrize("case", BROKEN_SETTINGS)
def test_a_broken_settings_file_breaks_no_import_and_not_the_code_location(tmp_path: Path, case: str) -> None:
    """Nothing under assets/ or kam_pipeline/ reads the settings at import: a
    fresh interpreter imports every module, and the definitions load with the
    defaults (the schedule at 02:00, not the broken file's) and say why."""
    config = tmp_path / "kam.toml"
    config.write_text(BROKEN_SETTINGS[case], encoding="utf-8")
    script = (
        "import importlib, pkgutil, assets, kam_pipeline\n"
        "for package in (assets, kam_pipeline):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n"
        "from assets.definitions import defs\n"
        "print(defs().resolve_schedule_def('kam_nightly_schedule').cron_schedule)\n"
    )
    env = {**os.environ, "KAM_CONFIG": str(config), "KAM_AS_OF": "tomorrow"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "0 2 * * *"
    assert f"settings: {config}" in done.stderr or f"settings: settings file {config}" in done.stderr

"""Command line: `kam-pipeline run` executes the nightly job once, in process.

It prints where the warehouse is and a short summary, and on failure the
one-line reason (file, problem, what the contract expects) before any detail.
"""

import argparse
import os
import sys
from datetime import date

import dagster as dg

from assets.definitions import defs
from assets.nightly import AS_OF_TAG, JOB_NAME, as_of_run_config
from kam_pipeline.report.summary import run_summary
from kam_pipeline.settings import SettingsError, load_settings


def _instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (runs then show in
    `dagster dev`), otherwise a throw-away one."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            error = event.step_failure_data.error
            user = event.step_failure_data.user_failure_data
            if user and user.description:
                return f"{event.step_key}: {user.description}"
            while error and error.cause:
                error = error.cause
            if error:
                return f"{event.step_key}: {error.message.strip().splitlines()[-1]}"
        if event.is_failure and event.event_type == dg.DagsterEventType.RUN_FAILURE and event.message:
            return event.message.strip().splitlines()[0]
    return "the run failed (see the Dagster run log)"


def run(as_of: str | None) -> int:
    try:  # the same resolution the run's resource does; a bad setting is one line here
        settings = load_settings(as_of=as_of)
    except SettingsError as exc:
        print(f"error: settings: {exc}", file=sys.stderr)
        return 1
    day = settings.as_of.isoformat()
    job = defs().resolve_job_def(JOB_NAME)
    log_level = os.environ.get("KAM_LOG_LEVEL", "CRITICAL")
    result = job.execute_in_process(
        instance=_instance(),
        run_config={**as_of_run_config(day), "loggers": {"console": {"config": {"log_level": log_level}}}},
        tags={AS_OF_TAG: day},
        raise_on_error=False,
    )
    if not result.success:
        print(f"error: {_first_error(result)}", file=sys.stderr)
        return 1
    print(run_summary(settings.warehouse_path))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kam-pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="run the nightly job once on the configured landing directory")
    run_cmd.add_argument(
        "--as-of", type=date.fromisoformat, help="as-of date YYYY-MM-DD (default KAM_AS_OF or yesterday)"
    )
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.as_of.isoformat() if args.as_of else None)
    return 2


if __name__ == "__main__":
    sys.exit(main())

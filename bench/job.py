"""One run of the nightly job, as `kam-pipeline run` does it, with its timings.

    python -m bench.job --landing DIR --warehouse FILE --work-dir DIR --docs-dir DIR --as-of DATE --report FILE

Started by bench/run.py as a fresh process, so that the figures include what
an operator pays: Python start-up, imports, the job in process (the same job
definition and executor as `kam-pipeline run`), against the Dagster instance
in DAGSTER_HOME when it is set (as `make run` does) or an ephemeral one.
Writes a JSON report: process, import and job times, every step's start and
end from the run's event log, the asset group of each step, and the probe
timings (bench/probes.py). Exit status 0 when the run succeeded.
"""

from __future__ import annotations

import time

IMPORT_START = time.time()

import argparse  # noqa: E402 (the timestamp above must come first)
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import dagster as dg  # noqa: E402
import psutil  # noqa: E402

from assets.cli import skip_final_collection  # noqa: E402
from assets.definitions import defs  # noqa: E402
from assets.nightly import JOB_NAME  # noqa: E402
from bench import probes  # noqa: E402

STEP_EVENTS = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.STEP_SKIPPED,
}


def step_groups() -> dict[str, str]:
    """Step key (the op's name) -> asset group of the assets it materialises."""
    groups = {}
    for item in defs().assets or []:
        if isinstance(item, dg.AssetsDefinition) and item.is_executable and item.keys:
            names = sorted({item.group_names_by_key[key] for key in item.keys})
            groups[item.node_def.name] = "+".join(names)
    return groups


def first_error(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            user = event.step_failure_data.user_failure_data
            if user and user.description:
                return f"{event.step_key}: {user.description}"
            error = event.step_failure_data.error
            while error and error.cause:
                error = error.cause
            if error:
                return f"{event.step_key}: {error.message.strip().splitlines()[-1]}"
    return "the run failed"


def step_times(instance: dg.DagsterInstance, run_id: str) -> list[dict[str, object]]:
    """Start and end (epoch seconds) of every step, from the run's event log."""
    steps: dict[str, dict[str, object]] = {}
    for entry in instance.all_logs(run_id, of_type=STEP_EVENTS):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        step = steps.setdefault(event.step_key, {"step_key": event.step_key})
        if event.event_type == dg.DagsterEventType.STEP_START:
            step["start"] = entry.timestamp
        else:
            step["end"] = entry.timestamp
            step["status"] = event.event_type_value
    return sorted(steps.values(), key=lambda s: float(s.get("start") or s.get("end") or 0))  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.job", description=__doc__)
    parser.add_argument("--landing", required=True)
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--docs-dir", required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--no-probes", action="store_true", help="do not time the pipeline's functions")
    args = parser.parse_args(argv)
    skip_final_collection()  # exits as `kam-pipeline run` does

    if not args.no_probes:
        probes.install()
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    config = {
        "landing_dir": args.landing,
        "warehouse_path": args.warehouse,
        "overrides": {"paths.work_dir": args.work_dir, "paths.data_docs_dir": args.docs_dir},
    }
    job = defs().resolve_job_def(JOB_NAME)
    job_start = time.time()
    result = job.execute_in_process(
        instance=instance,
        run_config={
            "resources": {"settings": {"config": config}},
            "loggers": {"console": {"config": {"log_level": os.environ.get("KAM_LOG_LEVEL", "CRITICAL")}}},
        },
        partition_key=args.as_of,
        raise_on_error=False,
    )
    job_end = time.time()
    report = {
        "process_start": psutil.Process().create_time(),
        "import_start": IMPORT_START,
        "job_start": job_start,
        "job_end": job_end,
        "success": result.success,
        "error": None if result.success else first_error(result),
        "run_id": result.run_id,
        "steps": step_times(instance, result.run_id),
        "groups": step_groups(),
        "probes": probes.calls,
        "probes_missing": probes.missing,
    }
    report["report_seconds"] = time.time() - job_end  # the benchmark's own reading of the event log
    args.report.write_text(json.dumps(report, indent=1), encoding="utf-8")
    if not result.success:
        print(f"error: {report['error']}", file=sys.stderr)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())

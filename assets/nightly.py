"""The nightly job and its schedule: the run-level automation.

The job runs in process (docs/decisions.md §1: the multiprocess executor costs
about a minute of Python start-ups, and one process also serialises writes
to the working database). The schedule's as-of date is the day before the
tick: a 02:00 run on the 29th segments the data up to and including the 28th.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from kam_pipeline.settings import ScheduleSettings

JOB_NAME = "kam_nightly"
#: Every run carries its as-of date as this tag, so the runs list tells dates apart.
AS_OF_TAG = "kam/as_of"
#: Set on a run when its publish committed (the swap): from then on the
#: warehouse is this run's, whatever happens to the rest of the run.
PUBLISHED_TAG = "kam/published"

nightly_job = dg.define_asset_job(
    JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Ingest, validate, segment, decide and publish the KAM warehouse.",
    executor_def=dg.in_process_executor,
)


def as_of_run_config(as_of: str, **fields: str) -> dict:
    """Run config that fixes the run's as-of date (and other settings fields)."""
    return {"resources": {"settings": {"config": {"as_of": as_of, **fields}}}}


def build_nightly_schedule(schedule: ScheduleSettings) -> dg.ScheduleDefinition:
    """Nightly run at the settings file's cron and timezone."""

    def _run_config(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        tick = context.scheduled_execution_time
        as_of = (tick.date() - timedelta(days=1)).isoformat()
        return dg.RunRequest(run_key=f"as_of={as_of}", run_config=as_of_run_config(as_of), tags={AS_OF_TAG: as_of})

    return dg.ScheduleDefinition(
        name=f"{JOB_NAME}_schedule",
        job=nightly_job,
        cron_schedule=schedule.cron,
        execution_timezone=schedule.timezone,
        execution_fn=_run_config,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Nightly segmentation for the previous day.",
    )

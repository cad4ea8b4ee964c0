"""The nightly job and its schedule.

The job runs in process (../shared/FACTS.md: the multiprocess executor costs
about a minute of Python start-ups, and one process also serialises writes
to the working database). The schedule's as-of date is the day before the
tick: a 02:00 run on the 29th segments the data up to and including the 28th.
"""

from datetime import timedelta

import dagster as dg
from kam_pipeline.assets.resources import SettingsResource

JOB_NAME = "kam_nightly"

nightly_job = dg.define_asset_job(
    JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Ingest, validate, segment, decide and publish the KAM warehouse.",
    executor_def=dg.in_process_executor,
)


def build_nightly_schedule(settings: SettingsResource) -> dg.ScheduleDefinition:
    """Nightly run at the settings file's cron and timezone."""
    run = settings.load()

    def _run_config(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        tick = context.scheduled_execution_time
        as_of = (tick.date() - timedelta(days=1)).isoformat()
        return dg.RunRequest(
            run_key=f"as_of={as_of}",
            run_config={"resources": {"settings": {"config": {"as_of": as_of}}}},
            tags={"kam/as_of": as_of},
        )

    return dg.ScheduleDefinition(
        name=f"{JOB_NAME}_schedule",
        job=nightly_job,
        cron_schedule=run.schedule.cron,
        execution_timezone=run.schedule.timezone,
        execution_fn=_run_config,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Nightly segmentation for the previous day.",
    )

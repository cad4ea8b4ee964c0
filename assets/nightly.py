"""The nightly job, its daily partitions and its schedule: the run-level automation.

The as-of date is the partition key: one daily partition per as-of date, so
the UI shows each date's status and a backfill over a date range rebuilds
that range's history, one run per date (README.md, "History and
backfills"). The partitions run from `schedule.first_as_of` to the latest
date a run accepts (today in the schedule's timezone plus
`schedule.max_as_of_days_ahead`): exactly the dates `load_settings` accepts.

The job runs in process (docs/decisions.md §1: the multiprocess executor costs
about a minute of Python start-ups, and one process also serialises writes
to the working database). The schedule builds the partition of the day
before its tick: a 02:00 run on the 29th segments the data up to and
including the 28th.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from kam_pipeline.settings import ScheduleSettings

JOB_NAME = "kam_nightly"
#: Every run carries its as-of date as this tag (besides Dagster's own
#: `dagster/partition`), so the runs list and the alerts tell dates apart.
AS_OF_TAG = "kam/as_of"
#: The tag Dagster gives a partitioned run: its partition key, our as-of date.
PARTITION_TAG = "dagster/partition"
#: Set on a run when its publish committed (the swap): from then on the
#: warehouse is this run's, whatever happens to the rest of the run.
PUBLISHED_TAG = "kam/published"

nightly_job = dg.define_asset_job(
    JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Ingest, validate, segment, decide and publish the KAM warehouse for one as-of date (partition).",
    executor_def=dg.in_process_executor,
)


def as_of_partitions(schedule: ScheduleSettings) -> dg.DailyPartitionsDefinition:
    """One partition per as-of date, days in the schedule's timezone; the last
    is the latest date a run accepts (today, or later when
    max_as_of_days_ahead allows it), so an intraday run has its partition."""
    return dg.DailyPartitionsDefinition(
        start_date=schedule.first_as_of.isoformat(),
        timezone=schedule.timezone,
        end_offset=1 + schedule.max_as_of_days_ahead,
    )


def settings_run_config(**fields: str) -> dict:
    """Run config that sets fields of the settings resource (landing_dir, ...)."""
    return {"resources": {"settings": {"config": fields}}}


def build_nightly_schedule(schedule: ScheduleSettings) -> dg.ScheduleDefinition:
    """Nightly run at the settings file's cron and timezone, for the day before the tick."""

    def _request(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        tick = context.scheduled_execution_time
        as_of = (tick.date() - timedelta(days=1)).isoformat()
        return dg.RunRequest(run_key=f"as_of={as_of}", partition_key=as_of, tags={AS_OF_TAG: as_of})

    return dg.ScheduleDefinition(
        name=f"{JOB_NAME}_schedule",
        job=nightly_job,
        cron_schedule=schedule.cron,
        execution_timezone=schedule.timezone,
        execution_fn=_request,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Nightly segmentation for the previous day (its partition).",
    )

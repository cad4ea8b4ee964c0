"""The run's settings as a Dagster resource, resolved once when the run starts.

Everything else an asset needs (the working database, Parquet paths) is
derived from these settings, so one launchpad edit reaches every asset, and
every asset of a run sees the same as-of date even when the run crosses
midnight. That date is the run's partition key (assets/nightly.py); the
`as_of` field only serves runs without one (assets materialised directly,
as the tests do). A setting that cannot be used fails the run with one line
(kam_pipeline.settings.SettingsError); nothing is read at import time.

In a run (not a sensor tick) the resource also holds the warehouse's run lock
from its setup to its teardown, so that one run at a time works on a
warehouse. The job runs in process (assets/nightly.py), so the resource is
set up once, before the first asset, and torn down after the last one: the
lock covers the whole run, from staging to publish. It then removes the
temporary files a killed run left, which no other run can be writing.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from assets.nightly import AS_OF_TAG, PARTITION_TAG
from kam_pipeline.settings import Settings, SettingsError, load_settings
from kam_pipeline.warehouse.publish import remove_stale_builds
from kam_pipeline.warehouse.run_control import RunInProgressError, run_lock


class SettingsResource(dg.ConfigurableResource):
    """The run's settings: config/kam.toml (or KAM_CONFIG), the KAM_* environment
    variables, then these fields. Blank fields fall back to the environment."""

    config_path: str = Field(default="", description="Settings file; blank = KAM_CONFIG or config/kam.toml.")
    as_of: str = Field(
        default="",
        description="As-of date YYYY-MM-DD of a run without a partition; a partitioned run's is its partition "
        "key. Blank = KAM_AS_OF, else the day before the run.",
    )
    landing_dir: str = Field(default="", description="Landing directory; blank = KAM_LANDING_DIR or the file's.")
    warehouse_path: str = Field(
        default="", description="Published DuckDB file; blank = KAM_WAREHOUSE_PATH or the file's."
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description='Per-run overrides of settings keys, e.g. {"segmentation.abc_a_cut": 0.7}.'
    )

    _resolved: Settings | None = PrivateAttr(default=None)
    _lock: ExitStack = PrivateAttr(default_factory=ExitStack)

    def load(self, now: datetime | None = None, partition: str | None = None) -> Settings:
        """Resolve the settings; `now` is the run's start (default: the clock),
        `partition` the run's partition key, which is its as-of date."""
        if partition and self.as_of and self.as_of != partition:
            raise SettingsError(
                f"run config as_of {self.as_of} differs from the run's partition {partition}: "
                "a partitioned run's as-of date is its partition key; leave as_of blank"
            )
        return load_settings(
            self.config_path or None,
            as_of=partition or self.as_of or None,
            landing_dir=self.landing_dir or None,
            warehouse_path=self.warehouse_path or None,
            overrides=self.overrides,
            now=now,
        )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        created = _run_created(context)
        run = context.dagster_run
        try:
            self._resolved = self.load(created, run.tags.get(PARTITION_TAG) if run else None)
        except SettingsError as exc:
            raise dg.Failure(description=f"settings: {exc}") from None
        if run is None:  # a sensor tick reads settings only
            return
        as_of = self._resolved.as_of.isoformat()
        if context.instance is not None and run.tags.get(AS_OF_TAG) != as_of:  # e.g. a backfill's runs
            context.instance.add_run_tags(run.run_id, {AS_OF_TAG: as_of})
        try:
            self._lock.enter_context(run_lock(self._resolved.warehouse_path, created))
        except RunInProgressError as exc:
            raise dg.Failure(description=str(exc)) from None
        remove_stale_builds(self._resolved.warehouse_path, self._resolved.work_db)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._lock.close()

    @property
    def resolved(self) -> Settings:
        """The settings this run resolved at its start."""
        if self._resolved is None:  # used outside a run (a sensor tick, a test)
            self._resolved = self.load()
        return self._resolved


def _run_created(context: dg.InitResourceContext) -> datetime | None:
    """When the run was created: the as-of default is the day before it,
    however long the run waits in the queue or runs."""
    run = context.dagster_run
    if run is None or context.instance is None:
        return None
    record = context.instance.get_run_record_by_id(run.run_id)
    return record.create_timestamp.astimezone(UTC) if record and record.create_timestamp else None

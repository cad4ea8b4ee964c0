"""The Dagster code location: every stage's definitions, assembled.

`dagster dev` and `dg dev` find this module through [tool.dagster] and
[tool.dg] in pyproject.toml. Only assembly and cross-cutting policy live
here (owners and table metadata from sql/, the marts' freshness policy, the
in-process executor); each stage's assets, checks and sensors are in their
own module beside it. The definitions are built when the code location
loads, not at import: the settings that shape them (schedule, sensor
interval, freshness window) are read then, and a broken settings file leaves
the defaults in place so the location still loads and each run reports the
problem in one line.
"""

from __future__ import annotations

import logging
import warnings
from datetime import timedelta

import dagster as dg

from assets.alerts import failure_alert_sensor
from assets.kam import (
    allocation,
    gap,
    kam_candidates,
    kam_overrides,
    kam_programme,
    kam_readiness,
    manager_load,
    scenario_comparison,
    tier_migration_matrix,
)
from assets.metadata import with_warehouse_metadata
from assets.nightly import as_of_partitions, build_nightly_schedule, nightly_job
from assets.publish import published_warehouse
from assets.quality import data_docs, quality_unmapped_customers
from assets.report import kam_report
from assets.resources import SettingsResource
from assets.segmentation import customer_segments, segment_summary
from assets.staging import STAGING_ASSETS, build_landing_sensor
from kam_pipeline.settings import definition_settings

MART_ASSETS = [
    customer_segments,
    segment_summary,
    kam_candidates,
    kam_overrides,
    allocation,
    manager_load,
    gap,
    kam_programme,
    tier_migration_matrix,
    scenario_comparison,
    kam_readiness,
]


def code_references(assets: list[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """Plain Dagster assets linked to their own function in the UI (warehouse
    assets link to their body, `tables.code_reference`), without the beta
    warning printed at every start-up."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return list(dg.with_source_code_references(assets))


@dg.definitions
def defs() -> dg.Definitions:
    settings, problem = definition_settings()
    if problem:
        logging.getLogger(__name__).warning(f"settings: {problem}; the definitions use the defaults")
    # Marts older than this are flagged in the UI (a missed night); Dagster's
    # freshness daemon evaluates the policy, no sensor needed.
    freshness = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=settings.freshness.marts_max_age_hours))

    # Every asset is partitioned by the as-of date (assets/nightly.py).
    partitions = as_of_partitions(settings.schedule)

    def dated(spec: dg.AssetSpec) -> dg.AssetSpec:
        return with_warehouse_metadata(spec).replace_attributes(partitions_def=partitions)

    def mart_policy(spec: dg.AssetSpec) -> dg.AssetSpec:
        return dated(spec).replace_attributes(freshness_policy=freshness)

    return dg.Definitions(
        assets=[
            *dg.map_asset_specs(
                dated,
                [
                    *STAGING_ASSETS,
                    quality_unmapped_customers,
                    *code_references([data_docs, published_warehouse]),
                    kam_report,
                ],
            ),
            *dg.map_asset_specs(mart_policy, MART_ASSETS),
        ],
        jobs=[nightly_job],
        schedules=[build_nightly_schedule(settings.schedule)],
        sensors=[build_landing_sensor(settings.sensors), failure_alert_sensor],
        resources={"settings": SettingsResource()},
        executor=dg.in_process_executor,
    )

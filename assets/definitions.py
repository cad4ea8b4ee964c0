"""The Dagster code location: assets, checks, job, schedule and resources.

`dagster dev` finds this module through [tool.dagster] in pyproject.toml.
Only assembly and cross-cutting policy live here; each stage's assets are in
the top-level assets/ folder (installed as kam_pipeline.assets).
"""

from datetime import timedelta

import dagster as dg
from kam_pipeline.assets.kam import kam_candidates, kam_programme, resource_allocation, tier_migration_matrix
from kam_pipeline.assets.metadata import with_warehouse_metadata
from kam_pipeline.assets.publish import published_warehouse
from kam_pipeline.assets.quality import quality_unmapped_customers
from kam_pipeline.assets.report import kam_report
from kam_pipeline.assets.resources import SettingsResource
from kam_pipeline.assets.schedules import build_nightly_schedule, nightly_job
from kam_pipeline.assets.segmentation import customer_segments, segment_summary
from kam_pipeline.assets.sensors import SENSORS
from kam_pipeline.assets.staging import STAGING_ASSETS

settings_resource = SettingsResource()

settings = settings_resource.load()

MART_ASSETS = [
    customer_segments,
    segment_summary,
    kam_candidates,
    resource_allocation,
    kam_programme,
    tier_migration_matrix,
]

#: Marts older than this are flagged in the UI (a missed night); Dagster's
#: freshness daemon evaluates the policy, no sensor needed.
MART_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=settings.freshness.marts_max_age_hours))


def _mart_policy(spec: dg.AssetSpec) -> dg.AssetSpec:
    return with_warehouse_metadata(spec).replace_attributes(freshness_policy=MART_FRESHNESS)


defs = dg.Definitions(
    assets=[
        *dg.map_asset_specs(
            with_warehouse_metadata, [*STAGING_ASSETS, quality_unmapped_customers, published_warehouse, kam_report]
        ),
        *dg.map_asset_specs(_mart_policy, MART_ASSETS),
    ],
    jobs=[nightly_job],
    schedules=[build_nightly_schedule(settings_resource)],
    sensors=SENSORS,
    resources={"settings": settings_resource},
    executor=dg.in_process_executor,
)

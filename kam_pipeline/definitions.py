"""The Dagster code location: assets, checks, job, schedule and resources.

`dagster dev` finds this module through [tool.dagster] in pyproject.toml.
Only assembly and cross-cutting policy live here; each stage's assets are in
the top-level assets/ folder (installed as kam_pipeline.assets).
"""

import dagster as dg

from kam_pipeline.assets.kam import kam_candidates, kam_programme, resource_allocation, tier_migration_matrix
from kam_pipeline.assets.publish import published_warehouse
from kam_pipeline.assets.quality import quality_unmapped_customers
from kam_pipeline.assets.segmentation import customer_segments, segment_summary
from kam_pipeline.assets.staging import STAGING_ASSETS
from kam_pipeline.resources import SettingsResource
from kam_pipeline.schedules import build_nightly_schedule, nightly_job

settings_resource = SettingsResource()

defs = dg.Definitions(
    assets=[
        *STAGING_ASSETS,
        quality_unmapped_customers,
        customer_segments,
        segment_summary,
        kam_candidates,
        resource_allocation,
        kam_programme,
        tier_migration_matrix,
        published_warehouse,
    ],
    jobs=[nightly_job],
    schedules=[build_nightly_schedule(settings_resource)],
    resources={"settings": settings_resource},
    executor=dg.in_process_executor,
)

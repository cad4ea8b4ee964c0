"""Dagster resource: the run's settings, editable per run in the launchpad.

Everything else an asset needs (the working database, Parquet paths) is
derived from these settings, so one launchpad edit reaches every asset.
"""

from typing import Any

import dagster as dg
from pydantic import Field

from kam_pipeline.settings import Settings, load_settings


class SettingsResource(dg.ConfigurableResource):
    """The run's settings: config/kam.toml (or KAM_CONFIG), the KAM_* environment
    variables, then these fields. Blank fields fall back to the environment."""

    config_path: str = Field(default="", description="Settings file; blank = KAM_CONFIG or config/kam.toml.")
    as_of: str = Field(default="", description="As-of date YYYY-MM-DD; blank = KAM_AS_OF, else yesterday.")
    landing_dir: str = Field(default="", description="Landing directory; blank = KAM_LANDING_DIR or the file's.")
    warehouse_path: str = Field(
        default="", description="Published DuckDB file; blank = KAM_WAREHOUSE_PATH or the file's."
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description='Per-run overrides of settings keys, e.g. {"segmentation.abc_a_cut": 0.7}.'
    )

    def load(self) -> Settings:
        return load_settings(
            self.config_path or None,
            as_of=self.as_of or None,
            landing_dir=self.landing_dir or None,
            warehouse_path=self.warehouse_path or None,
            overrides=self.overrides,
        )

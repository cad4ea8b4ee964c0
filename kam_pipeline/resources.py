"""Dagster resources: run settings (launchpad-editable) and the working warehouse."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
from pydantic import Field

from kam_pipeline import warehouse
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


class WarehouseResource(dg.ConfigurableResource):
    """The pipeline's working DuckDB database, inside the settings' work_dir."""

    settings: dg.ResourceDependency[SettingsResource]

    def path(self) -> Path:
        return self.settings.load().work_db

    def staging_parquet(self, extract: str) -> Path:
        """Accepted rows of an extract as Parquet, for lazy, streaming scans
        (the invoice lines are the one large input of every computation)."""
        return self.settings.load().work_dir / "staging" / f"{extract}.parquet"

    def scan_staging(self, extract: str) -> pl.LazyFrame:
        return pl.scan_parquet(self.staging_parquet(extract))

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(self.path()) as con:
            yield con

"""Typed settings loaded from one TOML file (config/kam.toml by default).

Precedence, highest first: per-run overrides (Dagster launchpad), the
environment variables KAM_LANDING_DIR / KAM_WAREHOUSE_PATH / KAM_AS_OF,
the settings file named by KAM_CONFIG, the defaults declared here.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kam_pipeline.ingest import dialect as csv_dialect

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "kam.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathSettings(_Section):
    landing_dir: Path = Path("data/landing")
    warehouse_path: Path = Path("data/warehouse/kam.duckdb")
    work_dir: Path | None = None  # default: a hidden folder next to the warehouse file
    data_docs_dir: Path | None = None  # default: reports/data_docs next to the warehouse file
    reports_dir: Path | None = None  # default: reports/html next to the warehouse file


class ScheduleSettings(_Section):
    cron: str = "0 2 * * *"
    timezone: str = "Europe/Berlin"


class ValidationSettings(_Section):
    unmapped_revenue_warn_share: float = 0.02
    ge_max_rows: int = 250_000
    sample_failures: int = 20


class PerformanceSettings(_Section):
    duckdb_memory_limit: str = "4GB"


class SensorSettings(_Section):
    settle_seconds: float = 60.0
    minimum_interval_seconds: int = 30


class FreshnessSettings(_Section):
    marts_max_age_hours: float = 26.0
    stale_extract_days: int = 3


class SegmentationSettings(_Section):
    reporting_currency: str = "EUR"
    window_months: int = 12
    customer_unit: Literal["group", "account"] = "group"
    basis: Literal["revenue", "margin"] = "revenue"  # the ABC view that drives tiers and KAM eligibility (§S6)
    abc_a_cut: float = 0.80
    abc_b_cut: float = 0.95
    trend_growth_pct: float = 0.10
    potential_high_pr: float = 0.80
    potential_medium_pr: float = 0.50
    potential_pipeline_min_share: float = 0.10
    inactive_days: int = 90
    threat_declining_pct: float = -0.15
    threat_lost_deals_share: float = 0.25
    threat_lost_deals_min_amount: float = 25_000.0
    threat_weak_position_max: int = 2
    threat_high_growth_pct: float = -0.30
    spend_per_employee: dict[str, float] = Field(
        default_factory=lambda: {
            "default": 150.0,
            "Manufacturing": 400.0,
            "Chemicals": 350.0,
            "Automotive": 380.0,
            "Retail": 120.0,
            "Healthcare": 200.0,
            "Logistics": 180.0,
            "Food & Beverage": 220.0,
            "Construction": 260.0,
            "Technology": 160.0,
        }
    )


class KamSettings(_Section):
    # §K2 score: weights of the factors, summing to 1
    weight_revenue: float = 0.50
    weight_margin: float = 0.30
    weight_potential: float = 0.10
    weight_growth: float = 0.10
    weight_position: float = 0.0
    # §K3 eligibility
    min_margin_pct: float = 0.10
    min_margin_coverage: float = 0.50
    strategic_industries: tuple[str, ...] = ()
    # §K4–§K5 capacity, selection, review rhythm
    incumbent_bonus: float = 10.0
    hours_per_key_account: float = 300.0
    grace_months: int = 12
    watch_band: float = 10.0
    review_months: tuple[int, ...] = (3, 6, 9, 12)
    review_every_run: bool = False
    turnover_cap: float = 0.20
    planned_kam_hours: dict[str, float] = Field(default_factory=dict)  # region -> hours of KAMs not yet hired
    override_expiry_days: int = 30
    # §K5.7 robustness of each decision
    robustness_draws: int = 200
    robustness_spread: float = 0.10
    robustness_seed: int = 20261203
    marginal_share: float = 0.10
    # §K6 coverage and load
    tier_hours: dict[str, float] = Field(
        default_factory=lambda: {
            "STRATEGIC": 80.0,
            "CORE": 40.0,
            "DEVELOP": 20.0,
            "MAINTAIN": 10.0,
            "SERVE_EFFICIENTLY": 0.0,
            "LAPSED": 0.0,
            "PROSPECT": 0.0,
        }
    )
    defend_extra_hours: float = 20.0
    win_back_hours: float = 8.0
    develop_needs_evidence: bool = True
    fte_hours: float = 1000.0
    load_over: float = 1.10
    load_under: float = 0.70
    # §K7 programme return
    control_prior_share: float = 0.80


class ReadinessSettings(_Section):
    """Thresholds of the programme-readiness verdict (docs/methodology.md §K12)."""

    min_top20_share: float = 0.50  # the top 20 % of customers carry at least this share of revenue
    min_score_gap: float = 10.0  # points between the last pick's score and the median eligible score
    min_input_coverage: float = 0.50  # share of A revenue with each input a weighted factor needs
    min_am_coverage: float = 0.80  # share of A/B customers whose hours are covered within capacity
    max_at_risk_share: float = 0.25  # share of A/B customers at risk
    min_stable_share: float = 0.70  # share of the ranking's picks that are not MARGINAL


class ScenarioSettings(_Section):
    """A what-if: other values for some segmentation and KAM settings
    (`[scenarios.<name>]` with dotted keys, docs/methodology.md §K11)."""

    description: str = ""
    segmentation: dict[str, Any] = Field(default_factory=dict)
    kam: dict[str, Any] = Field(default_factory=dict)


def _merged(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `changes` written over it; a table (dict) is merged key by key."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def changed_keys(changes: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"kam.planned_kam_hours.Nordics": 1400.0, ...}: the leaves of a scenario's changes."""
    leaves: dict[str, Any] = {}
    for key, value in changes.items():
        if isinstance(value, Mapping):
            leaves.update(changed_keys(value, f"{prefix}{key}."))
        else:
            leaves[f"{prefix}{key}"] = value
    return leaves


class Settings(_Section):
    """Everything a run needs besides its data."""

    as_of: date
    paths: PathSettings = PathSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    validation: ValidationSettings = ValidationSettings()
    freshness: FreshnessSettings = FreshnessSettings()
    sensors: SensorSettings = SensorSettings()
    performance: PerformanceSettings = PerformanceSettings()
    segmentation: SegmentationSettings = SegmentationSettings()
    kam: KamSettings = KamSettings()
    readiness: ReadinessSettings = ReadinessSettings()
    scenarios: dict[str, ScenarioSettings] = Field(default_factory=dict)
    #: `[csv.<system or extract>]`: how CSV exports are written (kam_pipeline.ingest.dialect).
    csv: dict[str, csv_dialect.CsvDialect] = Field(default_factory=dict)

    @field_validator("csv")
    @classmethod
    def _known_extracts(cls, sections: dict[str, csv_dialect.CsvDialect]) -> dict[str, csv_dialect.CsvDialect]:
        from kam_pipeline.ingest.contract import EXTRACTS

        names = {e.system for e in EXTRACTS} | {e.name for e in EXTRACTS}
        unknown = sorted(set(sections) - names)
        if unknown:
            raise ValueError(f"unknown extract or system {', '.join(unknown)} (known: {', '.join(sorted(names))})")
        for extract in EXTRACTS:
            csv_dialect.resolve(sections, extract.system, extract.name)
        return sections

    def dialect(self, system: str, extract: str) -> csv_dialect.CsvDialect:
        """The CSV notation of one extract's files."""
        return csv_dialect.resolve(self.csv, system, extract)

    def for_scenario(self, name: str) -> Settings:
        """These settings with scenario `name`'s changes applied (same data,
        paths and as-of date). Raises pydantic's ValidationError for a key or
        value the sections do not accept."""
        scenario = self.scenarios[name]
        return self.model_copy(
            update={
                "segmentation": SegmentationSettings.model_validate(
                    _merged(self.segmentation.model_dump(), scenario.segmentation)
                ),
                "kam": KamSettings.model_validate(_merged(self.kam.model_dump(), scenario.kam)),
                "scenarios": {},
            }
        )

    def resolve(self, path: Path) -> Path:
        """Paths in the settings file are relative to the repository root."""
        return path if path.is_absolute() else REPO_ROOT / path

    @property
    def landing_dir(self) -> Path:
        return self.resolve(self.paths.landing_dir)

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.paths.warehouse_path)

    @property
    def work_dir(self) -> Path:
        """Pipeline-private state (working database, Parquet). By default it
        sits next to the published file, so that each warehouse keeps its own
        history however KAM_WAREHOUSE_PATH is pointed."""
        if self.paths.work_dir is not None:
            return self.resolve(self.paths.work_dir)
        return self.warehouse_path.parent / f".{self.warehouse_path.name}.work"

    @property
    def work_db(self) -> Path:
        """The pipeline-private working database (never opened by BI tools)."""
        return self.work_dir / "kam_work.duckdb"

    def _beside_warehouse(self, configured: Path | None, default: str) -> Path:
        """A run's outputs live next to the warehouse they describe unless configured."""
        return self.resolve(configured) if configured is not None else self.warehouse_path.parent / default

    @property
    def data_docs_dir(self) -> Path:
        """Great Expectations Data Docs, one folder per run below it."""
        return self._beside_warehouse(self.paths.data_docs_dir, "reports/data_docs")

    @property
    def reports_dir(self) -> Path:
        """The static HTML reports, one per as-of date."""
        return self._beside_warehouse(self.paths.reports_dir, "reports/html")

    def parsed_dir(self, extract: str) -> Path:
        """Parsed rows of an extract's landing files, one Parquet file each
        (kam_pipeline/ingest/parse_cache.py)."""
        return self.work_dir / "parsed" / extract


class SettingsError(ValueError):
    """A setting that cannot be used, in one line naming where it came from
    (the settings file and key, the environment variable, or the launchpad)."""


def yesterday(timezone: str, now: datetime | None = None) -> date:
    """The day before `now` (default: the clock) in the schedule's timezone,
    so that a manual run and the 02:00 schedule agree on the as-of date
    whatever the host's zone."""
    moment = now.astimezone(ZoneInfo(timezone)) if now else datetime.now(ZoneInfo(timezone))
    return moment.date() - timedelta(days=1)


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = tree
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise SettingsError(f"{dotted}: {part} is a value, not a section")
        node = child
    node[leaf] = value


def _read_file(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"settings file {path} not found (KAM_CONFIG)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from None


def _one_line(error: ValidationError, origins: Mapping[str, str], path: Path) -> str:
    """The first problem of a validation error, named by where the value came
    from: `KAM_AS_OF`, a launchpad override, or the file and its key."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    where = origins.get(key) or next((o for k, o in origins.items() if key.startswith(k + ".")), None)
    source = where or f"{path} [{key.rpartition('.')[0] or 'top level'}] {key.rpartition('.')[2]}"
    shown = "" if first["type"] in ("missing", "extra_forbidden") else f" (got {first.get('input')!r})"
    message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    more = len(error.errors()) - 1
    return f"{source}: {message}{shown}" + (f"; and {more} more problem(s)" if more else "")


def load_settings(
    config_path: str | Path | None = None,
    *,
    as_of: str | date | None = None,
    landing_dir: str | None = None,
    warehouse_path: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Settings:
    """Load the settings file and apply environment and per-run overrides.

    Empty strings count as "not given", so that a launchpad field left blank
    falls back to the environment and then to the file. Without an as-of
    date anywhere, it is the day before `now` (the run's start). Any problem
    raises SettingsError with one line naming its source.
    """
    env = os.environ if environ is None else environ
    path = Path(config_path or env.get("KAM_CONFIG") or DEFAULT_CONFIG)
    tree = _read_file(path)
    origins: dict[str, str] = {}
    for key, value in (overrides or {}).items():
        _set_dotted(tree, key, value)
        origins[key] = f"launchpad override {key}"
    for key, given, variable in (
        ("paths.landing_dir", landing_dir, "KAM_LANDING_DIR"),
        ("paths.warehouse_path", warehouse_path, "KAM_WAREHOUSE_PATH"),
        ("as_of", as_of, "KAM_AS_OF"),
    ):
        if given:
            origins[key] = f"run config {key.rpartition('.')[2]}"
        elif env.get(variable):
            given = env[variable]
            origins[key] = variable
        if given:
            _set_dotted(tree, key, given)
    if not tree.get("as_of"):
        schedule = tree.get("schedule", {})
        timezone = schedule.get("timezone", ScheduleSettings().timezone) if isinstance(schedule, dict) else "UTC"
        tree["as_of"] = yesterday(str(timezone), now)
    try:
        settings = Settings.model_validate(tree)
    except ValidationError as exc:
        raise SettingsError(_one_line(exc, origins, path)) from None
    for name, scenario in settings.scenarios.items():
        for section, model in (("segmentation", SegmentationSettings), ("kam", KamSettings)):
            try:
                model.model_validate(_merged(getattr(settings, section).model_dump(), getattr(scenario, section)))
            except ValidationError as exc:
                first = exc.errors()[0]
                key = ".".join(str(part) for part in (section, *first["loc"]))
                message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
                shown = "" if first["type"] in ("missing", "extra_forbidden") else f" (got {first.get('input')!r})"
                raise SettingsError(f"{path} [scenarios.{name}] {key}: {message}{shown}") from None
    return settings


class DefinitionSettings(_Section):
    """The sections that shape the Dagster definitions themselves (the
    schedule's cron, the sensors' interval, the marts' freshness window)."""

    schedule: ScheduleSettings = ScheduleSettings()
    sensors: SensorSettings = SensorSettings()
    freshness: FreshnessSettings = FreshnessSettings()


def definition_settings(environ: Mapping[str, str] | None = None) -> tuple[DefinitionSettings, str | None]:
    """The definition-shaping sections of the settings file, and the problem
    when they cannot be read. Never raises: with a broken file the code
    location still loads with the defaults, and each run fails on the
    problem with one line (load_settings)."""
    env = os.environ if environ is None else environ
    path = Path(env.get("KAM_CONFIG") or DEFAULT_CONFIG)
    try:
        tree = _read_file(path)
        sections = {name: tree.get(name, {}) for name in DefinitionSettings.model_fields}
        return DefinitionSettings.model_validate(sections), None
    except SettingsError as exc:
        return DefinitionSettings(), str(exc)
    except ValidationError as exc:
        return DefinitionSettings(), _one_line(exc, {}, path)

"""Typed settings loaded from one TOML file (config/kam.toml by default).

Precedence, highest first: per-run overrides (Dagster launchpad), the
environment variables KAM_LANDING_DIR / KAM_WAREHOUSE_PATH / KAM_AS_OF,
the settings file named by KAM_CONFIG, the defaults declared here.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from kam_pipeline.ingest import dialect as csv_dialect

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "kam.toml"


#: A share of a whole, a rate or a probability.
Share = Annotated[float, Field(ge=0, le=1)]
#: Points on the 0-100 scale of the KAM score (§K2.2).
Points = Annotated[float, Field(ge=0, le=100)]
#: A growth rate that is a decline: at most 0, and revenue cannot fall by more than all of it.
Decline = Annotated[float, Field(ge=-1, le=0)]
#: Hours where 0 means "no time for this" (a tier served from the pool, no extra effort).
Hours = Annotated[float, Field(ge=0)]

#: The KAM weights must sum to 1 within this (binary fractions such as 0.1 do not add up exactly).
WEIGHT_SUM_TOLERANCE = 1e-9

#: pydantic error type of a rule between keys of one section (see _relation, _one_line).
RELATION_ERROR = "settings_relation"


def _relation(holds: bool, key: str, rule: str, got: Any, keys: tuple[str, ...] = ()) -> None:
    """Fail a rule between keys of one section. The error names `key` (the
    file's key, or the launchpad or environment source of any of `key` and
    `keys`) and `got`, like a single field's error (_one_line)."""
    if not holds:
        raise PydanticCustomError(
            RELATION_ERROR, "{rule}", {"rule": rule, "key": key, "keys": (key, *keys), "got": got}
        )


class _Section(BaseModel):
    # TOML accepts nan and inf; no threshold, hours value or share means anything with them.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PathSettings(_Section):
    landing_dir: Path = Path("data/landing")
    warehouse_path: Path = Path("data/warehouse/kam.duckdb")
    work_dir: Path | None = None  # default: a hidden folder next to the warehouse file
    data_docs_dir: Path | None = None  # default: reports/data_docs next to the warehouse file
    reports_dir: Path | None = None  # default: reports/html next to the warehouse file
    # Base URL under which a web server serves the reports folder next to the warehouse file
    # (`kam-pipeline serve-reports`, which `make dev` starts); blank: file:// links.
    reports_url: str = Field(default="", pattern=r"^(https?://\S+)?$")


class ScheduleSettings(_Section):
    cron: str = "0 2 * * *"
    timezone: str = "Europe/Berlin"
    # The latest as-of date a run accepts: today in `timezone` plus this many days. 0: the
    # extracts are dated in the business's zone, where a later day has not begun and has no
    # invoices; today itself stays allowed (an intraday run). Raise it only for a deliberate test.
    max_as_of_days_ahead: int = Field(default=0, ge=0)
    # The first as-of date a run accepts: the first daily partition in the Dagster UI
    # (assets/nightly.py), so the earliest date a backfill of history can start from.
    first_as_of: date = date(2024, 1, 1)

    @field_validator("cron")
    @classmethod
    def _five_field_cron(cls, value: str) -> str:
        """A typo would otherwise stop the code location from loading (Dagster refuses the schedule)."""
        fields = value.split()
        if len(fields) != len(_CRON_BOUNDS) or not all(map(_cron_field_ok, fields, _CRON_BOUNDS)):
            raise PydanticCustomError(
                "cron", "not a five-field cron (minute hour day-of-month month day-of-week), e.g. '0 2 * * *'"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        """The default as-of date and the latest allowed one are days in this zone."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError("timezone", "unknown IANA timezone (e.g. Europe/Berlin)") from None
        return value


class ValidationSettings(_Section):
    unmapped_revenue_warn_share: Share = 0.02  # 0: warn on any unmapped revenue
    ge_max_rows: int = Field(default=250_000, gt=0)  # the sample needs at least one row per extract
    sample_failures: int = Field(default=20, ge=0)  # 0: counts only, no example values


class PerformanceSettings(_Section):
    duckdb_memory_limit: str = "4GB"  # DuckDB's syntax: 4GB, 512MB, 80% (of the machine's memory)

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _duckdb_accepts(cls, value: str) -> str:
        """DuckDB's own parser decides, before any step opens a database with it."""
        try:
            duckdb.connect(config={"memory_limit": value}).close()
        except duckdb.Error:
            raise PydanticCustomError("memory_limit", "not a DuckDB memory limit (e.g. 4GB, 512MB, 80%)") from None
        return value


class SensorSettings(_Section):
    settle_seconds: float = Field(default=60.0, ge=0)  # 0: start as soon as the set is complete
    minimum_interval_seconds: int = Field(default=30, gt=0)


class FreshnessSettings(_Section):
    marts_max_age_hours: float = Field(default=26.0, ge=1 / 60)  # Dagster's freshness window is at least a minute
    stale_extract_days: int = Field(default=3, ge=0)  # 0: the newest line must be dated on the as-of date


class SegmentationSettings(_Section):
    reporting_currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")  # an ISO 4217 code, as the extracts use
    window_months: int = Field(default=12, gt=0)
    customer_unit: Literal["group", "account"] = "group"
    basis: Literal["revenue", "margin"] = "revenue"  # the ABC view that drives tiers and KAM eligibility (§S6)
    # 0 < abc_a_cut < abc_b_cut <= 1: shares of revenue; an empty A or B class is no segmentation
    abc_a_cut: float = Field(default=0.80, gt=0, le=1)
    abc_b_cut: float = Field(default=0.95, gt=0, le=1)
    trend_growth_pct: float = Field(default=0.10, ge=0)  # GROWING at or above +x, DECLINING at or below -x
    # 0 <= potential_medium_pr < potential_high_pr <= 1: percent ranks
    potential_high_pr: Share = 0.80
    potential_medium_pr: Share = 0.50
    # pipeline / revenue_t12m, and lost deals / revenue_t12m: ratios that may exceed 1, so no upper bound
    potential_pipeline_min_share: float = Field(default=0.10, ge=0)
    inactive_days: int = Field(default=90, gt=0)  # 0 days would leave no recent period: every customer inactive
    threat_declining_pct: Decline = -0.15
    threat_lost_deals_share: float = Field(default=0.25, ge=0)
    threat_lost_deals_min_amount: float = Field(default=25_000.0, ge=0)  # 0: no minimum amount
    threat_weak_position_max: int = Field(default=2, ge=0)  # position runs 1-5; 0 switches the reason off
    threat_high_growth_pct: Decline = -0.30  # at most threat_declining_pct: a steep decline is a decline
    spend_per_employee: dict[str, Annotated[float, Field(gt=0)]] = Field(  # an industry without an estimate is left out
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

    @model_validator(mode="after")
    def _ordered(self) -> SegmentationSettings:
        """Thresholds that bound classes from both sides must not cross, or a class is empty or overlaps."""
        _relation(
            self.abc_a_cut < self.abc_b_cut,
            "abc_a_cut",
            f"must be below abc_b_cut {self.abc_b_cut}",
            self.abc_a_cut,
            ("abc_b_cut",),
        )
        _relation(
            self.potential_medium_pr < self.potential_high_pr,
            "potential_medium_pr",
            f"must be below potential_high_pr {self.potential_high_pr}",
            self.potential_medium_pr,
            ("potential_high_pr",),
        )
        _relation(
            self.threat_high_growth_pct <= self.threat_declining_pct,
            "threat_high_growth_pct",
            f"must be at most threat_declining_pct {self.threat_declining_pct}",
            self.threat_high_growth_pct,
            ("threat_declining_pct",),
        )
        return self


class KamSettings(_Section):
    # §K2 score: weights of the factors, each >= 0 (0: the factor does not count), summing to 1
    weight_revenue: float = Field(default=0.50, ge=0)
    weight_margin: float = Field(default=0.30, ge=0)
    weight_potential: float = Field(default=0.10, ge=0)
    weight_growth: float = Field(default=0.10, ge=0)
    weight_position: float = Field(default=0.0, ge=0)
    # §K3 eligibility
    min_margin_pct: Share = 0.10  # 0: any non-negative margin; a key account does not lose money
    min_margin_coverage: Share = 0.50  # 0: margin always judged
    strategic_industries: tuple[str, ...] = ()
    # §K4–§K5 capacity, selection, review rhythm
    incumbent_bonus: Points = 10.0  # 0: no hysteresis
    hours_per_key_account: float = Field(default=300.0, gt=0)  # capacity = hours / this
    grace_months: int = Field(default=12, ge=0)  # 0: no grace period
    watch_band: Points = 10.0  # 0: no WATCH
    review_months: tuple[Annotated[int, Field(ge=1, le=12)], ...] = (3, 6, 9, 12)  # empty: every run is a review
    review_every_run: bool = False
    turnover_cap: Share = 0.20  # 0: no seat changes hands at a review
    # region -> hours of KAMs not yet hired; 0 lets a scenario cancel a hire the base plans
    # (tables merge key by key, so a scenario cannot remove a region)
    planned_kam_hours: dict[str, Hours] = Field(default_factory=dict)
    override_expiry_days: int = Field(default=30, ge=0)  # 0: only overrides that end on the as-of date
    # §K5.7 robustness of each decision
    robustness_draws: int = Field(default=200, ge=0)  # 0: no robustness test (every decision stable)
    robustness_spread: Share = 0.10  # the weight factors U(1 - spread, 1 + spread) stay >= 0
    robustness_seed: int = Field(default=20261203, ge=0)  # numpy seeds are non-negative
    marginal_share: Share = 0.10
    # §K6 coverage and load
    tier_hours: dict[str, Hours] = Field(  # 0: the tier is served from the pool
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
    defend_extra_hours: Hours = 20.0  # 0: no extra hours to defend
    win_back_hours: Hours = 8.0  # 0: no win-back effort
    develop_needs_evidence: bool = True
    fte_hours: float = Field(default=1000.0, gt=0)  # gap_fte = gap_hours / this
    # 0 <= load_under < load_over: utilisations (above 1 is overload); load_under 0 switches UNDER off
    load_over: float = Field(default=1.10, gt=0)
    load_under: float = Field(default=0.70, ge=0)
    # §K7 programme return: the A cut of prior revenue (prior_leaders), so 0 < share < 1 like abc_a_cut
    control_prior_share: float = Field(default=0.80, gt=0, lt=1)

    @model_validator(mode="after")
    def _consistent(self) -> KamSettings:
        """The score is a weighted mean only when the weights sum to 1; the load bands must not cross."""
        weights = [name for name in type(self).model_fields if name.startswith("weight_")]
        total = math.fsum(getattr(self, name) for name in weights)
        _relation(
            abs(total - 1) <= WEIGHT_SUM_TOLERANCE, "weight_*", "the weights must sum to 1", total, tuple(weights)
        )
        _relation(
            self.load_under < self.load_over,
            "load_under",
            f"must be below load_over {self.load_over}",
            self.load_under,
            ("load_over",),
        )
        return self


class ReadinessSettings(_Section):
    """Thresholds of the programme-readiness verdict (docs/methodology.md §K12)."""

    min_top20_share: Share = 0.50  # the top 20 % of customers carry at least this share of revenue
    min_score_gap: Points = 10.0  # points between the last pick's score and the median eligible score
    min_input_coverage: Share = 0.50  # share of A revenue with each input a weighted factor needs
    min_am_coverage: Share = 0.80  # share of A/B customers whose hours are covered within capacity
    max_at_risk_share: Share = 0.25  # share of A/B customers at risk
    min_stable_share: Share = 0.70  # share of the ranking's picks that are not MARGINAL


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
            raise PydanticCustomError(
                "csv_section",
                "unknown extract or system {unknown} (known: {known})",
                {"unknown": ", ".join(unknown), "known": ", ".join(sorted(names))},
            )
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

    def run_data_docs_dir(self, run_id: str) -> Path:
        """The Data Docs folder of one run: its validations and the step that renders them meet here."""
        return self.data_docs_dir / f"{self.as_of}_{run_id[:8]}"

    @property
    def reports_dir(self) -> Path:
        """The static HTML reports, one per as-of date."""
        return self._beside_warehouse(self.paths.reports_dir, "reports/html")

    @property
    def reports_root(self) -> Path:
        """The folder paths.reports_url serves: by default it holds the Data Docs and the HTML reports."""
        return self.warehouse_path.parent / "reports"

    def link(self, target: Path | str) -> str:
        """A link the Dagster UI can open to a report file (a path or a file:// URL):
        under paths.reports_url when the file is in the served folder, because a
        browser does not follow file:// links from a web page; else a file:// URL."""
        path = Path(url2pathname(urlsplit(target).path)) if isinstance(target, str) else target
        if self.paths.reports_url:
            try:
                relative = path.resolve().relative_to(self.reports_root.resolve())
            except ValueError:
                return path.resolve().as_uri()
            return f"{self.paths.reports_url.rstrip('/')}/{quote(relative.as_posix())}"
        return path.resolve().as_uri()

    def parsed_dir(self, extract: str) -> Path:
        """Parsed rows of an extract's landing files, one Parquet file each
        (kam_pipeline/ingest/parse_cache.py)."""
        return self.work_dir / "parsed" / extract


class SettingsError(ValueError):
    """A setting that cannot be used, in one line naming where it came from
    (the settings file and key, the environment variable, or the launchpad)."""


#: (lowest, highest) value of each cron field: minute, hour, day of month, month, day of week (7 = Sunday).
_CRON_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_CRON_ITEM = re.compile(r"^(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?$")


def _cron_field_ok(field: str, bounds: tuple[int, int]) -> bool:
    """One cron field: `*`, numbers, ranges and steps, comma-separated, within `bounds`."""
    low, high = bounds
    for item in field.split(","):
        match = _CRON_ITEM.match(item)
        if match is None:
            return False
        numbers = [int(n) for n in match.group(2, 3) if n is not None]
        if any(not low <= n <= high for n in numbers) or (match.group(4) is not None and int(match.group(4)) == 0):
            return False
    return True


def today(timezone: str, now: datetime | None = None) -> date:
    """The date of `now` (default: the clock) in the schedule's timezone,
    whatever the host's zone."""
    moment = now.astimezone(ZoneInfo(timezone)) if now else datetime.now(ZoneInfo(timezone))
    return moment.date()


def yesterday(timezone: str, now: datetime | None = None) -> date:
    """The day before `now` in the schedule's timezone, so that a manual run
    and the 02:00 schedule agree on the as-of date."""
    return today(timezone, now) - timedelta(days=1)


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


def _origin(loc: tuple[str, ...], origins: Mapping[str, str]) -> str | None:
    """The environment variable or launchpad override that gave the value at `loc`, if any."""
    key = ".".join(loc)
    return origins.get(key) or next((o for k, o in origins.items() if key.startswith(k + ".")), None)


def _in_file(loc: tuple[str, ...], path: Path) -> str:
    """`<file> [section] key`: the section is the first part of `loc` (a
    scenario's: `scenarios.<name>`), the key the rest, so that a table's
    entry reads `[kam] tier_hours.CORE`."""
    depth = min(2 if loc[0] == "scenarios" else 1, len(loc) - 1)
    return f"{path} [{'.'.join(loc[:depth]) or 'top level'}] {'.'.join(loc[depth:])}"


def _one_line(error: ValidationError, origins: Mapping[str, str], path: Path, prefix: tuple[str, ...] = ()) -> str:
    """The first problem of a validation error, named by where the value came
    from: `KAM_AS_OF`, a launchpad override, or the file and its key. `prefix`
    is the place of the validated model in the settings file."""
    first = error.errors()[0]
    loc = (*prefix, *(str(part) for part in first["loc"]))
    if first["type"] == RELATION_ERROR:  # a rule between keys: its loc is the section
        context = first["ctx"]
        involved = (_origin((*loc, key), origins) for key in context["keys"])
        source = next((o for o in involved if o), None) or _in_file((*loc, context["key"]), path)
        message, shown = first["msg"], f" (got {context['got']!r})"
    else:
        source = _origin(loc, origins) or _in_file(loc, path)
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        shown = "" if first["type"] in ("missing", "extra_forbidden") else f" (got {first.get('input')!r})"
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
    date anywhere, it is the day before `now` (the run's start); a later one
    than today in the schedule's timezone plus schedule.max_as_of_days_ahead
    is refused (a typo such as 2062 would otherwise read as a valid run).
    Any problem raises SettingsError with one line naming its source.
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
        ("paths.reports_url", None, "KAM_REPORTS_URL"),
        ("as_of", as_of, "KAM_AS_OF"),
    ):
        if given:
            origins[key] = f"run config {key.rpartition('.')[2]}"
        elif env.get(variable):
            given = env[variable]
            origins[key] = variable
        if given:
            _set_dotted(tree, key, given)
    try:  # first, because the default as-of date and the latest allowed one are days in its timezone
        schedule = ScheduleSettings.model_validate(tree.get("schedule", {}))
    except ValidationError as exc:
        raise SettingsError(_one_line(exc, origins, path, ("schedule",))) from None
    if not tree.get("as_of"):
        tree["as_of"] = yesterday(schedule.timezone, now)
    try:
        settings = Settings.model_validate(tree)
    except ValidationError as exc:
        raise SettingsError(_one_line(exc, origins, path)) from None
    for name, scenario in settings.scenarios.items():
        for section, model in (("segmentation", SegmentationSettings), ("kam", KamSettings)):
            try:  # the merged result, so that the rules between keys hold for the scenario as a whole
                model.model_validate(_merged(getattr(settings, section).model_dump(), getattr(scenario, section)))
            except ValidationError as exc:
                raise SettingsError(_one_line(exc, origins, path, ("scenarios", name, section))) from None
    if settings.as_of < schedule.first_as_of:
        source = _origin(("as_of",), origins) or _in_file(("as_of",), path)
        raise SettingsError(
            f"{source}: {settings.as_of} is before the first as-of date "
            f"schedule.first_as_of = {schedule.first_as_of} (the first daily partition)"
        )
    latest = today(schedule.timezone, now) + timedelta(days=schedule.max_as_of_days_ahead)
    if settings.as_of > latest:
        source = _origin(("as_of",), origins) or _in_file(("as_of",), path)
        raise SettingsError(
            f"{source}: {settings.as_of} is after the latest allowed as-of date {latest} (today in "
            f"{schedule.timezone} + schedule.max_as_of_days_ahead = {schedule.max_as_of_days_ahead})"
        )
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

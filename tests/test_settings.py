"""Settings: one typed object, one file, overrides in a documented order."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, get_args, get_origin

import pytest
from pydantic import BaseModel

from kam_pipeline.settings import DEFAULT_CONFIG, Settings, SettingsError, definition_settings, load_settings


def test_shipped_settings_file_states_the_code_defaults() -> None:
    """config/kam.toml documents every default; it must not drift from the typed model.
    The scenarios it ships are examples, not defaults."""
    shipped = load_settings(DEFAULT_CONFIG, as_of="2026-01-31", environ={})
    assert set(shipped.scenarios) == {"one_more_kam", "a_cut_70"}
    assert shipped.model_copy(update={"scenarios": {}}) == Settings(as_of=shipped.as_of)


def test_environment_overrides_the_file_and_launchpad_overrides_both(tmp_path: Path) -> None:
    env = {"KAM_LANDING_DIR": "/x/landing", "KAM_WAREHOUSE_PATH": "/x/kam.duckdb", "KAM_AS_OF": "2026-03-31"}
    from_env = load_settings(environ=env)
    assert str(from_env.landing_dir) == "/x/landing"
    assert str(from_env.warehouse_path) == "/x/kam.duckdb"
    assert from_env.as_of.isoformat() == "2026-03-31"
    launched = load_settings(
        environ=env, as_of="2026-04-30", landing_dir="/y", overrides={"segmentation.abc_a_cut": 0.7}
    )
    assert (launched.as_of.isoformat(), str(launched.landing_dir)) == ("2026-04-30", "/y")
    assert launched.segmentation.abc_a_cut == 0.7


def test_kam_config_points_at_another_file(tmp_path: Path) -> None:
    custom = tmp_path / "kam.toml"
    custom.write_text('[segmentation]\nwindow_months = 6\n[paths]\nwork_dir = "/tmp/w"\n')
    settings = load_settings(environ={"KAM_CONFIG": str(custom), "KAM_AS_OF": "2026-01-01"})
    assert settings.segmentation.window_months == 6
    assert settings.work_dir == Path("/tmp/w")


def test_unknown_keys_and_bad_values_are_rejected_in_one_line_naming_their_source(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^launchpad override segmentation\.abc_a_kut: unknown key$"):
        load_settings(environ={}, overrides={"segmentation.abc_a_kut": 0.7})
    with pytest.raises(SettingsError, match=r"^KAM_AS_OF: .*valid date.* \(got '28\.11\.2026'\)$"):
        load_settings(environ={"KAM_AS_OF": "28.11.2026"})
    broken = tmp_path / "kam.toml"
    broken.write_text("[segmentation]\nabc_a_cut = 'high'\n", encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        load_settings(broken, environ={"KAM_AS_OF": "2026-11-28"})
    assert str(raised.value).startswith(f"{broken} [segmentation] abc_a_cut: ")
    assert "\n" not in str(raised.value)
    broken.write_text("[segmentation\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="is not valid TOML"):
        load_settings(broken, environ={})


def test_the_as_of_date_defaults_to_the_day_before_the_run_started() -> None:
    started = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # 00:30 on the 2nd in Berlin
    assert load_settings(environ={}, now=started).as_of.isoformat() == "2026-12-01"


@pytest.mark.parametrize("cron", ["5", "'0 2 * *'", "'61 2 * * *'"])
def test_definition_settings_never_raise(tmp_path: Path, cron: str) -> None:
    """A cron Dagster would refuse leaves the schedule's default: the code location still loads."""
    broken = tmp_path / "kam.toml"
    broken.write_text(f"[schedule]\ncron = {cron}\n", encoding="utf-8")
    settings, problem = definition_settings({"KAM_CONFIG": str(broken)})
    assert settings.schedule.cron == "0 2 * * *"
    assert problem is not None and "cron" in problem


NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # a run started on 3 December 2026


def _numeric_leaves() -> list[tuple[str, str, str, type]]:
    """(section, key in the file, TOML value of it, number type) for every
    number of every section: plain keys, table entries and list items."""
    leaves = []
    for section, field in Settings.model_fields.items():
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        for key, info in model.model_fields.items():
            annotation, origin = info.annotation, get_origin(info.annotation)
            inner = get_args(annotation)[1 if origin is dict else 0] if origin in (dict, tuple) else annotation
            number = get_args(inner)[0] if get_origin(inner) is Annotated else inner
            if number in (int, float):
                leaves.append((section, key, origin, number))
    return [
        (section, key + {dict: ".probe", tuple: ".0"}.get(origin, ""), key, number)
        for section, key, origin, number in leaves
    ]


@pytest.mark.parametrize(("section", "shown", "key", "number"), _numeric_leaves())
def test_every_number_of_every_section_has_a_range_and_must_be_finite(
    tmp_path: Path, section: str, shown: str, key: str, number: type
) -> None:
    """A new numeric setting without a range fails here: no setting accepts
    minus a billion, and no float accepts nan (which TOML allows)."""
    config = tmp_path / "kam.toml"
    for value in ("-1000000000", "nan") if number is float else ("-1000000000",):
        toml = {".probe": f"{{ probe = {value} }}", ".0": f"[{value}]"}.get(shown.removeprefix(key), value)
        config.write_text(f"[{section}]\n{key} = {toml}\n", encoding="utf-8")
        with pytest.raises(SettingsError) as raised:
            load_settings(config, environ={"KAM_AS_OF": "2026-11-28"}, now=NOW)
        assert str(raised.value).startswith(f"{config} [{section}] {shown}: "), str(raised.value)
        assert "\n" not in str(raised.value)


BAD_FILES = {
    "broken TOML": ("[kam\n", "is not valid TOML"),
    "cron hour out of range": (
        "[schedule]\ncron = '0 25 * * *'\n",
        "[schedule] cron: not a five-field cron (minute hour day-of-month month day-of-week), e.g. '0 2 * * *' "
        "(got '0 25 * * *')",
    ),
    "cron in words": ("[schedule]\ncron = 'nightly'\n", "[schedule] cron: not a five-field cron"),
    "memory limit DuckDB cannot read": (
        "[performance]\nduckdb_memory_limit = '4 gigs'\n",
        "[performance] duckdb_memory_limit: not a DuckDB memory limit (e.g. 4GB, 512MB, 80%) (got '4 gigs')",
    ),
    "currency not an ISO code": (
        "[segmentation]\nreporting_currency = 'euro'\n",
        "[segmentation] reporting_currency: String should match pattern '^[A-Z]{3}$' (got 'euro')",
    ),
    "unknown key": ("[kam]\nhours_per_keyaccount = 300\n", "[kam] hours_per_keyaccount: unknown key"),
    "wrong type": ("[kam]\nfte_hours = 'lots'\n", "[kam] fte_hours: Input should be a valid number"),
    "A cut above 1": (
        "[segmentation]\nabc_a_cut = 1.5\n",
        "[segmentation] abc_a_cut: Input should be less than or equal to 1 (got 1.5)",
    ),
    "A cut not below the B cut": (
        "[segmentation]\nabc_a_cut = 0.96\n",
        "[segmentation] abc_a_cut: must be below abc_b_cut 0.95 (got 0.96)",
    ),
    "negative hours per key account": (
        "[kam]\nhours_per_key_account = -300\n",
        "[kam] hours_per_key_account: Input should be greater than 0 (got -300)",
    ),
    "negative tier hours": (
        "[kam.tier_hours]\nCORE = -40.0\n",
        "[kam] tier_hours.CORE: Input should be greater than or equal to 0 (got -40.0)",
    ),
    "nan capacity": (
        "[kam]\nplanned_kam_hours = { Nordics = nan }\n",
        "[kam] planned_kam_hours.Nordics: Input should be a finite number (got nan)",
    ),
    "nan hours": ("[kam]\nfte_hours = nan\n", "[kam] fte_hours: Input should be a finite number (got nan)"),
    "infinite hours": (
        "[kam]\nhours_per_key_account = inf\n",
        "[kam] hours_per_key_account: Input should be a finite number (got inf)",
    ),
    "weights not summing to 1": (
        "[kam]\nweight_revenue = 0.6\n",
        "[kam] weight_*: the weights must sum to 1 (got 1.1)",
    ),
    "negative weight": (
        "[kam]\nweight_revenue = 0.7\nweight_position = -0.2\n",
        "[kam] weight_position: Input should be greater than or equal to 0 (got -0.2)",
    ),
    "share above 1": (
        "[readiness]\nmin_am_coverage = 80\n",
        "[readiness] min_am_coverage: Input should be less than or equal to 1 (got 80)",
    ),
    "load bands crossed": ("[kam]\nload_under = 1.2\n", "[kam] load_under: must be below load_over 1.1 (got 1.2)"),
    "review month 13": (
        "[kam]\nreview_months = [6, 13]\n",
        "[kam] review_months.1: Input should be less than or equal to 12 (got 13)",
    ),
    "potential classes crossed": (
        "[segmentation]\npotential_medium_pr = 0.9\n",
        "[segmentation] potential_medium_pr: must be below potential_high_pr 0.8 (got 0.9)",
    ),
    "steep decline above decline": (
        "[segmentation]\nthreat_high_growth_pct = -0.1\n",
        "[segmentation] threat_high_growth_pct: must be at most threat_declining_pct -0.15 (got -0.1)",
    ),
    "unknown timezone": (
        "[schedule]\ntimezone = 'Mars/Olympus'\n",
        "[schedule] timezone: unknown IANA timezone (e.g. Europe/Berlin) (got 'Mars/Olympus')",
    ),
    "scenario crossing the base": (
        "[scenarios.tight]\nsegmentation.abc_a_cut = 0.97\n",
        "[scenarios.tight] segmentation.abc_a_cut: must be below abc_b_cut 0.95 (got 0.97)",
    ),
    "scenario weights": (
        "[scenarios.margin]\nkam.weight_margin = 0.5\n",
        "[scenarios.margin] kam.weight_*: the weights must sum to 1 (got 1.2)",
    ),
    "csv section of no extract": ("[csv.invoices]\ndelimiter = ';'\n", "csv: unknown extract or system invoices"),
    "csv marks that collide": (
        "[csv.erp]\ndecimal_mark = ','\nthousands_separator = ','\n",
        "[csv] erp: thousands_separator and decimal_mark must differ",
    ),
    "csv date format without the year": (
        "[csv.crm]\ndate_format = '%d.%m.'\n",
        "[csv] crm: date_format must write and read back year, month and day",
    ),
    "csv encoding not supported": ("[csv.crm]\nencoding = 'utf-16'\n", "[csv] crm.encoding: Input should be"),
    "scenario tier hours": (
        "[scenarios.less]\nkam.tier_hours.CORE = -1.0\n",
        "[scenarios.less] kam.tier_hours.CORE: Input should be greater than or equal to 0 (got -1.0)",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_settings_file_is_one_line_naming_the_file_and_key(tmp_path: Path, case: str) -> None:
    text, expected = BAD_FILES[case]
    config = tmp_path / "kam.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        load_settings(config, environ={"KAM_AS_OF": "2026-11-28"}, now=NOW)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"settings file {config} " if case == "broken TOML" else f"{config} [")
    assert expected in message


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (
            "2026-02-30",
            "KAM_AS_OF: Input should be a valid date or datetime, day value is outside expected range (got '2026-02-30')",
        ),
        ("tomorrow", "KAM_AS_OF: Input should be a valid date or datetime, input is too short (got 'tomorrow')"),
        (
            "2099-01-01",
            "KAM_AS_OF: 2099-01-01 is after the latest allowed as-of date 2026-12-03 (today in Europe/Berlin + schedule.max_as_of_days_ahead = 0)",
        ),
        (
            "2026-12-04",
            "KAM_AS_OF: 2026-12-04 is after the latest allowed as-of date 2026-12-03 (today in Europe/Berlin + schedule.max_as_of_days_ahead = 0)",
        ),
        (
            "2023-12-31",
            "KAM_AS_OF: 2023-12-31 is before the first as-of date schedule.first_as_of = 2024-01-01 (the first daily partition)",
        ),
    ],
)
def test_a_bad_as_of_date_is_one_line_naming_the_variable(as_of: str, expected: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ={"KAM_AS_OF": as_of}, now=NOW)
    assert str(raised.value) == expected


def test_the_latest_as_of_date_is_today_in_the_schedules_timezone(tmp_path: Path) -> None:
    late_evening_utc = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)  # already 3 December in Berlin
    assert load_settings(environ={"KAM_AS_OF": "2026-12-03"}, now=late_evening_utc).as_of.isoformat() == "2026-12-03"
    with pytest.raises(SettingsError, match=r"^launchpad override schedule\.timezone: "):
        load_settings(environ={}, overrides={"schedule.timezone": "Europe/Nowhere"}, now=NOW)
    new_york = load_settings(environ={}, overrides={"schedule.timezone": "America/New_York"}, now=late_evening_utc)
    assert new_york.as_of.isoformat() == "2026-12-01"  # still 2 December there
    with pytest.raises(
        SettingsError, match=r"^run config as_of: 2026-12-03 is after the latest allowed as-of date 2026-12-02 "
    ):
        load_settings(
            environ={}, as_of="2026-12-03", overrides={"schedule.timezone": "America/New_York"}, now=late_evening_utc
        )
    ahead = tmp_path / "kam.toml"
    ahead.write_text("[schedule]\nmax_as_of_days_ahead = 1\n", encoding="utf-8")
    assert load_settings(ahead, environ={"KAM_AS_OF": "2026-12-04"}, now=NOW).as_of.isoformat() == "2026-12-04"


def test_a_relation_broken_from_the_launchpad_names_the_override() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ={"KAM_AS_OF": "2026-11-28"}, overrides={"kam.weight_margin": 0.4}, now=NOW)
    assert str(raised.value) == "launchpad override kam.weight_margin: the weights must sum to 1 (got 1.1)"
    balanced = {"kam.weight_revenue": 0.4, "kam.weight_margin": 0.4}
    assert load_settings(environ={"KAM_AS_OF": "2026-11-28"}, overrides=balanced, now=NOW).kam.weight_margin == 0.4

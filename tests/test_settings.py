"""Settings: one typed object, one file, overrides in a documented order."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

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


def test_definition_settings_never_raise(tmp_path: Path) -> None:
    broken = tmp_path / "kam.toml"
    broken.write_text("[schedule]\ncron = 5\n", encoding="utf-8")
    settings, problem = definition_settings({"KAM_CONFIG": str(broken)})
    assert settings.schedule.cron == "0 2 * * *"
    assert problem is not None and "cron" in problem

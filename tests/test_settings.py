"""Settings: one typed object, one file, overrides in a documented order."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from kam_pipeline.settings import DEFAULT_CONFIG, Settings, load_settings


def test_shipped_settings_file_states_the_code_defaults() -> None:
    """config/kam.toml documents every default; it must not drift from the typed model."""
    shipped = load_settings(DEFAULT_CONFIG, as_of="2026-01-31", environ={})
    assert shipped == Settings(as_of=shipped.as_of)


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


def test_unknown_keys_and_bad_values_are_rejected() -> None:
    with pytest.raises(ValidationError, match="abc_a_kut"):
        load_settings(environ={}, overrides={"segmentation.abc_a_kut": 0.7})
    with pytest.raises(ValidationError, match="as_of"):
        load_settings(environ={"KAM_AS_OF": "28.11.2026"})

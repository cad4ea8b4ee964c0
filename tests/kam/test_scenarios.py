"""What-if scenarios against the base plan, on hand-computed cases (methodology §K11)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from kam_pipeline.kam import select_key_accounts
from kam_pipeline.kam.scenarios import PlanInputs, run_scenarios
from kam_pipeline.kam.tables import SCENARIO_CANDIDATES
from kam_pipeline.settings import Settings, SettingsError, load_settings

from .conftest import AS_OF
from .test_overrides import OVERRIDE_SCHEMA, accounts_frame


def _inputs(segments: pl.DataFrame, managers: pl.DataFrame) -> PlanInputs:
    """Staged data for scenarios that change only KAM settings (the segments are reused)."""
    empty = pl.LazyFrame()
    return PlanInputs(
        lines=empty,
        erp_customers=empty,
        accounts=empty,
        hierarchy=accounts_frame(*((c, None) for c in segments.get_column("customer_id"))),
        fx_rates=empty,
        opportunities=empty,
        managers=managers,
        overrides=pl.DataFrame(schema=OVERRIDE_SCHEMA),
    )


def _compare(segments: pl.DataFrame, managers: pl.DataFrame, scenarios: dict) -> tuple[pl.DataFrame, pl.DataFrame]:
    settings = Settings.model_validate({"as_of": AS_OF, "scenarios": scenarios})
    inputs = _inputs(segments, managers)
    candidates = select_key_accounts(segments, managers, settings.kam)
    written: list[pl.DataFrame] = []
    comparison = run_scenarios(inputs, segments, candidates, None, settings, written.append)
    return pl.concat(written) if written else SCENARIO_CANDIDATES.empty(), comparison


def _row(comparison: pl.DataFrame, scenario: str) -> dict:
    return comparison.filter(pl.col("scenario") == scenario).row(0, named=True)


def test_one_more_kam_adds_the_next_in_line(make_segments, make_managers) -> None:
    segments = make_segments(
        *(dict(customer_id=f"C{i}", revenue_t12m=100_000 * (7 - i), margin_t12m=20_000 * (7 - i)) for i in range(1, 7))
    )
    managers = make_managers(("K1", "KAM", "North", 900.0, "90"), ("A1", "AM", "North", 1000.0, "50"))

    rows, comparison = _compare(
        segments,
        managers,
        {"one_more_kam": {"description": "one more", "kam": {"planned_kam_hours": {"North": 300.0}}}},
    )

    base, more = _row(comparison, "base"), _row(comparison, "one_more_kam")
    assert (base["max_key_accounts"], more["max_key_accounts"]) == (3, 4)
    assert (more["added"], more["removed"], more["unchanged"]) == (1, 0, 3)
    assert (base["added"], base["removed"], base["unchanged"], base["key_accounts"]) == (0, 0, 3, 3)
    assert more["key_revenue_t12m"] == Decimal("1800000.00")  # C1..C4: 600 + 500 + 400 + 300 k
    assert more["key_revenue_share"] == pytest.approx(1_800 / 2_100)
    assert more["available_hours"] - base["available_hours"] == 300.0
    assert more["changes"] == "kam.planned_kam_hours.North = 300.0"
    assert rows.filter(pl.col("change_vs_base") == "ADDED").get_column("customer_id").to_list() == ["C4"]
    assert set(rows.get_column("scenario")) == {"one_more_kam"}
    assert rows.height == segments.height


def test_other_weights_swap_the_key_account(make_segments, make_managers) -> None:
    # C1 leads on revenue, C2 on margin; one seat
    segments = make_segments(
        dict(customer_id="C1", revenue_t12m=900_000, margin_t12m=90_000, margin_pct=0.10),
        dict(customer_id="C2", revenue_t12m=600_000, margin_t12m=180_000, margin_pct=0.30),
        dict(customer_id="C3", revenue_t12m=300_000, margin_t12m=30_000, margin_pct=0.10),
    )
    managers = make_managers(("K1", "KAM", "North", 300.0, "90"))
    margin_first = {"weight_revenue": 0.1, "weight_margin": 0.7}

    rows, comparison = _compare(segments, managers, {"margin_first": {"kam": margin_first}})

    swap = _row(comparison, "margin_first")
    assert (swap["added"], swap["removed"], swap["unchanged"], swap["key_accounts"]) == (1, 1, 0, 1)
    assert dict(rows.select("customer_id", "change_vs_base").rows()) == {"C1": "REMOVED", "C2": "ADDED", "C3": "NONE"}
    assert swap["key_margin_t12m"] == Decimal("180000.00")


def test_a_scenario_with_a_bad_key_names_the_scenario(tmp_path) -> None:
    config = tmp_path / "kam.toml"
    config.write_text("[scenarios.typo]\nkam.wieght_revenue = 0.6\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"\[scenarios\.typo\] kam\.wieght_revenue: unknown key"):
        load_settings(config, as_of="2025-06-30")


def test_a_scenario_can_come_from_the_launchpad_and_merges_tables(tmp_path) -> None:
    config = tmp_path / "kam.toml"
    config.write_text("", encoding="utf-8")
    settings = load_settings(
        config, as_of="2025-06-30", overrides={"scenarios.more_strategic.kam.tier_hours.STRATEGIC": 120.0}
    )
    scenario = settings.for_scenario("more_strategic")
    assert scenario.kam.tier_hours["STRATEGIC"] == 120.0
    assert scenario.kam.tier_hours["CORE"] == settings.kam.tier_hours["CORE"]  # the rest of the table stays
    assert scenario.scenarios == {}

"""The KAM committee's overrides: status on the as-of date, effect on the decisions (methodology §K5.8)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from kam_pipeline.kam import programme_return, resource_allocation, select_key_accounts
from kam_pipeline.kam.discussion import decisions_to_discuss
from kam_pipeline.kam.overrides import final_status, forced_selection, forced_tiers, override_status
from kam_pipeline.kam.tables import KAM_OVERRIDES_MART
from kam_pipeline.settings import KamSettings, Settings

from .conftest import AS_OF

DAY = timedelta(days=1)
OVERRIDE_SCHEMA = {
    "override_id": pl.String,
    "account_id": pl.String,
    "action": pl.String,
    "tier": pl.String,
    "reason": pl.String,
    "approved_by": pl.String,
    "valid_from": pl.Date,
    "valid_until": pl.Date,
}


def overrides_frame(*rows: tuple[Any, ...]) -> pl.DataFrame:
    """(override_id, account_id, action, tier, valid_from, valid_until) rows."""
    return pl.DataFrame(
        [(o, a, act, tier, f"reason of {o}", "Committee", since, until) for o, a, act, tier, since, until in rows],
        schema=OVERRIDE_SCHEMA,
        orient="row",
    )


def accounts_frame(*pairs: tuple[str, str | None]) -> pl.DataFrame:
    """(account_id, parent_account_id) rows of staging.crm_accounts."""
    return pl.DataFrame(pairs, schema={"account_id": pl.String, "parent_account_id": pl.String}, orient="row")


def forced(*rows: tuple[str, str, str]) -> pl.DataFrame:
    """(customer_id, action, override_id) as overrides.forced_selection gives them."""
    return pl.DataFrame(
        [(c, a, o, f"override {o} (test)") for c, a, o in rows],
        schema={
            "customer_id": pl.String,
            "override_action": pl.String,
            "override_id": pl.String,
            "override_text": pl.String,
        },
        orient="row",
    )


def ladder(make_segments, n: int = 5, **extra: Any) -> pl.DataFrame:
    """Customers C1..Cn, C1 the largest: scores fall with the index."""
    return make_segments(
        *(
            dict(customer_id=f"C{i}", revenue_t12m=100_000 * (n + 1 - i), margin_t12m=20_000 * (n + 1 - i), **extra)
            for i in range(1, n + 1)
        )
    )


def by_id(candidates: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["customer_id"]: row for row in candidates.iter_rows(named=True)}


def test_status_on_the_as_of_date() -> None:
    settings = Settings(as_of=AS_OF)
    accounts = accounts_frame(*((p, None) for p in ("P1", "P2", "P3", "P4", "P5")), ("P1-child", "P1"))
    overrides = overrides_frame(
        ("O1", "P1-child", "INCLUDE", None, AS_OF - 9 * DAY, AS_OF),  # last day: still in force
        ("O2", "P1", "INCLUDE", None, AS_OF - 90 * DAY, AS_OF - DAY),
        ("O3", "P3", "EXCLUDE", None, AS_OF + DAY, None),
        ("O4", "P2", "INCLUDE", None, AS_OF - DAY, AS_OF + 100 * DAY),
        ("O5", "P2", "EXCLUDE", None, AS_OF, None),  # first day: in force
        ("O6", "P4", "EXCLUDE", None, AS_OF - 20 * DAY, None),
        ("O7", "P4", "EXCLUDE", None, AS_OF - 10 * DAY, None),
        ("O8", "P5", "TIER", "CORE", AS_OF - DAY, AS_OF + 30 * DAY),
        ("O9", "P3", "TIER", "CORE", AS_OF - DAY, AS_OF + 31 * DAY),
    )

    status = {row["override_id"]: row for row in override_status(overrides, accounts, settings).iter_rows(named=True)}

    assert {o: (r["customer_id"], r["status"]) for o, r in status.items()} == {
        "O1": ("P1", "ACTIVE"),  # an account below the group applies to its group
        "O2": ("P1", "EXPIRED"),
        "O3": ("P3", "NOT_YET_VALID"),
        "O4": ("P2", "CONFLICT"),
        "O5": ("P2", "CONFLICT"),
        "O6": ("P4", "ACTIVE"),
        "O7": ("P4", "NO_EFFECT"),
        "O8": ("P5", "ACTIVE"),
        "O9": ("P3", "ACTIVE"),
    }
    assert status["O2"]["status_reason"] == f"expired on {AS_OF - DAY}"
    assert status["O7"]["status_reason"] == "says the same as O6, which applies"
    assert [o for o, r in status.items() if r["expires_soon"]] == ["O1", "O8"]  # within 30 days, not O9 (31)
    assert status["O1"]["days_to_expiry"] == 0
    assert forced_selection(override_status(overrides, accounts, settings)).get_column("override_id").to_list() == [
        "O1",
        "O6",
    ]


def test_two_different_tiers_in_force_conflict() -> None:
    overrides = overrides_frame(
        ("T1", "P1", "TIER", "CORE", AS_OF - DAY, AS_OF + DAY),
        ("T2", "P1", "TIER", "STRATEGIC", AS_OF - DAY, AS_OF + DAY),
    )
    status = override_status(overrides, accounts_frame(("P1", None)), Settings(as_of=AS_OF))
    assert status.get_column("status").to_list() == ["CONFLICT", "CONFLICT"]
    assert forced_tiers(status).is_empty()


def test_an_include_displaces_exactly_the_lowest_ranked_pick(make_segments, make_managers, settings) -> None:
    segments = ladder(make_segments)
    managers = make_managers(("K1", "KAM", "North", 900.0, "90"))  # 3 seats

    rule = by_id(select_key_accounts(segments, managers, settings))
    result = by_id(select_key_accounts(segments, managers, settings, overrides=forced(("C5", "INCLUDE", "O-1"))))

    assert [c for c, r in rule.items() if r["proposed_decision"] == "ADD"] == ["C1", "C2", "C3"]
    assert {c: r["decision"] for c, r in result.items()} == {
        "C1": "ADD",
        "C2": "ADD",
        "C3": "WATCH",
        "C4": rule["C4"]["decision"],
        "C5": "ADD",
    }
    assert result["C3"]["decision_source"] == "OVERRIDE"
    assert result["C3"]["decision_reason"].startswith(
        "Watch: gives way to the seat(s) taken by INCLUDE override(s) O-1 (C5); by the ranking alone ADD: score"
    )
    assert result["C5"]["decision_reason"].startswith("Added: included by override O-1 (test); by the ranking alone")
    assert (result["C5"]["decision_source"], result["C5"]["override_id"]) == ("OVERRIDE", "O-1")
    assert {c: r["decision_source"] for c, r in result.items() if c in ("C1", "C2", "C4")} == dict.fromkeys(
        ("C1", "C2", "C4"), "RULE"
    )


def test_between_reviews_an_include_takes_a_free_seat_without_displacing_anyone(make_segments, make_managers) -> None:
    settings = KamSettings(review_months=(12,))  # June 30 is not a review date
    segments = ladder(make_segments).with_columns(
        is_current_key_account=pl.col("customer_id").is_in(["C1", "C2"]), key_account_since=date(2019, 1, 1)
    )
    managers = make_managers(("K1", "KAM", "North", 900.0, "90"))  # 3 seats, 2 held

    result = by_id(select_key_accounts(segments, managers, settings, overrides=forced(("C5", "INCLUDE", "O-1"))))

    assert {c: r["decision"] for c, r in result.items()} == {
        "C1": "KEEP",
        "C2": "KEEP",
        "C3": "WATCH",
        "C4": "NONE",
        "C5": "ADD",  # an override takes effect at once, not at the review
    }


def test_includes_beyond_capacity_are_all_kept_and_flagged(make_segments, make_managers, settings) -> None:
    segments = ladder(make_segments)
    managers = make_managers(("K1", "KAM", "North", 300.0, "90"))  # 1 seat
    overrides = forced(("C4", "INCLUDE", "O-1"), ("C5", "INCLUDE", "O-2"))

    candidates = select_key_accounts(segments, managers, settings, overrides=overrides)
    result = by_id(candidates)

    assert {c: r["decision"] for c, r in result.items() if r["decision"] in ("KEEP", "ADD")} == {
        "C4": "ADD",
        "C5": "ADD",
    }
    assert result["C1"]["decision_reason"].startswith("Watch: gives way to the seat(s) taken by INCLUDE override(s)")
    assert "exceed the 1 seats (OVER_CAPACITY)" in result["C4"]["decision_reason"]
    programme = programme_return(segments, candidates, managers, settings)
    facts = programme.row(0, named=True)
    assert (facts["override_includes"], facts["max_key_accounts"], facts["over_capacity"]) == (2, 1, True)
    no_overrides = pl.DataFrame(schema=KAM_OVERRIDES_MART.schema)
    discuss = decisions_to_discuss(candidates, no_overrides, programme, settings.robustness_draws)
    assert discuss.row(0, named=True)["topic"] == "OVER_CAPACITY"
    assert discuss.row(0, named=True)["detail"].startswith("2 INCLUDE overrides for 1 seats")
    assert set(discuss.filter(pl.col("topic") == "OVERRIDDEN").get_column("customer_id")) == {"C1", "C4", "C5"}


def test_an_exclude_frees_the_seat_for_the_next_in_line(make_segments, make_managers, settings) -> None:
    segments = ladder(make_segments)
    managers = make_managers(("K1", "KAM", "North", 900.0, "90"))

    result = by_id(select_key_accounts(segments, managers, settings, overrides=forced(("C1", "EXCLUDE", "O-1"))))

    assert [c for c, r in result.items() if r["decision"] == "ADD"] == ["C2", "C3", "C4"]
    assert result["C1"]["decision"] == "NONE"
    assert result["C1"]["decision_reason"].startswith("Not selected: excluded by override O-1 (test); by the ranking")
    assert result["C1"]["selection_stability"] == 0.0


def test_an_excluded_key_account_leaves_at_once(make_segments, make_managers) -> None:
    settings = KamSettings(review_months=(12,))
    segments = ladder(make_segments).with_columns(
        is_current_key_account=pl.col("customer_id") == "C1", key_account_since=date(2026, 1, 1)
    )
    managers = make_managers(("K1", "KAM", "North", 900.0, "90"))

    result = by_id(select_key_accounts(segments, managers, settings, overrides=forced(("C1", "EXCLUDE", "O-1"))))

    assert (result["C1"]["decision"], result["C1"]["rule_decision"]) == ("DESELECT", "KEEP")


def test_no_overrides_means_exactly_the_rule(make_segments, make_managers, settings) -> None:
    segments = ladder(make_segments, 8)
    managers = make_managers(("K1", "KAM", "North", 900.0, "90"))

    without = select_key_accounts(segments, managers, settings)
    empty = select_key_accounts(segments, managers, settings, overrides=forced())

    assert without.equals(empty)
    assert (without["decision"] == without["rule_decision"]).all()
    assert (without["proposed_decision"] == without["rule_proposed_decision"]).all()
    assert set(without.get_column("decision_source")) == {"RULE"}


def test_final_status_and_forced_tiers(make_segments, make_managers, settings) -> None:
    segments = ladder(make_segments).with_columns(tier=pl.lit("CORE"))
    managers = make_managers(("K1", "KAM", "North", 600.0, "90"), ("AM1", "AM", "North", 1000.0, "50"))
    accounts = accounts_frame(*((f"C{i}", None) for i in range(1, 6)))
    overrides = overrides_frame(
        ("O1", "C5", "INCLUDE", None, AS_OF - DAY, AS_OF + DAY),  # the ranking would not pick C5: applied
        ("O2", "C1", "INCLUDE", None, AS_OF - DAY, AS_OF + DAY),  # the ranking picks C1 anyway: no effect
        ("O3", "C4", "EXCLUDE", None, AS_OF - DAY, None),  # never picked: no effect
        ("O4", "C3", "TIER", "STRATEGIC", AS_OF - DAY, AS_OF + DAY),
        ("O5", "C2", "TIER", "CORE", AS_OF - DAY, AS_OF + DAY),  # its tier already
    )
    status = override_status(overrides, accounts, Settings(as_of=AS_OF))
    candidates = select_key_accounts(segments, managers, settings, overrides=forced_selection(status))

    final = final_status(status, candidates, segments)

    assert dict(final.select("override_id", "status").rows()) == {
        "O1": "APPLIED",
        "O2": "NO_EFFECT",
        "O3": "NO_EFFECT",
        "O4": "APPLIED",
        "O5": "NO_EFFECT",
    }
    assert dict(final.select("override_id", "status_reason").rows())["O4"] == "forces tier STRATEGIC instead of CORE"
    allocation = resource_allocation(segments, candidates, managers, settings, tiers=forced_tiers(final))
    c3 = allocation.filter(pl.col("customer_id") == "C3").row(0, named=True)
    assert (c3["tier"], c3["tier_override_id"], c3["am_hours"]) == ("STRATEGIC", "O4", settings.tier_hours["STRATEGIC"])


@pytest.mark.parametrize("review", [True, False])
def test_decisions_with_overrides_stay_within_capacity(make_segments, make_managers, review: bool) -> None:
    settings = KamSettings() if review else KamSettings(review_months=(12,))
    segments = ladder(make_segments, 12).with_columns(
        is_current_key_account=pl.col("customer_id").is_in(["C2", "C5", "C9", "C11"]),
        key_account_since=date(2019, 1, 1),
    )
    managers = make_managers(("K1", "KAM", "North", 1200.0, "90"))  # 4 seats
    overrides = forced(("C12", "INCLUDE", "O-1"), ("C10", "INCLUDE", "O-2"), ("C2", "EXCLUDE", "O-3"))

    candidates = select_key_accounts(segments, managers, settings, overrides=overrides)

    for column in ("decision", "proposed_decision"):
        seated = candidates.filter(pl.col(column).is_in(["KEEP", "ADD"])).get_column("customer_id").to_list()
        assert len(seated) <= 4, (column, seated)
        assert {"C10", "C12"} <= set(seated) and "C2" not in seated

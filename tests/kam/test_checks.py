"""Checks on what BI reads from the KAM marts (kam_pipeline.kam.checks)."""

import polars as pl

from kam_pipeline.kam.checks import allocated_within_capacity, key_accounts_within_seats


def _candidates(rows: list[tuple[str, str, bool, str | None]]) -> pl.DataFrame:
    """(decision, proposed_decision, is_current_key_account, override_action) per customer."""
    return pl.DataFrame(
        rows,
        schema={
            "decision": pl.String,
            "proposed_decision": pl.String,
            "is_current_key_account": pl.Boolean,
            "override_action": pl.String,
        },
        orient="row",
    )


def test_keep_and_add_within_the_seats_pass() -> None:
    candidates = _candidates([("KEEP", "KEEP", True, None), ("ADD", "ADD", False, None), ("NONE", "NONE", False, None)])
    passed, evidence = key_accounts_within_seats(candidates, 2)
    assert passed
    assert evidence["keep_add"] == 2


def test_more_seated_than_seats_fails() -> None:
    candidates = _candidates([("KEEP", "KEEP", True, None), ("ADD", "ADD", False, None)])
    assert not key_accounts_within_seats(candidates, 1)[0]


def test_between_reviews_incumbents_stand_but_the_proposal_must_fit() -> None:
    standing = _candidates([("KEEP", "KEEP", True, None), ("KEEP", "DESELECT", True, None)])
    assert key_accounts_within_seats(standing, 1)[0]
    both_kept = _candidates([("KEEP", "KEEP", True, None), ("KEEP", "KEEP", True, None)])
    assert not key_accounts_within_seats(both_kept, 1)[0]


def test_include_overrides_beyond_the_seats_are_allowed() -> None:
    candidates = _candidates([("ADD", "ADD", False, "INCLUDE"), ("ADD", "ADD", False, "INCLUDE")])
    assert key_accounts_within_seats(candidates, 1)[0]


def _load(allocated: float) -> pl.DataFrame:
    return pl.DataFrame({"owner_id": ["AM1"], "allocated_hours": [allocated], "capacity_hours": [100.0]})


def _allocation(allocated_am: float) -> pl.DataFrame:
    return pl.DataFrame(
        {"am_hours": [40.0], "kam_hours": [0.0], "allocated_am_hours": [allocated_am], "allocated_kam_hours": [0.0]}
    )


def test_allocated_hours_within_capacity_pass() -> None:
    passed, evidence = allocated_within_capacity(_load(100.0), _allocation(40.0))
    assert passed
    assert evidence["managers_over_capacity"] == 0


def test_a_manager_allocated_beyond_capacity_fails() -> None:
    passed, evidence = allocated_within_capacity(_load(100.5), _allocation(40.0))
    assert not passed
    assert evidence["sample"] == [{"owner_id": "AM1", "allocated_hours": 100.5, "capacity_hours": 100.0}]


def test_a_customer_allocated_beyond_its_plan_fails() -> None:
    passed, evidence = allocated_within_capacity(_load(50.0), _allocation(45.0))
    assert not passed
    assert evidence["customers_over_required"] == 1

"""Coverage plans, allocation within capacity and account-manager load (docs/methodology.md §K6), by hand."""

from __future__ import annotations

import polars as pl
import pytest

from kam_pipeline.kam import account_manager_load, capacity_gap, resource_allocation
from kam_pipeline.settings import KamSettings


def _candidates(decisions: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": list(decisions), "decision": list(decisions.values())})


def _allocate(segments, decisions, managers, settings) -> pl.DataFrame:
    return resource_allocation(segments, _candidates(decisions), managers, settings)


def test_plans_and_hours(make_segments, make_managers, settings: KamSettings) -> None:
    segments = make_segments(
        dict(customer_id="KEY", tier="STRATEGIC"),
        dict(customer_id="RISK", tier="CORE", abc_class="A", threat_level="HIGH", at_risk=True),
        dict(customer_id="REV", tier="CORE"),
        dict(customer_id="DEV_CRM", tier="DEVELOP", abc_class="B", wallet_source="CRM"),
        dict(customer_id="DEV_BENCH_B", tier="DEVELOP", abc_class="B", wallet_source="BENCHMARK"),
        dict(customer_id="DEV_BENCH_C", tier="DEVELOP", abc_class="C", wallet_source="BENCHMARK"),
        dict(customer_id="DEV_PIPE", tier="DEVELOP", abc_class="C", wallet_source="NONE", potential_driver="PIPELINE"),
        dict(customer_id="BACK", tier="LAPSED", abc_class="N", potential_class="HIGH"),
        dict(customer_id="GONE", tier="LAPSED", abc_class="N", potential_class="LOW"),
        dict(customer_id="NEW", tier="PROSPECT", abc_class="N", potential_class="HIGH"),
    )
    decisions = {c: "NONE" for c in segments.get_column("customer_id")} | {"KEY": "KEEP", "REV": "REVIEW"}
    managers = make_managers(("AM1", "AM", "North", 10_000.0, "50"), ("K1", "KAM", "North", 1_000.0, "90"))

    allocation = _allocate(segments, decisions, managers, settings)

    assert {r[0]: r[1:] for r in allocation.select("customer_id", "plan", "am_hours", "kam_hours").rows()} == {
        "KEY": ("KEY_ACCOUNT", 0.0, 300.0),  # KAM hours instead of AM hours
        "RISK": ("DEFEND", 60.0, 0.0),  # CORE 40 + 20
        "REV": ("CORE", 40.0, 0.0),  # REVIEW is not served by the KAM team
        "DEV_CRM": ("DEVELOP", 20.0, 0.0),  # potential backed by a CRM wallet
        "DEV_BENCH_B": ("MAINTAIN", 10.0, 0.0),  # benchmark only: no development hours
        "DEV_BENCH_C": ("SERVE_EFFICIENTLY", 0.0, 0.0),
        "DEV_PIPE": ("DEVELOP", 20.0, 0.0),  # backed by a material pipeline
        "BACK": ("WIN_BACK", 8.0, 0.0),
        "GONE": ("LAPSED", 0.0, 0.0),
        "NEW": ("PROSPECT", 0.0, 0.0),
    }
    relaxed = _allocate(segments, decisions, managers, KamSettings(develop_needs_evidence=False))
    assert dict(relaxed.select("customer_id", "plan").rows())["DEV_BENCH_C"] == "DEVELOP"


def test_a_tier_without_hours_is_refused(make_segments, make_managers, settings: KamSettings) -> None:
    segments = make_segments(dict(customer_id="X", tier="PLATINUM"))

    with pytest.raises(ValueError, match=r"no hours for tier\(s\) \['PLATINUM'\]"):
        _allocate(segments, {"X": "NONE"}, make_managers(("AM1", "AM", "North", 100.0, "50")), settings)


def test_hours_are_served_in_priority_order_within_capacity(make_segments, make_managers, settings) -> None:
    # AM1 has 100 h: DEFEND 60 first, then STRATEGIC 80 (40 left), then the CORE customers get nothing;
    # within a plan the owner's portfolio rank decides (rank 1 before rank 2).
    segments = make_segments(
        dict(customer_id="S", tier="STRATEGIC", portfolio_rank=3),
        dict(customer_id="C_RANK2", tier="CORE", portfolio_rank=2),
        dict(customer_id="C_RANK1", tier="CORE", portfolio_rank=1),
        dict(customer_id="D", tier="CORE", threat_level="HIGH", at_risk=True, portfolio_rank=4),
        dict(customer_id="P", tier="SERVE_EFFICIENTLY", portfolio_rank=5),
    )
    managers = make_managers(("AM1", "AM", "North", 100.0, "50"))

    allocation = _allocate(segments, {c: "NONE" for c in ("S", "C_RANK2", "C_RANK1", "D", "P")}, managers, settings)

    rows = {r[0]: r[1:] for r in allocation.select("customer_id", "priority", "allocated_am_hours", "coverage").rows()}
    assert rows == {
        "D": (1, 60.0, "FULL"),
        "S": (2, 40.0, "PARTIAL"),
        "C_RANK1": (3, 0.0, "UNCOVERED"),
        "C_RANK2": (4, 0.0, "UNCOVERED"),
        "P": (5, 0.0, "POOLED"),
    }
    load = account_manager_load(allocation, managers, settings).row(0, named=True)
    assert (load["required_hours"], load["allocated_hours"], load["uncovered_customers"]) == (220.0, 100.0, 3)
    assert (load["gap_hours"], load["gap_fte"], load["load_status"]) == (120.0, pytest.approx(0.12), "OVER")


def test_kam_hours_go_to_the_region_kams_or_else_the_whole_team(make_segments, make_managers, settings) -> None:
    segments = make_segments(
        dict(customer_id="N1", region="North", owner_id="AM1", tier="CORE"),
        dict(customer_id="E1", region="East", owner_id="AM1", tier="CORE"),
    )
    managers = make_managers(
        ("AM1", "AM", "North", 1000.0, "50"),
        ("K1", "KAM", "North", 1000.0, "90"),
        ("K2", "KAM", "North", 1000.0, "90"),
        ("K3", "KAM", "South", 1000.0, "90"),
    )

    allocation = _allocate(segments, {"N1": "KEEP", "E1": "ADD"}, managers, settings)
    load = account_manager_load(allocation, managers, settings)

    # N1 (North): 300 h / 2 North KAMs; E1 (East has no KAM): 300 h / 3 KAMs. Key accounts need no AM hours.
    assert load.select("owner_id", "customers", "required_hours").rows() == [
        ("AM1", 0, 0.0),
        ("K1", 2, 250.0),
        ("K2", 2, 250.0),
        ("K3", 1, 100.0),
    ]


def test_load_status_boundaries_and_the_gap_per_level(make_segments, make_managers) -> None:
    settings = KamSettings(tier_hours={"CORE": 110.0, "DEVELOP": 110.01, "MAINTAIN": 70.0, "LAPSED": 69.99})
    segments = make_segments(
        dict(customer_id="C1", owner_id="AT_OVER", tier="CORE"),
        dict(customer_id="C2", owner_id="ABOVE_OVER", tier="DEVELOP"),
        dict(customer_id="C3", owner_id="AT_UNDER", tier="MAINTAIN"),
        dict(customer_id="C4", owner_id="BELOW_UNDER", tier="LAPSED", potential_class="LOW"),
    )
    managers = make_managers(
        *((owner, "AM", "North", 100.0, "50") for owner in ("AT_OVER", "ABOVE_OVER", "AT_UNDER", "BELOW_UNDER")),
        ("IDLE", "AM", "South", 100.0, "50"),
    )

    allocation = _allocate(segments, {c: "NONE" for c in ("C1", "C2", "C3", "C4")}, managers, settings)
    load = account_manager_load(allocation, managers, settings)

    status = dict(load.select("owner_id", "load_status").rows())
    assert status == {
        "ABOVE_OVER": "OVER",  # 1.1001
        "AT_OVER": "BALANCED",  # 1.10
        "AT_UNDER": "BALANCED",  # 0.70
        "BELOW_UNDER": "UNDER",  # 0.6999
        "IDLE": "UNDER",  # no customers, still listed
    }
    idle = load.filter(pl.col("owner_id") == "IDLE").row(0, named=True)
    assert (idle["customers"], idle["required_hours"], idle["utilisation"]) == (0, 0.0, 0.0)
    gap = {
        (r[0], r[1]): r[2:]
        for r in capacity_gap(load, settings).select("level", "level_value", "gap_hours", "managers").rows()
    }
    # North: 110 + 110.01 + 70 + 69.99 = 360 against 400
    assert gap == {
        ("TEAM", "ALL"): (-140.0, 5),
        ("ROLE", "AM"): (-140.0, 5),
        ("REGION", "North"): (-40.0, 4),
        ("REGION", "South"): (-100.0, 1),
    }

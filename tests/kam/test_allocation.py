"""Coverage model and account-manager load (docs/methodology.md §K6)."""

from __future__ import annotations

import polars as pl
import pytest

from kam_pipeline.kam import allocate_resources, resource_allocation
from kam_pipeline.settings import KamSettings


def _candidates(decisions: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": list(decisions), "decision": list(decisions.values())})


def test_am_hours_follow_the_tier_and_kam_hours_only_keep_and_add(make_segments, settings: KamSettings) -> None:
    segments = make_segments(
        dict(customer_id="K", tier="STRATEGIC"),
        dict(customer_id="A", tier="DEVELOP"),
        dict(customer_id="R", tier="CORE"),
        dict(customer_id="D", tier="LAPSED"),
    )
    candidates = _candidates({"K": "KEEP", "A": "ADD", "R": "REVIEW", "D": "NONE"})

    allocation = resource_allocation(segments, candidates, settings)

    assert allocation.select("customer_id", "kam_decision", "am_hours", "kam_hours").rows() == [
        ("A", "ADD", 40.0, 300.0),
        ("D", "NONE", 1.0, 0.0),
        ("K", "KEEP", 120.0, 300.0),
        ("R", "REVIEW", 60.0, 0.0),
    ]


def test_a_tier_without_hours_is_refused(make_segments, settings: KamSettings) -> None:
    segments = make_segments(dict(customer_id="X", tier="PLATINUM"))

    with pytest.raises(ValueError, match=r"no hours for tier\(s\) \['PLATINUM'\]"):
        resource_allocation(segments, _candidates({"X": "NONE"}), settings)


def test_kam_hours_go_to_the_region_kams_or_else_the_whole_team(make_segments, make_managers, settings) -> None:
    segments = make_segments(
        dict(customer_id="N1", region="North", owner_id="AM1", tier="LAPSED"),
        dict(customer_id="E1", region="East", owner_id="AM1", tier="LAPSED"),
    )
    managers = make_managers(
        ("AM1", "AM", "North", 1000.0, "50"),
        ("K1", "KAM", "North", 1000.0, "90"),
        ("K2", "KAM", "North", 1000.0, "90"),
        ("K3", "KAM", "South", 1000.0, "90"),
    )

    _, load = allocate_resources(segments, _candidates({"N1": "KEEP", "E1": "ADD"}), managers, settings)

    # N1 (North): 300 h / 2 North KAMs; E1 (East has no KAM): 300 h / 3 KAMs.
    assert load.select("owner_id", "customers", "required_hours").rows() == [
        ("AM1", 2, 2.0),
        ("K1", 2, 250.0),
        ("K2", 2, 250.0),
        ("K3", 1, 100.0),
    ]


def test_load_status_boundaries(make_segments, make_managers) -> None:
    settings = KamSettings(tier_hours={"CORE": 110.0, "DEVELOP": 110.01, "MAINTAIN": 70.0, "LAPSED": 69.99})
    segments = make_segments(
        dict(customer_id="C1", owner_id="AT_OVER", tier="CORE"),
        dict(customer_id="C2", owner_id="ABOVE_OVER", tier="DEVELOP"),
        dict(customer_id="C3", owner_id="AT_UNDER", tier="MAINTAIN"),
        dict(customer_id="C4", owner_id="BELOW_UNDER", tier="LAPSED"),
    )
    managers = make_managers(
        *((owner, "AM", "North", 100.0, "50") for owner in ("AT_OVER", "ABOVE_OVER", "AT_UNDER", "BELOW_UNDER")),
        ("IDLE", "AM", "North", 100.0, "50"),
    )

    _, load = allocate_resources(
        segments, _candidates({c: "NONE" for c in ("C1", "C2", "C3", "C4")}), managers, settings
    )

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

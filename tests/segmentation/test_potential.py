"""§S8: wallet, headroom, pipeline, potential value and class."""

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from kam_pipeline.segmentation.amounts import AMOUNT
from kam_pipeline.segmentation.potential import potential_class
from kam_pipeline.settings import SegmentationSettings

from .builder import by_customer

SPEND = {"default": 150.0, "Chemicals": 350.0}


def test_wallet_from_crm_estimates_summed_over_the_group(data) -> None:
    data.account("TOP", wallet=1000, employees=10).account("CHILD", "TOP", wallet=500).account("KID", "TOP")
    data.sale("TOP", 400)
    out = data.segments(spend_per_employee=SPEND)
    assert by_customer(out, "wallet") == {"TOP": Decimal("1500.00")}
    assert by_customer(out, "wallet_source") == {"TOP": "CRM"}
    assert by_customer(out, "headroom") == {"TOP": Decimal("1100.00")}
    assert by_customer(out, "share_of_wallet") == {"TOP": pytest.approx(400 / 1500)}


def test_wallet_from_benchmark_uses_each_accounts_own_industry(data) -> None:
    data.account("TOP", industry="Chemicals", employees=10).account("CHILD", "TOP", industry="Retail", employees=5)
    data.account("OTHER", industry="Mining", employees=4)
    out = data.segments(spend_per_employee=SPEND)
    # TOP 10 x 350 + CHILD 5 x 150 (Retail not listed: default); OTHER 4 x 150
    assert by_customer(out, "wallet") == {"OTHER": Decimal("600.00"), "TOP": Decimal("4250.00")}
    assert by_customer(out, "wallet_source") == {"OTHER": "BENCHMARK", "TOP": "BENCHMARK"}


def test_an_account_without_estimate_falls_back_to_its_benchmark_before_the_group_sums(data) -> None:
    data.account("TOP", wallet=1000).account("CHILD", "TOP", employees=10).account("KID", "TOP")
    out = data.segments(spend_per_employee=SPEND)
    assert by_customer(out, "wallet") == {"TOP": Decimal("2500.00")}  # 1 000 + 10 x 150; KID has neither
    assert by_customer(out, "wallet_source") == {"TOP": "MIXED"}


def test_no_wallet(data) -> None:
    data.account("X").sale("X", 100)
    out = data.segments()
    assert out.select("wallet", "wallet_source", "headroom", "share_of_wallet").row(0) == (None, "NONE", None, None)
    assert by_customer(out, "potential_class") == {"X": "UNKNOWN"}


def test_a_wallet_below_revenue_makes_the_headroom_unknown_not_zero(data) -> None:
    data.account("OVER", wallet=1000).sale("OVER", 1200)
    data.account("EXACT", wallet=1000).sale("EXACT", 1000)
    data.account("CREDIT", wallet=1000).sale("CREDIT", -100)
    out = data.segments()
    assert by_customer(out, "wallet_below_revenue") == {"CREDIT": False, "EXACT": False, "OVER": True}
    assert by_customer(out, "headroom") == {"CREDIT": Decimal("1000.00"), "EXACT": Decimal("0.00"), "OVER": None}
    assert by_customer(out, "share_of_wallet") == {
        "CREDIT": pytest.approx(-0.1),
        "EXACT": pytest.approx(1.0),
        "OVER": pytest.approx(1.2),
    }
    assert by_customer(out, "potential_class")["OVER"] == "UNKNOWN"
    assert by_customer(out, "potential_driver") == {"CREDIT": "HEADROOM", "EXACT": "HEADROOM", "OVER": "NONE"}


def test_pipeline_counts_as_potential_only_when_material(data) -> None:
    september = date(2025, 9, 1)
    data.account("SMALL").sale("SMALL", 10_000).opportunity("SMALL", "OPEN", 1_998, september, probability=0.5)
    data.account("EDGE").sale("EDGE", 10_000).opportunity("EDGE", "OPEN", 2_000, september, probability=0.5)
    data.account("NEW").opportunity("NEW", "OPEN", 100, september, probability=0.5)  # no revenue: any is material
    out = data.segments()
    # weighted 999 < 10 % of 10 000; 1 000 = 10 %: material
    assert by_customer(out, "pipeline_weighted") == {
        "EDGE": Decimal("1000.00"),
        "NEW": Decimal("50.00"),
        "SMALL": Decimal("999.00"),
    }
    assert by_customer(out, "potential_value") == {
        "EDGE": Decimal("1000.00"),
        "NEW": Decimal("50.00"),
        "SMALL": Decimal("0.00"),
    }
    assert by_customer(out, "potential_driver") == {"EDGE": "PIPELINE", "NEW": "PIPELINE", "SMALL": "NONE"}
    assert by_customer(out, "potential_class")["SMALL"] == "UNKNOWN"


def test_pipeline_counts_open_opportunities_closing_in_the_next_window(data) -> None:
    data.account("TOP").account("CHILD", "TOP").sale("TOP", 100)
    data.opportunity("TOP", "OPEN", 1000, date(2025, 6, 30), probability=0.5)  # at D: excluded
    data.opportunity("TOP", "OPEN", 100, date(2025, 7, 1), probability=0.5)  # 50
    data.opportunity("CHILD", "OPEN", 200, date(2026, 6, 30), probability=0.25)  # at D + W: 50
    data.opportunity("TOP", "OPEN", 1000, date(2026, 7, 1), probability=0.5)  # after D + W: excluded
    data.opportunity("TOP", "WON", 1000, date(2025, 8, 1))
    data.opportunity("TOP", "LOST", 1000, date(2025, 8, 1))
    out = data.segments()
    assert by_customer(out, "pipeline_weighted") == {"TOP": Decimal("100.00")}
    assert by_customer(out, "potential_value") == {"TOP": Decimal("100.00")}
    assert by_customer(out, "potential_class") == {"TOP": "LOW"}  # alone in the ranking: percent rank 0


def test_potential_value_is_the_larger_of_headroom_and_pipeline(data) -> None:
    data.account("HEAD", wallet=500).sale("HEAD", 100).opportunity("HEAD", "OPEN", 300, date(2025, 9, 1))
    data.account("PIPE", wallet=500).sale("PIPE", 100).opportunity("PIPE", "OPEN", 600, date(2025, 9, 1))
    out = data.segments()
    assert by_customer(out, "potential_value") == {"HEAD": Decimal("400.00"), "PIPE": Decimal("600.00")}


def classify(rows: list[tuple[str, float, float | None, float]], **settings: float) -> dict[str, str]:
    """rows: (customer_id, revenue_t12m, wallet, potential_value); pipeline 0."""
    frame = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "revenue_t12m": [Decimal(str(r[1])) for r in rows],
            "wallet": [None if r[2] is None else Decimal(str(r[2])) for r in rows],
            "pipeline_weighted": [Decimal(0) for _ in rows],
            "potential_value": [Decimal(str(r[3])) for r in rows],
            "potential_driver": ["NONE" if r[2] is None else "HEADROOM" for r in rows],
        },
        schema_overrides={c: AMOUNT for c in ("revenue_t12m", "wallet", "pipeline_weighted", "potential_value")},
    )
    out = frame.with_columns(potential_class=potential_class(SegmentationSettings(**settings)))
    return by_customer(out, "potential_class")


def test_percent_rank_boundaries_high() -> None:
    # n = 6: percent ranks 0, .2, .4, .6, .8, 1
    rows = [(f"P{i}", 100, 1000, 10 * i) for i in range(1, 7)]
    assert classify(rows) == {"P1": "LOW", "P2": "LOW", "P3": "LOW", "P4": "MEDIUM", "P5": "HIGH", "P6": "HIGH"}


def test_percent_rank_boundary_medium() -> None:
    # n = 3: percent ranks 0, .5, 1
    assert classify([("P1", 100, 1000, 1), ("P2", 100, 1000, 2), ("P3", 100, 1000, 3)]) == {
        "P1": "LOW",
        "P2": "MEDIUM",
        "P3": "HIGH",
    }


def test_percent_rank_ties_share_the_lowest_rank() -> None:
    # values 1, 2, 2, 2, 3: percent ranks 0, .25, .25, .25, 1
    rows = [("P1", 100, 1000, 1), ("P2", 100, 1000, 2), ("P3", 100, 1000, 2), ("P4", 100, 1000, 2)]
    assert classify([*rows, ("P5", 100, 1000, 3)]) == {
        "P1": "LOW",
        "P2": "LOW",
        "P3": "LOW",
        "P4": "LOW",
        "P5": "HIGH",
    }


def test_unknown_and_outside_customers_do_not_change_the_ranking() -> None:
    rows = [(f"P{i}", 100, 1000, 10 * i) for i in range(1, 7)]  # percent ranks 0, .2, .4, .6, .8, 1
    extra = [
        ("UNKNOWN", 100, None, 0),  # no wallet, no pipeline: would lift P3 to 3/6 = .5 if ranked
        ("DORMANT_BIG", 0, 1000, 100),  # outside the universe: 6 of P1..P6 are smaller, 6/5
        ("DORMANT_MID", -5, 1000, 35),  # 3 are smaller: 3/5
        ("DORMANT_SMALL", 0, 1000, 0),
    ]
    assert classify(rows + extra) == {
        "P1": "LOW",
        "P2": "LOW",
        "P3": "LOW",
        "P4": "MEDIUM",
        "P5": "HIGH",
        "P6": "HIGH",
        "UNKNOWN": "UNKNOWN",
        "DORMANT_BIG": "HIGH",
        "DORMANT_MID": "MEDIUM",
        "DORMANT_SMALL": "LOW",
    }


def test_single_ranked_customer_has_percent_rank_zero() -> None:
    assert classify([("P1", 100, 1000, 900), ("OUT", 0, 1000, 1000)]) == {"P1": "LOW", "OUT": "LOW"}
    assert classify([("P1", 100, 1000, 900)], potential_medium_pr=0.0) == {"P1": "MEDIUM"}

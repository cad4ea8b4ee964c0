"""§S4–§S6: Pareto order, ABC classes at every level, portfolio rank, margin view."""

import random
from decimal import Decimal
from fractions import Fraction

import polars as pl
import pytest

from kam_pipeline.segmentation.amounts import AMOUNT
from kam_pipeline.segmentation.pareto import pareto_abc
from kam_pipeline.settings import SegmentationSettings

from .builder import by_customer

SETTINGS = SegmentationSettings()


def customers(revenue: dict[str, float], **columns: list) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": list(revenue),
            "revenue_t12m": [Decimal(str(v)) for v in revenue.values()],
            **columns,
        },
        schema_overrides={"revenue_t12m": AMOUNT},
    )


def classes(ranking: pl.DataFrame) -> dict[str, str]:
    return by_customer(ranking, "abc_class")


def test_customer_reaching_80_percent_is_a_and_the_next_is_b() -> None:
    ranking = pareto_abc(customers({"X1": 50, "X2": 30, "X3": 20}), "revenue_t12m", SETTINGS)
    assert classes(ranking) == {"X1": "A", "X2": "A", "X3": "B"}  # X3 starts exactly at 80 %


def test_customer_crossing_80_percent_is_a() -> None:
    ranking = pareto_abc(customers({"X1": 50, "X2": 35, "X3": 15}), "revenue_t12m", SETTINGS)
    assert classes(ranking) == {"X1": "A", "X2": "A", "X3": "B"}
    assert by_customer(ranking, "cumulative_share") == {"X1": 0.5, "X2": 0.85, "X3": 1.0}


def test_cut_is_exact_where_floating_point_division_is_not() -> None:
    # 8000.40 / 10000.50 is exactly 0.8, but 8000.4 / 10000.5 in floats is 0.7999999999999999.
    ranking = pareto_abc(customers({"X1": 8000.40, "X2": 2000.10}), "revenue_t12m", SETTINGS)
    assert classes(ranking) == {"X1": "A", "X2": "B"}


def test_b_and_c_cut() -> None:
    ranking = pareto_abc(customers({"V": 500, "W": 300, "X": 150, "Y": 30, "Z": 20}), "revenue_t12m", SETTINGS)
    # running share before each customer: 0, .5, .8, .95, .98
    assert classes(ranking) == {"V": "A", "W": "A", "X": "B", "Y": "C", "Z": "C"}
    assert by_customer(ranking, "share") == {"V": 0.5, "W": 0.3, "X": 0.15, "Y": 0.03, "Z": 0.02}


def test_ties_are_ordered_by_customer_id() -> None:
    ranking = pareto_abc(customers({"T2": 10, "K4": 10, "K1": 70, "T1": 10}), "revenue_t12m", SETTINGS)
    # order K1, K4, T1, T2: running share before 0, .7, .8, .9
    assert classes(ranking) == {"K1": "A", "K4": "A", "T1": "B", "T2": "B"}
    assert ranking.get_column("customer_id").to_list() == ["K1", "K4", "T1", "T2"]


def test_customers_without_positive_revenue_are_outside_the_universe() -> None:
    ranking = pareto_abc(customers({"X": 80, "Y": 20, "ZERO": 0, "NEG": -5}), "revenue_t12m", SETTINGS)
    assert classes(ranking) == {"X": "A", "Y": "B", "ZERO": "N", "NEG": "N"}
    assert by_customer(ranking, "share") == {"X": 0.8, "Y": 0.2, "ZERO": None, "NEG": None}
    assert by_customer(ranking, "rank") == {"X": 1, "Y": 2, "ZERO": None, "NEG": None}


def test_credit_notes_making_revenue_negative_give_n_and_lapsed(data) -> None:
    data.account("X").sale("X", 100).account("CREDIT").sale("CREDIT", 40).sale("CREDIT", -60)
    out = data.segments()
    assert by_customer(out, "revenue_t12m")["CREDIT"] == Decimal("-20.00")
    assert by_customer(out, "abc_class") == {"CREDIT": "N", "X": "A"}
    assert by_customer(out, "tier")["CREDIT"] == "LAPSED"
    assert by_customer(out, "revenue_share") == {"CREDIT": None, "X": 1.0}


def test_region_country_and_portfolio_levels(data) -> None:
    data.account("N1", region="NORTH", country="DE", owner="AM1").sale("N1", 500)
    data.account("N2", region="NORTH", country="DK", owner="AM2").sale("N2", 100)
    data.account("S1", region="SOUTH", country="DE", owner="AM1").sale("S1", 300)
    data.account("S2", region="SOUTH", country="IT", owner="AM1").sale("S2", 100)
    data.account("D", region="SOUTH", country="IT", owner="AM1")  # no revenue
    out = data.segments()
    assert by_customer(out, "abc_class") == {"D": "N", "N1": "A", "N2": "B", "S1": "A", "S2": "B"}
    # NORTH 600: N1 before 0 → A, N2 before 5/6 → B. SOUTH 400: S1 A, S2 before .75 → A.
    assert by_customer(out, "region_abc_class") == {"D": "N", "N1": "A", "N2": "B", "S1": "A", "S2": "A"}
    # DE 800: N1 A, S1 before .625 → A. DK: N2 A. IT: S2 A.
    assert by_customer(out, "country_abc_class") == {"D": "N", "N1": "A", "N2": "A", "S1": "A", "S2": "A"}
    # AM1 900: N1 A (1), S1 before 5/9 → A (2), S2 before 8/9 → B (3); AM2: N2 A (1).
    assert by_customer(out, "portfolio_abc_class") == {"D": "N", "N1": "A", "N2": "A", "S1": "A", "S2": "B"}
    assert by_customer(out, "portfolio_rank") == {"D": None, "N1": 1, "N2": 1, "S1": 2, "S2": 3}


def test_margin_abc_ranks_on_margin(data) -> None:
    data.account("BIG").sale("BIG", 1000, cost=990)  # margin 10
    data.account("MID").sale("MID", 500, cost=300)  # margin 200
    data.account("SMALL").sale("SMALL", 100, cost=70)  # margin 30
    data.account("LOSS").sale("LOSS", 100, cost=120)  # margin -20
    data.account("NOCOST").sale("NOCOST", 100)  # margin unknown: 0
    out = data.segments()
    # margin universe 240: MID before 0 → A, SMALL before 200/240 → B, BIG before 230/240 → C
    assert by_customer(out, "margin_abc_class") == {"BIG": "C", "LOSS": "N", "MID": "A", "NOCOST": "N", "SMALL": "B"}
    assert by_customer(out, "abc_class")["BIG"] == "A"


def _reference_classes(revenue: dict[str, Decimal], settings: SegmentationSettings) -> dict[str, str]:
    """Pareto ABC in exact fractions, written independently of the Polars code."""
    universe = sorted(((-v, k) for k, v in revenue.items() if v > 0))
    total = sum(-v for v, _ in universe)
    result = {k: "N" for k, v in revenue.items() if v <= 0}
    before = Decimal(0)
    for negative, key in universe:
        share_before = Fraction(before) / Fraction(total)
        a, b = Fraction(str(settings.abc_a_cut)), Fraction(str(settings.abc_b_cut))
        result[key] = "A" if share_before < a else "B" if share_before < b else "C"
        before += -negative
    return result


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_invariants_on_random_customers(seed: int) -> None:
    rng = random.Random(seed)
    revenue = {
        f"C{i:03d}": Decimal(rng.choice([0, -1, 1, 1, 1, 1]) * rng.randint(0, 500_000)) / 100 for i in range(300)
    }
    regions = [rng.choice(["NORTH", "SOUTH", "EAST"]) for _ in revenue]
    ranking = pareto_abc(customers(revenue, region=regions), "revenue_t12m", SETTINGS)
    ranked = ranking.filter(pl.col("abc_class") != "N")

    assert ranked.get_column("share").sum() == pytest.approx(1.0)
    cumulative = ranked.get_column("cumulative_share")
    assert cumulative.is_sorted()
    assert cumulative[-1] == 1.0
    assert ranked.get_column("rank").to_list() == list(range(1, len(ranked) + 1))
    assert ranked.get_column("abc_class").is_sorted()  # all A, then B, then C
    assert classes(ranking) == _reference_classes(revenue, SETTINGS)
    # A: the customers needed to reach the cut; the first B already starts at or past it.
    first = ranked.group_by("abc_class").agg(pl.col("cumulative_share").first(), pl.col("share").first())
    start = {row["abc_class"]: row["cumulative_share"] - row["share"] for row in first.iter_rows(named=True)}
    assert start["B"] >= SETTINGS.abc_a_cut - 1e-12
    assert start["C"] >= SETTINGS.abc_b_cut - 1e-12

    by_region = pareto_abc(customers(revenue, region=regions), "revenue_t12m", SETTINGS, partition="region")
    region_of = dict(zip(revenue, regions, strict=True))
    for region in ("NORTH", "SOUTH", "EAST"):
        subset = {k: v for k, v in revenue.items() if region_of[k] == region}
        assert {k: v for k, v in classes(by_region).items() if k in subset} == _reference_classes(subset, SETTINGS)

"""The report's pure parts: number formats and column labels
(kam_pipeline/report/formatting.py), key figures, tier grid, movers,
breakdowns and the order of the KAM decisions (kam_pipeline/report/overview.py)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from kam_pipeline.report import formatting, overview
from kam_pipeline.report.glossary import DECISIONS, TIERS, glossary
from kam_pipeline.report.html import Callout, Tiles, render_report

SEGMENTS = pl.DataFrame(
    {
        "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
        "customer_name": ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"],
        "region": ["DACH", "DACH", "Nordics", "Nordics", "UK&I", None],
        "owner_id": ["U1", "U1", "U2", "U2", None, "U3"],
        "abc_class": ["A", "A", "B", "C", "N", "Z"],
        "potential_class": ["HIGH", "LOW", "HIGH", "UNKNOWN", "LOW", "MEDIUM"],
        "tier": ["STRATEGIC", "CORE", "DEVELOP", "SERVE_EFFICIENTLY", "LAPSED", "PROSPECT"],
        "revenue_t12m": [Decimal(v) for v in ("600.00", "200.00", "150.00", "50.00", "0.00", "0.00")],
    },
    schema_overrides={"revenue_t12m": pl.Decimal(18, 2)},
)
CANDIDATES = pl.DataFrame(
    {
        "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
        "customer_name": ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"],
        "decision": ["KEEP", "DESELECT", "ADD", "WATCH", "KEEP", "NONE"],
        "proposed_decision": ["KEEP", "DESELECT", "ADD", "ADD", "KEEP", "NONE"],
        "marginal": [True, False, False, False, False, False],
        "score": [90.0, 60.0, 80.0, 70.0, 50.0, 10.0],
        "selection_stability": [0.8, 0.0, 1.0, 0.3, 1.0, 0.0],
        "decision_reason": ["k", "d", "a", "w", "k", "n"],
    }
)


def test_formats_read_as_a_sales_report() -> None:
    assert formatting.percent(0.03913) == "3.9 %"
    assert formatting.amount(Decimal("1234567.80"), "EUR") == "EUR 1,234,568"
    assert formatting.cell(0.03913, "revenue_share", "CHF") == "3.9 %"
    assert formatting.cell(Decimal("-5.00"), "revenue_t12m", "CHF") == "CHF -5"
    assert formatting.cell(12345, "customers", "EUR") == "12,345"
    assert formatting.cell(-1.43, "gap_fte", "EUR") == "-1.4"
    assert formatting.cell(37.114, "score_gap", "EUR") == "37.11"
    assert formatting.cell(None, "revenue_share", "EUR") == ""
    assert formatting.cell(True, "at_risk", "EUR") == "yes"
    assert formatting.cell(date(2026, 11, 28), "valid_until", "EUR") == "2026-11-28"
    assert formatting.label("revenue_t12m") == "Revenue (12 months)"
    assert formatting.label("some_new_column") == "Some new column"


def test_key_figures_add_up_the_marts() -> None:
    programme = pl.DataFrame({"max_key_accounts": [19]})
    gap = pl.DataFrame({"gap_fte": [-1.4]})
    reconciliation = pl.DataFrame({"extract": ["a", "b"], "rows_rejected": [3, 4]})
    figures = overview.key_figures(SEGMENTS, CANDIDATES, programme, gap, reconciliation)
    assert figures == overview.KeyFigures(
        revenue=1000.0, customers=6, a_share=0.8, key_accounts=3, seats=19, gap_fte=-1.4, rows_rejected=7
    )
    tiles = dict(figures.tiles("EUR"))
    assert tiles["Revenue, last 12 months"] == "EUR 1,000"
    assert tiles["Revenue in ABC class A"] == "80.0 %"
    assert tiles["Key accounts (keep + add)"] == "3 of 19 seats"
    assert tiles["Account-manager hours gap"] == "1.4 FTE spare"
    empty = overview.key_figures(SEGMENTS.clear(), CANDIDATES.clear(), programme.clear(), gap.clear(), reconciliation)
    assert dict(empty.tiles("EUR"))["Account-manager hours gap"] == "no capacity data"
    assert empty.a_share == 0.0 and empty.seats is None


def test_tier_grid_counts_every_customer_once() -> None:
    grid = overview.tier_grid(SEGMENTS)
    assert grid.height == 5 * 4  # A, B, C, N and the unexpected Z x the four potential classes
    assert grid.get_column("abc_class").unique(maintain_order=True).to_list() == ["A", "B", "C", "N", "Z"]
    assert grid.get_column("customers").sum() == SEGMENTS.height
    assert grid.get_column("revenue_t12m").sum() == pytest.approx(1000.0)
    cell = grid.filter((pl.col("abc_class") == "A") & (pl.col("potential_class") == "HIGH"))
    assert cell.select("customers", "revenue_t12m").row(0) == (1, 600.0)
    table = overview.tier_grid_table(grid, "EUR")
    assert table.columns == ["ABC class", "HIGH", "MEDIUM", "LOW", "UNKNOWN", "Total"]
    assert table.row(0) == ("A", "1 · EUR 600", "–", "1 · EUR 200", "–", "2 · EUR 800")
    assert table.row(-1)[-1] == "6 · EUR 1,000"


def test_decisions_are_ordered_by_what_to_act_on_first() -> None:
    ordered = overview.decisions_by_priority(CANDIDATES, SEGMENTS)
    assert ordered.select("priority", "customer_name").rows() == [
        ("Act now", "Beta"),  # DESELECT, larger revenue first
        ("Act now", "Gamma"),  # ADD
        ("Next review", "Delta"),  # WATCH proposed ADD
        ("Marginal", "Alpha"),
        ("Other", "Epsilon"),
    ]
    assert ordered.get_column("revenue_t12m").to_list() == [200.0, 150.0, 50.0, 600.0, 0.0]


def test_movers_name_the_customers_whose_tier_changed() -> None:
    previous = SEGMENTS.filter(pl.col("customer_id") != "C4").with_columns(
        tier=pl.when(pl.col("customer_id") == "C2").then(pl.lit("STRATEGIC")).otherwise(pl.col("tier"))
    )
    moved = overview.movers(SEGMENTS, previous)
    assert moved.select("customer_name", "from_tier", "to_tier").rows() == [
        ("Beta", "STRATEGIC", "CORE"),
        ("Delta", "NEW", "SERVE_EFFICIENTLY"),
    ]
    assert overview.movers(SEGMENTS, SEGMENTS).is_empty()


def test_breakdowns_share_the_revenue_and_the_key_accounts() -> None:
    gap = pl.DataFrame(
        {
            "level": ["TEAM", "REGION", "REGION", "REGION"],
            "level_value": ["ALL", "DACH", "Nordics", "Iberia"],
            "required_hours": [300.0, 100.0, 200.0, 0.0],
            "capacity_hours": [400.0, 200.0, 100.0, 100.0],
        }
    )
    regions = overview.by_region(SEGMENTS, CANDIDATES, gap)
    assert regions.get_column("customers").sum() == SEGMENTS.height
    assert regions.get_column("revenue_share").sum() == pytest.approx(1.0)
    assert regions.get_column("key_accounts").sum() == 3
    dach = regions.row(0, named=True)
    assert (dach["region"], dach["customers"], dach["key_accounts"], dach["utilisation"]) == ("DACH", 2, 1, 0.5)
    assert "Iberia" in regions.get_column("region").to_list()  # managers without customers there
    load = pl.DataFrame(
        {
            "owner_id": ["U1", "U2", "U9"],
            "name": ["Ann", "Bo", "Cy"],
            "required_hours": [10.0, 20.0, 0.0],
            "capacity_hours": [20.0, 10.0, 5.0],
            "load_status": ["UNDER", "OVER", "UNDER"],
        }
    )
    managers = overview.by_manager(SEGMENTS, CANDIDATES, load)
    assert managers.get_column("customers").sum() == SEGMENTS.height
    assert managers.get_column("manager").to_list()[:2] == ["Ann", "Bo"]
    assert {"Cy", "U3", "(no manager)"} <= set(managers.get_column("manager"))


def test_data_quality_gives_the_rejected_share_per_extract() -> None:
    reconciliation = pl.DataFrame(
        {"extract": ["b", "a"], "rows_read": [0, 200], "rows_accepted": [0, 190], "rows_rejected": [0, 10]}
    )
    quality = overview.data_quality(reconciliation)
    assert quality.get_column("extract").to_list() == ["a", "b"]
    assert quality.get_column("rejected_share").to_list() == [0.05, None]


def test_the_glossary_defines_every_tier_and_decision_once() -> None:
    terms = glossary()
    assert set(TIERS) <= set(terms.get_column("term")) and set(DECISIONS) <= set(terms.get_column("term"))
    assert terms.select("kind", "term").is_unique().all()


def test_the_page_shows_tiles_grid_and_callouts_formatted() -> None:
    figures = overview.key_figures(
        SEGMENTS,
        CANDIDATES,
        pl.DataFrame({"max_key_accounts": [19]}),
        pl.DataFrame({"gap_fte": [2.0]}),
        pl.DataFrame({"rows_rejected": [0]}),
    )
    page = render_report(
        {},
        {"Movers": Callout("No earlier snapshot <yet>."), "Glossary": glossary()},
        title="KAM",
        as_of=date(2026, 11, 28),
        run_id="r",
        lead={
            "Summary": Tiles(figures.tiles("CHF")),
            "Tier grid": overview.tier_grid_table(overview.tier_grid(SEGMENTS), "CHF"),
        },
        currency="CHF",
    )
    assert "<dt>Revenue, last 12 months</dt><dd>CHF 1,000</dd>" in page
    assert "<dd>2.0 FTE short</dd>" in page
    assert "<td>2 · CHF 800</td>" in page and "<th>ABC class</th>" in page
    assert "No earlier snapshot &lt;yet&gt;." in page
    anchors = re.findall(r'href="#([^"]+)"', page)
    assert anchors and all(f'id="{anchor}"' in page for anchor in anchors)

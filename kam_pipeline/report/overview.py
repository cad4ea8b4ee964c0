"""The figures a sales leader reads first: the run's key figures, the tier
grid, movers, breakdowns by region and account manager, the KAM decisions
in the order to act on them and the data quality of the run.

Pure functions of the marts' frames (no database, no clock), so that the
report asset stays thin and each figure is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kam_pipeline.report.formatting import amount, percent
from kam_pipeline.report.glossary import ABC_CLASSES, POTENTIAL_CLASSES

KEY_DECISIONS = ("KEEP", "ADD")
ACT_NOW = ("DESELECT", "ADD")
#: The priority groups of the KAM decisions table, first to act on first.
ACT, PROPOSED, MARGINAL, OTHER = "Act now", "Next review", "Marginal", "Other"
PRIORITY = pl.Enum([ACT, PROPOSED, MARGINAL, OTHER])


@dataclass(frozen=True)
class KeyFigures:
    """The summary at the top of the report."""

    revenue: float
    customers: int
    a_share: float
    key_accounts: int
    seats: int | None
    gap_fte: float | None
    rows_rejected: int

    def tiles(self, currency: str) -> tuple[tuple[str, str], ...]:
        """(label, value) per figure, formatted for the reader."""
        seats = f" of {self.seats:,} seats" if self.seats is not None else ""
        if self.gap_fte is None:
            gap = "no capacity data"
        else:
            gap = f"{abs(self.gap_fte):,.1f} FTE " + ("short" if self.gap_fte > 0 else "spare")
        return (
            ("Revenue, last 12 months", amount(self.revenue, currency)),
            ("Customers", f"{self.customers:,}"),
            ("Revenue in ABC class A", percent(self.a_share)),
            ("Key accounts (keep + add)", f"{self.key_accounts:,}{seats}"),
            ("Account-manager hours gap", gap),
            ("Rows rejected in this run", f"{self.rows_rejected:,}"),
        )


def _revenue() -> pl.Expr:
    return pl.col("revenue_t12m").cast(pl.Float64).fill_null(0.0)


def _key_accounts(candidates: pl.DataFrame) -> pl.DataFrame:
    """customer_id of the key accounts after this run's decisions (KEEP or ADD)."""
    return candidates.filter(pl.col("decision").is_in(KEY_DECISIONS)).select("customer_id", key_account=pl.lit(1))


def key_figures(
    segments: pl.DataFrame,
    candidates: pl.DataFrame,
    programme: pl.DataFrame,
    team_gap: pl.DataFrame,
    reconciliation: pl.DataFrame,
) -> KeyFigures:
    """Revenue, customers, class A's share, key accounts against seats, the
    hours gap and the rejected rows: `programme` is this snapshot's row of
    marts.kam_programme, `team_gap` marts.capacity_gap's TEAM row and
    `reconciliation` this run's rows of quality.reconciliation (each may be empty)."""
    revenue = segments.select(_revenue().sum()).item() or 0.0
    a_revenue = segments.filter(pl.col("abc_class") == "A").select(_revenue().sum()).item() or 0.0
    return KeyFigures(
        revenue=revenue,
        customers=segments.height,
        a_share=a_revenue / revenue if revenue else 0.0,
        key_accounts=_key_accounts(candidates).height,
        seats=programme.get_column("max_key_accounts").item(0) if programme.height else None,
        gap_fte=team_gap.get_column("gap_fte").item(0) if team_gap.height else None,
        rows_rejected=int(reconciliation.get_column("rows_rejected").sum()),
    )


def tier_grid(segments: pl.DataFrame) -> pl.DataFrame:
    """customers and revenue_t12m per ABC class x potential class, every
    combination present (zero when empty), classes in the method's order,
    then any unexpected value (methodology §S4, §S8)."""
    counts = segments.group_by("abc_class", "potential_class").agg(customers=pl.len(), revenue_t12m=_revenue().sum())
    abc = [*ABC_CLASSES, *sorted(set(counts.get_column("abc_class").drop_nulls()) - set(ABC_CLASSES))]
    potential = [
        *POTENTIAL_CLASSES,
        *sorted(set(counts.get_column("potential_class").drop_nulls()) - set(POTENTIAL_CLASSES)),
    ]
    cells = pl.DataFrame({"abc_class": abc}).join(pl.DataFrame({"potential_class": potential}), how="cross")
    return cells.join(counts, on=["abc_class", "potential_class"], how="left").with_columns(
        pl.col("customers").fill_null(0).cast(pl.Int64), pl.col("revenue_t12m").fill_null(0.0)
    )


def tier_grid_table(grid: pl.DataFrame, currency: str) -> pl.DataFrame:
    """The grid as the report prints it: one row per ABC class, one column per
    potential class and a total, each cell `customers · revenue`."""

    def text(customers: int, revenue: float) -> str:
        return f"{customers:,} · {amount(revenue, currency)}" if customers else "–"

    potentials = grid.get_column("potential_class").unique(maintain_order=True).to_list()
    rows = []
    for abc, cells in grid.group_by("abc_class", maintain_order=True):
        by_potential = {r["potential_class"]: r for r in cells.iter_rows(named=True)}
        row = {"ABC class": abc[0]}
        row |= {p: text(by_potential[p]["customers"], by_potential[p]["revenue_t12m"]) for p in potentials}
        row["Total"] = text(cells.get_column("customers").sum(), cells.get_column("revenue_t12m").sum())
        rows.append(row)
    totals = grid.group_by("potential_class", maintain_order=True).agg(pl.col("customers", "revenue_t12m").sum())
    total_row = {"ABC class": "Total"} | {p: text(c, r) for p, c, r in totals.iter_rows()}
    total_row["Total"] = text(grid.get_column("customers").sum(), grid.get_column("revenue_t12m").sum())
    return pl.DataFrame([*rows, total_row])


def movers(segments: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """The customers whose tier differs from the previous snapshot (`previous`,
    history.customer_segments at its latest earlier as-of date), new customers
    included as from NEW, by revenue, largest first."""
    before = previous.select("customer_id", from_tier="tier", previous_revenue_t12m=_revenue())
    return (
        segments.select("customer_id", "customer_name", to_tier="tier", revenue_t12m=_revenue())
        .join(before, on="customer_id", how="left")
        .with_columns(pl.col("from_tier").fill_null("NEW"))
        .filter(pl.col("from_tier") != pl.col("to_tier"))
        .sort(["revenue_t12m", "customer_id"], descending=[True, False])
        .select("customer_id", "customer_name", "from_tier", "to_tier", "revenue_t12m", "previous_revenue_t12m")
    )


def _by(segments: pl.DataFrame, candidates: pl.DataFrame, key: str) -> pl.DataFrame:
    """customers, revenue_t12m, revenue_share and key_accounts per value of `key`."""
    total = segments.select(_revenue().sum()).item() or 0.0
    return (
        segments.join(_key_accounts(candidates), on="customer_id", how="left")
        .group_by(key)
        .agg(customers=pl.len(), revenue_t12m=_revenue().sum(), key_accounts=pl.col("key_account").sum())
        .with_columns(
            revenue_share=pl.col("revenue_t12m") / total if total else pl.lit(0.0),
            key_accounts=pl.col("key_accounts").cast(pl.Int64),
        )
    )


def _hours() -> list[pl.Expr]:
    return [
        pl.col("required_hours").fill_null(0.0),
        pl.col("capacity_hours").fill_null(0.0),
        pl.when(pl.col("capacity_hours") > 0)
        .then(pl.col("required_hours") / pl.col("capacity_hours"))
        .alias("utilisation"),
    ]


def by_region(segments: pl.DataFrame, candidates: pl.DataFrame, capacity_gap: pl.DataFrame) -> pl.DataFrame:
    """Customers, revenue, share and key accounts per customer region, with the
    hours their plans require against the capacity of the managers of that
    region (marts.capacity_gap's REGION rows), by revenue, largest first."""
    hours = capacity_gap.filter(pl.col("level") == "REGION").select(
        region="level_value", required_hours="required_hours", capacity_hours="capacity_hours"
    )
    return (
        _by(segments, candidates, "region")
        .join(hours, on="region", how="full", coalesce=True)
        .with_columns(
            pl.col("customers", "key_accounts").fill_null(0), pl.col("revenue_t12m", "revenue_share").fill_null(0.0)
        )
        .with_columns(_hours())
        .sort(["revenue_t12m", "region"], descending=[True, False], nulls_last=True)
        .select(
            "region",
            "customers",
            "revenue_t12m",
            "revenue_share",
            "key_accounts",
            "required_hours",
            "capacity_hours",
            "utilisation",
        )
    )


def by_manager(segments: pl.DataFrame, candidates: pl.DataFrame, load: pl.DataFrame) -> pl.DataFrame:
    """Customers owned, revenue, share and key accounts per account manager
    (customer_segments.owner_id), with the manager's hours against capacity
    (marts.account_manager_load); managers without customers are listed too."""
    managers = load.select(
        "owner_id",
        manager="name",
        required_hours="required_hours",
        capacity_hours="capacity_hours",
        load_status="load_status",
    )
    return (
        _by(segments, candidates, "owner_id")
        .join(managers, on="owner_id", how="full", coalesce=True)
        .with_columns(
            pl.col("customers", "key_accounts").fill_null(0),
            pl.col("revenue_t12m", "revenue_share").fill_null(0.0),
            pl.col("manager").fill_null(pl.col("owner_id")).fill_null("(no manager)"),
        )
        .with_columns(_hours())
        .sort(["revenue_t12m", "owner_id"], descending=[True, False], nulls_last=True)
        .select(
            "manager",
            "owner_id",
            "customers",
            "revenue_t12m",
            "revenue_share",
            "key_accounts",
            "required_hours",
            "capacity_hours",
            "utilisation",
            "load_status",
        )
    )


def decision_priority() -> pl.Expr:
    """What to act on first: deselections and additions in force, then what
    the next review proposes to change, then marginal selections, then the rest."""
    proposed_change = pl.col("proposed_decision").is_in([*ACT_NOW, "REVIEW"]) & (
        pl.col("proposed_decision") != pl.col("decision")
    )
    return (
        pl.when(pl.col("decision").is_in(ACT_NOW))
        .then(pl.lit(ACT))
        .when(proposed_change)
        .then(pl.lit(PROPOSED))
        .when(pl.col("marginal").fill_null(False))
        .then(pl.lit(MARGINAL))
        .otherwise(pl.lit(OTHER))
        .cast(PRIORITY)
        .alias("priority")
    )


def decisions_by_priority(candidates: pl.DataFrame, segments: pl.DataFrame) -> pl.DataFrame:
    """The KAM decisions other than NONE with their revenue, by decision_priority,
    then revenue (largest first), then customer_id."""
    revenue = segments.select("customer_id", revenue_t12m=_revenue())
    return (
        candidates.filter(pl.col("decision") != "NONE")
        .join(revenue, on="customer_id", how="left")
        .with_columns(decision_priority(), pl.col("revenue_t12m").fill_null(0.0))
        .sort(["priority", "revenue_t12m", "customer_id"], descending=[False, True, False])
        .select(
            "priority",
            "decision",
            "proposed_decision",
            "customer_name",
            "revenue_t12m",
            "score",
            "selection_stability",
            "decision_reason",
        )
    )


def data_quality(reconciliation: pl.DataFrame) -> pl.DataFrame:
    """Rows read, accepted and rejected per extract for the run
    (`reconciliation`: this run's rows of quality.reconciliation), with the rejected share."""
    return reconciliation.sort("extract").select(
        "extract",
        "rows_read",
        "rows_accepted",
        "rows_rejected",
        rejected_share=pl.when(pl.col("rows_read") > 0).then(pl.col("rows_rejected") / pl.col("rows_read")),
    )

"""How the report shows numbers and column names to a sales reader.

Fractions as `3.9 %`, amounts as `EUR 1,234,567` (whole units: a reader
compares accounts, not cents), counts with thousands separators, and a
human header for every column the report prints. Which column holds what is
declared here once, by name, so every table of the report agrees.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

#: Columns holding a fraction (0.039 = 3.9 %).
PERCENT_COLUMNS = frozenset(
    {
        "revenue_share",
        "margin_share",
        "key_revenue_share",
        "key_margin_share",
        "utilisation",
        "selection_stability",
        "growth_pct",
        "margin_pct",
        "top20_revenue_share",
        "wallet_coverage_a",
        "cost_coverage_a",
        "position_coverage_a",
        "am_coverage_ab",
        "at_risk_share_ab",
        "stable_pick_share",
        "rejected_share",
    }
)
#: Columns holding an amount in the reporting currency.
AMOUNT_COLUMNS = frozenset({"revenue_t12m", "previous_revenue_t12m", "margin_t12m", "potential_value"})
#: Columns holding a signed difference, shown with its sign.
SIGNED_COLUMNS = frozenset({"gap_fte"})

#: The header a reader sees for each column the report prints.
COLUMN_LABELS = {
    "abc_class": "ABC class",
    "action": "Action",
    "added": "Added",
    "am_coverage_ab": "A/B customers with a manager",
    "approved_by": "Approved by",
    "at_risk_share_ab": "A/B revenue at risk",
    "available_hours": "Available hours",
    "capacity_hours": "Capacity hours",
    "change_vs_base": "Change vs base",
    "cost_coverage_a": "A customers with cost data",
    "customer": "Customer",
    "customer_id": "Customer ID",
    "customer_name": "Customer",
    "customers": "Customers",
    "kind": "Kind",
    "decision": "Decision",
    "decision_reason": "Why",
    "decision_source": "Decided by",
    "description": "Description",
    "detail": "Detail",
    "extract": "Extract",
    "from_tier": "Previous tier",
    "gap_fte": "Gap (FTE)",
    "key_accounts": "Key accounts",
    "key_margin_share": "Key-account margin share",
    "key_revenue_share": "Key-account revenue share",
    "load_status": "Load",
    "manager": "Account manager",
    "max_key_accounts": "Seats",
    "meaning": "Meaning",
    "name": "Name",
    "override_id": "Override",
    "owner_id": "Manager ID",
    "position_coverage_a": "A customers with a competitive position",
    "potential_class": "Potential",
    "previous_revenue_t12m": "Previous revenue (12 months)",
    "priority": "Priority",
    "proposed_decision": "Proposed at next review",
    "reason": "Reason",
    "region": "Region",
    "rejected_share": "Rejected",
    "removed": "Removed",
    "required_hours": "Required hours",
    "revenue_gini": "Revenue Gini",
    "revenue_share": "Revenue share",
    "revenue_t12m": "Revenue (12 months)",
    "role": "Role",
    "rows_accepted": "Rows accepted",
    "rows_read": "Rows read",
    "rows_rejected": "Rows rejected",
    "scenario": "Scenario",
    "score": "Score",
    "score_gap": "Score gap",
    "selection_rank": "Rank",
    "selection_stability": "Stability",
    "stable_pick_share": "Stable picks",
    "status": "Status",
    "term": "Term",
    "threat_level": "Threat",
    "tier": "Tier",
    "to_tier": "Tier now",
    "top20_revenue_share": "Top-20 revenue share",
    "topic": "Topic",
    "uncovered_customers": "Uncovered customers",
    "utilisation": "Utilisation",
    "valid_until": "Valid until",
    "wallet_coverage_a": "A customers with a wallet",
}


def label(column: str) -> str:
    """The header of `column`: its label, else the name in words ('key_accounts' -> 'Key accounts')."""
    if column in COLUMN_LABELS:
        return COLUMN_LABELS[column]
    text = column.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def percent(fraction: float) -> str:
    """0.03913 -> '3.9 %'."""
    return f"{fraction * 100:,.1f} %"


def amount(value: float | Decimal, currency: str) -> str:
    """1234567.8 -> 'EUR 1,234,568'."""
    return f"{currency} {float(value):,.0f}"


def number(value: object) -> str:
    """A count or measure with thousands separators; small measures keep two decimals."""
    if isinstance(value, int):
        return f"{value:,}"
    value = float(value)  # type: ignore[arg-type]
    if not math.isfinite(value):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def cell(value: object, column: str, currency: str) -> str:
    """`value` of `column` as the reader sees it (not escaped)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if column in PERCENT_COLUMNS:
            return percent(float(value))
        if column in AMOUNT_COLUMNS:
            return amount(value, currency)
        if column in SIGNED_COLUMNS:
            return f"{float(value):+,.1f}"
        return number(value)
    return str(value)

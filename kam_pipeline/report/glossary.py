"""The words of the report defined once: tiers, ABC and potential classes,
KAM decisions, as docs/methodology.md defines them (§S4, §S8, §S10, §K5.1),
so that the glossary section and any label agree with the method."""

from __future__ import annotations

import polars as pl

ABC_CLASSES = {
    "A": "The largest customers that together make the first 80 % of revenue (including the one that crosses it).",
    "B": "The next customers, up to 95 % of revenue.",
    "C": "The remaining customers with positive revenue.",
    "N": "No positive revenue in the last 12 months (outside the Pareto universe).",
}
POTENTIAL_CLASSES = {
    "HIGH": "Potential value in the top 20 % of customers with a known potential (percent rank ≥ 0.80).",
    "MEDIUM": "Potential value between the 50th and 80th percentile.",
    "LOW": "Potential value below the 50th percentile.",
    "UNKNOWN": "No known headroom (no wallet, or a wallet below revenue) and no material pipeline; "
    "counted as LOW for the tier.",
}
TIERS = {
    "STRATEGIC": "Class A with HIGH or MEDIUM potential: large today and room to grow.",
    "CORE": "Class A with LOW potential: large today, little room to grow.",
    "DEVELOP": "Class B or C with HIGH potential: small today, large room to grow.",
    "MAINTAIN": "Class B with MEDIUM or LOW potential.",
    "SERVE_EFFICIENTLY": "Class C with MEDIUM or LOW potential.",
    "LAPSED": "Class N that bought before (has a last invoice date).",
    "PROSPECT": "Class N, never invoiced.",
}
DECISIONS = {
    "KEEP": "Key account that stays in the programme.",
    "ADD": "Newcomer taking a free seat, or replacing a weaker key account within the turnover cap.",
    "DESELECT": "Key account that must leave (ineligible, beyond capacity, or replaced by a stronger newcomer) "
    "and is not in its grace period.",
    "REVIEW": "Key account that must leave but is inside its grace period: decide at the review.",
    "WATCH": "Newcomer close to the cut-off (within the watch band) or held back by the turnover cap.",
    "NONE": "Not a key account and not close to becoming one.",
    "MARGINAL": "A selection that a small change of the score weights would reverse: picked but left out in more "
    "than kam.marginal_share (10 %) of the weight variations, or not picked but selected in more than that.",
}
#: The report's order of the glossary's groups.
GROUPS = {"Tier": TIERS, "ABC class": ABC_CLASSES, "Potential class": POTENTIAL_CLASSES, "Decision": DECISIONS}


def glossary() -> pl.DataFrame:
    """One row per defined term (kind, term, meaning), in the order of GROUPS."""
    rows = [(kind, term, meaning) for kind, terms in GROUPS.items() for term, meaning in terms.items()]
    return pl.DataFrame(rows, schema=["kind", "term", "meaning"], orient="row")

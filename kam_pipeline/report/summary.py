"""The short summary `kam-pipeline run` prints after a successful run."""

from pathlib import Path

import duckdb


def run_summary(path: Path, work_db: Path, run_id: str) -> str:
    """Where the warehouse is and what run `run_id` published into it, read
    from the working database it was built from: the published file may be
    held read-write by a BI client, and is never opened by the pipeline
    (docs/publishing.md). The caller holds the run lock, so the working
    database still holds this run's tables."""
    with duckdb.connect(str(work_db), read_only=True) as con:
        run_id, run_as_of, rejected = con.execute(
            "SELECT run_id, as_of_date, rejected_rows FROM meta.runs WHERE run_id = ?", [run_id]
        ).fetchone()
        extracts = con.execute(
            "SELECT extract, rows_read, rows_accepted, rows_rejected FROM quality.reconciliation "
            "WHERE run_id = ? ORDER BY extract",
            [run_id],
        ).fetchall()
        tiers = con.execute(
            "SELECT tier, count(*), sum(revenue_t12m) FROM marts.customer_segments GROUP BY tier "
            "ORDER BY sum(revenue_t12m) DESC"
        ).fetchall()
        decisions = con.execute(
            "SELECT decision, count(*) FROM marts.kam_candidates WHERE decision <> 'NONE' GROUP BY decision ORDER BY 1"
        ).fetchall()
        proposals = con.execute(
            "SELECT any_value(review_date), list(proposed_decision || ' ' || n ORDER BY proposed_decision) FROM "
            "(SELECT review_date, proposed_decision, count(*) AS n FROM marts.kam_candidates "
            "WHERE proposed_decision IN ('ADD', 'DESELECT', 'REVIEW') GROUP BY ALL)"
        ).fetchone()
        gap = con.execute(
            "SELECT required_hours, capacity_hours, gap_fte FROM marts.capacity_gap WHERE level = 'TEAM'"
        ).fetchone()
        load = con.execute(
            "SELECT load_status, count(*) FROM marts.account_manager_load GROUP BY 1 ORDER BY 1"
        ).fetchall()
    lines = [
        f"warehouse:  {path}",
        f"as-of date: {run_as_of}    run: {run_id}    rejected rows: {rejected}",
        "",
        f"{'extract':<18}{'read':>10}{'accepted':>10}{'rejected':>10}",
        *(f"{name:<18}{read:>10}{ok:>10}{bad:>10}" for name, read, ok, bad in extracts),
        "",
        f"{'tier':<18}{'customers':>10}{'revenue_t12m':>16}",
        *(f"{tier:<18}{n:>10}{float(revenue or 0):>16,.0f}" for tier, n, revenue in tiers),
        "",
        "KAM decisions: " + (", ".join(f"{d} {n}" for d, n in decisions) or "none (no customer in the segments)"),
        f"review of {proposals[0]} proposes: " + (", ".join(proposals[1]) if proposals[1] else "no change")
        if proposals[0]
        else "next review proposes no change",
        "account-manager load: " + ", ".join(f"{s} {n}" for s, n in load),
        f"hours: {gap[0]:,.0f} required against {gap[1]:,.0f} capacity (gap {gap[2]:+.1f} FTE)" if gap else "",
    ]
    return "\n".join(lines)

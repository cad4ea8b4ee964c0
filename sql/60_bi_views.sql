-- BI views: friendly, stable entry points for dashboards. Browse the `bi`
-- schema first; the tables behind it are documented column by column.

CREATE VIEW bi.current_segmentation AS
SELECT
    s.customer_id, s.customer_name, s.region, s.country_code, s.industry,
    s.owner_id, m.name AS owner_name,
    s.tier, s.at_risk, s.abc_class, s.margin_abc_class, s.portfolio_abc_class, s.portfolio_rank,
    s.revenue_t12m, s.revenue_prior, s.growth_pct, s.trend, s.revenue_share, s.cumulative_share,
    s.margin_t12m, s.margin_pct, s.potential_class, s.potential_value, s.wallet_source,
    s.threat_level, s.threat_reasons, s.tier_reason, s.as_of_date
FROM marts.customer_segments AS s
LEFT JOIN staging.account_managers AS m USING (owner_id);
COMMENT ON VIEW bi.current_segmentation IS 'Current segmentation with the owner''s name: one row per customer, biggest first by revenue_t12m.';

CREATE VIEW bi.kam_decisions AS
SELECT
    c.decision, c.proposed_decision, c.review_date, c.customer_id, c.customer_name, s.region, s.owner_id,
    m.name AS owner_name, s.tier, s.abc_class, s.potential_class, s.revenue_t12m, s.margin_pct,
    c.score, c.selection_score, c.selection_rank, c.eligible, c.is_current_key_account,
    c.decision_source, c.override_id, c.selection_stability, c.marginal, c.points_to_cutoff, c.held_back_by,
    c.decision_reason, c.ineligible_reason, c.as_of_date
FROM marts.kam_candidates AS c
JOIN marts.customer_segments AS s USING (customer_id)
LEFT JOIN staging.account_managers AS m ON m.owner_id = s.owner_id
WHERE c.decision <> 'NONE' OR c.proposed_decision <> 'NONE';
COMMENT ON VIEW bi.kam_decisions IS 'Customers with a KAM decision or a proposal for the next review other than NONE (KEEP, ADD, REVIEW, DESELECT, WATCH) and the reasons with figures.';

CREATE VIEW bi.manager_load AS
SELECT owner_id, name, role, region, customers, required_hours, capacity_hours, utilisation, load_status, as_of_date
FROM marts.account_manager_load;
COMMENT ON VIEW bi.manager_load IS 'Hours each account manager should spend against capacity, with OVER / BALANCED / UNDER.';

CREATE VIEW bi.tier_migration AS
SELECT previous_as_of_date, as_of_date, from_tier, to_tier, customers, previous_revenue_t12m, revenue_t12m
FROM marts.tier_migration;
COMMENT ON VIEW bi.tier_migration IS 'Customers and revenue that moved between tiers since the previous snapshot.';

CREATE VIEW bi.data_quality AS
WITH latest AS (
    SELECT extract, max(as_of_date) AS as_of_date, arg_max(run_id, as_of_date) AS run_id
    FROM quality.reconciliation GROUP BY extract
),
reasons AS (
    SELECT extract, rule_group, count(DISTINCT (source_file, source_row)) AS rows_rejected
    FROM quality.rejected_rows GROUP BY extract, rule_group
)
SELECT
    r.extract, r.as_of_date, r.rows_read, r.rows_accepted, r.rows_rejected, r.balanced,
    coalesce(q.rule_group, 'none') AS rule_group, coalesce(q.rows_rejected, 0) AS rows_rejected_in_group
FROM quality.reconciliation AS r
JOIN latest AS l ON l.extract = r.extract AND l.run_id = r.run_id
LEFT JOIN reasons AS q ON q.extract = r.extract;
COMMENT ON VIEW bi.data_quality IS 'Latest run per extract: rows read, accepted and rejected, and rejected rows per rule group.';

CREATE VIEW bi.run_log AS
SELECT run_id, as_of_date, started_at, finished_at, status, rejected_rows, row_counts
FROM meta.runs
ORDER BY finished_at DESC;
COMMENT ON VIEW bi.run_log IS 'Every run, newest first: status, as-of date, timings, rows per table and rejected rows.';

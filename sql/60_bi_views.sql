-- BI views: friendly, stable entry points for dashboards. Browse the `bi`
-- schema first; every view and column carries a comment.
--
-- Column comments: a column passed through under its own name gets the
-- comment of that column in the first table the view reads (FROM, then JOIN
-- order) when the views are created (kam_pipeline/warehouse/schema.py), so
-- the text is written once, where the table is declared. The comments below
-- are for columns that are computed or renamed here. Amounts (DECIMAL) are in
-- the reporting currency, named in each view's `reporting_currency` column.
--
-- Names say what a column holds: fractions end in _share, _rate or _ratio
-- (0.25 = 25 %); the marts keep their names. The renames are listed in the
-- README ("For BI users: reading the warehouse").

CREATE VIEW bi.current_run AS
SELECT run_id, as_of_date, started_at, finished_at, reporting_currency
FROM meta.runs
WHERE status = 'SUCCESS'
ORDER BY finished_at DESC
LIMIT 1;
COMMENT ON VIEW bi.current_run IS 'The run that published this file (the newest successful run): its as-of date and the currency of every amount in the bi views.';

CREATE VIEW bi.current_segmentation AS
SELECT
    s.customer_id, s.customer_name, s.region, s.country_code, s.industry,
    s.owner_id, m.name AS owner_name,
    s.tier, s.at_risk, s.abc_class, s.margin_abc_class, s.portfolio_abc_class, s.portfolio_rank,
    s.revenue_t12m, s.revenue_prior, s.growth_pct AS growth_rate, s.trend, s.revenue_share, s.cumulative_share,
    s.margin_t12m, s.margin_pct AS margin_rate,
    s.potential_class, s.potential_value, s.potential_driver,
    s.wallet, s.wallet_source, s.wallet_below_revenue, s.headroom, s.share_of_wallet, s.pipeline_weighted,
    s.competitive_position, s.threat_level, s.threat_reasons, s.tier_reason,
    c.decision AS kam_decision, c.proposed_decision AS kam_proposed_decision, s.is_current_key_account,
    (SELECT reporting_currency FROM bi.current_run) AS reporting_currency,
    s.as_of_date
FROM marts.customer_segments AS s
LEFT JOIN staging.account_managers AS m USING (owner_id)
LEFT JOIN marts.kam_candidates AS c USING (customer_id);
COMMENT ON VIEW bi.current_segmentation IS 'Current segmentation with the owner''s name, potential, competitive position and KAM decision: one row per customer.';
COMMENT ON COLUMN bi.current_segmentation.owner_name IS 'Name of the account manager owning the customer, as in the CRM.';
COMMENT ON COLUMN bi.current_segmentation.growth_rate IS 'Revenue growth as a fraction, (revenue_t12m - revenue_prior) / revenue_prior when revenue_prior > 0: 0.25 = +25 %, 8.93 = +893 %.';
COMMENT ON COLUMN bi.current_segmentation.margin_rate IS 'Margin as a fraction of revenue, margin_t12m / revenue_t12m when revenue_t12m > 0: 0.25 = 25 %.';
COMMENT ON COLUMN bi.current_segmentation.kam_decision IS 'KAM decision that holds now (bi.kam_decisions.decision): KEEP, ADD, REVIEW, DESELECT, WATCH or NONE.';
COMMENT ON COLUMN bi.current_segmentation.kam_proposed_decision IS 'What the next KAM review would decide (bi.kam_decisions.proposed_decision).';

CREATE VIEW bi.kam_decisions AS
SELECT
    c.decision, c.proposed_decision, c.review_date, c.customer_id, c.customer_name, s.region, s.owner_id,
    m.name AS owner_name, s.tier, s.abc_class, s.potential_class, s.revenue_t12m, s.margin_pct AS margin_rate,
    c.score, c.selection_score, c.selection_rank, c.eligible, c.is_current_key_account,
    c.decision_source, c.override_id, c.selection_stability AS selection_stability_share, c.marginal,
    c.points_to_cutoff, c.held_back_by, c.decision_reason, c.ineligible_reason,
    (SELECT reporting_currency FROM bi.current_run) AS reporting_currency,
    c.as_of_date
FROM marts.kam_candidates AS c
JOIN marts.customer_segments AS s USING (customer_id)
LEFT JOIN staging.account_managers AS m ON m.owner_id = s.owner_id
WHERE c.decision <> 'NONE' OR c.proposed_decision <> 'NONE';
COMMENT ON VIEW bi.kam_decisions IS 'Customers with a KAM decision or a proposal for the next review other than NONE (KEEP, ADD, REVIEW, DESELECT, WATCH) and the reasons with figures.';
COMMENT ON COLUMN bi.kam_decisions.owner_name IS 'Name of the account manager owning the customer, as in the CRM.';
COMMENT ON COLUMN bi.kam_decisions.margin_rate IS 'Margin as a fraction of revenue, margin_t12m / revenue_t12m when revenue_t12m > 0: 0.25 = 25 %.';
COMMENT ON COLUMN bi.kam_decisions.selection_stability_share IS 'Share (0-1) of the kam.robustness_draws weight variations in which the customer is among the best of the selection pool; 1.0 for an INCLUDE, 0.0 outside the pool.';

CREATE VIEW bi.manager_load AS
SELECT
    owner_id, name, role, region, customers, required_hours, allocated_hours, capacity_hours,
    utilisation AS utilisation_ratio, load_status, gap_hours, gap_fte, uncovered_customers, as_of_date
FROM marts.account_manager_load;
COMMENT ON VIEW bi.manager_load IS 'Hours each account manager should spend against capacity, with OVER / BALANCED / UNDER.';
COMMENT ON COLUMN bi.manager_load.utilisation_ratio IS 'required_hours / capacity_hours: 1.0 = fully booked, above 1 = over capacity.';

CREATE VIEW bi.tier_migration AS
SELECT
    previous_as_of_date, as_of_date, from_tier, to_tier, customers, previous_revenue_t12m, revenue_t12m,
    (SELECT reporting_currency FROM bi.current_run) AS reporting_currency
FROM marts.tier_migration;
COMMENT ON VIEW bi.tier_migration IS 'Customers and revenue that moved between tiers since the previous snapshot.';

CREATE VIEW bi.data_quality AS
WITH latest AS (
    -- Per extract, the newest run that reconciled it, newest by when the run
    -- finished (a rerun of an earlier as-of date is still the newest run).
    SELECT r.extract, arg_max(r.run_id, u.finished_at) AS run_id
    FROM quality.reconciliation AS r
    JOIN meta.runs AS u USING (run_id)
    GROUP BY r.extract
),
reasons AS (
    SELECT run_id, extract, rule_group, count(DISTINCT (source_file, source_row)) AS rows_rejected
    FROM quality.rejected_rows GROUP BY run_id, extract, rule_group
)
SELECT
    r.extract, r.run_id, r.as_of_date, r.rows_read, r.rows_accepted, r.rows_rejected, r.balanced,
    coalesce(q.rule_group, 'none') AS rule_group, coalesce(q.rows_rejected, 0) AS rows_rejected_in_group
FROM quality.reconciliation AS r
JOIN latest AS l ON l.extract = r.extract AND l.run_id = r.run_id
LEFT JOIN reasons AS q ON q.extract = r.extract AND q.run_id = r.run_id;
COMMENT ON VIEW bi.data_quality IS 'Newest run per extract (by finish time): rows read, accepted and rejected, and that run''s rejected rows per rule group.';
COMMENT ON COLUMN bi.data_quality.rule_group IS 'Rule group the rejected rows broke (types, completeness, uniqueness, allowed_values, ranges, dates, references); none when the run rejected nothing.';
COMMENT ON COLUMN bi.data_quality.rows_rejected_in_group IS 'Distinct source rows of this extract that the run rejected for a rule of this group (a row can break rules of several groups).';

CREATE VIEW bi.run_log AS
SELECT run_id, as_of_date, started_at, finished_at, status, rejected_rows, row_counts, reporting_currency
FROM meta.runs
ORDER BY finished_at DESC;
COMMENT ON VIEW bi.run_log IS 'Every run, newest first: status, as-of date, timings, rows per table and rejected rows.';

CREATE VIEW bi.kam_programme AS
SELECT
    as_of_date, review_date, max_key_accounts, turnover_seats, key_accounts,
    keep, add, review, deselect, watch, proposed_add, proposed_deselect, proposed_review, control_customers,
    key_revenue_t12m, key_revenue_prior, key_revenue_growth AS key_revenue_growth_rate,
    key_margin_t12m, key_margin_prior, key_margin_growth AS key_margin_growth_rate,
    control_revenue_t12m, control_revenue_prior, control_revenue_growth AS control_revenue_growth_rate,
    control_margin_t12m, control_margin_prior, control_margin_growth AS control_margin_growth_rate,
    kam_cost, incremental_margin, roi AS roi_ratio, override_includes, override_excludes, over_capacity,
    (SELECT reporting_currency FROM bi.current_run) AS reporting_currency
FROM marts.kam_programme;
COMMENT ON VIEW bi.kam_programme IS 'The KAM programme on the as-of date: size, pending changes, cost and estimated return against a control group (an estimate, not proof).';
COMMENT ON COLUMN bi.kam_programme.key_revenue_growth_rate IS 'Growth of the key accounts'' total revenue as a fraction: 0.10 = +10 %.';
COMMENT ON COLUMN bi.kam_programme.key_margin_growth_rate IS 'Growth of the key accounts'' total margin as a fraction: 0.10 = +10 %.';
COMMENT ON COLUMN bi.kam_programme.control_revenue_growth_rate IS 'Growth of the control group''s total revenue as a fraction: 0.10 = +10 %.';
COMMENT ON COLUMN bi.kam_programme.control_margin_growth_rate IS 'Growth of the control group''s total margin as a fraction: 0.10 = +10 %.';
COMMENT ON COLUMN bi.kam_programme.roi_ratio IS 'Return on the KAM cost, (incremental_margin - kam_cost) / kam_cost: 0.5 = the programme returns 1.5 times its cost.';

CREATE VIEW bi.resource_allocation AS
SELECT
    a.customer_id, s.customer_name, a.owner_id, a.region, a.tier, a.tier_override_id, a.kam_decision, a.plan,
    a.priority, a.am_hours, a.kam_hours, a.allocated_am_hours, a.allocated_kam_hours, a.coverage, a.as_of_date
FROM marts.resource_allocation AS a
LEFT JOIN marts.customer_segments AS s USING (customer_id);
COMMENT ON VIEW bi.resource_allocation IS 'Per customer: its coverage plan, the yearly hours it needs and the hours its managers can give it within their capacity.';

CREATE VIEW bi.segment_summary AS
SELECT
    level, level_value, tier, customers, revenue_t12m, revenue_share,
    (SELECT reporting_currency FROM bi.current_run) AS reporting_currency,
    as_of_date
FROM marts.segment_summary;
COMMENT ON VIEW bi.segment_summary IS 'Customers and revenue per tier at each organisation level (GLOBAL, REGION, COUNTRY, OWNER).';

CREATE VIEW bi.kam_overrides AS
SELECT
    override_id, account_id, customer_id, action, tier, reason, approved_by, valid_from, valid_until,
    status, status_reason, days_to_expiry, expires_soon, as_of_date
FROM marts.kam_overrides;
COMMENT ON VIEW bi.kam_overrides IS 'Every override of the KAM committee and what it does on the as-of date: applied, expired, not yet valid, in conflict or without effect.';

CREATE VIEW bi.scenarios AS
SELECT
    scenario, description, changes, max_key_accounts, key_accounts,
    key_revenue_t12m, key_revenue_share, key_margin_t12m, key_margin_share,
    required_hours, allocated_hours, available_hours, gap_hours, gap_fte, uncovered_customers, marginal_decisions,
    customers_strategic, customers_core, customers_develop, customers_maintain, customers_serve_efficiently,
    customers_lapsed, customers_prospect, added, removed, unchanged,
    (SELECT reporting_currency FROM bi.current_run) AS reporting_currency,
    as_of_date
FROM marts.scenario_comparison;
COMMENT ON VIEW bi.scenarios IS 'The base plan and each what-if scenario of the settings file side by side: key accounts, the revenue and margin they cover, hours needed against hours available, customers per tier, and the changes against the base plan.';

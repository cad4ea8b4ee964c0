-- Marts: one table per business entity for the run's as-of date
-- (docs/methodology.md defines every figure). Amounts are in the reporting
-- currency (EUR by default) as fixed-scale decimals; shares and ratios are
-- doubles between 0 and 1.

CREATE TABLE marts.customer_segments (
    customer_id            VARCHAR,
    customer_name          VARCHAR,
    region                 VARCHAR,
    country_code           VARCHAR,
    industry               VARCHAR,
    owner_id               VARCHAR,
    revenue_t12m           DECIMAL(18,2),
    revenue_prior          DECIMAL(18,2),
    margin_t12m            DECIMAL(18,2),
    margin_prior           DECIMAL(18,2),
    margin_pct             DOUBLE,
    margin_coverage        DOUBLE,
    growth_pct             DOUBLE,
    trend                  VARCHAR,
    revenue_share          DOUBLE,
    cumulative_share       DOUBLE,
    abc_class              VARCHAR,
    margin_abc_class       VARCHAR,
    region_abc_class       VARCHAR,
    country_abc_class      VARCHAR,
    portfolio_abc_class    VARCHAR,
    portfolio_rank         INTEGER,
    wallet                 DECIMAL(18,2),
    wallet_source          VARCHAR,
    headroom               DECIMAL(18,2),
    share_of_wallet        DOUBLE,
    pipeline_weighted      DECIMAL(18,2),
    potential_value        DECIMAL(18,2),
    potential_class        VARCHAR,
    threat_level           VARCHAR,
    threat_reasons         VARCHAR,
    tier                   VARCHAR,
    at_risk                BOOLEAN,
    tier_reason            VARCHAR,
    as_of_date             DATE,
    competitive_position   BIGINT,
    is_current_key_account BOOLEAN,
    key_account_since      DATE
);
COMMENT ON TABLE marts.customer_segments IS 'Commercial segmentation: one row per customer (account group) for the as-of date.';
COMMENT ON COLUMN marts.customer_segments.customer_id IS 'Top account of the group in the CRM hierarchy (or the account itself when the unit is single accounts).';
COMMENT ON COLUMN marts.customer_segments.customer_name IS 'Name of the top account.';
COMMENT ON COLUMN marts.customer_segments.region IS 'Sales region of the top account.';
COMMENT ON COLUMN marts.customer_segments.country_code IS 'Country of the top account (ISO 3166 alpha-2).';
COMMENT ON COLUMN marts.customer_segments.industry IS 'Industry of the top account.';
COMMENT ON COLUMN marts.customer_segments.owner_id IS 'Account manager owning the top account.';
COMMENT ON COLUMN marts.customer_segments.revenue_t12m IS 'Net revenue (invoices and credit notes) dated in (D - window, D].';
COMMENT ON COLUMN marts.customer_segments.revenue_prior IS 'Net revenue dated in (D - 2 windows, D - window].';
COMMENT ON COLUMN marts.customer_segments.margin_t12m IS 'Sum of net - cost over the window''s lines whose cost is known.';
COMMENT ON COLUMN marts.customer_segments.margin_prior IS 'The same over the prior window.';
COMMENT ON COLUMN marts.customer_segments.margin_pct IS 'margin_t12m / revenue_t12m when revenue_t12m > 0.';
COMMENT ON COLUMN marts.customer_segments.margin_coverage IS 'Share of window revenue whose cost is known.';
COMMENT ON COLUMN marts.customer_segments.growth_pct IS '(revenue_t12m - revenue_prior) / revenue_prior when revenue_prior > 0.';
COMMENT ON COLUMN marts.customer_segments.trend IS 'NEW, LOST, GROWING, DECLINING, STABLE, or NONE without revenue in either window.';
COMMENT ON COLUMN marts.customer_segments.revenue_share IS 'revenue_t12m / total revenue of the universe (customers with revenue_t12m > 0).';
COMMENT ON COLUMN marts.customer_segments.cumulative_share IS 'Running share in Pareto order (revenue descending, then customer id), including this customer.';
COMMENT ON COLUMN marts.customer_segments.abc_class IS 'A: the customers needed to reach segmentation.abc_a_cut of revenue (80 % by default); B: up to abc_b_cut (95 %); C: the rest; N: outside the universe.';
COMMENT ON COLUMN marts.customer_segments.margin_abc_class IS 'The same ABC computed on margin_t12m over customers with positive margin (N otherwise).';
COMMENT ON COLUMN marts.customer_segments.region_abc_class IS 'ABC class within the customer''s region.';
COMMENT ON COLUMN marts.customer_segments.country_abc_class IS 'ABC class within the customer''s country.';
COMMENT ON COLUMN marts.customer_segments.portfolio_abc_class IS 'ABC class within the owner''s portfolio.';
COMMENT ON COLUMN marts.customer_segments.portfolio_rank IS 'Rank 1..n by revenue within the owner''s portfolio (null outside the universe).';
COMMENT ON COLUMN marts.customer_segments.wallet IS 'Estimated yearly spend on what we sell: CRM estimate, else employees x spend per employee.';
COMMENT ON COLUMN marts.customer_segments.wallet_source IS 'CRM, BENCHMARK or NONE.';
COMMENT ON COLUMN marts.customer_segments.headroom IS 'max(wallet - revenue_t12m, 0).';
COMMENT ON COLUMN marts.customer_segments.share_of_wallet IS 'revenue_t12m / wallet.';
COMMENT ON COLUMN marts.customer_segments.pipeline_weighted IS 'Sum of amount x probability of OPEN opportunities closing in (D, D + window].';
COMMENT ON COLUMN marts.customer_segments.potential_value IS 'max(headroom, pipeline_weighted).';
COMMENT ON COLUMN marts.customer_segments.potential_class IS 'HIGH (percent rank >= segmentation.potential_high_pr, 0.80 by default), MEDIUM (>= potential_medium_pr, 0.50), LOW, or UNKNOWN without wallet and pipeline.';
COMMENT ON COLUMN marts.customer_segments.threat_level IS 'HIGH (two or more reasons, or growth <= segmentation.threat_high_growth_pct, -30 % by default), MEDIUM (one reason) or NONE.';
COMMENT ON COLUMN marts.customer_segments.threat_reasons IS 'Comma-separated: DECLINING, INACTIVE, LOST_DEALS, WEAK_POSITION; empty when none.';
COMMENT ON COLUMN marts.customer_segments.tier IS 'STRATEGIC, CORE, DEVELOP, MAINTAIN, SERVE_EFFICIENTLY or DORMANT (from ABC class and potential).';
COMMENT ON COLUMN marts.customer_segments.at_risk IS 'threat_level HIGH on an A or B customer.';
COMMENT ON COLUMN marts.customer_segments.tier_reason IS 'Readable sentence with the figures that put the customer in its tier.';
COMMENT ON COLUMN marts.customer_segments.as_of_date IS 'As-of date D of the run.';
COMMENT ON COLUMN marts.customer_segments.competitive_position IS 'CRM competitive position of the top account, 1-5 (5 = we lead).';
COMMENT ON COLUMN marts.customer_segments.is_current_key_account IS 'Any account of the group is flagged as key account in the CRM.';
COMMENT ON COLUMN marts.customer_segments.key_account_since IS 'Earliest key_account_since among the group''s key accounts.';

CREATE TABLE marts.segment_summary (
    level         VARCHAR,
    level_value   VARCHAR,
    tier          VARCHAR,
    customers     BIGINT,
    revenue_t12m  DECIMAL(18,2),
    revenue_share DOUBLE,
    as_of_date    DATE
);
COMMENT ON TABLE marts.segment_summary IS 'Customers and revenue per tier at each organisation level.';
COMMENT ON COLUMN marts.segment_summary.level IS 'GLOBAL, REGION, COUNTRY or OWNER.';
COMMENT ON COLUMN marts.segment_summary.level_value IS 'The region, country or owner id; ALL for GLOBAL.';
COMMENT ON COLUMN marts.segment_summary.tier IS 'Tier (only tiers that occur are listed).';
COMMENT ON COLUMN marts.segment_summary.customers IS 'Customers in this tier at this level value.';
COMMENT ON COLUMN marts.segment_summary.revenue_t12m IS 'Their revenue in the trailing window.';
COMMENT ON COLUMN marts.segment_summary.revenue_share IS 'Share of the level value''s positive revenue.';
COMMENT ON COLUMN marts.segment_summary.as_of_date IS 'As-of date of the run.';

CREATE TABLE marts.kam_candidates (
    customer_id            VARCHAR,
    customer_name          VARCHAR,
    score                  DOUBLE,
    attractiveness         DOUBLE,
    strength               DOUBLE,
    selection_score        DOUBLE,
    eligible               BOOLEAN,
    ineligible_reason      VARCHAR,
    is_current_key_account BOOLEAN,
    decision               VARCHAR,
    decision_reason        VARCHAR,
    selection_rank         BIGINT,
    as_of_date             DATE
);
COMMENT ON TABLE marts.kam_candidates IS 'Every customer with its Key Account Management decision for the as-of date.';
COMMENT ON COLUMN marts.kam_candidates.customer_id IS 'Customer (account group) id.';
COMMENT ON COLUMN marts.kam_candidates.customer_name IS 'Customer name.';
COMMENT ON COLUMN marts.kam_candidates.score IS '0-100: 100 x (w x attractiveness + (1 - w) x strength) with w = kam.attractiveness_weight (0.7 by default); null outside the universe.';
COMMENT ON COLUMN marts.kam_candidates.attractiveness IS 'Weighted mean of percent ranks of revenue, margin, potential and growth (0-1).';
COMMENT ON COLUMN marts.kam_candidates.strength IS 'Competitive position mapped 1 -> 0 ... 5 -> 1 (null -> 0.5).';
COMMENT ON COLUMN marts.kam_candidates.selection_score IS 'Score plus the incumbent bonus for current key accounts: what selection ranks by.';
COMMENT ON COLUMN marts.kam_candidates.eligible IS 'Passes the margin test and is A-class or HIGH potential (and in a strategic industry when listed).';
COMMENT ON COLUMN marts.kam_candidates.ineligible_reason IS 'Why not eligible, with figures.';
COMMENT ON COLUMN marts.kam_candidates.is_current_key_account IS 'Any account of the group is a key account in the CRM today.';
COMMENT ON COLUMN marts.kam_candidates.decision IS 'KEEP, ADD, REVIEW (grace period), DESELECT, WATCH (close to the cut-off) or NONE.';
COMMENT ON COLUMN marts.kam_candidates.decision_reason IS 'Sentence with the figures behind the decision.';
COMMENT ON COLUMN marts.kam_candidates.selection_rank IS 'Position among eligible customers by selection_score, then customer id (null when ineligible).';
COMMENT ON COLUMN marts.kam_candidates.as_of_date IS 'As-of date of the run.';

CREATE TABLE marts.resource_allocation (
    customer_id  VARCHAR,
    owner_id     VARCHAR,
    region       VARCHAR,
    tier         VARCHAR,
    kam_decision VARCHAR,
    am_hours     DOUBLE,
    kam_hours    DOUBLE,
    as_of_date   DATE
);
COMMENT ON TABLE marts.resource_allocation IS 'Yearly hours each customer should get: account-manager hours by tier, KAM hours for KEEP and ADD.';
COMMENT ON COLUMN marts.resource_allocation.customer_id IS 'Customer id.';
COMMENT ON COLUMN marts.resource_allocation.owner_id IS 'Account manager who gets the account-manager hours.';
COMMENT ON COLUMN marts.resource_allocation.region IS 'Region whose KAM team gets the KAM hours.';
COMMENT ON COLUMN marts.resource_allocation.tier IS 'Customer tier.';
COMMENT ON COLUMN marts.resource_allocation.kam_decision IS 'The customer''s KAM decision.';
COMMENT ON COLUMN marts.resource_allocation.am_hours IS 'Account-manager hours per year for the tier.';
COMMENT ON COLUMN marts.resource_allocation.kam_hours IS 'Key account manager hours per year (hours_per_key_account for KEEP and ADD).';
COMMENT ON COLUMN marts.resource_allocation.as_of_date IS 'As-of date of the run.';

CREATE TABLE marts.account_manager_load (
    owner_id       VARCHAR,
    name           VARCHAR,
    role           VARCHAR,
    region         VARCHAR,
    customers      BIGINT,
    required_hours DOUBLE,
    capacity_hours DOUBLE,
    utilisation    DOUBLE,
    load_status    VARCHAR,
    as_of_date     DATE
);
COMMENT ON TABLE marts.account_manager_load IS 'Per account manager: hours the coverage model asks for against capacity.';
COMMENT ON COLUMN marts.account_manager_load.owner_id IS 'Account manager id.';
COMMENT ON COLUMN marts.account_manager_load.name IS 'Name as in the CRM.';
COMMENT ON COLUMN marts.account_manager_load.role IS 'AM or KAM.';
COMMENT ON COLUMN marts.account_manager_load.region IS 'Region of the manager.';
COMMENT ON COLUMN marts.account_manager_load.customers IS 'Customers owned, plus key accounts served for KAMs.';
COMMENT ON COLUMN marts.account_manager_load.required_hours IS 'Hours per year the coverage model allocates to this manager.';
COMMENT ON COLUMN marts.account_manager_load.capacity_hours IS 'Hours per year available (CRM).';
COMMENT ON COLUMN marts.account_manager_load.utilisation IS 'required_hours / capacity_hours.';
COMMENT ON COLUMN marts.account_manager_load.load_status IS 'OVER (utilisation > kam.load_over, 1.10 by default), UNDER (< kam.load_under, 0.70) or BALANCED.';
COMMENT ON COLUMN marts.account_manager_load.as_of_date IS 'As-of date of the run.';

CREATE TABLE marts.kam_programme (
    as_of_date             DATE,
    max_key_accounts       BIGINT,
    key_accounts           BIGINT,
    keep                   BIGINT,
    add                    BIGINT,
    review                 BIGINT,
    deselect               BIGINT,
    watch                  BIGINT,
    control_customers      BIGINT,
    key_revenue_t12m       DECIMAL(38,2),
    key_revenue_prior      DECIMAL(38,2),
    key_revenue_growth     DOUBLE,
    key_margin_t12m        DECIMAL(38,2),
    key_margin_prior       DECIMAL(38,2),
    key_margin_growth      DOUBLE,
    control_revenue_t12m   DECIMAL(38,2),
    control_revenue_prior  DECIMAL(38,2),
    control_revenue_growth DOUBLE,
    control_margin_t12m    DECIMAL(38,2),
    control_margin_prior   DECIMAL(38,2),
    control_margin_growth  DOUBLE,
    kam_cost               DECIMAL(38,2),
    incremental_margin     DECIMAL(38,2),
    roi                    DOUBLE
);
COMMENT ON TABLE marts.kam_programme IS 'One row per snapshot: the KAM programme''s size, cost and estimated return against a control group (an estimate, not proof: docs/methodology.md).';
COMMENT ON COLUMN marts.kam_programme.as_of_date IS 'As-of date of the snapshot.';
COMMENT ON COLUMN marts.kam_programme.max_key_accounts IS 'floor(KAM team capacity hours / hours_per_key_account).';
COMMENT ON COLUMN marts.kam_programme.key_accounts IS 'Current key accounts (KEEP + REVIEW + DESELECT).';
COMMENT ON COLUMN marts.kam_programme.keep IS 'Customers with decision KEEP.';
COMMENT ON COLUMN marts.kam_programme.add IS 'Customers with decision ADD.';
COMMENT ON COLUMN marts.kam_programme.review IS 'Customers with decision REVIEW.';
COMMENT ON COLUMN marts.kam_programme.deselect IS 'Customers with decision DESELECT.';
COMMENT ON COLUMN marts.kam_programme.watch IS 'Customers with decision WATCH.';
COMMENT ON COLUMN marts.kam_programme.control_customers IS 'Control group: A-class customers that are not key accounts.';
COMMENT ON COLUMN marts.kam_programme.key_revenue_t12m IS 'Key accounts'' revenue in the trailing window.';
COMMENT ON COLUMN marts.kam_programme.key_revenue_prior IS 'Key accounts'' revenue in the prior window.';
COMMENT ON COLUMN marts.kam_programme.key_revenue_growth IS 'Growth of the key accounts'' total revenue.';
COMMENT ON COLUMN marts.kam_programme.key_margin_t12m IS 'Key accounts'' margin in the trailing window.';
COMMENT ON COLUMN marts.kam_programme.key_margin_prior IS 'Key accounts'' margin in the prior window.';
COMMENT ON COLUMN marts.kam_programme.key_margin_growth IS 'Growth of the key accounts'' total margin.';
COMMENT ON COLUMN marts.kam_programme.control_revenue_t12m IS 'Control group revenue in the trailing window.';
COMMENT ON COLUMN marts.kam_programme.control_revenue_prior IS 'Control group revenue in the prior window.';
COMMENT ON COLUMN marts.kam_programme.control_revenue_growth IS 'Growth of the control group''s total revenue.';
COMMENT ON COLUMN marts.kam_programme.control_margin_t12m IS 'Control group margin in the trailing window.';
COMMENT ON COLUMN marts.kam_programme.control_margin_prior IS 'Control group margin in the prior window.';
COMMENT ON COLUMN marts.kam_programme.control_margin_growth IS 'Growth of the control group''s total margin.';
COMMENT ON COLUMN marts.kam_programme.kam_cost IS 'key_accounts x hours_per_key_account x mean hourly cost of the KAM managers.';
COMMENT ON COLUMN marts.kam_programme.incremental_margin IS 'key_margin_t12m - key_margin_prior x (1 + control_margin_growth).';
COMMENT ON COLUMN marts.kam_programme.roi IS '(incremental_margin - kam_cost) / kam_cost.';

CREATE TABLE marts.tier_migration (
    as_of_date            DATE,
    previous_as_of_date   DATE,
    from_tier             VARCHAR,
    to_tier               VARCHAR,
    customers             BIGINT,
    revenue_t12m          DECIMAL(38,2),
    previous_revenue_t12m DECIMAL(38,2)
);
COMMENT ON TABLE marts.tier_migration IS 'Customers and revenue that moved between tiers from the previous snapshot to this one.';
COMMENT ON COLUMN marts.tier_migration.as_of_date IS 'As-of date of the current snapshot.';
COMMENT ON COLUMN marts.tier_migration.previous_as_of_date IS 'As-of date of the latest earlier snapshot (null when there is none).';
COMMENT ON COLUMN marts.tier_migration.from_tier IS 'Tier in the previous snapshot, or NEW for customers not in it.';
COMMENT ON COLUMN marts.tier_migration.to_tier IS 'Tier in the current snapshot, or GONE for customers no longer in it.';
COMMENT ON COLUMN marts.tier_migration.customers IS 'Customers that moved from from_tier to to_tier.';
COMMENT ON COLUMN marts.tier_migration.revenue_t12m IS 'Their current revenue_t12m (0 for GONE).';
COMMENT ON COLUMN marts.tier_migration.previous_revenue_t12m IS 'Their revenue_t12m in the previous snapshot (0 for NEW).';

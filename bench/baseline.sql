-- A reference implementation of the segmentation in plain DuckDB SQL
-- (python -m bench.baseline; python -m bench.run times it next to the job).
--
-- Every column of marts.customer_segments except the free-text tier_reason,
-- straight from the landing files in one query: no validation, no quarantine,
-- no history, no published warehouse. It serves twice:
--   * as the speed reference: whatever the job costs above this is the price
--     of everything else it does;
--   * as a second correctness check: it is written from docs/methodology.md
--     §S1–§S10 (the specification), not from the Polars code, and
--     bench/baseline.py compares it column by column with the job's mart.
-- It is meant to be simple and readable, not fast.
--
-- Inputs, set by bench/baseline.py:
--   views landing_invoice_lines, landing_erp_customers, landing_crm_accounts,
--   landing_fx_rates, landing_opportunities: read_csv or read_parquet over
--   the landing files (globs); variable as_of (DATE).
--
-- Scope: the settings are the defaults of config/kam.toml (the `settings`
-- CTE below), with customer_unit = "group". The contract's row rules are not
-- applied, except the two that clean data generated for a later date breaks
-- (an as-of date before the extract's end): invoice lines dated after D
-- (invoice_lines.invoice_date.not_future; no figure reads them anyway) and
-- opportunities created after D (opportunities.created_date.not_future) are
-- left out. Data with other defects (--bad-rows) will disagree with the job.
--
-- Exactness (§S3): amounts stay DECIMAL, a line's amount × rate is exact
-- (DECIMAL(38,4) × DECIMAL(18,8) = DECIMAL(38,12)), sums are exact and each customer amount is rounded once to
-- cents, half to even (round_even). Thresholds are DECIMAL literals and both
-- sides of a comparison are multiplied out ("before < 0.80 × total"), never
-- compared through a float quotient. Ratios are DOUBLE.

WITH RECURSIVE

-- Settings: the defaults of config/kam.toml [segmentation] (kam_pipeline/settings.py).
settings AS (
    SELECT
        getvariable('as_of')::DATE AS as_of,
        'EUR' AS reporting_currency,
        12 AS window_months,
        'revenue' AS basis,
        0.80 AS abc_a_cut,
        0.95 AS abc_b_cut,
        0.10 AS trend_growth_pct,
        0.80 AS potential_high_pr,
        0.50 AS potential_medium_pr,
        0.10 AS potential_pipeline_min_share,
        90 AS inactive_days,
        -0.15 AS threat_declining_pct,
        0.25 AS threat_lost_deals_share,
        25000.00 AS threat_lost_deals_min_amount,
        2 AS threat_weak_position_max,
        -0.30 AS threat_high_growth_pct
),

-- [segmentation.spend_per_employee]; industries not listed use 'default' (§S8).
spend_per_employee (industry, spend) AS (
    VALUES
        ('default', 150.0), ('Manufacturing', 400.0), ('Chemicals', 350.0), ('Automotive', 380.0),
        ('Retail', 120.0), ('Healthcare', 200.0), ('Logistics', 180.0), ('Food & Beverage', 220.0),
        ('Construction', 260.0), ('Technology', 160.0)
),

-- §S1 As-of date and windows. D ± n months with the end-of-month rule: a
-- month-end D maps to the target month's end, otherwise the day is kept and
-- clipped (DuckDB's interval arithmetic clips). D − 2W is shifted from D.
windows AS (
    SELECT
        as_of,
        CASE WHEN as_of = last_day(as_of)
            THEN last_day(as_of - to_months(window_months))
            ELSE (as_of - to_months(window_months))::DATE
        END AS trailing_start,      -- trailing window (trailing_start, D]
        CASE WHEN as_of = last_day(as_of)
            THEN last_day(as_of - to_months(2 * window_months))
            ELSE (as_of - to_months(2 * window_months))::DATE
        END AS prior_start,         -- prior window (prior_start, trailing_start]
        CASE WHEN as_of = last_day(as_of)
            THEN last_day(as_of + to_months(window_months))
            ELSE (as_of + to_months(window_months))::DATE
        END AS horizon_end,         -- pipeline horizon (D, horizon_end]
        as_of - inactive_days AS inactive_start  -- inactivity period (inactive_start, D]
    FROM settings
),

-- §S2 Customer unit: every CRM account with the top-most account of its group
-- (walked down from the top accounts). The depth bound only guards against a
-- cycle, which validation would have rejected.
accounts AS MATERIALIZED (
    SELECT * FROM landing_crm_accounts
),

account_group (account_id, customer_id, depth) AS (
    SELECT account_id, account_id, 0
    FROM accounts
    WHERE parent_account_id IS NULL
    UNION ALL
    SELECT child.account_id, parent.customer_id, parent.depth + 1
    FROM accounts AS child
    JOIN account_group AS parent ON child.parent_account_id = parent.account_id
    WHERE parent.depth < 100
),

-- §S3 Reporting currency: the rate of the line's currency in its invoice
-- month; the reporting currency has rate 1 (a rate row for it is ignored).
fx AS (
    SELECT currency, try_strptime(month, '%Y-%m')::DATE AS month_start, rate_to_reporting
    FROM landing_fx_rates
    WHERE currency <> (SELECT reporting_currency FROM settings)
),

-- §S3 Lines dated in the prior or trailing window, or earlier (for the last
-- invoice date), converted to the reporting currency, amount × rate exact
-- (widened first: DECIMAL(18,4) × DECIMAL(18,8) would stay 18 digits).
lines AS (
    SELECT
        line.erp_customer_id,
        line.invoice_date,
        line.document_type,
        line.cost_amount IS NOT NULL AS cost_known,
        CASE WHEN line.currency = settings.reporting_currency
            THEN line.net_amount::DECIMAL(38, 12)
            ELSE line.net_amount::DECIMAL(38, 4) * fx.rate_to_reporting
        END AS net_eur,
        CASE WHEN line.currency = settings.reporting_currency
            THEN line.cost_amount::DECIMAL(38, 12)
            ELSE line.cost_amount::DECIMAL(38, 4) * fx.rate_to_reporting
        END AS cost_eur
    FROM landing_invoice_lines AS line
    CROSS JOIN settings
    LEFT JOIN fx
        ON fx.currency = line.currency
        AND fx.month_start = date_trunc('month', line.invoice_date)::DATE
    WHERE line.invoice_date <= settings.as_of
),

-- §S3 Revenue and margin per ERP customer, exact sums (not yet rounded), and
-- the last INVOICE line on or before D (credit notes do not count).
erp_totals AS (
    SELECT
        lines.erp_customer_id,
        sum(net_eur) FILTER (WHERE invoice_date > w.trailing_start) AS revenue_t12m,
        sum(net_eur) FILTER (WHERE invoice_date > w.prior_start AND invoice_date <= w.trailing_start)
            AS revenue_prior,
        sum(net_eur - cost_eur) FILTER (WHERE cost_known AND invoice_date > w.trailing_start) AS margin_t12m,
        sum(net_eur - cost_eur) FILTER (
            WHERE cost_known AND invoice_date > w.prior_start AND invoice_date <= w.trailing_start
        ) AS margin_prior,
        sum(net_eur) FILTER (WHERE cost_known AND invoice_date > w.trailing_start) AS costed_revenue_t12m,
        max(invoice_date) FILTER (WHERE document_type = 'INVOICE') AS last_invoice_date
    FROM lines
    CROSS JOIN windows AS w
    GROUP BY lines.erp_customer_id
),

-- §S2/§S3 ERP customers map to their CRM account's group (unmapped ones drop
-- out); each customer amount is rounded once to cents, half to even.
customer_amounts AS (
    SELECT
        account_group.customer_id,
        round_even(sum(t.revenue_t12m), 2) AS revenue_t12m,
        round_even(sum(t.revenue_prior), 2) AS revenue_prior,
        round_even(sum(t.margin_t12m), 2) AS margin_t12m,
        round_even(sum(t.margin_prior), 2) AS margin_prior,
        round_even(sum(t.costed_revenue_t12m), 2) AS costed_revenue_t12m,
        max(t.last_invoice_date) AS last_invoice_date
    FROM erp_totals AS t
    JOIN landing_erp_customers AS erp ON erp.erp_customer_id = t.erp_customer_id
    JOIN account_group ON account_group.account_id = erp.crm_account_id
    GROUP BY account_group.customer_id
),

-- §S8 Wallet per CRM account: the CRM estimate, else employees × spend per
-- employee of the account's industry (the 'default' spend when not listed).
account_wallets AS (
    SELECT
        a.account_id,
        CASE
            WHEN a.estimated_wallet IS NOT NULL THEN a.estimated_wallet::DECIMAL(38, 8)
            WHEN a.employee_count IS NOT NULL
                THEN a.employee_count * coalesce(s.spend, d.spend)::DECIMAL(38, 8)
        END AS wallet,
        CASE
            WHEN a.estimated_wallet IS NOT NULL THEN 'CRM'
            WHEN a.employee_count IS NOT NULL THEN 'BENCHMARK'
        END AS wallet_source
    FROM accounts AS a
    LEFT JOIN spend_per_employee AS s ON s.industry = a.industry
    CROSS JOIN (SELECT spend FROM spend_per_employee WHERE industry = 'default') AS d
),

-- §S2 Over the group's accounts: any key account, the earliest
-- key_account_since among the current key accounts; §S8 the wallets summed
-- (rounded once to cents) and their source.
group_profiles AS (
    SELECT
        g.customer_id,
        bool_or(a.is_key_account) AS is_current_key_account,
        min(a.key_account_since) FILTER (WHERE a.is_key_account) AS key_account_since,
        round_even(sum(w.wallet), 2) AS wallet,
        CASE
            WHEN count(w.wallet_source) = 0 THEN 'NONE'
            WHEN min(w.wallet_source) = max(w.wallet_source) THEN min(w.wallet_source)
            ELSE 'MIXED'
        END AS wallet_source
    FROM account_group AS g
    JOIN accounts AS a ON a.account_id = g.account_id
    JOIN account_wallets AS w ON w.account_id = g.account_id
    GROUP BY g.customer_id
),

-- §S3 Opportunity amounts at the rate of the as-of month: per currency, the
-- latest month at or before D's month that has a rate.
fx_as_of AS (
    SELECT fx.currency, arg_max(fx.rate_to_reporting, fx.month_start) AS rate_to_reporting
    FROM fx
    CROSS JOIN settings
    WHERE fx.month_start <= date_trunc('month', settings.as_of)
    GROUP BY fx.currency
),

opportunities AS (
    SELECT
        account_group.customer_id,
        o.status,
        o.close_date,
        o.probability,
        CASE WHEN o.currency = settings.reporting_currency
            THEN o.amount::DECIMAL(38, 12)
            ELSE o.amount::DECIMAL(38, 4) * fx_as_of.rate_to_reporting
        END AS amount_eur
    FROM landing_opportunities AS o
    CROSS JOIN settings
    JOIN account_group ON account_group.account_id = o.account_id
    LEFT JOIN fx_as_of ON fx_as_of.currency = o.currency
    WHERE o.created_date <= settings.as_of  -- opportunities.created_date.not_future
),

-- §S8 weighted OPEN pipeline closing in (D, D + W]; §S9 LOST deals closed in
-- the trailing window (D − W, D].
customer_opportunities AS (
    SELECT
        o.customer_id,
        round_even(
            sum(o.amount_eur * o.probability::DECIMAL(18, 8)) FILTER (
                WHERE o.status = 'OPEN' AND o.close_date > w.as_of AND o.close_date <= w.horizon_end
            ),
            2
        ) AS pipeline_weighted,
        round_even(
            sum(o.amount_eur) FILTER (
                WHERE o.status = 'LOST' AND o.close_date > w.trailing_start AND o.close_date <= w.as_of
            ),
            2
        ) AS lost_deals
    FROM opportunities AS o
    CROSS JOIN windows AS w
    GROUP BY o.customer_id
),

-- §S2 One row per customer unit (every top account, with or without
-- revenue), with the top account's attributes; amounts 0 without lines.
customers AS MATERIALIZED (
    SELECT
        top.account_id AS customer_id,
        top.account_name AS customer_name,
        top.region,
        top.country_code,
        top.industry,
        top.owner_id,
        top.competitive_position,
        coalesce(amt.revenue_t12m, 0) AS revenue_t12m,
        coalesce(amt.revenue_prior, 0) AS revenue_prior,
        coalesce(amt.margin_t12m, 0) AS margin_t12m,
        coalesce(amt.margin_prior, 0) AS margin_prior,
        coalesce(amt.costed_revenue_t12m, 0) AS costed_revenue_t12m,
        amt.last_invoice_date,
        prof.is_current_key_account,
        prof.key_account_since,
        prof.wallet,
        prof.wallet_source,
        coalesce(opp.pipeline_weighted, 0) AS pipeline_weighted,
        coalesce(opp.lost_deals, 0) AS lost_deals
    FROM accounts AS top
    LEFT JOIN customer_amounts AS amt ON amt.customer_id = top.account_id
    LEFT JOIN group_profiles AS prof ON prof.customer_id = top.account_id
    LEFT JOIN customer_opportunities AS opp ON opp.customer_id = top.account_id
    WHERE top.parent_account_id IS NULL
),

-- §S4 (and §S5, §S6) Pareto order and ABC classes, one measure within one
-- partition per view: revenue over all customers (§S4), within the region,
-- the country and the owner's portfolio (§S5), and margin over all (§S6).
-- Only customers with a positive measure take part; the others are N.
pareto_input AS (
    SELECT 'revenue' AS view, '' AS part, customer_id, revenue_t12m AS measure FROM customers WHERE revenue_t12m > 0
    UNION ALL
    SELECT 'region', region, customer_id, revenue_t12m FROM customers WHERE revenue_t12m > 0
    UNION ALL
    SELECT 'country', country_code, customer_id, revenue_t12m FROM customers WHERE revenue_t12m > 0
    UNION ALL
    SELECT 'portfolio', owner_id, customer_id, revenue_t12m FROM customers WHERE revenue_t12m > 0
    UNION ALL
    SELECT 'margin', '', customer_id, margin_t12m FROM customers WHERE margin_t12m > 0
),

pareto_running AS (
    SELECT
        view,
        customer_id,
        measure,
        sum(measure) OVER (PARTITION BY view, part ORDER BY measure DESC, customer_id ROWS UNBOUNDED PRECEDING)
            AS running,
        sum(measure) OVER (PARTITION BY view, part) AS total,
        row_number() OVER (PARTITION BY view, part ORDER BY measure DESC, customer_id) AS pareto_rank
    FROM pareto_input
),

-- §S4 before = running total before the customer: A while before < abc_a_cut
-- × total, B while below abc_b_cut × total, else C (compared exactly).
pareto AS (
    SELECT
        view,
        customer_id,
        measure::DOUBLE / total::DOUBLE AS share,
        running::DOUBLE / total::DOUBLE AS cumulative_share,
        CASE
            WHEN running - measure < settings.abc_a_cut * total THEN 'A'
            WHEN running - measure < settings.abc_b_cut * total THEN 'B'
            ELSE 'C'
        END AS abc_class,
        pareto_rank
    FROM pareto_running
    CROSS JOIN settings
),

customer_pareto AS (
    SELECT
        customer_id,
        any_value(share) FILTER (WHERE view = 'revenue') AS revenue_share,
        any_value(cumulative_share) FILTER (WHERE view = 'revenue') AS cumulative_share,
        any_value(abc_class) FILTER (WHERE view = 'revenue') AS abc_class,
        any_value(abc_class) FILTER (WHERE view = 'margin') AS margin_abc_class,
        any_value(share) FILTER (WHERE view = 'margin') AS margin_share,
        any_value(abc_class) FILTER (WHERE view = 'region') AS region_abc_class,
        any_value(abc_class) FILTER (WHERE view = 'country') AS country_abc_class,
        any_value(abc_class) FILTER (WHERE view = 'portfolio') AS portfolio_abc_class,
        any_value(pareto_rank) FILTER (WHERE view = 'portfolio') AS portfolio_rank
    FROM pareto
    GROUP BY customer_id
),

-- §S6 segment_class: abc_class with the revenue basis; with the margin basis
-- margin_abc_class, C for revenue without positive margin; N stays N.
classified AS (
    SELECT
        c.*,
        p.revenue_share,
        p.cumulative_share,
        coalesce(p.abc_class, 'N') AS abc_class,
        coalesce(p.margin_abc_class, 'N') AS margin_abc_class,
        p.margin_share,
        CASE
            WHEN p.abc_class IS NULL THEN 'N'
            WHEN settings.basis = 'margin' THEN coalesce(p.margin_abc_class, 'C')
            ELSE p.abc_class
        END AS segment_class,
        coalesce(p.region_abc_class, 'N') AS region_abc_class,
        coalesce(p.country_abc_class, 'N') AS country_abc_class,
        coalesce(p.portfolio_abc_class, 'N') AS portfolio_abc_class,
        p.portfolio_rank
    FROM customers AS c
    CROSS JOIN settings
    LEFT JOIN customer_pareto AS p ON p.customer_id = c.customer_id
),

-- §S8 Wallet and potential: headroom (unknown when the wallet is below
-- revenue), material pipeline (> 0 and ≥ potential_pipeline_min_share ×
-- max(revenue, 0)), potential value and driver.
potential AS (
    SELECT
        c.*,
        coalesce(c.wallet IS NOT NULL AND c.revenue_t12m > c.wallet, false) AS wallet_below_revenue,
        CASE WHEN c.wallet IS NOT NULL AND NOT c.revenue_t12m > c.wallet
            THEN c.wallet - greatest(c.revenue_t12m, 0)
        END AS headroom,
        CASE WHEN c.pipeline_weighted > 0
            AND c.pipeline_weighted >= settings.potential_pipeline_min_share * greatest(c.revenue_t12m, 0)
            THEN c.pipeline_weighted
            ELSE 0
        END AS material_pipeline
    FROM classified AS c
    CROSS JOIN settings
),

potential_driven AS (
    SELECT
        *,
        greatest(coalesce(headroom, 0), material_pipeline) AS potential_value,
        CASE
            WHEN material_pipeline > coalesce(headroom, 0) THEN 'PIPELINE'
            WHEN headroom IS NOT NULL THEN 'HEADROOM'
            ELSE 'NONE'
        END AS potential_driver
    FROM potential
),

-- §S8 Percent rank of potential_value among the reference (universe
-- customers whose potential is not UNKNOWN): below = reference values
-- strictly smaller (reference values up to and including this value, minus
-- those equal to it), n = reference size. Customers outside the universe are
-- measured against the reference without entering it.
potential_ranked AS (
    SELECT
        customer_id,
        sum(in_reference) OVER (ORDER BY potential_value RANGE UNBOUNDED PRECEDING)
            - sum(in_reference) OVER (PARTITION BY potential_value) AS below,
        sum(in_reference) OVER () AS reference_size
    FROM (
        SELECT customer_id, potential_value, (revenue_t12m > 0)::INTEGER AS in_reference
        FROM potential_driven
        WHERE potential_driver <> 'NONE'
    )
),

-- §S8 potential class: pr = below / (n − 1), 0 when n ≤ 1; HIGH when
-- pr ≥ potential_high_pr, MEDIUM when ≥ potential_medium_pr (multiplied out).
potential_classified AS (
    SELECT
        p.*,
        CASE
            WHEN p.potential_driver = 'NONE' THEN 'UNKNOWN'
            WHEN r.reference_size <= 1 THEN
                CASE WHEN settings.potential_medium_pr <= 0 THEN 'MEDIUM' ELSE 'LOW' END
            WHEN r.below >= settings.potential_high_pr * (r.reference_size - 1) THEN 'HIGH'
            WHEN r.below >= settings.potential_medium_pr * (r.reference_size - 1) THEN 'MEDIUM'
            ELSE 'LOW'
        END AS potential_class
    FROM potential_driven AS p
    CROSS JOIN settings
    LEFT JOIN potential_ranked AS r ON r.customer_id = p.customer_id
),

-- §S7 growth (defined when prior > 0) and trend; §S9 threat conditions.
-- Growth thresholds are compared exactly: growth ≥ x ⇔ current − prior ≥ x × prior.
threat_conditions AS (
    SELECT
        p.*,
        CASE WHEN p.revenue_prior > 0
            THEN (p.revenue_t12m - p.revenue_prior)::DOUBLE / p.revenue_prior::DOUBLE
        END AS growth_pct,
        CASE
            WHEN p.revenue_prior <= 0 AND p.revenue_t12m > 0 THEN 'NEW'
            WHEN p.revenue_prior > 0 AND p.revenue_t12m <= 0 THEN 'LOST'
            WHEN p.revenue_prior <= 0 AND p.revenue_t12m <= 0 THEN 'NONE'
            WHEN p.revenue_t12m - p.revenue_prior >= s.trend_growth_pct * p.revenue_prior THEN 'GROWING'
            WHEN p.revenue_t12m - p.revenue_prior <= -s.trend_growth_pct * p.revenue_prior THEN 'DECLINING'
            ELSE 'STABLE'
        END AS trend,
        p.revenue_prior > 0
            AND p.revenue_t12m - p.revenue_prior <= s.threat_declining_pct * p.revenue_prior AS is_declining,
        p.revenue_t12m > 0
            AND coalesce(p.last_invoice_date <= w.inactive_start, true) AS is_inactive,
        p.revenue_t12m > 0
            AND p.lost_deals >= s.threat_lost_deals_share * p.revenue_t12m
            AND p.lost_deals >= s.threat_lost_deals_min_amount AS has_lost_deals,
        coalesce(p.competitive_position <= s.threat_weak_position_max, false) AS is_weak_position,
        p.revenue_prior > 0
            AND p.revenue_t12m - p.revenue_prior <= s.threat_high_growth_pct * p.revenue_prior AS is_steep_decline
    FROM potential_classified AS p
    CROSS JOIN settings AS s
    CROSS JOIN windows AS w
),

-- §S9 threat reasons in fixed order ('' when none) and level.
threats AS (
    SELECT
        *,
        concat_ws(
            ',',
            CASE WHEN is_declining THEN 'DECLINING' END,
            CASE WHEN is_inactive THEN 'INACTIVE' END,
            CASE WHEN has_lost_deals THEN 'LOST_DEALS' END,
            CASE WHEN is_weak_position THEN 'WEAK_POSITION' END
        ) AS threat_reasons,
        CASE
            WHEN is_declining::INTEGER + is_inactive::INTEGER + has_lost_deals::INTEGER
                + is_weak_position::INTEGER >= 2 OR is_steep_decline THEN 'HIGH'
            WHEN is_declining OR is_inactive OR has_lost_deals OR is_weak_position THEN 'MEDIUM'
            ELSE 'NONE'
        END AS threat_level
    FROM threat_conditions
)

-- §S10 tier (UNKNOWN potential counts as LOW) and at-risk; §S11 column
-- order and types of marts.customer_segments (without tier_reason).
SELECT
    customer_id,
    customer_name,
    region,
    country_code,
    industry,
    owner_id,
    revenue_t12m::DECIMAL(18, 2) AS revenue_t12m,
    revenue_prior::DECIMAL(18, 2) AS revenue_prior,
    margin_t12m::DECIMAL(18, 2) AS margin_t12m,
    margin_prior::DECIMAL(18, 2) AS margin_prior,
    CASE WHEN revenue_t12m > 0 THEN margin_t12m::DOUBLE / revenue_t12m::DOUBLE END AS margin_pct,
    CASE WHEN revenue_t12m > 0 THEN costed_revenue_t12m::DOUBLE / revenue_t12m::DOUBLE END AS margin_coverage,
    growth_pct,
    trend,
    last_invoice_date,
    revenue_share,
    cumulative_share,
    abc_class,
    margin_abc_class,
    margin_share,
    segment_class,
    region_abc_class,
    country_abc_class,
    portfolio_abc_class,
    portfolio_rank::INTEGER AS portfolio_rank,
    wallet::DECIMAL(18, 2) AS wallet,
    wallet_source,
    wallet_below_revenue,
    headroom::DECIMAL(18, 2) AS headroom,
    CASE WHEN wallet > 0 THEN revenue_t12m::DOUBLE / wallet::DOUBLE END AS share_of_wallet,
    pipeline_weighted::DECIMAL(18, 2) AS pipeline_weighted,
    potential_value::DECIMAL(18, 2) AS potential_value,
    potential_driver,
    potential_class,
    threat_level,
    threat_reasons,
    CASE segment_class
        WHEN 'A' THEN CASE WHEN potential_class IN ('HIGH', 'MEDIUM') THEN 'STRATEGIC' ELSE 'CORE' END
        WHEN 'B' THEN CASE WHEN potential_class = 'HIGH' THEN 'DEVELOP' ELSE 'MAINTAIN' END
        WHEN 'C' THEN CASE WHEN potential_class = 'HIGH' THEN 'DEVELOP' ELSE 'SERVE_EFFICIENTLY' END
        ELSE CASE WHEN last_invoice_date IS NOT NULL THEN 'LAPSED' ELSE 'PROSPECT' END
    END AS tier,
    threat_level = 'HIGH' AND segment_class IN ('A', 'B') AS at_risk,
    getvariable('as_of')::DATE AS as_of_date,
    competitive_position::BIGINT AS competitive_position,
    is_current_key_account,
    key_account_since
FROM threats
ORDER BY customer_id

-- The floor the nightly job is compared with (python -m bench.run).
--
-- Revenue over the trailing twelve months per customer group, its share and
-- ABC class, straight from the landing files in one DuckDB query: no
-- validation, no quarantine, no history, no published warehouse. Whatever the
-- job costs above this is the price of everything else it does. It is meant
-- to be simple and readable, not fast.
--
-- Inputs, set by bench/baseline.py:
--   views landing_invoice_lines, landing_erp_customers, landing_crm_accounts,
--   landing_fx_rates: read_csv or read_parquet over the landing files (globs);
--   variable as_of (DATE).
--
-- The method (docs/methodology.md §S1–§S4) with the default settings:
--   window     invoice_date in (as_of − 12 months, as_of]; a month-end as-of
--              date shifts to the month end (2025-02-28 − 12 = 2024-02-29);
--   amounts    net_amount × the rate of its currency in its invoice month
--              (1 for EUR), summed exactly and rounded to cents per customer;
--   customer   the top-most ancestor of the ERP customer's CRM account;
--   ranking    customers with positive revenue, by revenue descending, then
--              customer_id; A while the revenue ranked before the customer is
--              below 80 % of the total, B below 95 %, else C.

WITH RECURSIVE
window_start AS (
    SELECT CASE
        WHEN getvariable('as_of') = last_day(getvariable('as_of'))
            THEN last_day(getvariable('as_of') - INTERVAL 12 MONTH)
        ELSE getvariable('as_of') - INTERVAL 12 MONTH
    END::DATE AS start_date
),

-- Every CRM account with the top-most account of its group (walk down from the tops).
account_group (account_id, customer_id) AS (
    SELECT account_id, account_id
    FROM landing_crm_accounts
    WHERE parent_account_id IS NULL
    UNION ALL
    SELECT child.account_id, parent.customer_id
    FROM landing_crm_accounts AS child
    JOIN account_group AS parent ON child.parent_account_id = parent.account_id
),

-- A month that is not YYYY-MM (no validation here) matches no line.
fx AS (
    SELECT currency, try_strptime(month, '%Y-%m')::DATE AS month_start, rate_to_reporting
    FROM landing_fx_rates
),

-- Lines of the window in EUR (widened first: DECIMAL(18,4) × DECIMAL(18,8) would stay 18 digits).
lines_eur AS (
    SELECT
        line.erp_customer_id,
        line.net_amount::DECIMAL(38, 4)
            * CASE WHEN line.currency = 'EUR' THEN 1 ELSE fx.rate_to_reporting END AS net_amount_eur
    FROM landing_invoice_lines AS line
    LEFT JOIN fx
        ON fx.currency = line.currency
        AND fx.month_start = date_trunc('month', line.invoice_date)::DATE
    WHERE line.invoice_date > (SELECT start_date FROM window_start)
        AND line.invoice_date <= getvariable('as_of')
),

revenue AS (
    SELECT account_group.customer_id, round(sum(lines_eur.net_amount_eur), 2)::DECIMAL(18, 2) AS revenue_t12m
    FROM lines_eur
    JOIN landing_erp_customers AS erp ON erp.erp_customer_id = lines_eur.erp_customer_id
    JOIN account_group ON account_group.account_id = erp.crm_account_id
    GROUP BY account_group.customer_id
),

ranked AS (
    SELECT
        customer_id,
        revenue_t12m,
        sum(revenue_t12m) OVER (ORDER BY revenue_t12m DESC, customer_id ROWS UNBOUNDED PRECEDING) AS running,
        sum(revenue_t12m) OVER () AS total
    FROM revenue
    WHERE revenue_t12m > 0
)

SELECT
    customer_id,
    revenue_t12m,
    revenue_t12m::DOUBLE / total::DOUBLE AS revenue_share,
    running::DOUBLE / total::DOUBLE AS cumulative_share,
    CASE
        WHEN running - revenue_t12m < 0.80 * total THEN 'A'
        WHEN running - revenue_t12m < 0.95 * total THEN 'B'
        ELSE 'C'
    END AS abc_class
FROM ranked
ORDER BY revenue_t12m DESC, customer_id

-- Schemas of the published warehouse, in the order data flows through them.
CREATE SCHEMA IF NOT EXISTS staging;   -- typed, accepted rows of each extract
CREATE SCHEMA IF NOT EXISTS quality;   -- rejected rows, reconciliation, unmapped revenue
CREATE SCHEMA IF NOT EXISTS marts;     -- segmentation, KAM decisions, allocation (current as-of date)
CREATE SCHEMA IF NOT EXISTS history;   -- snapshots by as-of date
CREATE SCHEMA IF NOT EXISTS meta;      -- run log
CREATE SCHEMA IF NOT EXISTS bi;        -- friendly views for dashboards

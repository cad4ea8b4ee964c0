-- History: every run's snapshot, keyed by as_of_date. A rerun of an as-of
-- date replaces that date's rows and leaves other dates untouched. Columns
-- are those of the mart of the same name; their comments are copied from it
-- when the warehouse is published (kam_pipeline/warehouse/schema.py).

CREATE TABLE history.customer_segments AS FROM marts.customer_segments LIMIT 0;
COMMENT ON TABLE history.customer_segments IS 'marts.customer_segments of every as-of date the pipeline ran for.';

CREATE TABLE history.kam_candidates AS FROM marts.kam_candidates LIMIT 0;
COMMENT ON TABLE history.kam_candidates IS 'marts.kam_candidates of every as-of date the pipeline ran for.';

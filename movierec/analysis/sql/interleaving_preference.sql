-- Sufficient statistics of one interleaved experiment's per-user preference.
-- BigQuery dialect; the DuckDB warehouse runs it transpiled by sqlglot.
--
-- Parameters (each written once, as bqemulator needs): experiment_id, and the two
-- variants' names, first_variant (A) and second_variant (B).
--
-- Users are the unit. A click counts once per (request, movie) however often it was
-- stored, and only when it is credited to one of the two variants (clicks on a list
-- served while a ranker could not be loaded carry no credit). Per user, the preference
-- is clicks credited to B minus clicks credited to A; the result is one row of sums
-- over the users with at least one credited click (movierec.stats.interleaving).
WITH variants AS (
  SELECT @first_variant AS a, @second_variant AS b
),
clicks AS (
  SELECT DISTINCT user_id, request_id, movie_id, credit
  FROM feedback
  WHERE experiment_id = @experiment_id AND type = 'click' AND credit IS NOT NULL
),
per_user AS (
  SELECT c.user_id,
         SUM(CASE WHEN c.credit = v.b THEN 1 ELSE 0 END)
           - SUM(CASE WHEN c.credit = v.a THEN 1 ELSE 0 END) AS preference
  FROM clicks AS c CROSS JOIN variants AS v
  WHERE c.credit = v.a OR c.credit = v.b
  GROUP BY c.user_id
)
SELECT COUNT(*) AS n,
       COALESCE(SUM(preference), 0) AS total,
       COALESCE(SUM(preference * preference), 0) AS sum_squares,
       COALESCE(SUM(CASE WHEN preference > 0 THEN 1 ELSE 0 END), 0) AS prefer_b,
       COALESCE(SUM(CASE WHEN preference < 0 THEN 1 ELSE 0 END), 0) AS prefer_a
FROM per_user

-- Sufficient statistics of one A/B experiment, cumulative up to each day, per variant.
-- BigQuery dialect; the DuckDB warehouse runs it transpiled by sqlglot.
--
-- Parameters: experiment_id, cap_percentile (FLOAT64; 1.0 caps nothing), activity_threshold
-- (INT64, lists served in the experiment) and pre_window_days (INT64). Each is written
-- exactly once (bqemulator 1.4 fails on a parameter used twice or named in a comment):
-- experiment_id filters the first CTE, whose rows the others join to; the rest are the
-- columns of the one-row CTE settings.
--
-- Days are UTC dates. Users are the randomisation unit: every metric is first summed per
-- user, then the per-user values are summed per variant along with their squares and
-- cross-products (what movierec.stats needs). What the query guarantees:
-- * Duplicated rows change nothing (BigQuery has no unique key; two overlapping exports
--   can both write a row): a user's assignment is their first assignment row (earliest
--   ts, ties by variant and bucket), a list counts once per request_id, a click once per
--   (request, movie), a rating is the first one per (request, movie).
-- * Feedback counts only from the user the list was served to and only on a movie that
--   list showed, so a numerator never holds what its denominator lacks.
-- * Users whose assignment rows or served lists name more than one variant, and users
--   served more than activity_threshold lists (bots, load tests), are left out of every
--   number below, including users, and counted in the summary columns (multiple variants
--   first: a user is counted once).
-- * Per-user totals are capped at the cap_percentile of the pooled distribution (all
--   variants, included users with a positive value; PERCENTILE_DISC: the cap is a value
--   someone has, as with APPROX_QUANTILES, so ties at the top are never cut),
--   each quantity on its own: clicks, lists, shown items, rating sum and rating count,
--   so a ratio metric's numerator and denominator are capped separately (as GrowthBook
--   does). Zeros are left out of the percentile so that a rare event is never capped at 0.
--   Caps come from the totals and also bound every earlier day's cumulative values (which
--   only grow), so the last day is the total. The pre-exposure clicks and lists are capped
--   at their own percentile, so the covariate depends on nothing after exposure.
-- * The pre-exposure covariates (CUPED) are each user's lists (any experiment or none) in
--   the pre_window_days before their first exposure, and the clicks on them made before
--   that exposure; they are paired with the post values over the same (exposed) users.
--   A second covariate, for users with no logged past (simulated MovieLens users): the
--   number of distinct movies each rated before first exposure in rating_history
--   (pre_h), whatever the window -- a history, not a period. The caller picks one.
-- The raw counts (impressions, shown_items, clicks, ratings) are uncapped; the sums feeding
-- the statistics are capped. Each result row repeats the experiment-wide summary; with
-- assignments but nobody left after exclusions, one row with a null day carries it.
WITH
assignment_rows AS (  -- every assignment row of the experiment, duplicates included
  SELECT
    experiment_id,
    user_id,
    variant,
    ts,
    ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts, variant, bucket) AS nth
  FROM assignments
  WHERE experiment_id = @experiment_id
),
settings AS (
  SELECT
    @cap_percentile AS cap_percentile,
    @activity_threshold AS activity_threshold,
    @pre_window_days AS pre_window_days
),
assigned AS (  -- one row per user: the first assignment
  SELECT experiment_id, user_id, variant, ts FROM assignment_rows WHERE nth = 1
),
lists AS (
  -- Every list served to these users, in this experiment or not (the pre-exposure
  -- period needs the others), once per request_id.
  SELECT request_id, user_id, ts, DATE(ts) AS day, variant, in_experiment, movie_ids,
    ARRAY_LENGTH(movie_ids) AS items
  FROM (
    SELECT
      i.request_id,
      i.user_id,
      i.ts,
      i.variant,
      i.movie_ids,
      COALESCE(i.experiment_id = a.experiment_id, FALSE) AS in_experiment,
      ROW_NUMBER() OVER (PARTITION BY i.request_id ORDER BY i.ts, i.variant) AS nth
    FROM impressions AS i
    JOIN assigned AS a ON a.user_id = i.user_id
  ) AS ranked
  WHERE nth = 1
),
shown_feedback AS (  -- feedback by the list's user on a movie the list showed
  SELECT l.user_id, l.request_id, l.ts AS list_ts, l.in_experiment, f.movie_id, f.type,
    f.value, f.ts, f.event_id
  FROM feedback AS f
  JOIN lists AS l ON l.request_id = f.request_id AND l.user_id = f.user_id
  WHERE f.movie_id IN UNNEST(l.movie_ids)
),
clicks AS (
  -- A click counts once per (request, movie): a client retrying with a new event_id
  -- cannot inflate CTR.
  SELECT user_id, in_experiment, list_ts, MIN(ts) AS ts
  FROM shown_feedback
  WHERE type = 'click'
  GROUP BY user_id, in_experiment, list_ts, request_id, movie_id
),
ratings AS (  -- the first rating per (request, movie), for the same reason
  SELECT user_id, ts, value
  FROM (
    SELECT user_id, ts, value,
      ROW_NUMBER() OVER (PARTITION BY request_id, movie_id ORDER BY ts, event_id) AS nth
    FROM shown_feedback
    WHERE type = 'rating' AND value IS NOT NULL AND in_experiment
  ) AS ranked
  WHERE nth = 1
),
exposure AS (  -- first exposure: the assignment, or the first list should clocks disagree
  SELECT a.user_id, LEAST(a.ts, COALESCE(MIN(l.ts), a.ts)) AS ts
  FROM assigned AS a
  LEFT JOIN lists AS l ON l.user_id = a.user_id AND l.in_experiment
  GROUP BY a.user_id, a.ts
),
pre AS (  -- what each user did in the window before their first exposure
  SELECT x.user_id, SUM(x.impressions) AS impressions, SUM(x.clicks) AS clicks
  FROM (
    SELECT user_id, ts AS list_ts, ts, 1 AS impressions, 0 AS clicks FROM lists
    UNION ALL
    SELECT user_id, list_ts, ts, 0, 1 FROM clicks
  ) AS x
  JOIN exposure AS e ON e.user_id = x.user_id
  CROSS JOIN settings AS s
  WHERE x.list_ts < e.ts AND x.ts < e.ts
    AND UNIX_MICROS(x.list_ts) >= UNIX_MICROS(e.ts) - s.pre_window_days * 86400000000
  GROUP BY x.user_id
),
history AS (  -- movies each user rated before their first exposure, outside logged traffic
  SELECT h.user_id, COUNT(DISTINCT h.movie_id) AS ratings
  FROM rating_history AS h
  JOIN exposure AS e ON e.user_id = h.user_id
  WHERE h.ts < e.ts
  GROUP BY h.user_id
),
user_day AS (  -- what each user did in the experiment on each day with activity
  SELECT
    user_id,
    day,
    SUM(impressions) AS impressions,
    SUM(items) AS shown_items,
    SUM(clicks) AS clicks,
    SUM(ratings) AS ratings,
    SUM(rating_sum) AS rating_sum
  FROM (
    SELECT user_id, day, 1 AS impressions, items, 0 AS clicks, 0 AS ratings,
      CAST(0 AS FLOAT64) AS rating_sum
    FROM lists
    WHERE in_experiment
    UNION ALL
    SELECT user_id, DATE(ts), 0, 0, 1, 0, CAST(0 AS FLOAT64) FROM clicks WHERE in_experiment
    UNION ALL
    SELECT user_id, DATE(ts), 0, 0, 0, 1, value FROM ratings
  ) AS activity
  GROUP BY user_id, day
),
totals AS (  -- each user's experiment so far
  SELECT user_id, SUM(impressions) AS impressions, SUM(shown_items) AS shown_items,
    SUM(clicks) AS clicks, SUM(ratings) AS ratings, SUM(rating_sum) AS rating_sum
  FROM user_day
  GROUP BY user_id
),
variant_count AS (  -- how many variants each user was assigned or served
  SELECT user_id, COUNT(DISTINCT variant) AS variants
  FROM (
    SELECT user_id, variant FROM assignment_rows
    UNION ALL
    SELECT user_id, variant FROM lists WHERE in_experiment
  ) AS claims
  GROUP BY user_id
),
users AS (  -- every assigned user, flagged when left out
  SELECT
    a.user_id,
    a.variant,
    v.variants > 1 AS multiple_variants,
    v.variants = 1 AND COALESCE(t.impressions, 0) > s.activity_threshold AS heavy
  FROM assigned AS a
  JOIN variant_count AS v ON v.user_id = a.user_id
  LEFT JOIN totals AS t ON t.user_id = a.user_id
  CROSS JOIN settings AS s
),
included AS (
  SELECT t.*
  FROM totals AS t
  JOIN users AS u ON u.user_id = t.user_id
  WHERE NOT u.multiple_variants AND NOT u.heavy
),
positive_values AS (  -- the pooled distribution of each capped quantity
  SELECT 'clicks' AS quantity, CAST(clicks AS FLOAT64) AS value FROM included WHERE clicks > 0
  UNION ALL
  SELECT 'impressions', CAST(impressions AS FLOAT64) FROM included WHERE impressions > 0
  UNION ALL
  SELECT 'shown_items', CAST(shown_items AS FLOAT64) FROM included WHERE shown_items > 0
  UNION ALL
  SELECT 'ratings', CAST(ratings AS FLOAT64) FROM included WHERE ratings > 0
  UNION ALL
  SELECT 'rating_sum', rating_sum FROM included WHERE rating_sum > 0
  UNION ALL
  SELECT 'pre_clicks', CAST(p.clicks AS FLOAT64) FROM pre AS p JOIN included AS i ON i.user_id = p.user_id
  WHERE p.clicks > 0
  UNION ALL
  SELECT 'pre_impressions', CAST(p.impressions AS FLOAT64) FROM pre AS p JOIN included AS i ON i.user_id = p.user_id
  WHERE p.impressions > 0
),
ranked_values AS (
  -- PERCENTILE_DISC by hand: both engines want the fraction of a percentile function to
  -- be a constant, not a parameter. The cap is the smallest value at or above which
  -- rank n p falls (1-based ranks; 1e-9 absorbs products like 100 * 0.07 = 7.000000000000001).
  SELECT
    v.quantity,
    v.value,
    ROW_NUMBER() OVER (PARTITION BY v.quantity ORDER BY v.value) AS rk,
    GREATEST(CEIL(COUNT(*) OVER (PARTITION BY v.quantity) * s.cap_percentile - 1e-9), 1) AS cap_rank
  FROM positive_values AS v
  CROSS JOIN settings AS s
),
quantity_caps AS (
  SELECT quantity, MAX(IF(rk = cap_rank, value, NULL)) AS cap
  FROM ranked_values
  GROUP BY quantity
),
caps AS (  -- one row; a cap is null when nobody has the quantity (nothing to cap)
  SELECT
    MAX(IF(quantity = 'clicks', cap, NULL)) AS clicks_cap,
    MAX(IF(quantity = 'impressions', cap, NULL)) AS impressions_cap,
    MAX(IF(quantity = 'shown_items', cap, NULL)) AS shown_items_cap,
    MAX(IF(quantity = 'ratings', cap, NULL)) AS ratings_cap,
    MAX(IF(quantity = 'rating_sum', cap, NULL)) AS rating_sum_cap,
    MAX(IF(quantity = 'pre_clicks', cap, NULL)) AS pre_clicks_cap,
    MAX(IF(quantity = 'pre_impressions', cap, NULL)) AS pre_impressions_cap
  FROM quantity_caps
),
summary AS (  -- who was left out or capped, repeated on every result row
  SELECT
    COUNT(*) AS assigned_users,
    COUNTIF(u.multiple_variants) AS multiple_variant_users,
    COUNTIF(u.heavy) AS heavy_users,
    -- among the users in the metrics; a comparison with a null cap is null, COUNTIF skips it
    COUNTIF(NOT u.multiple_variants AND NOT u.heavy AND t.user_id IS NOT NULL AND (
      t.clicks > k.clicks_cap OR t.impressions > k.impressions_cap
      OR t.shown_items > k.shown_items_cap OR t.ratings > k.ratings_cap
      OR t.rating_sum > k.rating_sum_cap OR p.clicks > k.pre_clicks_cap
      OR p.impressions > k.pre_impressions_cap
    )) AS capped_users,
    MAX(k.clicks_cap) AS clicks_cap,
    MAX(k.impressions_cap) AS impressions_cap,
    MAX(k.shown_items_cap) AS shown_items_cap,
    MAX(k.ratings_cap) AS ratings_cap,
    MAX(k.rating_sum_cap) AS rating_sum_cap,
    MAX(k.pre_clicks_cap) AS pre_clicks_cap,
    MAX(k.pre_impressions_cap) AS pre_impressions_cap
  FROM users AS u
  LEFT JOIN totals AS t ON t.user_id = u.user_id
  LEFT JOIN pre AS p ON p.user_id = u.user_id
  CROSS JOIN caps AS k
),
user_start AS (  -- a user counts from assignment (or first activity, should clocks disagree)
  SELECT u.user_id, u.variant, DATE(a.ts) AS assigned_day,
    LEAST(DATE(a.ts), COALESCE(MIN(d.day), DATE(a.ts))) AS day
  FROM users AS u
  JOIN assigned AS a ON a.user_id = u.user_id
  LEFT JOIN user_day AS d ON d.user_id = u.user_id
  WHERE NOT u.multiple_variants AND NOT u.heavy
  GROUP BY u.user_id, u.variant, a.ts
),
days AS (  -- the days on which anything happened to an included user
  SELECT x.day FROM user_day AS x JOIN user_start AS u ON u.user_id = x.user_id
  UNION DISTINCT
  SELECT assigned_day FROM user_start
),
cumulative AS (  -- every included user on every day since their start: totals so far
  SELECT
    d.day,
    u.variant,
    u.user_id,
    SUM(COALESCE(x.impressions, 0)) OVER per_user AS impressions,
    SUM(COALESCE(x.shown_items, 0)) OVER per_user AS shown_items,
    SUM(COALESCE(x.clicks, 0)) OVER per_user AS clicks,
    SUM(COALESCE(x.ratings, 0)) OVER per_user AS ratings,
    SUM(COALESCE(x.rating_sum, 0)) OVER per_user AS rating_sum
  FROM user_start AS u
  JOIN days AS d ON d.day >= u.day
  LEFT JOIN user_day AS x ON x.user_id = u.user_id AND x.day = d.day
  WINDOW per_user AS (
    PARTITION BY u.user_id ORDER BY d.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  )
),
valued AS (
  -- CTR, item CTR and clicks per user are over users with at least one list, and so
  -- are their pre-exposure values; IF (not LEAST) caps, as a null cap leaves x as is.
  SELECT
    c.day,
    c.variant,
    c.impressions,
    c.shown_items,
    IF(c.impressions > 0, c.clicks, 0) AS clicks,
    c.ratings,
    IF(c.impressions > 0, IF(c.clicks > k.clicks_cap, k.clicks_cap, c.clicks), 0) AS m,
    IF(c.impressions > k.impressions_cap, k.impressions_cap, c.impressions) AS d,
    IF(c.shown_items > k.shown_items_cap, k.shown_items_cap, c.shown_items) AS items,
    IF(c.rating_sum > k.rating_sum_cap, k.rating_sum_cap, c.rating_sum) AS rating_sum,
    IF(c.ratings > k.ratings_cap, k.ratings_cap, c.ratings) AS rating_count,
    IF(c.impressions > 0,
      IF(p.clicks > k.pre_clicks_cap, k.pre_clicks_cap, COALESCE(p.clicks, 0)), 0) AS pre_m,
    IF(c.impressions > 0,
      IF(p.impressions > k.pre_impressions_cap, k.pre_impressions_cap, COALESCE(p.impressions, 0)), 0)
      AS pre_d,
    IF(c.impressions > 0, COALESCE(h.ratings, 0), 0) AS pre_h
  FROM cumulative AS c
  CROSS JOIN caps AS k
  LEFT JOIN pre AS p ON p.user_id = c.user_id
  LEFT JOIN history AS h ON h.user_id = c.user_id
),
stats AS (
  SELECT
    day,
    variant,
    COUNT(*) AS users,
    COUNTIF(impressions > 0) AS exposed_users,
    SUM(impressions) AS impressions,
    SUM(shown_items) AS shown_items,
    SUM(clicks) AS clicks,
    SUM(ratings) AS ratings,
    -- ctr (ratio, n = exposed users), item ctr (same m, d = shown items), clicks per user
    SUM(m) AS m_sum,
    SUM(m * m) AS m_sum_squares,
    SUM(d) AS d_sum,
    SUM(d * d) AS d_sum_squares,
    SUM(m * d) AS m_d_sum_products,
    SUM(items) AS items_sum,
    SUM(items * items) AS items_sum_squares,
    SUM(m * items) AS m_items_sum_products,
    -- rating (ratio over users who rated): m = sum of the user's ratings, d = their count
    COUNTIF(ratings > 0) AS raters,
    SUM(rating_sum) AS rating_sum,
    SUM(rating_sum * rating_sum) AS rating_sum_squares,
    SUM(rating_count) AS rating_count,
    SUM(rating_count * rating_count) AS rating_count_squares,
    SUM(rating_sum * rating_count) AS rating_sum_count_products,
    -- the same users before exposure, and the products of post and pre values
    SUM(pre_m) AS pre_m_sum,
    SUM(pre_m * pre_m) AS pre_m_sum_squares,
    SUM(pre_d) AS pre_d_sum,
    SUM(pre_d * pre_d) AS pre_d_sum_squares,
    SUM(pre_m * pre_d) AS pre_m_d_sum_products,
    SUM(m * pre_m) AS m_pre_m_sum_products,
    SUM(d * pre_d) AS d_pre_d_sum_products,
    SUM(m * pre_d) AS m_pre_d_sum_products,
    SUM(d * pre_m) AS d_pre_m_sum_products,
    SUM(pre_h) AS pre_h_sum,
    SUM(pre_h * pre_h) AS pre_h_sum_squares,
    SUM(m * pre_h) AS m_pre_h_sum_products,
    SUM(d * pre_h) AS d_pre_h_sum_products
  FROM valued
  GROUP BY day, variant
)
SELECT
  t.*,
  s.assigned_users,
  s.multiple_variant_users,
  s.heavy_users,
  s.capped_users,
  s.clicks_cap,
  s.impressions_cap,
  s.shown_items_cap,
  s.ratings_cap,
  s.rating_sum_cap,
  s.pre_clicks_cap,
  s.pre_impressions_cap
FROM summary AS s
LEFT JOIN stats AS t ON TRUE
ORDER BY t.day, t.variant

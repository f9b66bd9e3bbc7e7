-- Sufficient statistics of one A/B experiment, cumulative up to each day, per variant.
-- BigQuery dialect; the DuckDB warehouse runs it transpiled by sqlglot.
-- Parameter: experiment_id, written once (bqemulator 1.4 fails on a parameter used twice
-- or named in a comment; the other CTEs inherit the filter through joins).
-- Days are UTC dates. Users are the randomisation unit: every metric is first summed per
-- user, then the per-user values are summed per variant along with their squares and
-- cross-products (what movierec.stats.statistics needs).
WITH
assigned AS (  -- the experiment's users and the variant they were assigned
  SELECT experiment_id, user_id, variant, DATE(ts) AS day
  FROM assignments
  WHERE experiment_id = @experiment_id
),
exposures AS (  -- every list served to an assigned user in this experiment
  SELECT i.experiment_id, i.request_id, i.user_id, DATE(i.ts) AS day
  FROM impressions AS i
  JOIN assigned AS a ON a.experiment_id = i.experiment_id AND a.user_id = i.user_id
),
clicks AS (
  -- A click counts once per (request, movie): a client retrying with a new event_id
  -- cannot inflate CTR. Only clicks on an exported impression of the same user count,
  -- so the numerator never holds what the denominator lacks.
  SELECT e.user_id, DATE(MIN(f.ts)) AS day
  FROM feedback AS f
  JOIN exposures AS e
    ON e.request_id = f.request_id AND e.user_id = f.user_id AND e.experiment_id = f.experiment_id
  WHERE f.type = 'click'
  GROUP BY e.user_id, f.request_id, f.movie_id
),
ratings AS (  -- the first rating per (request, movie), for the same reason
  SELECT user_id, day, value
  FROM (
    SELECT
      e.user_id,
      DATE(f.ts) AS day,
      f.value,
      ROW_NUMBER() OVER (PARTITION BY f.request_id, f.movie_id ORDER BY f.ts, f.event_id) AS nth
    FROM feedback AS f
    JOIN exposures AS e
      ON e.request_id = f.request_id AND e.user_id = f.user_id AND e.experiment_id = f.experiment_id
    WHERE f.type = 'rating' AND f.value IS NOT NULL
  ) AS ranked
  WHERE nth = 1
),
user_day AS (  -- what each user did on each day with activity
  SELECT
    user_id,
    day,
    SUM(impressions) AS impressions,
    SUM(clicks) AS clicks,
    SUM(ratings) AS ratings,
    SUM(rating_sum) AS rating_sum
  FROM (
    SELECT user_id, day, 1 AS impressions, 0 AS clicks, 0 AS ratings, CAST(0 AS FLOAT64) AS rating_sum
    FROM exposures
    UNION ALL
    SELECT user_id, day, 0, 1, 0, CAST(0 AS FLOAT64) FROM clicks
    UNION ALL
    SELECT user_id, day, 0, 0, 1, value FROM ratings
  ) AS activity
  GROUP BY user_id, day
),
user_start AS (  -- a user counts from assignment (or first activity, should clocks disagree)
  SELECT a.user_id, a.variant, LEAST(a.day, COALESCE(MIN(d.day), a.day)) AS day
  FROM assigned AS a
  LEFT JOIN user_day AS d ON d.user_id = a.user_id
  GROUP BY a.user_id, a.variant, a.day
),
days AS (  -- the days on which anything happened
  SELECT day FROM user_day
  UNION DISTINCT
  SELECT day FROM assigned
),
cumulative AS (  -- every user on every day since their start: totals so far
  SELECT
    d.day,
    u.variant,
    u.user_id,
    SUM(COALESCE(x.impressions, 0)) OVER per_user AS impressions,
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
exposed AS (  -- CTR and clicks per user are over users with at least one impression
  SELECT
    day,
    variant,
    user_id,
    impressions,
    IF(impressions > 0, clicks, 0) AS clicks,
    ratings,
    rating_sum
  FROM cumulative
)
SELECT
  day,
  variant,
  COUNT(*) AS users,
  COUNTIF(impressions > 0) AS exposed_users,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  SUM(ratings) AS ratings,
  -- ctr (ratio, n = exposed users) and clicks per user (mean over exposed users)
  SUM(clicks * clicks) AS clicks_sum_squares,
  SUM(impressions * impressions) AS impressions_sum_squares,
  SUM(clicks * impressions) AS clicks_impressions_sum_products,
  -- rating (ratio over users who rated): m = sum of the user's ratings, d = their count
  COUNTIF(ratings > 0) AS raters,
  SUM(rating_sum) AS rating_sum,
  SUM(rating_sum * rating_sum) AS rating_sum_squares,
  SUM(ratings * ratings) AS ratings_sum_squares,
  SUM(rating_sum * ratings) AS rating_sum_ratings_products
FROM exposed
GROUP BY day, variant
ORDER BY day, variant

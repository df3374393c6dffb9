-- The agreement of each queue and field computed from the labels, the way
-- flywheel.review_agreement was computed before it read running sums (with
-- explicit nulls left out): the reference test_closed.sh compares it with.
WITH fields AS (
    SELECT q.id AS queue_id, q.name AS queue, f->>'name' AS field, f->>'type' AS type
    FROM flywheel.review_queues q
    JOIN flywheel.review_rubrics r ON r.name = q.rubric_name AND r.version = q.rubric_version,
         jsonb_array_elements(r.definition->'fields') f
    WHERE f->>'type' IN ('boolean', 'category', 'pairwise', 'number')
), vals AS (
    SELECT fl.queue_id, fl.queue, fl.field, fl.type, c.item_id, c.reviewer,
           c.value->>fl.field AS v,
           CASE WHEN fl.type = 'number' THEN (c.value->>fl.field)::double precision END AS x
    FROM fields fl
    JOIN flywheel.review_current_labels c ON c.queue_id = fl.queue_id
    JOIN flywheel.review_items i ON i.id = c.item_id
    WHERE i.status IN ('labelled', 'disputed', 'adjudicated') AND NOT i.is_gold
      AND c.value ? fl.field AND c.value->fl.field <> 'null'::jsonb
), units AS (
    SELECT queue_id, field, item_id, count(*) AS m, sum(x) AS s1, sum(x * x) AS s2
    FROM vals GROUP BY 1, 2, 3 HAVING count(*) >= 2
), cells AS (
    SELECT v.queue_id, v.field, v.item_id, v.v, count(*) AS n
    FROM vals v JOIN units u USING (queue_id, field, item_id)
    GROUP BY 1, 2, 3, 4
), per_item AS (
    SELECT c.queue_id, c.field, c.item_id,
           sum(c.n * (c.n - 1))::double precision / (u.m * (u.m - 1)) AS p_i
    FROM cells c JOIN units u USING (queue_id, field, item_id)
    GROUP BY 1, 2, 3, u.m
), raters AS (
    SELECT v.queue_id, v.field, count(DISTINCT v.reviewer) AS raters,
           bool_and(u.m = 2) AS all_pairs
    FROM vals v JOIN units u USING (queue_id, field, item_id)
    GROUP BY 1, 2
), shares AS (
    SELECT c.queue_id, c.field, c.v, sum(c.n)::double precision
           / sum(sum(c.n)) OVER (PARTITION BY c.queue_id, c.field) AS p
    FROM cells c GROUP BY 1, 2, 3
), rater_shares AS (
    SELECT v.queue_id, v.field, v.reviewer, v.v, count(*)::double precision
           / sum(count(*)) OVER (PARTITION BY v.queue_id, v.field, v.reviewer) AS p
    FROM vals v JOIN units u USING (queue_id, field, item_id)
    GROUP BY 1, 2, 3, 4
), cohen_pe AS (
    SELECT a.queue_id, a.field, sum(a.p * b.p) AS pe
    FROM rater_shares a
    JOIN rater_shares b ON b.queue_id = a.queue_id AND b.field = a.field AND b.v = a.v
                       AND a.reviewer < b.reviewer
    GROUP BY 1, 2
), fleiss_pe AS (
    SELECT queue_id, field, sum(p * p) AS pe FROM shares GROUP BY 1, 2
), alpha AS (
    SELECT u.queue_id, u.field,
           sum(2 * (u.m * u.s2 - u.s1 * u.s1) / (u.m - 1)) / sum(u.m) AS d_o,
           2 * (sum(u.m) * sum(u.s2) - sum(u.s1) * sum(u.s1)) / (sum(u.m) * (sum(u.m) - 1)) AS d_e
    FROM units u GROUP BY 1, 2
)
SELECT fl.queue, fl.field, fl.type,
       count(pi.item_id) AS items,
       ra.raters,
       avg(pi.p_i) AS percent_agreement,
       CASE WHEN fl.type = 'number' THEN NULL
            WHEN ra.raters = 2 AND ra.all_pairs THEN 'cohen' ELSE 'fleiss' END AS kappa_kind,
       CASE WHEN fl.type = 'number' THEN NULL
            WHEN ra.raters = 2 AND ra.all_pairs THEN
                 (avg(pi.p_i) - coalesce(max(cp.pe), 0)) / nullif(1 - coalesce(max(cp.pe), 0), 0)
            ELSE (avg(pi.p_i) - max(fp.pe)) / nullif(1 - max(fp.pe), 0) END AS kappa,
       CASE WHEN fl.type = 'number' THEN 1 - max(al.d_o) / nullif(max(al.d_e), 0) END AS alpha_interval
FROM fields fl
JOIN per_item pi ON pi.queue_id = fl.queue_id AND pi.field = fl.field
JOIN raters ra ON ra.queue_id = fl.queue_id AND ra.field = fl.field
LEFT JOIN cohen_pe cp ON cp.queue_id = fl.queue_id AND cp.field = fl.field
LEFT JOIN fleiss_pe fp ON fp.queue_id = fl.queue_id AND fp.field = fl.field
LEFT JOIN alpha al ON al.queue_id = fl.queue_id AND al.field = fl.field
GROUP BY fl.queue, fl.field, fl.type, ra.raters, ra.all_pairs

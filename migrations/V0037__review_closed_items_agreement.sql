-- V0037: closed review items end their leases; running sums for agreement.
--
-- An item that closes (labelled, disputed, skipped, adjudicated) ends every
-- lease on it: a live one is recorded with the new assignment state
-- 'closed'. Leases left on closed items by earlier versions are ended here.
--
-- flywheel.review_agreement used to recompute agreement from every label on
-- each read (seconds to minutes on a busy queue). It now reads running
-- sums that the review functions maintain as items finish and labels are
-- revised (flywheel.review_agreement_apply in R__20_review.sql): per queue,
-- rubric field and shard, the terms of percent agreement and Krippendorff's
-- alpha; per queue, field, reviewer ('' for all reviewers pooled), value and
-- shard, the label counts behind Cohen's and Fleiss' kappa. Shards
-- (item id mod 16) spread concurrent submits over rows. Sums are numeric, so
-- a revision subtracts exactly what it had added. R__20_review.sql rebuilds
-- them from the labels whenever it is applied, which fills them here.
ALTER TABLE flywheel.review_assignments DROP CONSTRAINT review_assignments_state_check;
ALTER TABLE flywheel.review_assignments ADD CONSTRAINT review_assignments_state_check
    CHECK (state IN ('active', 'submitted', 'skipped', 'released', 'expired', 'closed'));

UPDATE flywheel.review_assignments a
   SET state = CASE WHEN a.lease_until > now() THEN 'closed' ELSE 'expired' END,
       finished_at = least(a.lease_until, now())
  FROM flywheel.review_items i
 WHERE i.id = a.item_id AND a.state = 'active'
   AND i.status NOT IN ('pending', 'in_review');
UPDATE flywheel.review_items SET lease_holders = '{}', lease_until = '{}'
 WHERE status NOT IN ('pending', 'in_review') AND cardinality(lease_holders) > 0;
-- A lease recorded as expired finishes when it ran out, never later than now.
UPDATE flywheel.review_assignments SET finished_at = now()
 WHERE state = 'expired' AND finished_at > now();

CREATE TABLE flywheel.review_agreement_sums (
    queue_id    bigint   NOT NULL REFERENCES flywheel.review_queues ON DELETE CASCADE,
    field       text     NOT NULL,
    shard       smallint NOT NULL,
    items       bigint   NOT NULL DEFAULT 0,  -- units: finished items with >= 2 values
    sum_p       numeric  NOT NULL DEFAULT 0,  -- sum of per-item pairwise agreement
    not_pairs   bigint   NOT NULL DEFAULT 0,  -- units with other than 2 values
    sum_m       bigint   NOT NULL DEFAULT 0,  -- values in units
    s1          numeric  NOT NULL DEFAULT 0,  -- number fields: sum of values
    s2          numeric  NOT NULL DEFAULT 0,  -- number fields: sum of squares
    do_num      numeric  NOT NULL DEFAULT 0,  -- number fields: sum of 2 (m s2 - s1^2) / (m - 1)
    PRIMARY KEY (queue_id, field, shard)
);
COMMENT ON TABLE flywheel.review_agreement_sums IS
    'Running sums behind flywheel.review_agreement (maintained by the review functions)';

CREATE TABLE flywheel.review_agreement_counts (
    queue_id    bigint   NOT NULL REFERENCES flywheel.review_queues ON DELETE CASCADE,
    field       text     NOT NULL,
    reviewer    text     NOT NULL,            -- '' for all reviewers pooled
    value       text     NOT NULL,
    shard       smallint NOT NULL,
    n           bigint   NOT NULL DEFAULT 0,
    PRIMARY KEY (queue_id, field, reviewer, value, shard)
);
COMMENT ON TABLE flywheel.review_agreement_counts IS
    'Label value counts behind the kappas of flywheel.review_agreement (maintained by the review functions)';

GRANT ALL ON flywheel.review_agreement_sums, flywheel.review_agreement_counts TO flywheel_admin;

-- V0042: a queue may show reviewers' names to its adjudicators.
--
-- The adjudication page of `flywheel serve` shows the reviewers' answers
-- side by side as "Reviewer A/B/C" (blind curation: the adjudicator judges
-- the answers, not the people). A queue whose team prefers names, e.g. to
-- ask a reviewer what they meant, turns this on from the admin page.
ALTER TABLE flywheel.review_queues
    ADD COLUMN show_reviewer_names boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN flywheel.review_queues.show_reviewer_names IS
    'Adjudicators see reviewers'' names instead of "Reviewer A/B/C"';

-- V0039: a queue may show reviewers' names to its adjudicators.
--
-- The web adjudication page shows "Reviewer A/B/C" unless the queue's
-- show_reviewer_names is set (flywheel.web_dispute in R__50_web.sql). The
-- column was first added by R__50_web.sql itself while the version numbers
-- before it were not on main; IF NOT EXISTS keeps this file correct on a
-- database where that happened.
ALTER TABLE flywheel.review_queues
    ADD COLUMN IF NOT EXISTS show_reviewer_names boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN flywheel.review_queues.show_reviewer_names IS
    'Adjudicators see reviewers'' names instead of "Reviewer A/B/C"';

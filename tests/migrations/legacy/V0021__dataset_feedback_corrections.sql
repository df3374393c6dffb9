-- V0021: feedback corrections as a source of preference pairs.
--
-- `flywheel export --format preference --feedback-corrections` also pairs a
-- generation's output with the correction an end user sent through the
-- agent (flywheel.feedback.correction: replacement output messages). Which
-- feedback event was used is part of the member, like the label ids, so
-- that a recorded version re-exports byte-identically even after newer
-- corrections arrive. NULL for members without one and for every member of
-- versions recorded before this column existed.

ALTER TABLE flywheel.dataset_members ADD COLUMN feedback_id uuid;
COMMENT ON COLUMN flywheel.dataset_members.feedback_id IS
    'The flywheel.feedback event whose correction the member used (preference exports with --feedback-corrections)';

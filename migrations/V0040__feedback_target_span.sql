-- V0040: feedback can target one span of a trace.
--
-- flywheel.v1 Feedback.target_span_id (with target_trace_id) names the
-- generation of that span. A front end that saw an OTLP trace knows the
-- trace and span ids but not the generation's event id, which also depends
-- on the span's start time (otlp/src/eventid.c). Until this column, such
-- feedback was stored as trace feedback with the span id in its attributes,
-- and so judged every generation of the trace.
--
-- The views that attach feedback to generations (R__10_store.sql,
-- R__40_dashboards.sql) match (target_trace_id, target_span_id) to
-- (trace_id, span_id) and nothing else: feedback about a span that has no
-- generation (not stored yet, or not an LLM call) stays unattached, visible
-- in flywheel.orphan_feedback, rather than being spread over the trace.
-- The lookup goes through generations_trace_idx and feedback_target_trace_idx;
-- a trace has few spans, so no new index is needed.
ALTER TABLE flywheel.feedback ADD COLUMN target_span_id text;

COMMENT ON COLUMN flywheel.feedback.target_span_id IS
    'With target_trace_id: the span (16 hex digits) whose generation the feedback judges';

-- Every existing row has no span target, so the check holds; NOT VALID then
-- VALIDATE keeps the scan out of the ACCESS EXCLUSIVE lock of ALTER TABLE.
ALTER TABLE flywheel.feedback
    ADD CONSTRAINT feedback_target_span_needs_trace
    CHECK (target_span_id IS NULL OR (target_trace_id IS NOT NULL
                                      AND target_span_id ~ '^[0-9a-f]{16}$')) NOT VALID;
ALTER TABLE flywheel.feedback VALIDATE CONSTRAINT feedback_target_span_needs_trace;

/*
 * Collector metrics, rendered in the Prometheus text exposition format.
 *
 * The consumer thread updates them once per message or per batch; the HTTP
 * thread renders them. One mutex guards everything: updates are per batch
 * (thousands of rows), so the lock is never hot. Per-partition gauges (lag,
 * next offset) are replaced wholesale by the consumer about once a second.
 */
#ifndef FW_METRICS_H
#define FW_METRICS_H

#include "decode.h"
#include "fw_buf.h"

#include <stdint.h>

typedef enum { FW_T_GENERATIONS = 0, FW_T_FEEDBACK, FW_T_DEAD_LETTERS, FW_T_COUNT } fw_table;

typedef struct {
    char topic[128];
    int32_t partition;
    int64_t next_offset; /* -1 unknown */
    int64_t lag;         /* -1 unknown */
} fw_part_gauge;

void fw_metrics_init(void);

void fw_metrics_consumed(uint64_t n);
/* Spans of OTLP topic messages, by outcome. */
void fw_metrics_otlp(uint64_t spans, uint64_t generations, uint64_t skipped, uint64_t rejected);
void fw_metrics_rows(fw_table t, uint64_t inserted, uint64_t duplicates);
void fw_metrics_dead_letter(fw_dl_reason r);
/* A row PostgreSQL refused, dead-lettered as data_error: counted under its
 * SQLSTATE class (first two characters, "--" when there is none), so the
 * series is flywheel_collector_dead_letters_total{reason="data_error",class="22"}. */
void fw_metrics_dead_letter_data(const char *sqlstate);
/* One batch committed: its message count, seconds from its first message
 * to the commit, and the seconds the transaction took. */
void fw_metrics_batch(uint64_t messages, double batch_seconds, double commit_seconds);
/* A PostgreSQL error, counted by SQLSTATE class (first two characters;
 * "" for a connection failure without SQLSTATE). */
void fw_metrics_pg_error(const char *sqlstate);
void fw_metrics_rebalance(void);
void fw_metrics_set_state(int pg_up, int paused, int assigned);
void fw_metrics_set_partitions(const fw_part_gauge *g, size_t n);
/* The consumer loop calls this each turn: /healthz fails if it stops. */
void fw_metrics_heartbeat(void);

/* Readiness: assigned partitions and PostgreSQL writable. */
int fw_metrics_ready(void);
/* Liveness: the consumer loop turned within the last `max_age_s` seconds. */
int fw_metrics_alive(double max_age_s);
uint64_t fw_metrics_rebalances(void);

/* Appends the whole exposition to b. */
void fw_metrics_render(fw_buf *b);

#endif

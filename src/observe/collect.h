/*
 * collect.h - the metrics read from Redis when /metrics is scraped, from what the swarm keeps
 * there anyway (no writes in any hot path): stories by section and status and the depth of
 * each stage (the blackboard's counts and stage queues), budgets (spent, limit, utilisation,
 * per agent and global, today and this hour), early stops and the calls they saved, the
 * response cache's hits and misses, agents by role and status (the registry), work queues
 * (waiting, pending, delayed, dead letters), circuit breakers (the state the breakers share
 * in Redis, breaker_list()) and the link itself (up, PING latency). They describe the whole
 * swarm, so every process serves the same values: dashboards take max() across instances.
 *
 * Threads: the metrics server's thread, with its link.
 */
#ifndef NEWSROOM_COLLECT_H
#define NEWSROOM_COLLECT_H

struct config;
struct metrics_text;
struct rlink;

/* A metrics_collector (metrics_http.h): arg is the configuration (const struct config *),
 * for the budget options. Writes nothing but newsroom_redis_up 0 when l is NULL or down. */
void collect_redis(struct metrics_text *out, struct rlink *l, void *arg);

#endif

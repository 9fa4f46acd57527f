/*
 * bench.h - what every `newsroom bench NAME` shares: the figure type and the report, printed
 * as a readable table or, with --json, as one object
 *   {"bench": NAME, "machine": "...", "figures": [{"name", "value", "unit", "peer",
 *    "peer_value", "ratio"}]}
 * with the peer fields null when a figure has no peer. Main thread only.
 */
#ifndef NEWSROOM_BENCH_H
#define NEWSROOM_BENCH_H

#include <stdbool.h>

struct bench_figure {
    char name[64];
    double value;
    const char *unit;
    const char *peer; /* NULL when the figure has no peer */
    double peer_value;
    /* value / peer_value, or peer_value / value when lower is better: > 1 means ours wins. */
    double ratio;
};

/* Fills *f: name, value and unit, and the peer (NULL: none) with its value; the ratio is
 * value / peer_value, or peer_value / value when lower_better, so > 1 means ours wins (0 when
 * it cannot be computed). */
void bench_figure(struct bench_figure *f, const char *name, double value, const char *unit,
                  const char *peer, double peer_value, bool lower_better);

/* Prints the report; machine is filled in from uname and the number of processors. */
void bench_report(const char *bench, const struct bench_figure *f, int n, bool json);

/* Sum of the calls of every command in INFO commandstats, INFO itself left out (the Redis
 * commands a benchmark made, as a delta of two readings); -1 when the server does not answer. */
struct rlink;
long long bench_command_calls(struct rlink *l);

/* Redis's INFO used_memory (bytes) and DBSIZE (keys) on link l. 0, or -1 with *cause. */
int bench_redis_memory(struct rlink *l, long long *used, long long *keys, char **cause);

/* Sequential PING round trips per second from one client over count PINGs: the ceiling of
 * anything that needs one round trip. -1 on failure. */
double bench_ping_rate(struct rlink *l, int count);

/* Parses an option's value as a whole number from lo to hi into *out. Returns 0, or -1 after
 * printing "bench NAME: OPTION "VALUE" must be ..." on stderr. */
int bench_parse_long(const char *bench, const char *option, const char *value, long lo, long hi,
                     long *out);

/* The folder an npm peer of the benchmarks lives in: $NEWSROOM_PEERS_DIR/NAME, else
 * build/peers/NAME in the source tree (never committed). Free it. */
char *bench_peer_dir(const char *name);
/* Makes sure npm package name (spec, e.g. "bullmq@5") is installed in dir, installing it with
 * npm when missing (messages on stderr). Returns 0, or -1 with *cause (npm missing, no
 * network...). */
int bench_peer_install(const char *dir, const char *name, const char *spec, char **cause);

/* The median of n values (sorts them in place). */
double bench_median(double *v, int n);

/* A private redis-server in a temporary folder with a default configuration (offline sim at
 * zero latency unless changed), the default pricing, and a link to it. */
#include "agents/agent.h"
#include "store/bb_table.h"
struct config;
struct embedded;
struct pricing;
struct bench_env {
    const char *bench;
    char dir[64];
    struct config *cfg;
    struct pricing *pricing;
    struct embedded *emb;
    struct redis_addr addr;
    struct rlink_options opt;
    struct rlink *link;
};
/* Returns 0, or -1 with *cause (e is then empty). */
int bench_env_start(struct bench_env *e, const char *bench, char **cause);
void bench_env_stop(struct bench_env *e);
/* Empties the database. */
int bench_flush(struct bench_env *e, char **cause);
/* The cost of every usage record in the database (micro-dollars) and their number (*calls);
 * -1 with *cause. */
int64_t bench_usage_cost(struct bench_env *e, long *calls, char **cause);

/* One swarm run from an emptied database: roles (with an approver, as --auto-approve) over
 * n > 0 wire stories of seed, until every story is terminal, or fail after timeout_s. Fills the
 * results: wall seconds, Redis commands the swarm made (the bench's own polling taken out), stories
 * per status at the end, the agents' counters. */
struct bench_run {
    const char *roles;
    long n;
    uint64_t seed;
    bool baseline;
    int timeout_s;
    double seconds;
    long long commands; /* executed by the server, those inside scripts included */
    long long sent;     /* sent by the agents: round trips */
    long counts[BB_STATUS_COUNT];
    struct swarm_totals totals;
};
int bench_swarm_run(struct bench_env *e, struct bench_run *run, char **cause);

/* The latency run: a swarm of roles at the configuration's sim latencies, wire stories of seed
 * 7 written one at a time until `want` have reached REVIEWING (each waits for the previous one,
 * so none queues behind another); per story the time from its write to REVIEWING (server
 * clock) into e2e[] and the sum of the model latencies on its critical path (from its usage
 * records; the debaters' votes run side by side, so only the slowest of a round counts) into
 * crit[]; stories that ended elsewhere counted in *skipped. Returns how many were measured, or
 * -1 with *cause. */
int bench_latency_run(struct bench_env *e, const char *roles, int want, double *e2e, double *crit,
                      int *skipped, char **cause);

/* Benchmarks: argv[0] is the bench name. Each returns an exit code. */
int bench_ring(int argc, char **argv);
int bench_blackboard(int argc, char **argv);
int bench_queue(int argc, char **argv);
int bench_pipeline(int argc, char **argv);
int bench_cost(int argc, char **argv);
int bench_tui(int argc, char **argv);
int bench_feeds(int argc, char **argv);
int bench_render(int argc, char **argv);
int bench_retention(int argc, char **argv);
int bench_memory(int argc, char **argv);
int bench_recovery(int argc, char **argv);
int bench_soak(int argc, char **argv);
int bench_observe(int argc, char **argv);
int bench_store(int argc, char **argv);
/* `bench all`: runs names[0..count) one after another, each as a child process of this binary,
 * and reports every figure in one table. */
int bench_all(int argc, char **argv, const char *const *names, int count);

#endif

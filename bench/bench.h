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

/* Prints the report; machine is filled in from uname and the number of processors. */
void bench_report(const char *bench, const struct bench_figure *f, int n, bool json);

/* Sum of the calls of every command in INFO commandstats, INFO itself left out (the Redis
 * commands a benchmark made, as a delta of two readings); -1 when the server does not answer. */
struct rlink;
long long bench_command_calls(struct rlink *l);

/* Parses an option's value as a whole number from lo to hi into *out. Returns 0, or -1 after
 * printing "bench NAME: OPTION "VALUE" must be ..." on stderr. */
int bench_parse_long(const char *bench, const char *option, const char *value, long lo, long hi,
                     long *out);

/* The median of n values (sorts them in place). */
double bench_median(double *v, int n);

/* Benchmarks: argv[0] is the bench name. Each returns an exit code. */
int bench_ring(int argc, char **argv);
int bench_blackboard(int argc, char **argv);
int bench_queue(int argc, char **argv);

#endif

/*
 * cli_bench.c - `newsroom bench NAME`: the table of benchmarks. Each benchmark lives in
 * bench/ and parses its own options (--json among them).
 */
#include "cli/cli.h"

#include "bench.h"

#include <stdio.h>
#include <string.h>

struct bench_entry {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
};

static const struct bench_entry benches[] = {
    {"ring", bench_ring, "records/s through the lock-free ring vs a mutex queue, 1/2/4 producers"},
    {"blackboard", bench_blackboard, "writes and transitions/s, Redis commands per transition"},
    {"queue", bench_queue, "tasks/s enqueue->dequeue->ack and commands/task, vs BullMQ"},
    {"pipeline", bench_pipeline,
     "stories/s end to end, commands/story, infrastructure share of review-ready time"},
    {"cost", bench_cost, "$ per published story vs every call PREMIUM without savings"},
    {"feeds", bench_feeds, "feed items parsed/s on the project's corpus vs libxml2 alone"},
    {"tui", bench_tui, "the control room under 1,000 events/s and idle: bytes, CPU, frame times"},
    {"render", bench_render,
     "seconds of video per wall second for a 60 s story: stills vs filters vs AAC alone"},
    {"store", bench_store, "MB/s to and from an S3-compatible store vs the curl program"},
    {"retention", bench_retention,
     "Redis bytes and keys per story before and after a retention pass, deletions/s"},
    {"memory", bench_memory,
     "embeddings/s, upserts/s, query p50/p99 at 10,000 stories: local backend and Chroma"},
    {"recovery", bench_recovery,
     "swarm processes SIGKILLed every 5 s vs none: time, paid calls, kill to running again"},
    {"soak", bench_soak,
     "the default run for --minutes M (10): stage depths, sections, RSS, Redis memory slopes"},
    {"observe", bench_observe,
     "trace events/s the exporter sustains, its memory bound, the pipeline with tracing and "
     "metrics on vs off"},
};

#define NBENCHES (sizeof benches / sizeof benches[0])

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: newsroom bench NAME [--json] [OPTIONS]\n"
               "       newsroom bench all [--skip NAME,...] [--timeout S] [--json]\n\n"
               "Benchmarks:\n");
    for (size_t i = 0; i < NBENCHES; i++)
        fprintf(f, "  %-11s %s\n", benches[i].name, benches[i].summary);
    fprintf(f, "  %-11s %s\n", "all", "every one of them in turn, one table of every figure");
}

int cmd_bench(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        bench_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_DONE;
    }
    if (strcmp(argv[1], "all") == 0) {
        const char *names[NBENCHES];

        for (size_t i = 0; i < NBENCHES; i++)
            names[i] = benches[i].name;
        return bench_all(argc - 1, argv + 1, names, (int)NBENCHES);
    }
    for (size_t i = 0; i < NBENCHES; i++)
        if (strcmp(argv[1], benches[i].name) == 0)
            return benches[i].run(argc - 1, argv + 1);
    cli_error("bench: unknown benchmark \"%s\"", argv[1]);
    bench_usage(stderr);
    return EXIT_USAGE;
}

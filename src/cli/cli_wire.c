/*
 * cli_wire.c - `newsroom wire [--n N] [--seed S] [--kinds]`: prints the wire simulator's
 * stories as JSON Lines that `ctl ingest` reads (the stories a default run's scouts get, with
 * their deliberate duplicates and weak stories). config/sample_stories.jsonl is
 * `newsroom wire --n 50 --seed 2026`. --kinds adds each story's kind and, for a duplicate,
 * the number of the story it repeats, as "wire_kind" and "wire_dup_of" (which ingest keeps as
 * extra fields). Main thread only.
 */
#include "agents/wire.h"
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

/* Parses a whole number from lo to hi; -1 after saying what is wrong. */
static int wire_number(const char *option, const char *v, long long lo, long long hi,
                       long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(v, &end, 10);
    if (*v == '\0' || *end != '\0' || errno != 0 || *out < lo || *out > hi) {
        cli_error("wire: %s \"%s\" is not a whole number from %lld to %lld", option, v, lo, hi);
        return -1;
    }
    return 0;
}

int cmd_wire(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"n", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"kinds", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long long n = 50, seed = 2026;
    bool kinds = false;
    int c;

    (void)cli;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (wire_number("--n", optarg, 1, 10000000, &n) == -1)
                return EXIT_USAGE;
            break;
        case 's':
            if (wire_number("--seed", optarg, 0, 9007199254740991LL, &seed) == -1)
                return EXIT_USAGE;
            break;
        case 'k':
            kinds = true;
            break;
        case 'h':
            printf("usage: newsroom wire [--n STORIES] [--seed SEED] [--kinds]\n");
            return EXIT_DONE;
        case ':':
            cli_error("wire: option %s needs a value", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            cli_error("wire: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("wire: unexpected argument \"%s\"", argv[optind]);
        return EXIT_USAGE;
    }
    for (long long i = 0; i < n; i++) {
        enum wire_kind kind;
        long dup_of;
        json_t *j = wire_story((uint64_t)seed, (long)i, &kind, &dup_of);

        if (kinds) {
            json_object_set_new(j, "wire_kind", json_string(wire_kind_name(kind)));
            if (dup_of >= 0)
                json_object_set_new(j, "wire_dup_of", json_integer(dup_of));
        }
        if (json_dumpf(j, stdout, JSON_COMPACT) == -1 || fputc('\n', stdout) == EOF) {
            json_decref(j);
            cli_error("wire: cannot write to standard output");
            return EXIT_REFUSED;
        }
        json_decref(j);
    }
    return fflush(stdout) == 0 ? EXIT_DONE : EXIT_REFUSED;
}

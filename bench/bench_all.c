/*
 * bench_all.c - `newsroom bench all [--skip NAME,...] [--timeout S] [--json]`: every benchmark
 * in turn, each in a child process of this binary (`newsroom bench NAME --json`, so one
 * benchmark's servers, threads and memory never weigh on the next), then one table of every
 * figure with the peer or limit measured in the same run and the ratio, the figure names
 * prefixed with their benchmark ("queue: tasks/s, 1 by 1"); --json prints it as one object
 * like every benchmark's. Slow ones can be left out by name; a benchmark that fails or passes
 * its time limit is named on stderr and makes the exit status 1, the others still report.
 * Main thread only (the children run one at a time).
 */
#include "bench.h"

#include "cli/cli.h"
#include "core/clock.h"
#include "core/fail.h"
#include "media/proc.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_S 1800

/* Whether name is in the comma-separated list. */
static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p != NULL && *p != '\0';) {
        size_t len = strcspn(p, ",");

        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

/* Adds the figures of one benchmark's JSON report to *figs (growing it); the strings they
 * point to are kept in *keep. Returns 0, or -1 with *cause. */
static int take_figures(const char *bench, const char *out, struct bench_figure **figs, int *n,
                        json_t *keep, char **cause)
{
    json_error_t jerr;
    json_t *o = json_loads(out != NULL ? out : "", 0, &jerr), *list, *f;
    size_t i;

    if (o == NULL || !json_is_array(list = json_object_get(o, "figures"))) {
        *cause = xasprintf("its report is not JSON with figures (%s)", o == NULL ? jerr.text : "");
        json_decref(o);
        return -1;
    }
    json_array_foreach(list, i, f)
    {
        struct bench_figure *x;
        const char *peer = json_string_value(json_object_get(f, "peer"));

        *figs = xrealloc(*figs, (size_t)(*n + 1) * sizeof **figs);
        x = &(*figs)[(*n)++];
        memset(x, 0, sizeof *x);
        snprintf(x->name, sizeof x->name, "%s: %s", bench,
                 json_string_value(json_object_get(f, "name")) != NULL
                     ? json_string_value(json_object_get(f, "name"))
                     : "?");
        x->value = json_number_value(json_object_get(f, "value"));
        json_array_append(keep, json_object_get(f, "unit"));
        x->unit = json_string_value(json_object_get(f, "unit")) != NULL
                      ? json_string_value(json_object_get(f, "unit"))
                      : "";
        if (peer != NULL) {
            json_array_append(keep, json_object_get(f, "peer"));
            x->peer = peer;
            x->peer_value = json_number_value(json_object_get(f, "peer_value"));
            x->ratio = json_number_value(json_object_get(f, "ratio"));
        }
    }
    json_decref(o);
    return 0;
}

int bench_all(int argc, char **argv, const char *const *names, int count)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"skip", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct bench_figure *figs = NULL;
    json_t *keep = json_array();
    const char *skip = NULL;
    char *self = realpath("/proc/self/exe", NULL);
    long timeout_s = DEFAULT_TIMEOUT_S;
    bool json = false;
    int c, n = 0, failed = 0, code = EXIT_DONE;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 's':
            skip = optarg;
            break;
        case 't':
            if (bench_parse_long("all", "--timeout", optarg, 10, 86400, &timeout_s) == -1)
                code = EXIT_USAGE;
            break;
        case 'h':
            printf("usage: newsroom bench all [--skip NAME,...] [--timeout S] [--json]\n\nRuns "
                   "every benchmark, one after another, each in a process of its own, and\n"
                   "prints one table of their figures. --skip leaves the named ones out; "
                   "--timeout\nbounds each (default %d s).\n",
                   DEFAULT_TIMEOUT_S);
            goto out;
        default:
            cli_error("bench all: unknown option %s", argv[optind - 1]);
            code = EXIT_USAGE;
        }
    }
    if (code == EXIT_DONE && optind < argc) {
        cli_error("bench all: unexpected argument \"%s\"", argv[optind]);
        code = EXIT_USAGE;
    }
    for (const char *p = skip; code == EXIT_DONE && p != NULL && *p != '\0';) {
        size_t len = strcspn(p, ",");
        bool known = false;

        for (int i = 0; i < count; i++)
            known = known || (strlen(names[i]) == len && strncmp(names[i], p, len) == 0);
        if (!known) {
            cli_error("bench all: --skip: no benchmark \"%.*s\"", (int)len, p);
            code = EXIT_USAGE;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    if (code != EXIT_DONE)
        goto out;
    if (self == NULL)
        fail("cannot find this program (/proc/self/exe)");
    for (int i = 0; i < count && !cli_stop; i++) {
        const char *child[] = {self, "bench", names[i], "--json", NULL};
        struct proc_result r;
        char *cause = NULL;
        int64_t t0 = clock_mono_ms();

        if (listed(skip, names[i])) {
            fprintf(stderr, "newsroom: bench all: %s skipped\n", names[i]);
            continue;
        }
        fprintf(stderr, "newsroom: bench all: %s ...\n", names[i]);
        if (proc_run(child, NULL, t0 + timeout_s * 1000, &r, &cause) == -1 ||
            take_figures(names[i], r.out, &figs, &n, keep, &cause) == -1) {
            cli_error("bench all: %s failed: %s", names[i], cause);
            failed++;
        } else {
            fprintf(stderr, "newsroom: bench all: %s done in %.0f s\n", names[i],
                    (double)(clock_mono_ms() - t0) / 1000.0);
        }
        free(cause);
        proc_result_clear(&r);
    }
    bench_report("all", figs, n, json);
    code = failed > 0 || cli_stop ? EXIT_REFUSED : EXIT_DONE;
out:
    free(figs);
    json_decref(keep);
    free(self);
    return code;
}

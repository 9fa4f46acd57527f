/*
 * bench_report.c - the report of every benchmark (a table, or one JSON object with --json),
 * the median helper and the Redis command counter; see bench.h. Main thread only, no state.
 */
#include "bench.h"

#include "cli/cli.h"
#include "core/clock.h"
#include "core/fail.h"
#include "core/paths.h"
#include "media/proc.h"
#include "store/rlink.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

void bench_figure(struct bench_figure *f, const char *name, double value, const char *unit,
                  const char *peer, double peer_value, bool lower_better)
{
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->value = value;
    f->unit = unit;
    f->peer = peer;
    f->peer_value = peer_value;
    if (peer != NULL && value > 0 && peer_value > 0)
        f->ratio = lower_better ? peer_value / value : value / peer_value;
}

/* Digits after the point that keep a figure readable: 2 below 10, 1 below 1000, else none. */
static int decimals(double v)
{
    double a = v < 0 ? -v : v;

    return a < 10 ? 2 : a < 1000 ? 1 : 0;
}

void bench_report(const char *bench, const struct bench_figure *f, int n, bool json)
{
    struct utsname u;
    char machine[256];

    uname(&u);
    snprintf(machine, sizeof machine, "%s %s %s, %ld cores", u.sysname, u.release, u.machine,
             sysconf(_SC_NPROCESSORS_ONLN));
    if (json) {
        json_t *o = json_object(), *figs = json_array();
        char *s;

        json_object_set_new(o, "bench", json_string(bench));
        json_object_set_new(o, "machine", json_string(machine));
        for (int i = 0; i < n; i++) {
            json_t *x = json_object();

            json_object_set_new(x, "name", json_string(f[i].name));
            json_object_set_new(x, "value", json_real(f[i].value));
            json_object_set_new(x, "unit", json_string(f[i].unit));
            json_object_set_new(x, "peer",
                                f[i].peer != NULL ? json_string(f[i].peer) : json_null());
            json_object_set_new(x, "peer_value",
                                f[i].peer != NULL ? json_real(f[i].peer_value) : json_null());
            json_object_set_new(x, "ratio",
                                f[i].peer != NULL ? json_real(f[i].ratio) : json_null());
            json_array_append_new(figs, x);
        }
        json_object_set_new(o, "figures", figs);
        s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        puts(s);
        free(s);
        json_decref(o);
        return;
    }
    printf("bench %s on %s\n\n", bench, machine);
    printf("%-36s %14s %-12s %-26s %14s %8s\n", "figure", "value", "unit", "peer", "peer value",
           "ratio");
    for (int i = 0; i < n; i++) {
        if (f[i].peer != NULL)
            printf("%-36s %14.*f %-12s %-26s %14.*f %7.2fx\n", f[i].name, decimals(f[i].value),
                   f[i].value, f[i].unit, f[i].peer, decimals(f[i].peer_value), f[i].peer_value,
                   f[i].ratio);
        else
            printf("%-36s %14.*f %-12s\n", f[i].name, decimals(f[i].value), f[i].value, f[i].unit);
    }
}

long long bench_command_calls(struct rlink *l)
{
    char *cause = NULL;
    redisReply *r = rlink_command(l, &cause, "INFO commandstats");
    long long total = 0;

    if (r == NULL) {
        free(cause);
        return -1;
    }
    for (const char *p = r->type == REDIS_REPLY_STRING ? r->str : NULL;
         p != NULL && (p = strstr(p, "cmdstat_")) != NULL; p++) {
        const char *calls = strstr(p, ":calls=");

        if (calls != NULL && strncmp(p, "cmdstat_info:", 13) != 0)
            total += strtoll(calls + 7, NULL, 10);
    }
    freeReplyObject(r);
    return total;
}

int bench_parse_long(const char *bench, const char *option, const char *value, long lo, long hi,
                     long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
        cli_error("bench %s: %s \"%s\" must be a whole number from %ld to %ld", bench, option,
                  value, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

double bench_ping_rate(struct rlink *l, int count)
{
    int64_t t0 = clock_mono_us(), us;
    char *cause = NULL;

    for (int i = 0; i < count; i++)
        if (rlink_ping(l, &us, &cause) == -1) {
            free(cause);
            return -1;
        }
    return (double)count / ((double)(clock_mono_us() - t0) / 1e6);
}

#ifndef NEWSROOM_SOURCE_DIR
#define NEWSROOM_SOURCE_DIR "."
#endif
#define NPM_TIMEOUT_MS (5 * 60 * 1000)

char *bench_peer_dir(const char *name)
{
    const char *env = getenv("NEWSROOM_PEERS_DIR");

    if (env != NULL && *env != '\0')
        return xasprintf("%s/%s", env, name);
    return xasprintf("%s/build/peers/%s", NEWSROOM_SOURCE_DIR, name);
}

int bench_peer_install(const char *dir, const char *name, const char *spec, char **cause)
{
    char *pkg = xasprintf("%s/node_modules/%s/package.json", dir, name), *npm;
    struct proc_result r;
    struct stat st;
    int rc;

    if (stat(pkg, &st) == 0) {
        free(pkg);
        return 0;
    }
    npm = paths_which("npm");
    if (npm == NULL) {
        free(pkg);
        *cause = xasprintf("npm is not installed (Debian: apt-get install npm)");
        return -1;
    }
    if (paths_mkdir_p(dir, 0755, cause) == -1) {
        free(npm);
        free(pkg);
        return -1;
    }
    fprintf(stderr, "newsroom: installing %s into %s with npm\n", spec, dir);
    {
        const char *argv[] = {npm,         "install",   "--prefix",         dir,  "--no-audit",
                              "--no-fund", "--no-save", "--loglevel=error", spec, NULL};

        rc = proc_run(argv, NULL, clock_mono_ms() + NPM_TIMEOUT_MS, &r, cause);
    }
    free(npm);
    if (rc == 0 && stat(pkg, &st) != 0) {
        *cause = xasprintf("npm install %s left no %s", spec, pkg);
        rc = -1;
    } else if (rc == -1 && r.err != NULL && r.err[0] != '\0') {
        fprintf(stderr, "%s", r.err);
    }
    proc_result_clear(&r);
    free(pkg);
    return rc;
}

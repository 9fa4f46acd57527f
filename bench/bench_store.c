/*
 * bench_store.c - `newsroom bench store [--mb N] [--repeat R] [--no-peer] [--json]`: the package
 * store's throughput against an S3-compatible server on this machine (s3rver, the npm package,
 * installed into build/peers/s3rver when missing; bench/peers/s3_serve.mjs starts it): an 8 MB
 * file (one PUT) and one of N MB (default 64: multipart, 8 MB parts above 16 MB, each part's
 * SHA-256 computed and signed) uploaded with pstore_put_file(), the big one read back with
 * pstore_get_file(); in the same run the curl program moves the same files with one signed
 * PUT each and one GET. Each
 * figure is the median of R runs (default 3), alternating ours and the peer's. The server
 * writes to disk, so both sides measure the same server; the ratio is what matters.
 *
 * Without node, npm or the network it says why and exits 1. Main thread only.
 */
#include "bench.h"

#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"
#include "media/proc.h"
#include "media/store.h"

#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef NEWSROOM_SOURCE_DIR
#define NEWSROOM_SOURCE_DIR "."
#endif

#define REPEAT_MAX 15
#define SMALL_MB   8 /* under the multipart threshold: one PUT, as a rendered minute is */
#define KEY_ID     "BENCHKEY"
#define SECRET     "bench-secret"
#define BUCKET     "bench"

struct server {
    pid_t pid;
    int port;
};

/* Starts node s3_serve.mjs and reads its port. */
static int server_start(struct server *sv, const char *peer, const char *data, char **cause)
{
    char *node = paths_which("node");
    char *script = xasprintf("%s/bench/peers/s3_serve.mjs", NEWSROOM_SOURCE_DIR);
    char line[64];
    int out[2];
    FILE *f;

    if (node == NULL) {
        *cause = xasprintf("node is not installed (Debian: apt-get install nodejs)");
        free(script);
        return -1;
    }
    if (pipe(out) == -1)
        fail("pipe failed");
    sv->pid = fork();
    if (sv->pid == 0) {
        int devnull = open("/dev/null", O_RDWR);

        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(devnull, 0);
        dup2(out[1], 1);
        close(out[0]);
        execl(node, node, script, peer, data, BUCKET, KEY_ID, SECRET, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    free(node);
    f = fdopen(out[0], "r");
    if (f == NULL || fgets(line, sizeof line, f) == NULL || strncmp(line, "ready ", 6) != 0) {
        *cause = xasprintf("the S3 server did not start (node %s)", script);
        if (f != NULL)
            fclose(f);
        free(script);
        return -1;
    }
    fclose(f);
    free(script);
    sv->port = atoi(line + 6);
    return 0;
}

static void server_stop(struct server *sv)
{
    if (sv->pid > 0) {
        kill(sv->pid, SIGTERM);
        waitpid(sv->pid, NULL, 0);
    }
}

/* A store on the server: the whole [store] section set here. */
static struct config *store_config(int port)
{
    struct config *c = config_new();
    struct {
        char **field;
        char *value;
    } set[] = {
        {&c->store_kind, xstrdup("s3")},
        {&c->store_bucket, xstrdup(BUCKET)},
        {&c->store_endpoint, xasprintf("http://127.0.0.1:%d", port)},
        {&c->store_access_key_id, xstrdup(KEY_ID)},
        {&c->store_secret_access_key, xstrdup(SECRET)},
    };

    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
        free(*set[i].field);
        *set[i].field = set[i].value;
    }
    return c;
}

/* Writes mb MB of pseudo-random bytes (a video does not compress) to path. */
static void make_file(const char *path, long mb)
{
    FILE *fp = fopen(path, "wb");
    char *chunk = xmalloc(1 << 20);
    unsigned seed = 7;

    if (fp == NULL)
        fail("cannot write %s", path);
    for (long i = 0; i < mb; i++) {
        for (int k = 0; k < 1 << 20; k++) {
            seed = seed * 1103515245u + 12345u;
            chunk[k] = (char)(seed >> 16);
        }
        fwrite(chunk, 1, 1 << 20, fp);
    }
    free(chunk);
    fclose(fp);
}

/* Runs curl; returns the seconds it took, or -1 after printing why. */
static double curl_run(const char *const *argv)
{
    struct proc_result r;
    char *cause = NULL;
    int64_t t0 = clock_mono_us();
    int rc = proc_run(argv, NULL, clock_mono_ms() + 600000, &r, &cause);
    double s = (double)(clock_mono_us() - t0) / 1e6;

    proc_result_clear(&r);
    if (rc == -1) {
        cli_error("bench store: the peer failed: %s", cause);
        free(cause);
        return -1;
    }
    return s;
}

int bench_store(int argc, char **argv)
{
    static const struct option opts[] = {
        {"mb", required_argument, NULL, 'm'}, {"repeat", required_argument, NULL, 'r'},
        {"no-peer", no_argument, NULL, 'n'},  {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},     {NULL, 0, NULL, 0},
    };
    long mb = 64, repeat = 3;
    bool json = false, peer = true;
    double up[REPEAT_MAX], down[REPEAT_MAX], pup[REPEAT_MAX], pdown[REPEAT_MAX];
    double one[REPEAT_MAX], pone[REPEAT_MAX];
    struct bench_figure f[3];
    struct server sv = {0};
    struct pstore *s = NULL;
    struct config *cfg = NULL;
    char *dir = NULL, *peer_dir = NULL, *cause = NULL, *file = NULL, *back = NULL, *curl = NULL;
    char *small = NULL;
    json_t *where = NULL;
    int c, n = 0, code = EXIT_REFUSED;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (bench_parse_long("store", "--mb", optarg, 1, 4096, &mb) == -1)
                return EXIT_USAGE;
            break;
        case 'r':
            if (bench_parse_long("store", "--repeat", optarg, 1, REPEAT_MAX, &repeat) == -1)
                return EXIT_USAGE;
            break;
        case 'n':
            peer = false;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            printf("usage: newsroom bench store [--mb N] [--repeat R] [--no-peer] [--json]\n");
            return EXIT_DONE;
        default:
            cli_error("bench store: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (peer && (curl = paths_which("curl")) == NULL) {
        cli_error("bench store: the curl program is not installed (apt-get install curl); "
                  "--no-peer runs without it");
        return EXIT_REFUSED;
    }
    {
        char tmpl[] = "/tmp/nr-bench-store-XXXXXX";

        if (mkdtemp(tmpl) == NULL)
            fail("cannot make a temporary folder");
        dir = xstrdup(tmpl);
    }
    peer_dir = bench_peer_dir("s3rver");
    if (bench_peer_install(peer_dir, "s3rver", "s3rver@3", &cause) == -1)
        goto out;
    {
        char *pkg = xasprintf("%s/node_modules/s3rver", peer_dir), *data = xasprintf("%s/s3", dir);
        int rc;

        mkdir(data, 0700);
        rc = server_start(&sv, pkg, data, &cause);
        free(pkg);
        free(data);
        if (rc == -1)
            goto out;
    }
    cfg = store_config(sv.port);
    if ((s = pstore_open(cfg, &cause)) == NULL)
        goto out;
    file = xasprintf("%s/video.mp4", dir);
    small = xasprintf("%s/small.mp4", dir);
    back = xasprintf("%s/back.mp4", dir);
    make_file(file, mb);
    make_file(small, SMALL_MB);
    fprintf(stderr, "newsroom: bench store: %ld MB and %d MB to s3rver on 127.0.0.1:%d, %ld runs\n",
            mb, SMALL_MB, sv.port, repeat);
    for (long r = 0; r < repeat && !cli_stop; r++) {
        char id[32], url[200], auth[64], sig[64];
        int64_t t0;

        snprintf(id, sizeof id, "bench-%ld", r);
        t0 = clock_mono_us();
        if (pstore_put_file(s, PSTORE_PACKAGES, id, "small.mp4", small, &cause) == -1)
            goto out;
        one[r] = (double)SMALL_MB / ((double)(clock_mono_us() - t0) / 1e6);
        t0 = clock_mono_us();
        if (pstore_put_file(s, PSTORE_PACKAGES, id, "video.mp4", file, &cause) == -1)
            goto out;
        up[r] = (double)mb / ((double)(clock_mono_us() - t0) / 1e6);
        {
            char *key = xasprintf("newsroom/packages/%s/video.mp4", id);

            where = json_pack("{s:s, s:s, s:[s], s:{s:s}}", "kind", "s3", "bucket", BUCKET, "files",
                              "video.mp4", "keys", "video.mp4", key);
            free(key);
        }
        t0 = clock_mono_us();
        if (pstore_get_file(s, where, "video.mp4", back, &cause) != 0) {
            if (cause == NULL)
                cause = xstrdup("the uploaded object is not there");
            goto out;
        }
        down[r] = (double)mb / ((double)(clock_mono_us() - t0) / 1e6);
        json_decref(where);
        where = NULL;
        if (!peer)
            continue;
        snprintf(url, sizeof url, "http://127.0.0.1:%d/%s/peer/%s", sv.port, BUCKET, id);
        snprintf(auth, sizeof auth, "%s:%s", KEY_ID, SECRET);
        snprintf(sig, sizeof sig, "aws:amz:us-east-1:s3");
        {
            const char *put_small[] = {
                curl, "-sSf",   "-T", small, "--aws-sigv4",
                sig,  "--user", auth, "-H",  "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                url,  NULL};
            const char *put[] = {
                curl, "-sSf",   "-T", file, "--aws-sigv4",
                sig,  "--user", auth, "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                url,  NULL};
            const char *get[] = {
                curl, "-sSf",   "-o", back, "--aws-sigv4",
                sig,  "--user", auth, "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                url,  NULL};
            double a = curl_run(put_small), b = a < 0 ? -1 : curl_run(put),
                   g = b < 0 ? -1 : curl_run(get);

            if (a < 0 || b < 0 || g < 0) {
                peer = false;
                continue;
            }
            pone[r] = (double)SMALL_MB / a;
            pup[r] = (double)mb / b;
            pdown[r] = (double)mb / g;
        }
    }
    {
        struct {
            const char *what, *how, *peer;
            double *ours, *theirs;
            long size;
        } rows[] = {
            {"upload", " (one PUT)", "curl -T, one signed PUT", one, pone, SMALL_MB},
            {"upload", " (multipart)", "curl -T, one signed PUT", up, pup, mb},
            {"download", "", "curl, one signed GET", down, pdown, mb},
        };

        memset(f, 0, sizeof f);
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++, n++) {
            snprintf(f[n].name, sizeof f[n].name, "s3 %s, %ld MB%s", rows[i].what, rows[i].size,
                     rows[i].how);
            f[n].value = bench_median(rows[i].ours, (int)repeat);
            f[n].unit = "MB/s";
            if (peer) {
                f[n].peer = rows[i].peer;
                f[n].peer_value = bench_median(rows[i].theirs, (int)repeat);
                f[n].ratio = f[n].value / f[n].peer_value;
            }
        }
    }
    bench_report("store", f, n, json);
    code = EXIT_DONE;
out:
    if (code != EXIT_DONE && cause != NULL)
        cli_error("bench store: %s", cause);
    free(cause);
    json_decref(where);
    pstore_free(s);
    config_free(cfg);
    server_stop(&sv);
    if (dir != NULL)
        paths_rmrf(dir);
    free(dir);
    free(peer_dir);
    free(file);
    free(small);
    free(back);
    free(curl);
    return code;
}

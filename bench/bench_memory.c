/*
 * bench_memory.c - `newsroom bench memory [--n N] [--queries Q] [--no-chroma] [--json]`: the
 * vector memory at the scale of a busy newsroom (N = 10,000 stories by default).
 *
 *   embeddings   hash embeddings of the wire's stories (title and text, 512 dimensions) per
 *                second, against the limit a cache would have: Redis PING round trips per
 *                second on the same server (above 1, computing beats fetching one).
 *   local        upserts per second one a call (the scout's way), against PING round trips
 *                per second (each upsert is one round trip: the ceiling), and 100 a call;
 *                query latency p50 and p99 (k 3 with the deduplication's time window filter, on
 *                a handle kept up to date: one round trip each), against reading the whole
 *                collection for every query (the first query of a fresh handle, which loads
 *                it in pages of 1,024); the ratio is how many times faster.
 *   chroma       the same on a Chroma server: upserts 100 a call and one a call (the first
 *                500), query p50 and p99, each against the local backend's figure.
 *
 * Redis is a private redis-server (the embedded module in a temporary folder); Chroma is the
 * configured one (CHROMA_HOST, a collection of this run's own, dropped afterwards), else a
 * private `chroma run` from $NEWSROOM_PEERS_DIR/chroma (default: build/peers/chroma in the
 * source tree; installed with npm from bench/peers/chroma/package.json the first time), else
 * left out with the reason (--no-chroma leaves it out). Main thread only.
 */
#include "bench.h"

#include "agents/wire.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"
#include "media/proc.h"
#include "memory/embed.h"
#include "memory/vmem.h"
#include "store/rlink.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIM       512
#define BATCH     100
#define SINGLES   500
#define FULL_READ 5
#define WINDOW_MS (48LL * 3600 * 1000)

struct corpus {
    long n;
    char **ids;
    float *vecs;
    json_t **metas;
    int64_t *times;
};

static double per_s(long n, int64_t us)
{
    return us > 0 ? (double)n * 1e6 / (double)us : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
    int i = (int)(p * (n - 1) + 0.5);

    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[i < n ? i : n - 1];
}

/* The wire's first n stories, embedded; fills the embedding rate. */
static void make_corpus(struct corpus *c, long n, double *emb_per_s)
{
    char **texts = xcalloc((size_t)n, sizeof *texts);
    int64_t t0;

    c->n = n;
    c->ids = xcalloc((size_t)n, sizeof *c->ids);
    c->vecs = xcalloc((size_t)n * DIM, sizeof *c->vecs);
    c->metas = xcalloc((size_t)n, sizeof *c->metas);
    c->times = xcalloc((size_t)n, sizeof *c->times);
    for (long i = 0; i < n; i++) {
        json_t *s = wire_story(1, i, NULL, NULL);
        const char *title = json_string_value(json_object_get(s, "title"));
        char *figures;

        texts[i] = xasprintf("%s\n%s", title, json_string_value(json_object_get(s, "content")));
        figures = embed_figures(texts[i]);
        c->ids[i] = xstrdup(json_string_value(json_object_get(s, "id")));
        c->times[i] = 1795845600000LL + i * 90000LL;
        c->metas[i] = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:i}", "story", c->ids[i], "source",
                                json_string_value(json_object_get(s, "source")), "title", title,
                                "time", (json_int_t)c->times[i], "status", "PENDING", "figures",
                                figures, "words", 80);
        free(figures);
        json_decref(s);
    }
    t0 = clock_mono_us();
    for (long i = 0; i < n; i++)
        embed_hash(texts[i], DIM, c->vecs + i * DIM);
    *emb_per_s = per_s(n, clock_mono_us() - t0);
    for (long i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
}

static void corpus_free(struct corpus *c)
{
    for (long i = 0; i < c->n; i++) {
        free(c->ids[i]);
        json_decref(c->metas[i]);
    }
    free(c->ids);
    free(c->vecs);
    free(c->metas);
    free(c->times);
}

static struct vmem_record rec(const struct corpus *c, long i)
{
    return (struct vmem_record){c->ids[i], c->vecs + i * DIM, NULL, c->metas[i]};
}

/* Upserts records [from, to) of c into coll, per at a time; records/s, or -1 after printing
 * why. */
static double upserts(struct vmem_coll *coll, const struct corpus *c, long from, long to, int per)
{
    struct vmem_record *r = xcalloc((size_t)per, sizeof *r);
    int64_t t0 = clock_mono_us();
    char *cause = NULL;

    for (long i = from; i < to; i += per) {
        int k = 0;

        for (; k < per && i + k < to; k++)
            r[k] = rec(c, i + k);
        if (vmem_upsert(coll, r, (size_t)k, &cause) == -1) {
            cli_error("bench memory: upsert into %s: %s", vmem_coll_name(coll), cause);
            free(cause);
            free(r);
            return -1;
        }
    }
    free(r);
    return per_s(to - from, clock_mono_us() - t0);
}

/* q queries (k 3, time window) on coll: latencies in ms into lat. 0, or -1. */
static int queries(struct vmem_coll *coll, const struct corpus *c, int q, double *lat)
{
    char *cause = NULL;

    for (int i = 0; i < q; i++) {
        long s = (long)((unsigned long)i * 7919UL % (unsigned long)c->n);
        json_t *where = json_pack("{s:[{s:{s:I}}, {s:{s:I}}]}", "$and", "time", "$gte",
                                  (json_int_t)(c->times[s] - WINDOW_MS), "time", "$lte",
                                  (json_int_t)(c->times[s] + WINDOW_MS));
        struct vmem_result r;
        int64_t t0 = clock_mono_us();
        int rc = vmem_query(coll, c->vecs + s * DIM, 3, where, VMEM_METADATAS | VMEM_DISTANCES, &r,
                            &cause);

        lat[i] = (double)(clock_mono_us() - t0) / 1000.0;
        json_decref(where);
        /* The story itself (or the wire's exact repeat of it) must come first. */
        if (rc == -1 || r.n == 0 || r.hits[0].distance > 1e-3) {
            cli_error("bench memory: query %d on %s: %s", i, vmem_coll_name(coll),
                      rc == -1 ? cause : "the story itself did not come first");
            free(cause);
            vmem_result_clear(&r);
            return -1;
        }
        vmem_result_clear(&r);
    }
    return 0;
}

static void fig(struct bench_figure *f, const char *name, double value, const char *unit,
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

/* A whole small file, or NULL. Free it. */
static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, got;

    if (f == NULL)
        return NULL;
    do {
        if (len + 4096 + 1 > cap) {
            cap = (len + 4096 + 1) * 2;
            buf = xrealloc(buf, cap);
        }
        got = fread(buf + len, 1, 4096, f);
        len += got;
    } while (got > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* Makes sure `chroma` is installed in dir (npm, from bench/peers/chroma/package.json). */
static int chroma_install(const char *dir, char **cause)
{
    char *bin = xasprintf("%s/node_modules/.bin/chroma", dir), *npm = NULL, *spec, *text;
    char *pkg = xasprintf("%s/package.json", dir);
    struct stat st;
    int rc = -1;

    if (stat(bin, &st) == 0) {
        rc = 0;
        goto done;
    }
    if ((npm = paths_which("npm")) == NULL) {
        *cause = xasprintf("npm is not installed (Debian: apt-get install nodejs npm)");
        goto done;
    }
    spec = xasprintf("%s/bench/peers/chroma/package.json", NEWSROOM_SOURCE_DIR);
    text = read_all(spec);
    free(spec);
    if (text == NULL || paths_mkdir_p(dir, 0755, cause) == -1) {
        if (text == NULL)
            *cause = xasprintf("bench/peers/chroma/package.json is missing from the source tree");
        free(text);
        goto done;
    }
    {
        FILE *f = fopen(pkg, "w");
        const char *argv[] = {npm, "install", "--no-audit", "--no-fund", "--loglevel=error", NULL};

        if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
            *cause = xasprintf("cannot write %s", pkg);
            free(text);
            goto done;
        }
        free(text);
        fprintf(stderr, "newsroom: installing Chroma's server (npm chromadb) into %s\n", dir);
        rc = proc_run(argv, dir, clock_mono_ms() + 300000, NULL, cause);
    }
done:
    free(npm);
    free(pkg);
    free(bin);
    return rc;
}

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* A private Chroma on a free port with its data under tmp; *pid set. A vmem on it, or NULL
 * with *cause. */
static struct vmem *chroma_private(const char *tmp, pid_t *pid, char **cause)
{
    char *dir = bench_peer_dir("chroma"), *bin = xasprintf("%s/node_modules/.bin/chroma", dir);
    char *data = xasprintf("%s/chroma", tmp), *log = xasprintf("%s/chroma.log", tmp), ps[16];
    int port = free_port();
    struct vmem_config cfg = {
        .kind = VMEM_CHROMA, .host = "127.0.0.1", .port = port, .timeout_ms = 60000};
    struct vmem *v = NULL;
    int64_t end = clock_mono_ms() + 60000;

    *pid = -1;
    if (port == 0 || chroma_install(dir, cause) == -1)
        goto done;
    snprintf(ps, sizeof ps, "%d", port);
    *pid = fork();
    if (*pid == 0) {
        if (freopen(log, "w", stdout) != NULL)
            dup2(1, 2);
        setpgid(0, 0);
        execl(bin, bin, "run", "--path", data, "--host", "127.0.0.1", "--port", ps, (char *)NULL);
        _exit(127);
    }
    v = vmem_open(&cfg, NULL, cause);
    while (v != NULL && vmem_heartbeat(v, NULL, cause) != 0) {
        free(*cause);
        *cause = NULL;
        if (clock_mono_ms() > end || waitpid(*pid, NULL, WNOHANG) == *pid) {
            *cause = xasprintf("the private Chroma did not answer on port %d (see %s)", port, log);
            vmem_free(v);
            v = NULL;
            break;
        }
        clock_sleep_ms(100, NULL);
    }
done:
    free(dir);
    free(bin);
    free(data);
    free(log);
    return v;
}

static void chroma_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(-pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

int bench_memory(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},          {"n", required_argument, NULL, 'n'},
        {"queries", required_argument, NULL, 'q'}, {"no-chroma", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    struct bench_env e;
    struct bench_figure figs[12];
    struct corpus corpus = {0};
    struct vmem *local = NULL, *fresh = NULL, *chroma = NULL;
    struct vmem_coll *lc, *lc2, *cc;
    char *cause = NULL, name[64];
    long n = 10000, nq = 1000;
    bool json = false, no_chroma = false;
    double emb, pings, up1, up100, *lat, lp50, lp99, full[FULL_READ], fullp50;
    int nfig = 0, c, code = EXIT_DONE;
    pid_t pid = -1;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'n':
            if (bench_parse_long("memory", "--n", optarg, 1000, 1000000, &n) == -1)
                return EXIT_USAGE;
            break;
        case 'q':
            if (bench_parse_long("memory", "--queries", optarg, 10, 100000, &nq) == -1)
                return EXIT_USAGE;
            break;
        case 'c':
            no_chroma = true;
            break;
        case 'h':
            printf("usage: newsroom bench memory [--json] [--n STORIES] [--queries Q] "
                   "[--no-chroma]\n");
            return EXIT_DONE;
        default:
            cli_error("bench memory: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (bench_env_start(&e, "memory", &cause) == -1) {
        cli_error("bench memory: %s", cause);
        free(cause);
        return EXIT_USAGE;
    }
    lat = xcalloc((size_t)nq, sizeof *lat);
    make_corpus(&corpus, n, &emb);
    pings = bench_ping_rate(e.link, 5000);
    fig(&figs[nfig++], "hash embeddings (512 dimensions)", emb, "embeddings/s",
        "Redis PING round trips", pings, false);

    /* local */
    local = vmem_open(&(struct vmem_config){.kind = VMEM_LOCAL}, e.link, &cause);
    lc = vmem_collection(local, "bench_news", DIM, &cause);
    lc2 = lc != NULL ? vmem_collection(local, "bench_news_batched", DIM, &cause) : NULL;
    if (lc2 == NULL || (up1 = upserts(lc, &corpus, 0, n, 1)) < 0 ||
        (up100 = upserts(lc2, &corpus, 0, n, BATCH)) < 0) {
        if (cause != NULL)
            cli_error("bench memory: %s", cause);
        code = EXIT_REFUSED;
        goto done;
    }
    fig(&figs[nfig++], "local upserts, 1 a call", up1, "upserts/s", "Redis PING round trips", pings,
        false);
    fig(&figs[nfig++], "local upserts, 100 a call", up100, "upserts/s", NULL, 0, false);
    /* The first query of a fresh handle reads the whole collection: the naive way, every time. */
    for (int i = 0; i < FULL_READ; i++) {
        struct vmem_coll *fc;

        fresh = vmem_open(&(struct vmem_config){.kind = VMEM_LOCAL}, e.link, &cause);
        fc = vmem_collection(fresh, "bench_news", DIM, &cause);
        if (fc == NULL || queries(fc, &corpus, 1, &full[i]) == -1) {
            code = EXIT_REFUSED;
            goto done;
        }
        vmem_free(fresh);
        fresh = NULL;
    }
    fullp50 = bench_median(full, FULL_READ);
    if (queries(lc, &corpus, (int)nq, lat) == -1) {
        code = EXIT_REFUSED;
        goto done;
    }
    lp50 = pct(lat, (int)nq, 0.5);
    lp99 = pct(lat, (int)nq, 0.99);
    snprintf(name, sizeof name, "local query p50 at %ld", n);
    fig(&figs[nfig++], name, lp50, "ms", "reading every vector per query", fullp50, true);
    snprintf(name, sizeof name, "local query p99 at %ld", n);
    fig(&figs[nfig++], name, lp99, "ms", "reading every vector per query", fullp50, true);
    fig(&figs[nfig++], "local cold load (first query)", fullp50, "ms", NULL, 0, true);

    /* chroma */
    if (no_chroma) {
        fprintf(stderr, "bench memory: Chroma left out (--no-chroma)\n");
    } else {
        if (e.cfg->chroma_host[0] != '\0' ||
            (getenv("CHROMA_HOST") != NULL && getenv("CHROMA_HOST")[0] != '\0')) {
            const char *host =
                getenv("CHROMA_HOST") != NULL ? getenv("CHROMA_HOST") : e.cfg->chroma_host;
            const char *port = getenv("CHROMA_PORT");

            chroma = vmem_open(&(struct vmem_config){.kind = VMEM_CHROMA,
                                                     .host = host,
                                                     .port = port != NULL ? atoi(port) : 8000,
                                                     .token = getenv("CHROMA_AUTH_TOKEN"),
                                                     .timeout_ms = 60000},
                               NULL, &cause);
        } else {
            chroma = chroma_private(e.dir, &pid, &cause);
        }
        if (chroma == NULL) {
            fprintf(stderr, "bench memory: Chroma left out: %s\n", cause);
            free(cause);
            cause = NULL;
        }
    }
    if (chroma != NULL) {
        double cup1, cup100, cp50, cp99;

        snprintf(name, sizeof name, "bench-%d-news", (int)getpid());
        cc = vmem_collection(chroma, name, DIM, &cause);
        if (cc == NULL || (cup100 = upserts(cc, &corpus, 0, n, BATCH)) < 0 ||
            (cup1 = upserts(cc, &corpus, 0, n < SINGLES ? n : SINGLES, 1)) < 0 ||
            queries(cc, &corpus, (int)nq, lat) == -1) {
            if (cause != NULL)
                cli_error("bench memory: chroma: %s", cause);
            code = EXIT_REFUSED;
            vmem_drop(chroma, name, &cause);
            goto done;
        }
        cp50 = pct(lat, (int)nq, 0.5);
        cp99 = pct(lat, (int)nq, 0.99);
        fig(&figs[nfig++], "chroma upserts, 1 a call", cup1, "upserts/s", "local, 1 a call", up1,
            false);
        fig(&figs[nfig++], "chroma upserts, 100 a call", cup100, "upserts/s", "local, 100 a call",
            up100, false);
        {
            char nm[64];

            snprintf(nm, sizeof nm, "chroma query p50 at %ld", n);
            fig(&figs[nfig++], nm, cp50, "ms", "local query p50", lp50, true);
            snprintf(nm, sizeof nm, "chroma query p99 at %ld", n);
            fig(&figs[nfig++], nm, cp99, "ms", "local query p99", lp99, true);
        }
        snprintf(name, sizeof name, "bench-%d-news", (int)getpid());
        if (vmem_drop(chroma, name, &cause) == -1) {
            free(cause);
            cause = NULL;
        }
    }
    bench_report("memory", figs, nfig, json);
done:
    free(cause);
    vmem_free(fresh);
    vmem_free(local);
    vmem_free(chroma);
    chroma_stop(pid);
    corpus_free(&corpus);
    free(lat);
    bench_env_stop(&e);
    return code;
}

/*
 * chaos.c - the chaos harness; see chaos.h. The processes are children of the calling thread
 * (PR_SET_PDEATHSIG ties them to it); the figures are computed from Redis with jansson maps.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* nftw */
#endif
#include "chaos.h"

#include "core/clock.h"
#include "core/fail.h"
#include "store/blackboard.h"
#include "store/rlink.h"
#include "testenv.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHAOS_ARGS 24

struct slot {
    const char *args[CHAOS_ARGS + 1]; /* copies: owned */
    int nargs;
    long fsize;
    pid_t pid;
    int runs;
};

struct kill_record {
    pid_t pid;
    int64_t t_ms; /* wall clock (the server's clock on this machine) */
};

struct chaos {
    char dir[64];
    char conf[128];
    char publish[128];
    char url[200];
    const char *binary;
    struct test_redis redis;
    const char *redis_extra[8];
    struct redis_addr addr;
    struct rlink *link;
    struct slot slots[CHAOS_SLOTS];
    struct kill_record *kills;
    size_t nkills;
};

/* A whole file (a new string), or NULL. testenv.c has the same for the tests, but it needs
 * cmocka, which the benchmark's binary does not link. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, got;
    char chunk[4096];

    if (f == NULL)
        return NULL;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf = xrealloc(buf, len + got + 1);
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(f);
    if (buf == NULL)
        buf = xstrdup("");
    else
        buf[len] = '\0';
    return buf;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return;
    fputs(text, f);
    fclose(f);
}

struct chaos *chaos_new(const char *binary, const char *conf, char **cause)
{
    struct chaos *c = xcalloc(1, sizeof *c);
    const char *tmp = getenv("TMPDIR");
    struct rlink_options o = {.connect_timeout_ms = 2000,
                              .command_timeout_ms = 30000,
                              .reconnect_base_ms = 20,
                              .reconnect_max_ms = 500,
                              .quiet = true};
    static const char *const extra[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};

    snprintf(c->dir, sizeof c->dir, "%s/nr-chaos-XXXXXX",
             tmp != NULL && strlen(tmp) < 30 ? tmp : "/tmp");
    if (mkdtemp(c->dir) == NULL) {
        *cause = xasprintf("cannot make a folder under %s: %s", c->dir, strerror(errno));
        free(c);
        return NULL;
    }
    c->binary = binary;
    snprintf(c->conf, sizeof c->conf, "%s/newsroom.conf", c->dir);
    snprintf(c->publish, sizeof c->publish, "%s/publish", c->dir);
    write_text(c->conf, conf != NULL ? conf : "");
    memcpy(c->redis_extra, extra, sizeof extra);
    if (test_redis_start(&c->redis, c->dir, c->redis_extra) == -1) {
        *cause = xasprintf("the private redis-server did not start (see %s)", c->dir);
        free(c);
        return NULL;
    }
    snprintf(c->url, sizeof c->url, "unix://%s", c->redis.sock);
    c->addr.transport = REDIS_UNIX;
    snprintf(c->addr.path, sizeof c->addr.path, "%s", c->redis.sock);
    c->link = rlink_new(&c->addr, &o);
    return c;
}

const char *chaos_dir(const struct chaos *c)
{
    return c->dir;
}

const char *chaos_publish_dir(const struct chaos *c)
{
    return c->publish;
}

void chaos_data_dir(const struct chaos *c, int slot, char *buf, size_t size)
{
    snprintf(buf, size, "%s/data-%d", c->dir, slot);
}

struct rlink *chaos_link(struct chaos *c)
{
    return c->link;
}

pid_t chaos_pid(const struct chaos *c, int slot)
{
    return c->slots[slot].pid;
}

/* Forks `binary args` with the swarm's environment, output to NAME.out / NAME.err. */
static pid_t spawn(struct chaos *c, const char *name, const char *data, const char *const *args,
                   long fsize)
{
    char out[200], err[200];
    const char *argv[CHAOS_ARGS + 2];
    int n = 0;
    pid_t pid;

    argv[n++] = c->binary;
    for (int i = 0; args[i] != NULL && n < CHAOS_ARGS + 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    snprintf(out, sizeof out, "%s/%s.out", c->dir, name);
    snprintf(err, sizeof err, "%s/%s.err", c->dir, name);
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (freopen(out, "w", stdout) == NULL || freopen(err, "w", stderr) == NULL)
            _exit(127);
        unsetenv("REDIS_HOST");
        unsetenv("REDIS_PORT");
        unsetenv("REDIS_PASSWORD");
        unsetenv("REDIS_DB");
        setenv("REDIS_URL", c->url, 1);
        setenv("NEWSROOM_DATA_DIR", data, 1);
        setenv("NEWSROOM_PUBLISH_DIR", c->publish, 1);
        setenv("NEWSROOM_CONFIG", c->conf, 1);
        setenv("NEWSROOM_LOG_LEVEL", "info", 1);
        if (fsize > 0) {
            struct rlimit rl = {.rlim_cur = (rlim_t)fsize, .rlim_max = (rlim_t)fsize};

            signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails with EFBIG instead */
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

int chaos_run(struct chaos *c, const char *name, int secs, const char *const *args, char **cause)
{
    char data[128];
    int64_t end = clock_mono_ms() + secs * 1000LL;
    int st;
    pid_t pid;

    snprintf(data, sizeof data, "%s/data-run", c->dir);
    pid = spawn(c, name, data, args, 0);
    if (pid < 0) {
        *cause = xasprintf("fork: %s", strerror(errno));
        return -1;
    }
    while (waitpid(pid, &st, WNOHANG) != pid) {
        if (clock_mono_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            *cause = xasprintf("%s did not end within %d s", name, secs);
            return -1;
        }
        clock_sleep_ms(20, NULL);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

long chaos_ingest(struct chaos *c, long n, uint64_t seed, char **cause)
{
    char ns[32], ss[32], path[200], *text;
    json_t *j;
    long accepted;
    int rc;

    snprintf(ns, sizeof ns, "%ld", n);
    snprintf(ss, sizeof ss, "%llu", (unsigned long long)seed);
    if ((rc = chaos_run(c, "wire", 60, (const char *[]){"wire", "--n", ns, "--seed", ss, NULL},
                        cause)) != 0) {
        if (rc > 0)
            *cause = xasprintf("newsroom wire exited %d", rc);
        return -1;
    }
    snprintf(path, sizeof path, "%s/wire.out", c->dir);
    rc =
        chaos_run(c, "ingest", 120, (const char *[]){"ctl", "ingest", "--json", path, NULL}, cause);
    if (rc != 0) {
        if (rc > 0)
            *cause = xasprintf("newsroom ctl ingest exited %d (see %s/ingest.err)", rc, c->dir);
        return -1;
    }
    snprintf(path, sizeof path, "%s/ingest.out", c->dir);
    text = slurp(path);
    j = text != NULL ? json_loads(text, 0, NULL) : NULL;
    free(text);
    accepted = json_is_integer(json_object_get(j, "accepted"))
                   ? (long)json_integer_value(json_object_get(j, "accepted"))
                   : -1;
    json_decref(j);
    if (accepted < 0)
        *cause = xasprintf("ctl ingest --json said no \"accepted\" count");
    return accepted;
}

long chaos_begin(struct chaos *c, long n, uint64_t seed, int swarms, const char *const *args,
                 char **cause)
{
    long in = chaos_ingest(c, n, seed, cause);

    for (int i = 0; in >= 0 && i < swarms; i++)
        if (chaos_start(c, i, args, 0, cause) == -1)
            return -1;
    return in;
}

int chaos_each_story(struct chaos *c, void (*fn)(const struct bb_item *it, void *arg), void *arg,
                     char **cause)
{
    struct bb *b = bb_new(c->link, "chaos");
    int rc = 0;

    for (int sec = 0; sec < BB_SECTION_COUNT && rc == 0; sec++) {
        char cursor[BB_CURSOR_MAX + 1] = "";

        do {
            struct bb_item **page;
            size_t got;

            if (bb_query(b, sec, -1, cursor, 500, &page, &got, cursor, cause) != BB_OK) {
                rc = -1;
                break;
            }
            for (size_t k = 0; k < got; k++) {
                fn(page[k], arg);
                bb_item_free(page[k]);
            }
            free(page);
        } while (cursor[0] != '\0');
    }
    bb_free(b);
    return rc;
}

int chaos_start(struct chaos *c, int slot, const char *const *args, long rlimit_fsize, char **cause)
{
    struct slot *s = &c->slots[slot];

    for (int i = 0; i < s->nargs; i++)
        free((char *)s->args[i]);
    s->nargs = 0;
    for (int i = 0; args[i] != NULL && i < CHAOS_ARGS; i++)
        s->args[s->nargs++] = xstrdup(args[i]);
    s->args[s->nargs] = NULL;
    s->fsize = rlimit_fsize;
    s->runs = 0;
    return chaos_restart(c, slot, cause);
}

int chaos_restart(struct chaos *c, int slot, char **cause)
{
    struct slot *s = &c->slots[slot];
    char data[128], name[32];

    chaos_data_dir(c, slot, data, sizeof data);
    snprintf(name, sizeof name, "swarm-%d-%d", slot, ++s->runs);
    s->pid = spawn(c, name, data, s->args, s->fsize);
    if (s->pid < 0) {
        *cause = xasprintf("fork: %s", strerror(errno));
        s->pid = 0;
        return -1;
    }
    return 0;
}

int chaos_signal(struct chaos *c, int slot, int sig)
{
    struct slot *s = &c->slots[slot];

    if (s->pid <= 0)
        return -1;
    if (sig == SIGKILL) {
        c->kills = xrealloc(c->kills, (c->nkills + 1) * sizeof *c->kills);
        c->kills[c->nkills++] = (struct kill_record){s->pid, clock_wall_ms()};
    }
    if (kill(s->pid, sig) == -1)
        return -1;
    if (sig == SIGKILL) {
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    return 0;
}

bool chaos_running(struct chaos *c, int slot, int *code)
{
    struct slot *s = &c->slots[slot];
    int st;

    if (s->pid <= 0)
        return false;
    if (waitpid(s->pid, &st, WNOHANG) != s->pid)
        return true;
    if (code != NULL)
        *code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    s->pid = 0;
    return false;
}

int chaos_wait_all(struct chaos *c, int secs, char **cause)
{
    int64_t end = clock_mono_ms() + secs * 1000LL;
    int rc = 0;

    for (int i = 0; i < CHAOS_SLOTS; i++) {
        int code = 0;

        while (chaos_running(c, i, &code)) {
            if (clock_mono_ms() > end) {
                *cause = xasprintf("swarm %d (pid %ld) did not end within %d s", i,
                                   (long)c->slots[i].pid, secs);
                for (int k = 0; k < CHAOS_SLOTS; k++)
                    if (c->slots[k].pid > 0) {
                        kill(c->slots[k].pid, SIGKILL);
                        waitpid(c->slots[k].pid, NULL, 0);
                        c->slots[k].pid = 0;
                    }
                return -1;
            }
            clock_sleep_ms(50, NULL);
        }
        if (code != 0 && rc == 0) {
            *cause = xasprintf("swarm %d exited %d (see %s/swarm-%d-%d.err)", i, code, c->dir, i,
                               c->slots[i].runs);
            rc = -1;
        }
    }
    return rc;
}

int chaos_redis_signal(struct chaos *c, int sig)
{
    if (c->redis.pid <= 0 || kill(c->redis.pid, sig) == -1)
        return -1;
    if (sig == SIGKILL) {
        waitpid(c->redis.pid, NULL, 0);
        c->redis.pid = 0;
    }
    return 0;
}

int chaos_redis_start(struct chaos *c, char **cause)
{
    char dir[80];

    snprintf(dir, sizeof dir, "%s", c->dir);
    if (test_redis_start(&c->redis, dir, c->redis_extra) == -1) {
        *cause = xasprintf("redis-server did not start again (see %s/test-redis.log)", c->dir);
        return -1;
    }
    return 0;
}

void chaos_free(struct chaos *c, bool keep)
{
    if (c == NULL)
        return;
    for (int i = 0; i < CHAOS_SLOTS; i++) {
        if (c->slots[i].pid > 0) {
            kill(c->slots[i].pid, SIGKILL);
            waitpid(c->slots[i].pid, NULL, 0);
        }
        for (int k = 0; k < c->slots[i].nargs; k++)
            free((char *)c->slots[i].args[k]);
    }
    rlink_free(c->link);
    if (c->redis.pid > 0) {
        kill(c->redis.pid, SIGCONT);
        test_redis_stop(&c->redis);
    }
    if (keep)
        fprintf(stderr, "chaos: the run's folder is kept: %s\n", c->dir);
    else
        nftw(c->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(c->kills);
    free(c);
}

long chaos_busy(struct chaos *c)
{
    long counts[BB_SECTION_COUNT][BB_STATUS_COUNT], busy = 0;
    struct bb *b = bb_new(c->link, "chaos");
    char *cause = NULL;
    int rc = bb_counts(b, counts, &cause);

    bb_free(b);
    if (rc != BB_OK) {
        free(cause);
        return -1;
    }
    for (int s = 0; s < BB_SECTION_COUNT; s++)
        for (int st = 0; st < BB_STATUS_COUNT; st++)
            if (!bb_statuses[st].terminal)
                busy += counts[s][st];
    return busy;
}

int chaos_spend(struct chaos *c, int64_t *spent, int64_t *granted)
{
    char day[16], *cause = NULL;
    time_t now = time(NULL);
    struct tm tm;
    redisReply *r;

    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y%m%d", &tm);
    r = rlink_command(c->link, &cause, "HMGET nr:cost:d:%s spent:* grant:*", day);
    if (r == NULL) {
        free(cause);
        return -1;
    }
    *spent = strtoll(rlink_reply_str(r, 0), NULL, 10);
    *granted = strtoll(rlink_reply_str(r, 1), NULL, 10);
    freeReplyObject(r);
    return 0;
}

/* ---- the figures ---- */

/* A stream's entries as JSON objects of their fields (new reference), or NULL (*cause). */
static json_t *stream(struct chaos *c, const char *key, char **cause)
{
    json_t *out = json_array();
    char after[64] = "-";

    for (;;) {
        redisReply *r = rlink_command(c->link, cause, "XRANGE %s %s + COUNT 5000", key, after);
        size_t n;

        if (r == NULL) {
            json_decref(out);
            return NULL;
        }
        n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
        for (size_t i = 0; i < n; i++) {
            const redisReply *fl = r->element[i]->element[1];
            json_t *o = json_object();

            for (size_t k = 0; k + 1 < fl->elements; k += 2)
                json_object_set_new(o, fl->element[k]->str, json_string(fl->element[k + 1]->str));
            json_array_append_new(out, o);
            snprintf(after, sizeof after, "(%s", r->element[i]->element[0]->str);
        }
        freeReplyObject(r);
        if (n < 5000)
            return out;
    }
}

static const char *sget(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));

    return v != NULL ? v : "";
}

static long long nget(const json_t *o, const char *k)
{
    return strtoll(sget(o, k), NULL, 10);
}

/* The pid in an agent id "role-host-pid-index", or 0. */
static pid_t agent_pid(const char *agent)
{
    const char *last = strrchr(agent, '-'), *p;

    if (last == NULL || last == agent)
        return 0;
    for (p = last - 1; p > agent && *p != '-'; p--)
        ;
    return *p == '-' ? (pid_t)strtol(p + 1, NULL, 10) : 0;
}

/* When pid was SIGKILLed (wall ms), or 0 when it was not. */
static int64_t killed_at(const struct chaos *c, pid_t pid)
{
    for (size_t i = 0; i < c->nkills; i++)
        if (c->kills[i].pid == pid)
            return c->kills[i].t_ms;
    return 0;
}

/* The claimer a reclaim event names ("...its claimer AGENT died..." or "...of its claimer AGENT
 * lapsed..."), into buf; "" when none. */
static void reclaim_agent(const char *why, char *buf, size_t size)
{
    const char *p = strstr(why, "claimer ");
    size_t n;

    buf[0] = '\0';
    if (p == NULL)
        return;
    p += 8;
    n = strcspn(p, " ");
    snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), p);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The paid calls a story's checkpoints account for, by task type (new reference). */
static json_t *expected_calls(const json_t *body)
{
    const json_t *script = json_object_get(body, "script"),
                 *writing = json_object_get(body, "writing");
    const json_t *revs, *r, *cascade, *v;
    json_t *e = json_object();
    long draft = 0, final = 0, script_escalation = 0, qa_escalation = 0;
    size_t i;

    json_object_set_new(e, "content_analysis",
                        json_integer(json_is_object(json_object_get(body, "analysis")) ? 1 : 0));
    json_object_set_new(e, "debate_argument",
                        json_integer((json_int_t)json_array_size(
                            json_object_get(json_object_get(body, "consensus"), "votes"))));
    if (json_is_object(script)) {
        revs = json_object_get(script, "revisions");
        draft = 1;
        final = json_object_get(json_object_get(script, "early_stop"), "final") != NULL ? 0 : 1;
        /* The cascade: the draft was the final (no call), or its final was an escalation. */
        if (json_is_object(cascade = json_object_get(script, "cascade"))) {
            final = 0;
            script_escalation = json_is_true(json_object_get(cascade, "escalated")) ? 1 : 0;
        }
        json_array_foreach(revs, i, r)
        {
            const char *type = sget(r, "type");

            if (strcmp(type, "qa_rework") == 0 || strcmp(type, "reviewer_note") == 0)
                final++;
            else
                draft++;
        }
    } else if (json_is_object(writing)) {
        draft = 1 + (long)json_array_size(json_object_get(writing, "revisions"));
    }
    json_object_set_new(e, "script_draft", json_integer(draft));
    json_object_set_new(e, "script_final", json_integer(final));
    json_object_set_new(e, "script_escalation", json_integer(script_escalation));
    /* One QA call a verdict, and a second (PREMIUM) one for each the cascade escalated. */
    json_array_foreach(json_object_get(body, "qa"), i, v)
    {
        if (json_is_true(json_object_get(json_object_get(v, "cascade"), "escalated")))
            qa_escalation++;
    }
    json_object_set_new(e, "quality_assurance",
                        json_integer((json_int_t)json_array_size(json_object_get(body, "qa"))));
    json_object_set_new(e, "qa_escalation", json_integer(qa_escalation));
    return e;
}

/* Whether agent voted in the story's consensus. */
static bool voted(const json_t *body, const char *agent)
{
    const json_t *votes = json_object_get(json_object_get(body, "consensus"), "votes"), *v;
    size_t i;

    json_array_foreach(votes, i, v) if (strcmp(sget(v, "agent"), agent) == 0) return true;
    return false;
}

/* Whether the events show a change to story id by agent at or after t. */
static bool touched_after(const json_t *by_story, const char *id, const char *agent, long long t)
{
    const json_t *evs = json_object_get(by_story, id), *e;
    size_t i;

    json_array_foreach(evs, i, e) if (strcmp(sget(e, "by"), agent) == 0 && nget(e, "t") >= t &&
                                      strcmp(sget(e, "k"), "claim") != 0 &&
                                      strcmp(sget(e, "k"), "take") != 0 &&
                                      strcmp(sget(e, "k"), "lock") != 0) return true;
    return false;
}

struct tally {
    struct chaos_figures *f;
    json_t *bodies;
};

/* Counts a story by its final status and keeps its body. */
static void tally_story(const struct bb_item *it, void *arg)
{
    struct tally *t = arg;

    if (it->status == BB_PUBLISHED_S)
        t->f->published++;
    else if (it->status == BB_ARCHIVED)
        t->f->archived++;
    else if (it->status == BB_FAILED)
        t->f->failed++;
    else
        t->f->lost++;
    if (it->status == BB_ARCHIVED && strstr(it->archive_reason, "quorum not reached"))
        t->f->archived_quorum++;
    t->f->parked += it->parks > 0;
    json_object_set(t->bodies, it->id, it->body);
}

int chaos_figures(struct chaos *c, long in, struct chaos_figures *f, char **cause)
{
    json_t *events = NULL, *usage = NULL, *bodies = json_object(), *by_story = json_object();
    json_t *published = json_object(), *calls = json_object(), *e;
    double *lat = NULL;
    size_t nlat = 0, i;
    int rc = -1;

    memset(f, 0, sizeof *f);
    f->in = in;
    f->kills = (long)c->nkills;
    f->resume_p50_s = f->resume_p99_s = f->resume_max_s = -1;
    /* Every story: its status and body. */
    {
        struct tally t = {f, bodies};

        if (chaos_each_story(c, tally_story, &t, cause) == -1)
            goto out;
    }
    if (f->in == 0)
        f->in = f->published + f->archived + f->failed + f->lost;
    if ((events = stream(c, "nr:bb:events", cause)) == NULL ||
        (usage = stream(c, "nr:cost:usage", cause)) == NULL)
        goto out;
    json_array_foreach(events, i, e)
    {
        const char *id = sget(e, "id");
        json_t *list = json_object_get(by_story, id);

        if (list == NULL) {
            list = json_array();
            json_object_set_new(by_story, id, list);
        }
        json_array_append(list, e);
        if (strcmp(sget(e, "k"), "move") == 0 && strcmp(sget(e, "to"), "PUBLISHED") == 0) {
            json_int_t n = json_integer_value(json_object_get(published, id)) + 1;

            json_object_set_new(published, id, json_integer(n));
            if (n == 2)
                f->published_twice++;
        }
    }
    /* From a kill to the story claimed again, for every story taken back from a killed
     * process. */
    json_array_foreach(events, i, e)
    {
        char agent[128];
        int64_t at;
        const json_t *later;
        size_t k;
        bool resumed = false;

        if (strcmp(sget(e, "k"), "reclaim") != 0)
            continue;
        f->takings_back++;
        reclaim_agent(sget(e, "why"), agent, sizeof agent);
        if ((at = killed_at(c, agent_pid(agent))) == 0)
            continue;
        f->reclaimed++;
        json_array_foreach(json_object_get(by_story, sget(e, "id")), k, later)
        {
            const char *kind = sget(later, "k");

            if (nget(later, "t") >= nget(e, "t") &&
                (strcmp(kind, "claim") == 0 || strcmp(kind, "take") == 0 ||
                 strcmp(kind, "lock") == 0)) {
                lat = xrealloc(lat, (nlat + 1) * sizeof *lat);
                lat[nlat++] = (double)(nget(later, "t") - at) / 1000.0;
                resumed = true;
                break;
            }
        }
        if (!resumed)
            f->never_resumed++;
    }
    if (nlat > 0) {
        qsort(lat, nlat, sizeof *lat, cmp_double);
        f->resume_p50_s = nlat % 2 ? lat[nlat / 2] : (lat[nlat / 2 - 1] + lat[nlat / 2]) / 2;
        f->resume_p99_s = lat[(size_t)ceil(0.99 * (double)nlat) - 1];
        f->resume_max_s = lat[nlat - 1];
    }
    /* Paid calls by story and task type, against the checkpoints. */
    json_array_foreach(usage, i, e)
    {
        const char *task = sget(e, "task"), *type = sget(e, "type");
        json_t *per, *list;

        if (nget(e, "cost") <= 0 || strcmp(sget(e, "cached"), "1") == 0 || *task == '\0')
            continue;
        f->paid_calls++;
        if ((per = json_object_get(calls, task)) == NULL) {
            per = json_object();
            json_object_set_new(calls, task, per);
        }
        if ((list = json_object_get(per, type)) == NULL) {
            list = json_array();
            json_object_set_new(per, type, list);
        }
        json_array_append(list, e);
    }
    {
        const char *task;
        json_t *per;

        json_object_foreach(calls, task, per)
        {
            const json_t *body = json_object_get(bodies, task);
            json_t *want = expected_calls(body);
            const char *type;
            json_t *list;

            json_object_foreach(per, type, list)
            {
                long made = (long)json_array_size(list), lost = 0, excess;
                const json_t *call;
                size_t k;

                excess = made - (long)json_integer_value(json_object_get(want, type));
                if (excess <= 0)
                    continue;
                json_array_foreach(list, k, call)
                {
                    const char *agent = sget(call, "agent");
                    int64_t at = killed_at(c, agent_pid(agent));

                    if (at == 0 || at < nget(call, "t"))
                        continue;
                    if (strcmp(type, "debate_argument") == 0
                            ? !voted(body, agent)
                            : !touched_after(by_story, task, agent, nget(call, "t")))
                        lost++;
                }
                f->lost_to_kills += lost < excess ? lost : excess;
                f->repeated += lost < excess ? excess - lost : 0;
            }
            json_decref(want);
        }
    }
    rc = 0;
out:
    free(lat);
    json_decref(events);
    json_decref(usage);
    json_decref(bodies);
    json_decref(by_story);
    json_decref(published);
    json_decref(calls);
    return rc;
}

void chaos_print(FILE *out, const char *name, const struct chaos_figures *f)
{
    fprintf(out, "chaos %s: stories in: %ld\n", name, f->in);
    fprintf(out,
            "chaos %s: out: published %ld, archived %ld (for a quorum not reached: %ld), "
            "failed %ld\n",
            name, f->published, f->archived, f->archived_quorum, f->failed);
    fprintf(out, "chaos %s: lost (not terminal at the end): %ld\n", name, f->lost);
    fprintf(out, "chaos %s: published twice: %ld\n", name, f->published_twice);
    fprintf(out,
            "chaos %s: paid calls: %ld; repeated: %ld; paid results lost to a kill before "
            "they were stored: %ld\n",
            name, f->paid_calls, f->repeated, f->lost_to_kills);
    fprintf(out,
            "chaos %s: stories that waited (parked) at least once: %ld; claims taken back: %ld\n",
            name, f->parked, f->takings_back);
    fprintf(out,
            "chaos %s: swarm processes SIGKILLed: %ld; stories taken back from them: %ld "
            "(never claimed again: %ld)\n",
            name, f->kills, f->reclaimed, f->never_resumed);
    if (f->resume_p50_s >= 0)
        fprintf(out,
                "chaos %s: kill to the story running again: median %.1f s, p99 %.1f s, max "
                "%.1f s\n",
                name, f->resume_p50_s, f->resume_p99_s, f->resume_max_s);
    else
        fprintf(out, "chaos %s: kill to the story running again: no story was taken back\n", name);
    fflush(out);
}

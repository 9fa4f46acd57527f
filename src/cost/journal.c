/*
 * journal.c - the usage journal; see journal.h. The process's journal is one state guarded by
 * jr.mu (the file's descriptor, its directory, whether records wait); jr.pending is an atomic
 * so the hot path can look without the mutex. Any thread.
 */
#include "cost/journal.h"

#include "core/clock.h"
#include "core/fail.h"
#include "core/log.h"
#include "core/paths.h"
#include "cost/budget.h"
#include "cost/pricing.h"
#include "store/rlink.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define JOURNAL_LINE_MAX 8192

static struct {
    pthread_mutex_t mu;
    int opens;
    char *dir;
    char *path; /* this process's file */
    char host[64];
    int fd; /* -1 until the first append */
    atomic_bool pending;
} jr = {.mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

/* usage-<host>-<pid>.jsonl: *pid of a journal of this host, or -1 for any other file. */
static long journal_pid(const char *name)
{
    size_t hl = strlen(jr.host);
    const char *p;
    char *end;
    long pid;

    if (strncmp(name, "usage-", 6) != 0 || strncmp(name + 6, jr.host, hl) != 0 ||
        name[6 + hl] != '-')
        return -1;
    p = name + 7 + hl;
    pid = strtol(p, &end, 10);
    if (end == p || strcmp(end, ".jsonl") != 0 || pid <= 0)
        return -1;
    return pid;
}

/* Whether dir holds a journal of a process of this host that is gone (jr.mu held). */
static bool orphans_in(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;

    if (d == NULL)
        return false;
    while (!found && (e = readdir(d)) != NULL) {
        long pid = journal_pid(e->d_name);

        found = pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) == -1 && errno == ESRCH;
    }
    closedir(d);
    return found;
}

int journal_open(const char *dir, char **cause)
{
    int rc = 0;

    pthread_mutex_lock(&jr.mu);
    if (jr.opens++ == 0) {
        if (paths_mkdir_p(dir, 0700, cause) == -1) {
            jr.opens = 0;
            rc = -1;
        } else {
            if (gethostname(jr.host, sizeof jr.host) != 0)
                snprintf(jr.host, sizeof jr.host, "host");
            jr.host[sizeof jr.host - 1] = '\0';
            for (char *c = jr.host; *c != '\0'; c++)
                if (*c == '/' || *c == '-')
                    *c = '_';
            jr.dir = xstrdup(dir);
            jr.path = xasprintf("%s/usage-%s-%ld.jsonl", dir, jr.host, (long)getpid());
            atomic_store(&jr.pending, orphans_in(dir) || access(jr.path, F_OK) == 0);
        }
    }
    pthread_mutex_unlock(&jr.mu);
    return rc;
}

void journal_close(void)
{
    pthread_mutex_lock(&jr.mu);
    if (jr.opens > 0 && --jr.opens == 0) {
        if (jr.fd != -1)
            close(jr.fd);
        jr.fd = -1;
        /* An empty journal (every record replayed) is not left behind. */
        if (!atomic_load(&jr.pending))
            unlink(jr.path);
        free(jr.dir);
        free(jr.path);
        jr.dir = jr.path = NULL;
    }
    pthread_mutex_unlock(&jr.mu);
}

bool journal_pending(void)
{
    return atomic_load(&jr.pending);
}

int journal_append(const struct usage_record *u, const char *resv, int64_t t_ms, char **cause)
{
    const char *tier = pricing_tier_name(u->tier);
    json_t *j;
    char *line;
    size_t len;
    int rc = 0;

    if (u->uid == NULL || *u->uid == '\0') {
        *cause = xstrdup("a journal record needs the call's unique id");
        return -1;
    }
    j = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:I, s:f, s:b, "
                  "s:I}",
                  "uid", u->uid, "resv", resv != NULL ? resv : "", "t", (json_int_t)t_ms, "agent",
                  u->agent, "task", u->task != NULL ? u->task : "", "type",
                  u->task_type != NULL ? u->task_type : "", "model",
                  u->model != NULL ? u->model : "", "provider",
                  u->provider != NULL ? u->provider : "", "tier", tier != NULL ? tier : "FAST",
                  "fallback", u->fallback, "prompt", u->prompt_tokens, "completion",
                  u->completion_tokens, "ms", (json_int_t)u->duration_ms, "conf", u->confidence,
                  "cached", u->cached, "cost", (json_int_t)u->cost);
    if (j == NULL) {
        *cause = xstrdup("a usage record that is not valid UTF-8 cannot be journaled");
        return -1;
    }
    line = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (line == NULL)
        fail("out of memory encoding a journal record");
    len = strlen(line);
    line[len++] = '\n'; /* over the NUL: written by length */
    pthread_mutex_lock(&jr.mu);
    if (jr.opens == 0) {
        *cause = xstrdup("no usage journal is open");
        rc = -1;
    } else if (jr.fd == -1 &&
               (jr.fd = open(jr.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) == -1) {
        *cause = xasprintf("cannot open the usage journal %s: %s", jr.path, strerror(errno));
        rc = -1;
    } else if (write(jr.fd, line, len) != (ssize_t)len || fsync(jr.fd) != 0) {
        *cause = xasprintf("cannot write the usage journal %s: %s", jr.path, strerror(errno));
        rc = -1;
    } else {
        atomic_store(&jr.pending, true);
    }
    pthread_mutex_unlock(&jr.mu);
    free(line);
    return rc;
}

/* One journal line back into a commit. Returns 0 (applied or found applied), 1 (a line that
 * is not a record: skipped, with a warning), or -1 with *cause (Redis failed). */
static int replay_line(struct rlink *l, const struct budget_options *o, const char *text,
                       char **cause)
{
    json_t *j = json_loads(text, 0, NULL);
    struct usage_record u = {0};
    const char *tier, *resv;
    int rc;

    if (!json_is_object(j) || json_string_value(json_object_get(j, "uid")) == NULL ||
        json_string_value(json_object_get(j, "agent")) == NULL) {
        json_decref(j);
        return 1;
    }
    u.uid = json_string_value(json_object_get(j, "uid"));
    u.agent = json_string_value(json_object_get(j, "agent"));
    u.task = json_string_value(json_object_get(j, "task"));
    u.task_type = json_string_value(json_object_get(j, "type"));
    u.model = json_string_value(json_object_get(j, "model"));
    u.provider = json_string_value(json_object_get(j, "provider"));
    u.fallback = json_is_true(json_object_get(j, "fallback"));
    tier = json_string_value(json_object_get(j, "tier"));
    if (tier == NULL || pricing_tier_parse(tier, &u.tier) == -1)
        u.tier = LLM_FAST;
    u.prompt_tokens = (int)json_integer_value(json_object_get(j, "prompt"));
    u.completion_tokens = (int)json_integer_value(json_object_get(j, "completion"));
    u.duration_ms = json_integer_value(json_object_get(j, "ms"));
    u.confidence = json_number_value(json_object_get(j, "conf"));
    u.cached = json_is_true(json_object_get(j, "cached"));
    u.cost = json_integer_value(json_object_get(j, "cost"));
    resv = json_string_value(json_object_get(j, "resv"));
    /* At the call's own time, so its spend lands in the windows it was made in. */
    rc = budget_commit(l, o, json_integer_value(json_object_get(j, "t")),
                       resv != NULL && *resv != '\0' ? resv : NULL, &u, NULL, cause);
    json_decref(j);
    return rc == -1 ? -1 : 0;
}

/* Replays every line of the open file f. Returns the records applied, or -1 with *cause. */
static int replay_file(struct rlink *l, const struct budget_options *o, FILE *f, const char *path,
                       char **cause)
{
    char *line = xmalloc(JOURNAL_LINE_MAX);
    int done = 0, lineno = 0;

    while (fgets(line, JOURNAL_LINE_MAX, f) != NULL) {
        int rc;

        lineno++;
        if (line[0] == '\n')
            continue;
        rc = replay_line(l, o, line, cause);
        if (rc == -1) {
            free(line);
            return -1;
        }
        if (rc == 1)
            log_warn("journal %s:%d: not a usage record; skipped", path, lineno);
        else
            done++;
    }
    free(line);
    return done;
}

/* This process's own file (jr.mu held). Returns records applied, or -1. */
static int replay_own(struct rlink *l, const struct budget_options *o, char **cause)
{
    FILE *f = fopen(jr.path, "r");
    int n;

    if (f == NULL)
        return 0;
    n = replay_file(l, o, f, jr.path, cause);
    fclose(f);
    if (n >= 0) {
        if (jr.fd != -1 && ftruncate(jr.fd, 0) != 0)
            log_warn("journal %s: cannot empty it: %s", jr.path, strerror(errno));
        else if (jr.fd == -1)
            unlink(jr.path);
    }
    return n;
}

/* The journals of gone processes in the directory. Returns records applied, or -1. */
static int replay_orphans(struct rlink *l, const struct budget_options *o, char **cause)
{
    DIR *d = opendir(jr.dir);
    struct dirent *e;
    int total = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        long pid = journal_pid(e->d_name);
        char *path;
        FILE *f;
        int n;

        if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        path = xasprintf("%s/%s", jr.dir, e->d_name);
        f = fopen(path, "r");
        if (f == NULL || flock(fileno(f), LOCK_EX | LOCK_NB) != 0) {
            /* Another process is replaying it. */
            if (f != NULL)
                fclose(f);
            free(path);
            continue;
        }
        n = replay_file(l, o, f, path, cause);
        if (n >= 0) {
            unlink(path);
            log_info("journal: replayed %d usage record(s) left by process %ld (%s)", n, pid, path);
            total += n;
        }
        fclose(f);
        free(path);
        if (n < 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    return total;
}

int journal_replay(struct rlink *l, const struct budget_options *o, int *replayed, char **cause)
{
    int own, orphans = 0;

    if (replayed != NULL)
        *replayed = 0;
    pthread_mutex_lock(&jr.mu);
    if (jr.opens == 0 || !atomic_load(&jr.pending)) {
        pthread_mutex_unlock(&jr.mu);
        return 0;
    }
    own = replay_own(l, o, cause);
    if (own >= 0)
        orphans = replay_orphans(l, o, cause);
    if (own >= 0 && orphans >= 0)
        atomic_store(&jr.pending, false);
    pthread_mutex_unlock(&jr.mu);
    if (own < 0 || orphans < 0)
        return -1;
    if (own > 0)
        log_info("journal: replayed %d usage record(s) kept while Redis was unreachable", own);
    if (replayed != NULL)
        *replayed = own + orphans;
    return 0;
}

/*
 * registry.c - the agent registry; see registry.h. A struct registry belongs to the thread of
 * its link; it keeps a copy of the agent this process registered, so that a heartbeat can put
 * back a record that has gone. Nothing here is locked.
 */
#include "store/registry.h"

#include "core/fail.h"
#include "store/lua_scripts.h"
#include "store/queue.h"
#include "store/rlink.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct registry {
    struct rlink *l; /* borrowed */
    bool registered;
    struct registry_agent self;
    int ttl_ms;
    char key[sizeof REGISTRY_AGENT_PREFIX + REGISTRY_ID_MAX];
};

static const char *const status_names[] = {
    [REGISTRY_IDLE] = "idle",
    [REGISTRY_BUSY] = "busy",
    [REGISTRY_PAUSED] = "paused",
    [REGISTRY_DEAD] = "dead",
};

const char *registry_status_name(enum registry_status s)
{
    if ((int)s < 0 || (size_t)s >= sizeof status_names / sizeof status_names[0])
        return "?";
    return status_names[s];
}

int registry_status_parse(const char *name, enum registry_status *out)
{
    for (size_t i = 0; i < sizeof status_names / sizeof status_names[0]; i++)
        if (name != NULL && strcmp(name, status_names[i]) == 0) {
            *out = (enum registry_status)i;
            return 0;
        }
    return -1;
}

json_t *registry_agent_to_json(const struct registry_agent *a, int64_t now_ms)
{
    json_t *o = json_object(), *caps = json_array();
    const char *p = a->capabilities;

    while (*p != '\0') {
        size_t n = strcspn(p, ",");

        if (n > 0)
            json_array_append_new(caps, json_stringn(p, n));
        p += n;
        if (*p == ',')
            p++;
    }
    json_object_set_new(o, "id", json_string(a->id));
    json_object_set_new(o, "role", json_string(a->role));
    json_object_set_new(o, "tier", json_string(a->tier));
    json_object_set_new(o, "status", json_string(registry_status_name(a->status)));
    json_object_set_new(o, "host", json_string(a->host));
    json_object_set_new(o, "pid", json_integer(a->pid));
    json_object_set_new(o, "capabilities", caps);
    json_object_set_new(o, "started_ms", json_integer(a->started_ms));
    json_object_set_new(o, "heartbeat_ms", json_integer(a->heartbeat_ms));
    json_object_set_new(o, "heartbeat_age_ms", json_integer(now_ms - a->heartbeat_ms));
    json_object_set_new(o, "expires_ms", json_integer(a->expires_ms));
    json_object_set_new(o, "ttl_ms", json_integer(a->ttl_ms));
    return o;
}

struct registry *registry_new(struct rlink *l)
{
    struct registry *r = xcalloc(1, sizeof *r);

    r->l = l;
    return r;
}

void registry_free(struct registry *r)
{
    free(r);
}

/* The strings of an agent that go into its record; a NULL-free check of lengths. */
static int agent_valid(const struct registry_agent *a, char **cause)
{
    if (!queue_name_valid(a->id)) {
        *cause = xasprintf("bad agent id \"%.80s\": use 1 to %d of A-Z a-z 0-9 _ . : -", a->id,
                           REGISTRY_ID_MAX);
        return -1;
    }
    if (a->status == REGISTRY_DEAD) {
        *cause = xasprintf("agent %s cannot register itself as dead", a->id);
        return -1;
    }
    return 0;
}

static int beat(struct registry *r, const char *mode, const char *status, char **cause)
{
    char ttl[16], keep[24], pid[24], pstart[24];
    const char *argv[23];
    int argc = 0;
    redisReply *rep;
    int rc = 0;

    snprintf(ttl, sizeof ttl, "%d", r->ttl_ms);
    snprintf(keep, sizeof keep, "%lld", (long long)REGISTRY_KEEP_MS);
    snprintf(pid, sizeof pid, "%ld", r->self.pid);
    snprintf(pstart, sizeof pstart, "%lld", r->self.pstart);
    argv[argc++] = r->key;
    argv[argc++] = REGISTRY_SET_KEY;
    argv[argc++] = r->self.id;
    argv[argc++] = ttl;
    argv[argc++] = status;
    argv[argc++] = keep;
    argv[argc++] = mode;
    if (strcmp(mode, "register") == 0) {
        argv[argc++] = "id";
        argv[argc++] = r->self.id;
        argv[argc++] = "role";
        argv[argc++] = r->self.role;
        argv[argc++] = "tier";
        argv[argc++] = r->self.tier;
        argv[argc++] = "host";
        argv[argc++] = r->self.host;
        argv[argc++] = "capabilities";
        argv[argc++] = r->self.capabilities;
        argv[argc++] = "pid";
        argv[argc++] = pid;
        argv[argc++] = "hostkey";
        argv[argc++] = r->self.host_key;
        argv[argc++] = "pstart";
        argv[argc++] = pstart;
    }
    rep = rlink_eval(r->l, &lua_registry_beat, 2, argc, argv, cause);
    if (rep == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_INTEGER)
        rc = -1;
    else if (rep->integer == 0)
        rc = 1; /* no record */
    freeReplyObject(rep);
    if (rc == -1)
        *cause = xasprintf("agent %s: unexpected reply from registry_beat.lua", r->self.id);
    return rc;
}

int registry_register(struct registry *r, const struct registry_agent *a, int ttl_ms, char **cause)
{
    if (agent_valid(a, cause) == -1)
        return -1;
    r->self = *a;
    if (r->self.host[0] == '\0' && gethostname(r->self.host, sizeof r->self.host - 1) == -1)
        snprintf(r->self.host, sizeof r->self.host, "unknown");
    if (r->self.pid == 0)
        r->self.pid = (long)getpid();
    if (r->self.host_key[0] == '\0')
        registry_host_key(r->self.host_key, sizeof r->self.host_key);
    if (r->self.pstart == 0)
        r->self.pstart = registry_process_start(r->self.pid);
    r->ttl_ms = ttl_ms > 0 ? ttl_ms : 1;
    snprintf(r->key, sizeof r->key, "%s%s", REGISTRY_AGENT_PREFIX, a->id);
    r->registered = false;
    if (beat(r, "register", registry_status_name(r->self.status), cause) != 0)
        return -1;
    r->registered = true;
    return 0;
}

static int renew(struct registry *r, const char *status, char **cause)
{
    int rc;

    if (!r->registered) {
        *cause = xasprintf("no agent is registered on this registry handle");
        return -1;
    }
    rc = beat(r, "beat", status, cause);
    if (rc == 1) /* the record has gone: put it back, with the status it should have */
        rc = beat(r, "register", registry_status_name(r->self.status), cause);
    return rc;
}

int registry_heartbeat(struct registry *r, char **cause)
{
    return renew(r, "", cause);
}

int registry_set_status(struct registry *r, enum registry_status s, char **cause)
{
    if (s == REGISTRY_DEAD) {
        *cause = xasprintf("an agent cannot declare itself dead; unregister it instead");
        return -1;
    }
    r->self.status = s;
    return renew(r, registry_status_name(s), cause);
}

int registry_remove(struct registry *r, const char *id, char **cause)
{
    char key[sizeof REGISTRY_AGENT_PREFIX + REGISTRY_ID_MAX];
    const char *argv[3] = {key, REGISTRY_SET_KEY, id};
    redisReply *rep;

    if (!queue_name_valid(id)) {
        *cause = xasprintf("bad agent id \"%.80s\"", id != NULL ? id : "");
        return -1;
    }
    snprintf(key, sizeof key, "%s%s", REGISTRY_AGENT_PREFIX, id);
    rep = rlink_eval(r->l, &lua_registry_remove, 2, 3, argv, cause);
    if (rep == NULL)
        return -1;
    freeReplyObject(rep);
    return 0;
}

int registry_prune(struct registry *r, int64_t dead_ms, int max, int *removed, char **cause)
{
    char keep[24], lim[16];
    const char *argv[4] = {REGISTRY_SET_KEY, REGISTRY_AGENT_PREFIX, keep, lim};
    redisReply *rep;

    snprintf(keep, sizeof keep, "%lld", (long long)dead_ms);
    snprintf(lim, sizeof lim, "%d", max);
    rep = rlink_eval(r->l, &lua_registry_prune, 1, 4, argv, cause);
    if (rep == NULL)
        return -1;
    if (removed != NULL)
        *removed = rep->type == REDIS_REPLY_INTEGER ? (int)rep->integer : 0;
    freeReplyObject(rep);
    return 0;
}

int registry_unregister(struct registry *r, char **cause)
{
    if (!r->registered)
        return 0;
    if (registry_remove(r, r->self.id, cause) == -1)
        return -1;
    r->registered = false;
    return 0;
}

/* One agent from {id, expires_ms, {field, value, ...}} at server time now. */
static int agent_from_reply(const redisReply *x, int64_t now, struct registry_agent *a)
{
    const redisReply *h;

    if (x->type != REDIS_REPLY_ARRAY || x->elements != 3 ||
        x->element[0]->type != REDIS_REPLY_STRING || x->element[1]->type != REDIS_REPLY_INTEGER ||
        x->element[2]->type != REDIS_REPLY_ARRAY)
        return -1;
    h = x->element[2];
    memset(a, 0, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", x->element[0]->str);
    snprintf(a->role, sizeof a->role, "%s", rlink_reply_field(h, "role"));
    snprintf(a->tier, sizeof a->tier, "%s", rlink_reply_field(h, "tier"));
    snprintf(a->host, sizeof a->host, "%s", rlink_reply_field(h, "host"));
    snprintf(a->host_key, sizeof a->host_key, "%s", rlink_reply_field(h, "hostkey"));
    a->pstart = strtoll(rlink_reply_field(h, "pstart"), NULL, 10);
    snprintf(a->capabilities, sizeof a->capabilities, "%s", rlink_reply_field(h, "capabilities"));
    a->pid = strtol(rlink_reply_field(h, "pid"), NULL, 10);
    a->started_ms = strtoll(rlink_reply_field(h, "started_ms"), NULL, 10);
    a->heartbeat_ms = strtoll(rlink_reply_field(h, "heartbeat_ms"), NULL, 10);
    a->ttl_ms = (int)strtol(rlink_reply_field(h, "ttl_ms"), NULL, 10);
    a->expires_ms = x->element[1]->integer;
    if (registry_status_parse(rlink_reply_field(h, "status"), &a->status) == -1)
        a->status = REGISTRY_IDLE;
    if (a->expires_ms <= now)
        a->status = REGISTRY_DEAD;
    return 0;
}

static int cmp_agent(const void *a, const void *b)
{
    return strcmp(((const struct registry_agent *)a)->id, ((const struct registry_agent *)b)->id);
}

/* Runs registry_list.lua for one id ("" for all). */
static int list(struct registry *r, const char *id, struct registry_agent **out, size_t *n,
                int64_t *now_ms, char **cause)
{
    const char *argv[3] = {REGISTRY_SET_KEY, REGISTRY_AGENT_PREFIX, id};
    redisReply *rep;
    const redisReply *items;

    *out = NULL;
    *n = 0;
    rep = rlink_eval(r->l, &lua_registry_list, 1, 3, argv, cause);
    if (rep == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER ||
        rep->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(rep);
        *cause = xasprintf("unexpected reply from registry_list.lua");
        return -1;
    }
    items = rep->element[1];
    if (now_ms != NULL)
        *now_ms = rep->element[0]->integer;
    if (items->elements > 0) {
        *out = xcalloc(items->elements, sizeof **out);
        for (size_t i = 0; i < items->elements; i++)
            if (agent_from_reply(items->element[i], rep->element[0]->integer, &(*out)[*n]) == 0)
                (*n)++;
        qsort(*out, *n, sizeof **out, cmp_agent);
    }
    freeReplyObject(rep);
    return 0;
}

int registry_list(struct registry *r, struct registry_agent **out, size_t *n, int64_t *now_ms,
                  char **cause)
{
    return list(r, "", out, n, now_ms, cause);
}

int registry_get(struct registry *r, const char *id, struct registry_agent *out, bool *found,
                 char **cause)
{
    struct registry_agent *all;
    size_t n;

    *found = false;
    if (!queue_name_valid(id)) {
        *cause = xasprintf("bad agent id \"%.80s\"", id != NULL ? id : "");
        return -1;
    }
    if (list(r, id, &all, &n, NULL, cause) == -1)
        return -1;
    if (n > 0) {
        *out = all[0];
        *found = true;
    }
    free(all);
    return 0;
}

int registry_reclaim(struct registry *r, struct queue *q, int max, int *claimed, char **cause)
{
    struct registry_agent *all;
    size_t n;
    int total = 0;
    const char *me = queue_consumer(q);

    if (claimed != NULL)
        *claimed = 0;
    if (me == NULL) {
        *cause =
            xasprintf("queue %s: reclaiming needs a handle with a consumer name", queue_name(q));
        return -1;
    }
    if (registry_list(r, &all, &n, NULL, cause) == -1)
        return -1;
    for (size_t i = 0; i < n && total < max; i++) {
        int got = 0;

        if (all[i].status != REGISTRY_DEAD || strcmp(all[i].id, me) == 0)
            continue;
        if (queue_adopt(q, all[i].id, max - total, &got, cause) == -1) {
            free(all);
            if (claimed != NULL)
                *claimed = total;
            return -1;
        }
        total += got;
    }
    free(all);
    if (claimed != NULL)
        *claimed = total;
    return 0;
}

int registry_pulse(struct rlink *l, const char *const *ids, const char *const *claims, size_t n,
                   int ttl_ms, int claim_ttl_ms, struct registry_pulse_result *out, char **cause)
{
    char ttl[16], keep[24], claim[16];
    const char **argv = xcalloc(2 * n + 7, sizeof *argv);
    redisReply *rep;
    const redisReply *list;
    int rc = 0;

    snprintf(ttl, sizeof ttl, "%d", ttl_ms > 0 ? ttl_ms : 1);
    snprintf(keep, sizeof keep, "%lld", (long long)REGISTRY_KEEP_MS);
    snprintf(claim, sizeof claim, "%d", claim_ttl_ms > 0 ? claim_ttl_ms : 1);
    argv[0] = REGISTRY_SET_KEY;
    argv[1] = REGISTRY_AGENT_PREFIX;
    argv[2] = NR_PREFIX "bb:";
    argv[3] = "";
    argv[4] = ttl;
    argv[5] = keep;
    argv[6] = claim;
    for (size_t i = 0; i < n; i++) {
        argv[7 + 2 * i] = ids[i];
        argv[8 + 2 * i] = claims != NULL && claims[i] != NULL ? claims[i] : "";
    }
    rep = rlink_eval(l, &lua_registry_pulse, 0, 2 * (int)n + 7, argv, cause);
    free(argv);
    if (rep == NULL)
        return -1;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[1]->type != REDIS_REPLY_ARRAY || rep->element[1]->elements != n) {
        freeReplyObject(rep);
        *cause = xasprintf("unexpected reply from registry_pulse.lua");
        return -1;
    }
    list = rep->element[1];
    for (size_t i = 0; out != NULL && i < n; i++) {
        out[i].exists = rlink_reply_int(list->element[i], 1) == 1;
        out[i].reaped_ms = rlink_reply_int(list->element[i], 2);
    }
    freeReplyObject(rep);
    return rc;
}

/* The first line of a file, without its newline, into buf ("" when it cannot be read). */
static void first_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");

    buf[0] = '\0';
    if (f == NULL)
        return;
    if (fgets(buf, (int)size, f) == NULL)
        buf[0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

void registry_host_key(char *buf, size_t size)
{
    char host[128] = "", boot[64], ns[64] = "";
    ssize_t n;

    if (gethostname(host, sizeof host - 1) == -1 || host[0] == '\0')
        snprintf(host, sizeof host, "unknown");
    first_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot);
    n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    ns[n > 0 ? n : 0] = '\0';
    snprintf(buf, size, "%.100s|%.40s|%.40s", host, boot, ns);
}

/* Process pid's state letter and start time from /proc/PID/stat; 0 when it cannot be read. */
static int process_stat(long pid, char *state, long long *start)
{
    char path[64], line[1024], *p, *save = NULL;
    int field = 2, found = 0;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    if (fgets(line, sizeof line, f) != NULL && (p = strrchr(line, ')')) != NULL) {
        /* After the command's ")": state is field 3, starttime field 22. */
        for (char *tok = strtok_r(p + 1, " ", &save); tok != NULL;
             tok = strtok_r(NULL, " ", &save)) {
            if (++field == 3)
                *state = tok[0];
            if (field == 22) {
                *start = strtoll(tok, NULL, 10);
                found = 1;
                break;
            }
        }
    }
    fclose(f);
    return found;
}

long long registry_process_start(long pid)
{
    char state = '?';
    long long start = 0;

    return process_stat(pid, &state, &start) ? start : 0;
}

bool registry_process_gone(long pid, long long pstart)
{
    char state = '?';
    long long now = 0;

    if (pid <= 0)
        return false;
    if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
        return true;
    if (!process_stat(pid, &state, &now))
        return false; /* no /proc to look at: its heartbeat will tell */
    /* A zombie has died (its parent has not collected it yet); another start time is another
     * process that got the pid. */
    return state == 'Z' || state == 'X' || (pstart > 0 && now != pstart);
}

/*
 * blackboard.c - the blackboard's C side; see blackboard.h. Every change is one Lua script
 * (src/store/scripts/bb_*.lua, preceded by the status tables generated from bb_table.c), so
 * this file only builds arguments and reads replies. A struct bb belongs to the thread of its
 * link; nothing here is shared between threads.
 */
#include "store/blackboard.h"

#include "core/fail.h"
#include "store/audit.h"
#include "store/lua_scripts.h"
#include "store/rlink.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct bb {
    struct rlink *link;
    char actor[BB_ACTOR_MAX + 1];
};

/* Arguments for a script, grown as needed; strings are owned. */
struct args {
    char **v;
    size_t n, cap;
};

static void arg(struct args *a, const char *s)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = xstrdup(s != NULL ? s : "");
}

static void argn(struct args *a, long long v)
{
    char buf[32];

    snprintf(buf, sizeof buf, "%lld", v);
    arg(a, buf);
}

static void args_free(struct args *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

static redisReply *run(struct bb *b, const struct lua_script *s, struct args *a, char **cause)
{
    redisReply *r = rlink_eval(b->link, s, 0, (int)a->n, (const char **)a->v, cause);

    args_free(a);
    return r;
}

struct bb *bb_new(struct rlink *l, const char *actor)
{
    struct bb *b = xcalloc(1, sizeof *b);

    b->link = l;
    snprintf(b->actor, sizeof b->actor, "%s", actor);
    return b;
}

void bb_free(struct bb *b)
{
    free(b);
}

const char *bb_actor(const struct bb *b)
{
    return b->actor;
}

/* "2026-11-28T16:40:00Z" for a time in ms. */
static void iso_time(int64_t ms, char *buf, size_t size)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The message of a refusal reply {0, reason, status, by, updated}. */
static char *refusal(const redisReply *r)
{
    char when[32] = "";

    if (rlink_reply_str(r, 2)[0] == '\0')
        return xasprintf("%s", rlink_reply_str(r, 1));
    iso_time(rlink_reply_int(r, 4), when, sizeof when);
    return xasprintf("%s (it is %s; last changed by %s at %s)", rlink_reply_str(r, 1),
                     rlink_reply_str(r, 2), rlink_reply_str(r, 3), when);
}

/* Turns a script reply into a return code; a refusal's reason goes to *cause. */
static int verdict(redisReply *r, char **cause)
{
    int rc;

    if (r == NULL)
        return BB_ERR;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
        *cause = xasprintf("unexpected reply from a blackboard script");
        rc = BB_ERR;
    } else if (rlink_reply_int(r, 0) == 0) {
        *cause = refusal(r);
        rc = strncmp(rlink_reply_str(r, 1), "no item ", 8) == 0 ? BB_NONE : BB_REFUSED;
    } else {
        rc = BB_OK;
    }
    return rc;
}

int bb_write(struct bb *b, const struct news_item *it, const json_t *extra, enum bb_status st,
             bool check_duplicate, char existing_id[NEWS_ID_MAX + 1], char **cause)
{
    return bb_write_into(b, it, extra, st, check_duplicate, NULL, NULL, existing_id, cause);
}

int bb_write_into(struct bb *b, const struct news_item *it, const json_t *extra, enum bb_status st,
                  bool check_duplicate, const char *into, const json_t *source,
                  char existing_id[NEWS_ID_MAX + 1], char **cause)
{
    /* The script's answers (see bb_write.lua) and what each is here. */
    static const struct {
        long long code;
        int rc;
    } answers[] = {{2, BB_DUPLICATE}, {3, BB_DUPLICATE}, {4, BB_UPDATED}, {5, BB_MERGED}};
    struct args a = {0};
    json_t *body = news_item_to_json(it);
    const char *key;
    json_t *v;
    redisReply *r;
    int sec = bb_statuses[st].section, rc = -2;
    char *enc;

    if (sec == BB_SECTION_KEEP) {
        *cause = xasprintf("a new item cannot start as %s", bb_statuses[st].name);
        json_decref(body);
        return BB_REFUSED;
    }
    if (extra != NULL)
        json_object_update(body, (json_t *)extra);
    arg(&a, BB_PREFIX);
    arg(&a, it->id);
    arg(&a, bb_section_names[sec]);
    arg(&a, bb_statuses[st].name);
    arg(&a, it->hash);
    arg(&a, check_duplicate ? "1" : "0");
    arg(&a, b->actor);
    arg(&a, news_item_has_identity(it) ? "s" : "c");
    arg(&a, into != NULL && source != NULL ? into : "");
    enc = source != NULL ? json_dumps(source, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    arg(&a, enc != NULL ? enc : "");
    free(enc);
    argn(&a, BB_PRIORITY_BREAKING);
    json_object_foreach(body, key, v)
    {
        enc = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        arg(&a, key);
        arg(&a, enc);
        free(enc);
    }
    json_decref(body);
    r = run(b, &lua_bb_write, &a, cause);
    if (r == NULL)
        return BB_ERR;
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++)
        if (rlink_reply_int(r, 0) == answers[i].code)
            rc = answers[i].rc;
    if (rc == -2) {
        rc = verdict(r, cause);
    } else {
        long long code = rlink_reply_int(r, 0);

        snprintf(existing_id, NEWS_ID_MAX + 1, "%s", rlink_reply_str(r, 1));
        if (code == 2)
            *cause = xasprintf("duplicate of %s (same content hash)", existing_id);
        else if (code == 3 && strcmp(existing_id, it->id) == 0)
            *cause = xasprintf("item %s already exists", existing_id);
        else if (code == 3)
            *cause = xasprintf("%s is already a source of %s", it->id, existing_id);
        else if (code == 5)
            *cause = xasprintf("merged into %s as a further source", existing_id);
        else if (strcmp(rlink_reply_str(r, 2), "revised") == 0)
            *cause = xasprintf("updated at source: the text of %s was revised", existing_id);
        else
            *cause = xasprintf("updated at source: the change is recorded on %s", existing_id);
        if (code == 4 && strcmp(rlink_reply_str(r, 2), "revised") == 0)
            rc = BB_REVISED;
    }
    freeReplyObject(r);
    return rc;
}

void bb_item_free(struct bb_item *it)
{
    if (it == NULL)
        return;
    free(it->reason);
    free(it->fail_reason);
    free(it->archive_reason);
    json_decref(it->body);
    free(it);
}

/* The state fields of an item's hash and where each goes in struct bb_item. */
enum field_kind { F_TEXT, F_DUP, F_LL, F_I64, F_INT, F_SECTION, F_STATUS };

static const struct item_field {
    const char *name;
    enum field_kind kind;
    size_t offset;
    size_t size; /* F_TEXT: the buffer */
} item_fields[] = {
#define TEXT(n, f)                                                                                 \
    {                                                                                              \
        n, F_TEXT, offsetof(struct bb_item, f), sizeof(((struct bb_item *)0)->f)                   \
    }
#define OF(n, k, f)                                                                                \
    {                                                                                              \
        n, k, offsetof(struct bb_item, f), 0                                                       \
    }
    TEXT("id", id),
    OF("section", F_SECTION, section),
    OF("status", F_STATUS, status),
    OF("version", F_LL, version),
    TEXT("owner", owner),
    TEXT("hash", hash),
    OF("attempts", F_INT, attempts),
    OF("created", F_I64, created_ms),
    OF("updated", F_I64, updated_ms),
    OF("fence", F_LL, fence),
    TEXT("by", by),
    TEXT("decided_by", decided_by),
    OF("decided_at", F_I64, decided_ms),
    OF("reason", F_DUP, reason),
    OF("fail_reason", F_DUP, fail_reason),
    OF("archive_reason", F_DUP, archive_reason),
    TEXT("stage", stage),
    TEXT("step", step),
    TEXT("failed_step", failed_step),
    OF("due", F_I64, due_ms),
    OF("reclaims", F_INT, reclaims),
    OF("parks", F_INT, parks),
    OF("requeues", F_INT, requeues),
    OF("entered", F_I64, entered_ms),
    OF("since", F_I64, since_ms),
    OF("prio", F_INT, priority),
#undef TEXT
#undef OF
};

static void set_field(struct bb_item *it, const struct item_field *f, const char *v)
{
    char *at = (char *)it + f->offset;

    switch (f->kind) {
    case F_TEXT:
        snprintf(at, f->size, "%s", v);
        break;
    case F_DUP:
        free(*(char **)(void *)at);
        *(char **)(void *)at = xstrdup(v);
        break;
    case F_LL:
        *(long long *)(void *)at = strtoll(v, NULL, 10);
        break;
    case F_I64:
        *(int64_t *)(void *)at = (int64_t)strtoll(v, NULL, 10);
        break;
    case F_INT:
        *(int *)(void *)at = atoi(v);
        break;
    case F_SECTION:
        *(int *)(void *)at = bb_section_parse(v);
        break;
    case F_STATUS:
        *(int *)(void *)at = bb_status_parse(v);
        break;
    }
}

/* Builds an item from a flat HGETALL reply (field, value, ...): "f:" fields are the JSON body,
 * the others the state fields of the table above. */
static struct bb_item *item_from_hash(const redisReply *h)
{
    struct bb_item *it = xcalloc(1, sizeof *it);

    it->body = json_object();
    it->section = it->status = -1;
    it->reason = xstrdup("");
    it->fail_reason = xstrdup("");
    it->archive_reason = xstrdup("");
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const char *k = h->element[i]->str, *v = h->element[i + 1]->str;

        if (strncmp(k, "f:", 2) == 0) {
            json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);

            if (j != NULL)
                json_object_set_new(it->body, k + 2, j);
            continue;
        }
        for (size_t f = 0; f < sizeof item_fields / sizeof item_fields[0]; f++) {
            if (strcmp(k, item_fields[f].name) == 0) {
                set_field(it, &item_fields[f], v);
                break;
            }
        }
    }
    return it;
}

int bb_read(struct bb *b, const char *id, struct bb_item **out, char **cause)
{
    char key[sizeof BB_PREFIX + 8 + NEWS_ID_MAX];
    redisReply *r;

    snprintf(key, sizeof key, "%sitem:%s", BB_PREFIX, id);
    r = rlink_command(b->link, cause, "HGETALL %s", key);
    if (r == NULL)
        return BB_ERR;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        freeReplyObject(r);
        *out = NULL;
        return BB_NONE;
    }
    *out = item_from_hash(r);
    freeReplyObject(r);
    return BB_OK;
}

json_t *bb_item_to_json(const struct bb_item *it)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_string(it->id));
    json_object_set_new(o, "section",
                        json_string(it->section >= 0 ? bb_section_names[it->section] : "?"));
    json_object_set_new(o, "status",
                        json_string(it->status >= 0 ? bb_statuses[it->status].name : "?"));
    json_object_set_new(o, "version", json_integer(it->version));
    json_object_set_new(o, "title", json_incref(json_object_get(it->body, "title")));
    json_object_set_new(o, "source", json_incref(json_object_get(it->body, "source")));
    json_object_set_new(o, "owner", json_string(it->owner));
    json_object_set_new(o, "attempts", json_integer(it->attempts));
    json_object_set_new(o, "created_ms", json_integer(it->created_ms));
    json_object_set_new(o, "updated_ms", json_integer(it->updated_ms));
    json_object_set_new(o, "by", json_string(it->by));
    json_object_set_new(o, "reason", json_string(it->reason));
    json_object_set_new(o, "decided_by", json_string(it->decided_by));
    json_object_set_new(o, "decided_ms", json_integer(it->decided_ms));
    json_object_set_new(o, "fail_reason", json_string(it->fail_reason));
    json_object_set_new(o, "archive_reason", json_string(it->archive_reason));
    json_object_set_new(o, "stage", json_string(it->stage));
    json_object_set_new(o, "step", json_string(it->step));
    json_object_set_new(o, "failed_step", json_string(it->failed_step));
    json_object_set_new(o, "due_ms", json_integer(it->due_ms));
    json_object_set_new(o, "reclaims", json_integer(it->reclaims));
    json_object_set_new(o, "parks", json_integer(it->parks));
    json_object_set_new(o, "requeues", json_integer(it->requeues));
    json_object_set_new(o, "entered_ms", json_integer(it->entered_ms));
    json_object_set_new(o, "since_ms", json_integer(it->since_ms));
    json_object_set_new(o, "priority", json_integer(it->priority));
    json_object_set_new(o, "hash", json_string(it->hash));
    json_object_set_new(o, "fence", json_integer(it->fence));
    json_object_set_new(o, "body", json_incref(it->body));
    if (json_object_get(o, "title") == NULL)
        json_object_set_new(o, "title", json_string(""));
    if (json_object_get(o, "source") == NULL)
        json_object_set_new(o, "source", json_string(""));
    return o;
}

/* The common arguments of bb_transition.lua. */
static void transition_args(struct bb *b, struct args *a, const char *id, const char *mode,
                            const char *to, const char *reason, const struct bb_lock *lk,
                            bool release)
{
    arg(a, BB_PREFIX);
    arg(a, id);
    arg(a, mode);
    arg(a, to);
    arg(a, b->actor);
    arg(a, reason);
    /* A lock with no holder only names the item: the caller holds none. */
    if (lk != NULL && lk->holder[0] == '\0')
        lk = NULL;
    arg(a, lk != NULL ? lk->holder : "");
    if (lk != NULL)
        argn(a, lk->fence);
    else
        arg(a, "");
    arg(a, release ? "1" : "0");
}

static int transition_run(struct bb *b, struct args *a, int *now, char **cause)
{
    redisReply *r = run(b, &lua_bb_transition, a, cause);
    int rc = verdict(r, cause);

    if (rc == BB_OK && now != NULL)
        *now = bb_status_parse(rlink_reply_str(r, 3));
    if (r != NULL)
        freeReplyObject(r);
    return rc;
}

/* The body field / JSON value pairs of a patch (NULL: none). */
static void patch_args(struct args *a, const json_t *patch)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)patch, key, v)
    {
        char *enc = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

        arg(a, key);
        arg(a, enc);
        free(enc);
    }
}

int bb_update(struct bb *b, const char *id, const json_t *patch, const struct bb_lock *lk,
              char **cause)
{
    struct args a = {0};

    if (!json_is_object(patch)) {
        *cause = xasprintf("an update must be a JSON object of fields");
        return BB_REFUSED;
    }
    transition_args(b, &a, id, "patch", "", "update", lk, false);
    patch_args(&a, patch);
    return transition_run(b, &a, NULL, cause);
}

int bb_transition(struct bb *b, const char *id, enum bb_status to, const char *reason,
                  const struct bb_lock *lk, char **cause)
{
    struct args a = {0};

    transition_args(b, &a, id, "move", bb_statuses[to].name, reason, lk, false);
    return transition_run(b, &a, NULL, cause);
}

int bb_decide(struct bb *b, const char *id, enum bb_status to, const char *reason, int audit_argc,
              const char *const *audit_argv, char **cause)
{
    return bb_decide_with(b, id, to, reason, NULL, audit_argc, audit_argv, cause);
}

int bb_decide_with(struct bb *b, const char *id, enum bb_status to, const char *reason,
                   const json_t *patch, int audit_argc, const char *const *audit_argv, char **cause)
{
    struct args a = {0};

    if (patch != NULL && !json_is_object(patch)) {
        *cause = xasprintf("a patch must be a JSON object of fields");
        return BB_REFUSED;
    }
    transition_args(b, &a, id, "decide", bb_statuses[to].name, reason, NULL, false);
    arg(&a, audit_argc > 0 ? AUDIT_KEY : "");
    arg(&a, AUDIT_MAXLEN_STR);
    argn(&a, audit_argc > 0 ? audit_argc : 0);
    for (int i = 0; i < audit_argc; i++)
        arg(&a, audit_argv[i]);
    patch_args(&a, patch);
    return transition_run(b, &a, NULL, cause);
}

int bb_complete(struct bb *b, const struct bb_lock *lk, enum bb_status to, const char *reason,
                char **cause)
{
    struct args a = {0};

    transition_args(b, &a, lk->id, "move", bb_statuses[to].name, reason, lk, true);
    return transition_run(b, &a, NULL, cause);
}

int bb_complete_with(struct bb *b, const struct bb_lock *lk, enum bb_status to, const json_t *patch,
                     const char *reason, char **cause)
{
    struct args a = {0};

    if (patch != NULL && !json_is_object(patch)) {
        *cause = xasprintf("a patch must be a JSON object of fields");
        return BB_REFUSED;
    }
    transition_args(b, &a, lk->id, "move", bb_statuses[to].name, reason, lk, true);
    patch_args(&a, patch);
    return transition_run(b, &a, NULL, cause);
}

static bool stage_valid(const char *stage)
{
    size_t n = strlen(stage);

    if (n == 0 || n > BB_STAGE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((stage[i] >= 'a' && stage[i] <= 'z') || stage[i] == '_'))
            return false;
    return true;
}

int bb_handoff(struct bb *b, const struct bb_lock *lk, const char *stage, const json_t *patch,
               const char *reason, char **cause)
{
    return bb_handoff_to(b, lk, -1, stage, patch, reason, cause);
}

int bb_handoff_to(struct bb *b, const struct bb_lock *lk, int to, const char *stage,
                  const json_t *patch, const char *reason, char **cause)
{
    struct args a = {0};
    char target[96];

    if (!stage_valid(stage)) {
        *cause =
            xasprintf("stage '%s' is not 1 to %d characters of a-z and _", stage, BB_STAGE_MAX);
        return BB_REFUSED;
    }
    if (patch != NULL && !json_is_object(patch)) {
        *cause = xasprintf("a patch must be a JSON object of fields");
        return BB_REFUSED;
    }
    if (to >= 0)
        snprintf(target, sizeof target, "%s@%s", bb_statuses[to].name, stage);
    else
        snprintf(target, sizeof target, "%s", stage);
    transition_args(b, &a, lk->id, "handoff", target, reason, lk, true);
    patch_args(&a, patch);
    return transition_run(b, &a, NULL, cause);
}

/* A share in millionths, from the kernel's random source: the jitter of a backoff. */
static long jitter_ppm(void)
{
    uint32_t r = 0;

    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)clock();
    return (long)(r % 1000000u);
}

/* The policy's arguments of a setback (max, base, cap, random share). */
static void policy_args(struct args *a, const struct bb_retry *p)
{
    argn(a, p->max_attempts < 1 ? 1 : p->max_attempts);
    argn(a, p->base_ms > 0 ? p->base_ms : 0);
    argn(a, p->max_ms > p->base_ms ? p->max_ms : (p->base_ms > 0 ? p->base_ms : 0));
    argn(a, jitter_ppm());
}

int bb_setback(struct bb *b, const char *id, const struct bb_lock *lk, enum bb_setback kind,
               const char *reason, const struct bb_retry *policy, int64_t wait_ms,
               const char *wait_req, const json_t *patch, int *now, char **cause)
{
    struct args a = {0};

    if (patch != NULL && !json_is_object(patch)) {
        *cause = xasprintf("a patch must be a JSON object of fields");
        return BB_REFUSED;
    }
    transition_args(b, &a, id, "setback", "", reason, lk, true);
    arg(&a, kind == BB_PARK ? "park" : "attempt");
    policy_args(&a, policy);
    argn(&a, wait_ms < 0 ? -1 : wait_ms);
    arg(&a, wait_req != NULL ? wait_req : "");
    patch_args(&a, patch);
    return transition_run(b, &a, now, cause);
}

int bb_fail(struct bb *b, const char *id, const struct bb_lock *lk, const char *reason,
            int max_attempts, int *now, char **cause)
{
    return bb_fail_with(b, id, lk, reason, max_attempts, NULL, now, cause);
}

int bb_fail_with(struct bb *b, const char *id, const struct bb_lock *lk, const char *reason,
                 int max_attempts, const json_t *patch, int *now, char **cause)
{
    struct bb_retry at_once = {.max_attempts = max_attempts};

    return bb_setback(b, id, lk, BB_ATTEMPT, reason, &at_once, -1, NULL, patch, now, cause);
}

int bb_complete_from(struct bb *b, const struct bb_lock *lk, enum bb_status from, enum bb_status to,
                     const json_t *patch, const char *reason, char **cause)
{
    struct args a = {0};
    char target[64];

    if (patch != NULL && !json_is_object(patch)) {
        *cause = xasprintf("a patch must be a JSON object of fields");
        return BB_REFUSED;
    }
    snprintf(target, sizeof target, "%s<%s", bb_statuses[to].name, bb_statuses[from].name);
    transition_args(b, &a, lk->id, "move", target, reason, lk, true);
    patch_args(&a, patch);
    return transition_run(b, &a, NULL, cause);
}

int bb_reclaim(struct bb *b, enum bb_status st, const struct bb_retry *policy, int scan, int *n,
               char **cause)
{
    struct args a = {0};
    redisReply *r;

    arg(&a, BB_PREFIX);
    arg(&a, bb_statuses[st].name);
    argn(&a, policy->max_attempts < 1 ? 1 : policy->max_attempts);
    argn(&a, scan < 1 ? 1 : scan);
    arg(&a, b->actor);
    argn(&a, policy->reclaims > 0 ? policy->reclaims : 0);
    argn(&a, policy->base_ms > 0 ? policy->base_ms : 0);
    argn(&a, policy->max_ms > 0 ? policy->max_ms : 0);
    argn(&a, jitter_ppm());
    r = run(b, &lua_bb_reclaim, &a, cause);
    if (r == NULL)
        return strstr(*cause, "cannot be reclaimed") != NULL ? BB_REFUSED : BB_ERR;
    if (n != NULL)
        *n = r->type == REDIS_REPLY_ARRAY ? (int)r->elements : 0;
    freeReplyObject(r);
    return BB_OK;
}

int bb_reap(struct bb *b, const struct bb_retry *policy, bool lapsed, int64_t window_ms,
            const char *host_key, long pid, const char *const *gone, size_t ngone, int *taken,
            struct bb_local_agent **local, size_t *nlocal, char **cause)
{
    struct args a = {0};
    const redisReply *ls;
    redisReply *r;

    if (taken != NULL)
        *taken = 0;
    if (local != NULL) {
        *local = NULL;
        *nlocal = 0;
    }
    arg(&a, BB_PREFIX);
    arg(&a, REGISTRY_SET_KEY);
    arg(&a, REGISTRY_AGENT_PREFIX);
    arg(&a, NR_PREFIX "debate:");
    arg(&a, NR_PREFIX "cost:");
    arg(&a, b->actor);
    arg(&a, lapsed ? "1" : "0");
    argn(&a, policy->max_attempts < 1 ? 1 : policy->max_attempts);
    argn(&a, policy->reclaims > 0 ? policy->reclaims : 0);
    argn(&a, policy->base_ms > 0 ? policy->base_ms : 0);
    argn(&a, policy->max_ms > 0 ? policy->max_ms : 0);
    argn(&a, jitter_ppm());
    arg(&a, host_key != NULL ? host_key : "");
    argn(&a, pid);
    argn(&a, window_ms > 0 ? window_ms : 1);
    for (size_t i = 0; i < ngone; i++)
        arg(&a, gone[i]);
    r = run(b, &lua_bb_reap, &a, cause);
    if (r == NULL)
        return BB_ERR;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
        r->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        *cause = xasprintf("unexpected reply from bb_reap.lua");
        return BB_ERR;
    }
    if (taken != NULL && r->element[0]->type == REDIS_REPLY_ARRAY)
        *taken = (int)r->element[0]->elements;
    ls = r->element[1];
    if (local != NULL && ls->elements > 0) {
        *local = xcalloc(ls->elements, sizeof **local);
        for (size_t i = 0; i < ls->elements; i++) {
            const redisReply *e = ls->element[i];
            struct bb_local_agent *la = &(*local)[*nlocal];

            if (e->type != REDIS_REPLY_ARRAY || e->elements != 3)
                continue;
            snprintf(la->id, sizeof la->id, "%s", rlink_reply_str(e, 0));
            la->pid = (long)rlink_reply_int(e, 1);
            la->pstart = rlink_reply_int(e, 2);
            (*nlocal)++;
        }
    }
    freeReplyObject(r);
    return BB_OK;
}

int bb_requeue(struct bb *b, const char *id, const char *step, bool archived, const json_t *patch,
               int audit_argc, const char *const *audit_argv, char **cause)
{
    struct args a = {0};
    redisReply *r;
    int rc;

    if (bb_step_find(step) == NULL) {
        *cause = xasprintf("no step \"%.40s\"", step != NULL ? step : "");
        return BB_REFUSED;
    }
    if (patch != NULL && !json_is_object(patch)) {
        *cause = xasprintf("a patch must be a JSON object of fields");
        return BB_REFUSED;
    }
    arg(&a, BB_PREFIX);
    arg(&a, id);
    arg(&a, b->actor);
    arg(&a, step);
    arg(&a, archived ? "1" : "0");
    arg(&a, audit_argc > 0 ? AUDIT_KEY : "");
    arg(&a, AUDIT_MAXLEN_STR);
    argn(&a, audit_argc > 0 ? audit_argc : 0);
    for (int i = 0; i < audit_argc; i++)
        arg(&a, audit_argv[i]);
    patch_args(&a, patch);
    r = run(b, &lua_bb_requeue, &a, cause);
    rc = verdict(r, cause);
    if (r != NULL)
        freeReplyObject(r);
    return rc;
}

/* 32 hex characters from the kernel's random source. */
static void random_token(char out[33])
{
    unsigned char raw[16];
    size_t got = 0;

    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);

        if (n < 0 && errno != EINTR)
            fail("getrandom: %s", strerror(errno));
        if (n > 0)
            got += (size_t)n;
    }
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

static void fill_lock(struct bb_lock *lk, const char *id, const char *token, long long fence)
{
    snprintf(lk->id, sizeof lk->id, "%s", id);
    snprintf(lk->holder, sizeof lk->holder, "%s:%lld", token, fence);
    lk->fence = fence;
}

/* The step of a claim from status `from` into `to`, and where it goes back when taken back:
 * the table's resume stage of `to`, else `from`. */
static const char *claim_step(enum bb_status to)
{
    return bb_statuses[to].step != NULL ? bb_statuses[to].step : "";
}

static void claim_back(enum bb_status from, enum bb_status to, char *buf, size_t size)
{
    if (bb_statuses[to].resume != NULL)
        snprintf(buf, size, "stage:%s", bb_statuses[to].resume);
    else
        snprintf(buf, size, "st:%s", bb_statuses[from].name);
}

/* The reply of a claim-like script ({1, id, fence, version[, item[, source]]} or {0}): fills
 * *lk and, when item is not NULL, *item. */
static int took(redisReply *r, const char *token, struct bb_lock *lk, struct bb_item **item)
{
    int rc = BB_NONE;

    if (rlink_reply_int(r, 0) == 1) {
        fill_lock(lk, rlink_reply_str(r, 1), token, rlink_reply_int(r, 2));
        if (item != NULL && r->elements > 4 && r->element[4]->type == REDIS_REPLY_ARRAY)
            *item = item_from_hash(r->element[4]);
        rc = BB_OK;
    }
    return rc;
}

void bb_flow_depth_key(int stage, char *key, size_t key_size, char *field, size_t field_size)
{
    const struct bb_flow_stage *f = &bb_flow_stages[stage];

    if (f->status != BB_STATUS_NONE) {
        snprintf(key, key_size, "%scounts", BB_PREFIX);
        snprintf(field, field_size, "%s/%s", bb_section_names[bb_statuses[f->status].section],
                 bb_statuses[f->status].name);
    } else {
        snprintf(key, key_size, "%sstage:%s", BB_PREFIX, f->stage);
        field[0] = '\0';
    }
}

/* The gate's arguments (gate_full in bb_lib.lua): the key and field of the depth of flow stage
 * `stage` and its mark; none when stage < 0 or hwm <= 0. */
static void gate_args(struct args *a, int stage, long hwm)
{
    char key[96], field[96];

    if (stage < 0 || stage >= BB_FLOW_COUNT || hwm <= 0) {
        arg(a, "");
        arg(a, "");
        arg(a, "0");
        return;
    }
    bb_flow_depth_key(stage, key, sizeof key, field, sizeof field);
    arg(a, key);
    arg(a, field);
    argn(a, hwm);
}

/* A claim without a flow. */
static const struct bb_flow_opts flow_none = {.gate = -1, .take_gate = -1};

/* The staleness and audit arguments of a claim. */
static void stale_args(struct args *a, const struct bb_flow_opts *o)
{
    argn(a, o->stale_ms > 0 ? o->stale_ms : 0);
    arg(a, AUDIT_KEY);
    arg(a, AUDIT_MAXLEN_STR);
}

/* BB_HELD for a reply {2, depth}: *cause names the full stage. */
static int held(const redisReply *r, int stage, long hwm, char **cause)
{
    *cause = xasprintf("the %s stage is full (%lld of %ld): backpressure",
                       stage >= 0 && stage < BB_FLOW_COUNT ? bb_flow_stages[stage].name : "?",
                       rlink_reply_int(r, 1), hwm);
    return BB_HELD;
}

/* Runs a claim-like script (bb_claim.lua, bb_lock_first.lua: ARGV prefix, from, to-or-status,
 * actor, token, ttl, scan, read, step, back, then the flow: gate, staleness, audit) and fills
 * *lk and, when item is not NULL, *item. */
static int take_run(struct bb *b, const struct lua_script *script, const char *from, const char *to,
                    const char *step, const char *back, int ttl_ms, const struct bb_flow_opts *o,
                    struct bb_lock *lk, struct bb_item **item, char **cause)
{
    struct args a = {0};
    char token[33];
    redisReply *r;
    int rc;

    random_token(token);
    arg(&a, BB_PREFIX);
    arg(&a, from);
    arg(&a, to);
    arg(&a, b->actor);
    arg(&a, token);
    argn(&a, ttl_ms);
    arg(&a, "16");
    arg(&a, item != NULL ? "1" : "0");
    arg(&a, step);
    arg(&a, back);
    if (o == NULL)
        o = &flow_none;
    gate_args(&a, o->gate, o->gate_hwm);
    stale_args(&a, o);
    if (item != NULL)
        *item = NULL;
    r = run(b, script, &a, cause);
    if (r == NULL)
        return BB_ERR;
    if (rlink_reply_int(r, 0) == 2)
        rc = held(r, o->gate, o->gate_hwm, cause);
    else
        rc = took(r, token, lk, item);
    freeReplyObject(r);
    return rc;
}

int bb_claim(struct bb *b, enum bb_status from, enum bb_status to, int ttl_ms, struct bb_lock *lk,
             char **cause)
{
    return bb_claim_item(b, from, to, ttl_ms, lk, NULL, cause);
}

int bb_claim_item(struct bb *b, enum bb_status from, enum bb_status to, int ttl_ms,
                  struct bb_lock *lk, struct bb_item **item, char **cause)
{
    return bb_claim_flow(b, from, to, ttl_ms, NULL, lk, item, cause);
}

int bb_claim_flow(struct bb *b, enum bb_status from, enum bb_status to, int ttl_ms,
                  const struct bb_flow_opts *o, struct bb_lock *lk, struct bb_item **item,
                  char **cause)
{
    char back[64];

    claim_back(from, to, back, sizeof back);
    return take_run(b, &lua_bb_claim, bb_statuses[from].name, bb_statuses[to].name, claim_step(to),
                    back, ttl_ms, o, lk, item, cause);
}

int bb_take(struct bb *b, const char *stage, enum bb_status st, int ttl_ms, struct bb_lock *lk,
            struct bb_item **item, char **cause)
{
    return bb_take_any(b, &stage, 1, st, -1, ttl_ms, lk, item, NULL, cause);
}

int bb_take_any(struct bb *b, const char *const *stages, size_t nstages, enum bb_status st,
                int claim_from, int ttl_ms, struct bb_lock *lk, struct bb_item **item,
                size_t *source, char **cause)
{
    return bb_take_flow(b, stages, nstages, st, claim_from, ttl_ms, NULL, lk, item, source, cause);
}

int bb_take_flow(struct bb *b, const char *const *stages, size_t nstages, enum bb_status st,
                 int claim_from, int ttl_ms, const struct bb_flow_opts *o, struct bb_lock *lk,
                 struct bb_item **item, size_t *source, char **cause)
{
    struct args a = {0};
    char token[33], back[64] = "";
    const char *src;
    redisReply *r;
    int rc;

    for (size_t i = 0; i < nstages; i++)
        if (!stage_valid(stages[i])) {
            *cause = xasprintf("stage '%s' is not 1 to %d characters of a-z and _", stages[i],
                               BB_STAGE_MAX);
            return BB_ERR;
        }
    if (claim_from >= 0)
        claim_back((enum bb_status)claim_from, st, back, sizeof back);
    random_token(token);
    arg(&a, BB_PREFIX);
    arg(&a, bb_statuses[st].name);
    arg(&a, b->actor);
    arg(&a, token);
    argn(&a, ttl_ms);
    arg(&a, "16");
    arg(&a, item != NULL ? "1" : "0");
    arg(&a, claim_from >= 0 ? bb_statuses[claim_from].name : "");
    arg(&a, claim_step(st));
    arg(&a, back);
    if (o == NULL)
        o = &flow_none;
    gate_args(&a, o->take_gate, o->take_hwm);
    gate_args(&a, o->gate, o->gate_hwm);
    stale_args(&a, o);
    for (size_t i = 0; i < nstages; i++)
        arg(&a, stages[i]);
    if (item != NULL)
        *item = NULL;
    r = run(b, &lua_bb_take, &a, cause);
    if (r == NULL)
        return BB_ERR;
    if (rlink_reply_int(r, 0) == 2) {
        /* Which gate was full: the stages' when it has one at that depth, else the claim's. */
        bool take = o->take_gate >= 0 && o->take_hwm > 0 && rlink_reply_int(r, 1) >= o->take_hwm;

        rc = held(r, take ? o->take_gate : o->gate, take ? o->take_hwm : o->gate_hwm, cause);
        freeReplyObject(r);
        return rc;
    }
    rc = took(r, token, lk, item);
    if (rc == BB_OK && source != NULL) {
        src = rlink_reply_str(r, 5);
        *source = nstages;
        for (size_t i = 0; i < nstages; i++)
            if (strcmp(src, stages[i]) == 0)
                *source = i;
    }
    freeReplyObject(r);
    return rc;
}

int bb_lock_first(struct bb *b, enum bb_status st, int ttl_ms, struct bb_lock *lk,
                  struct bb_item **item, char **cause)
{
    return take_run(b, &lua_bb_lock_first, bb_statuses[st].name, "",
                    bb_statuses[st].step != NULL ? bb_statuses[st].step : "", "", ttl_ms, NULL, lk,
                    item, cause);
}

int bb_stage_len(struct bb *b, const char *stage, long *n, char **cause)
{
    redisReply *r;

    if (!stage_valid(stage)) {
        *cause =
            xasprintf("stage '%s' is not 1 to %d characters of a-z and _", stage, BB_STAGE_MAX);
        return BB_ERR;
    }
    r = rlink_command(b->link, cause, "ZCARD %sstage:%s", BB_PREFIX, stage);
    if (r == NULL)
        return BB_ERR;
    *n = r->type == REDIS_REPLY_INTEGER ? (long)r->integer : 0;
    freeReplyObject(r);
    return BB_OK;
}

int bb_lock_acquire(struct bb *b, const char *id, int ttl_ms, struct bb_lock *lk, char **cause)
{
    struct args a = {0};
    char token[33];
    redisReply *r;
    int rc;

    random_token(token);
    arg(&a, BB_PREFIX);
    arg(&a, id);
    arg(&a, token);
    argn(&a, ttl_ms);
    arg(&a, b->actor);
    arg(&a, "");
    r = run(b, &lua_bb_lock, &a, cause);
    if (r == NULL)
        return BB_ERR;
    if (rlink_reply_int(r, 0) == 1) {
        fill_lock(lk, id, token, rlink_reply_int(r, 1));
        rc = BB_OK;
    } else {
        rc = strcmp(rlink_reply_str(r, 1), "busy") == 0 ? BB_REFUSED : BB_NONE;
        *cause = rc == BB_REFUSED ? xasprintf("%s is locked by another holder", id)
                                  : xasprintf("%s", rlink_reply_str(r, 1));
    }
    freeReplyObject(r);
    return rc;
}

/* The reply of a token-comparing lock script (freed here): BB_OK when the lock was ours (1),
 * BB_REFUSED with *cause when not, BB_ERR when there was no reply. */
static int lock_verdict(redisReply *r, const struct bb_lock *lk, char **cause)
{
    int rc;

    if (r == NULL)
        return BB_ERR;
    rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? BB_OK : BB_REFUSED;
    if (rc == BB_REFUSED)
        *cause = xasprintf("the lock of %s is no longer ours (expired or taken)", lk->id);
    freeReplyObject(r);
    return rc;
}

/* Runs the token-comparing lock_extend.lua. */
static int lock_script(struct bb *b, const struct lua_script *s, const struct bb_lock *lk,
                       int ttl_ms, char **cause)
{
    char key[sizeof BB_PREFIX + 8 + NEWS_ID_MAX], ttl[16];
    const char *argv[3] = {key, lk->holder, ttl};
    redisReply *r;

    snprintf(key, sizeof key, "%slock:%s", BB_PREFIX, lk->id);
    snprintf(ttl, sizeof ttl, "%d", ttl_ms);
    r = rlink_eval(b->link, s, 1, 3, argv, cause);
    return lock_verdict(r, lk, cause);
}

int bb_lock_extend(struct bb *b, const struct bb_lock *lk, int ttl_ms, char **cause)
{
    return lock_script(b, &lua_lock_extend, lk, ttl_ms, cause);
}

int bb_lock_release(struct bb *b, const struct bb_lock *lk, char **cause)
{
    struct args a = {0};

    arg(&a, BB_PREFIX);
    arg(&a, lk->id);
    arg(&a, lk->holder);
    return lock_verdict(run(b, &lua_bb_release, &a, cause), lk, cause);
}

int bb_with_lock(struct bb *b, const char *id, int ttl_ms,
                 int (*fn)(struct bb *, const struct bb_lock *, void *), void *ctx, char **cause)
{
    struct bb_lock lk;
    char *ignored = NULL;
    int rc = bb_lock_acquire(b, id, ttl_ms, &lk, cause);

    if (rc != BB_OK)
        return rc;
    rc = fn(b, &lk, ctx);
    /* Released on every path; a lock that expired meanwhile is simply gone already. */
    bb_lock_release(b, &lk, &ignored);
    free(ignored);
    return rc;
}

int bb_query(struct bb *b, int section, int status, const char *after, size_t limit,
             struct bb_item ***items, size_t *n, char next[BB_CURSOR_MAX + 1], char **cause)
{
    struct args a = {0};
    redisReply *r;

    *items = NULL;
    *n = 0;
    if (section < 0 && status < 0) {
        *cause = xasprintf("a query needs a section or a status");
        return BB_REFUSED;
    }
    if (after != NULL && strlen(after) > BB_CURSOR_MAX) {
        *cause = xasprintf("the cursor is longer than %d characters", BB_CURSOR_MAX);
        return BB_REFUSED;
    }
    arg(&a, BB_PREFIX);
    arg(&a, section >= 0 ? bb_section_names[section] : "");
    arg(&a, status >= 0 ? bb_statuses[status].name : "");
    /* Copied before next is written: a caller may pass the same buffer as both. */
    arg(&a, after != NULL ? after : "");
    next[0] = '\0';
    argn(&a, (long long)(limit == 0 ? 1 : limit));
    r = run(b, &lua_bb_query, &a, cause);
    if (r == NULL)
        return strncmp(*cause, "bad cursor", 10) == 0 ? BB_REFUSED : BB_ERR;
    snprintf(next, BB_CURSOR_MAX + 1, "%s", rlink_reply_str(r, 0));
    *items = xcalloc(r->elements, sizeof **items);
    for (size_t i = 1; i < r->elements; i++)
        (*items)[(*n)++] = item_from_hash(r->element[i]);
    freeReplyObject(r);
    return BB_OK;
}

int bb_counts(struct bb *b, long counts[BB_SECTION_COUNT][BB_STATUS_COUNT], char **cause)
{
    redisReply *r = rlink_command(b->link, cause, "HGETALL %scounts", BB_PREFIX);

    if (r == NULL)
        return BB_ERR;
    memset(counts, 0, sizeof(long) * BB_SECTION_COUNT * BB_STATUS_COUNT);
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        char sec[32];
        const char *slash = strchr(r->element[i]->str, '/');
        int s, st;

        if (slash == NULL || (size_t)(slash - r->element[i]->str) >= sizeof sec)
            continue;
        snprintf(sec, sizeof sec, "%.*s", (int)(slash - r->element[i]->str), r->element[i]->str);
        s = bb_section_parse(sec);
        st = bb_status_parse(slash + 1);
        if (s >= 0 && st >= 0)
            counts[s][st] = strtol(r->element[i + 1]->str, NULL, 10);
    }
    freeReplyObject(r);
    return BB_OK;
}

int bb_events_read(struct bb *b, const char *after, int block_ms, struct bb_event *out, size_t max,
                   size_t *n, char **cause)
{
    redisReply *r, *entries;
    char count[24], block[24];

    *n = 0;
    snprintf(count, sizeof count, "%zu", max);
    snprintf(block, sizeof block, "%d", block_ms);
    if (block_ms > 0)
        r = rlink_command(b->link, cause, "XREAD COUNT %s BLOCK %s STREAMS %sevents %s", count,
                          block, BB_PREFIX, after);
    else
        r = rlink_command(b->link, cause, "XREAD COUNT %s STREAMS %sevents %s", count, BB_PREFIX,
                          after);
    if (r == NULL)
        return BB_ERR;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        freeReplyObject(r);
        return BB_OK; /* nil: nothing new */
    }
    entries = r->element[0]->element[1];
    for (size_t i = 0; i < entries->elements && *n < max; i++) {
        redisReply *e = entries->element[i], *f = e->element[1];
        struct bb_event *ev = &out[(*n)++];

        memset(ev, 0, sizeof *ev);
        snprintf(ev->sid, sizeof ev->sid, "%s", e->element[0]->str);
        for (size_t k = 0; k + 1 < f->elements; k += 2) {
            const char *name = f->element[k]->str, *v = f->element[k + 1]->str;

            if (strcmp(name, "k") == 0)
                snprintf(ev->kind, sizeof ev->kind, "%s", v);
            else if (strcmp(name, "id") == 0)
                snprintf(ev->id, sizeof ev->id, "%s", v);
            else if (strcmp(name, "from") == 0)
                snprintf(ev->from, sizeof ev->from, "%s", v);
            else if (strcmp(name, "to") == 0)
                snprintf(ev->to, sizeof ev->to, "%s", v);
            else if (strcmp(name, "sec") == 0)
                snprintf(ev->section, sizeof ev->section, "%s", v);
            else if (strcmp(name, "v") == 0)
                ev->version = strtoll(v, NULL, 10);
            else if (strcmp(name, "by") == 0)
                snprintf(ev->by, sizeof ev->by, "%s", v);
            else if (strcmp(name, "why") == 0)
                snprintf(ev->why, sizeof ev->why, "%s", v);
            else if (strcmp(name, "t") == 0)
                ev->t_ms = strtoll(v, NULL, 10);
        }
    }
    freeReplyObject(r);
    return BB_OK;
}

int bb_flow_read(struct bb *b, const long publish[BB_FLOW_COUNT], const char *extra,
                 struct bb_flow_reading *out, char **cause)
{
    struct args a = {0};
    const redisReply *st, *ex;
    redisReply *r;

    memset(out, 0, sizeof *out);
    arg(&a, BB_PREFIX);
    arg(&a, publish != NULL ? "1" : "0");
    arg(&a, extra != NULL ? extra : "");
    for (int i = 0; i < BB_FLOW_COUNT; i++) {
        char key[96], field[96];

        bb_flow_depth_key(i, key, sizeof key, field, sizeof field);
        arg(&a, bb_flow_stages[i].name);
        arg(&a, key);
        arg(&a, field);
        argn(&a, publish != NULL ? publish[i] : 0);
    }
    r = run(b, &lua_bb_flow, &a, cause);
    if (r == NULL)
        return BB_ERR;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[1]->type != REDIS_REPLY_ARRAY ||
        r->element[1]->elements != 3 * (size_t)BB_FLOW_COUNT ||
        r->element[2]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        *cause = xasprintf("unexpected reply from bb_flow.lua");
        return BB_ERR;
    }
    out->now_ms = rlink_reply_int(r, 0);
    st = r->element[1];
    for (int i = 0; i < BB_FLOW_COUNT; i++) {
        out->depth[i] = (long)rlink_reply_int(st, 3 * (size_t)i);
        out->drained[i] = rlink_reply_int(st, 3 * (size_t)i + 1);
        out->hwm[i] = (long)rlink_reply_int(st, 3 * (size_t)i + 2);
    }
    ex = r->element[2];
    for (size_t i = 0; i + 1 < ex->elements && out->nextra < BB_FLOW_EXTRA_MAX; i += 2) {
        snprintf(out->extra_name[out->nextra], sizeof out->extra_name[0], "%s",
                 rlink_reply_str(ex, i));
        out->extra_value[out->nextra++] = strtoll(rlink_reply_str(ex, i + 1), NULL, 10);
    }
    freeReplyObject(r);
    return BB_OK;
}

int bb_expire(struct bb *b, int64_t stale_ms, int64_t review_ms, int limit, long *stale,
              long *unreviewed, char **cause)
{
    struct args a = {0};
    redisReply *r;

    arg(&a, BB_PREFIX);
    arg(&a, b->actor);
    argn(&a, stale_ms > 0 ? stale_ms : 0);
    argn(&a, review_ms > 0 ? review_ms : 0);
    arg(&a, AUDIT_KEY);
    arg(&a, AUDIT_MAXLEN_STR);
    argn(&a, limit > 0 ? limit : 1);
    r = run(b, &lua_bb_expire, &a, cause);
    if (r == NULL)
        return BB_ERR;
    if (stale != NULL)
        *stale = (long)rlink_reply_int(r, 0);
    if (unreviewed != NULL)
        *unreviewed = (long)rlink_reply_int(r, 1);
    freeReplyObject(r);
    return BB_OK;
}

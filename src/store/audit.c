/*
 * audit.c - the operator audit stream; see audit.h. Stateless: every call works on the
 * caller's link and data, so any thread may call it with its own link.
 */
#include "store/audit.h"

#include "core/clock.h"
#include "core/fail.h"
#include "store/rlink.h"

#include <ctype.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Copies s into out, bytes outside printable ASCII replaced by '?': names end up in terminals
 * and logs, and a user name or address has no business carrying anything else. */
static void copy_plain(char *out, size_t size, const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0' && i + 1 < size; i++)
        out[i] = (s[i] > ' ' && s[i] < 0x7f) ? s[i] : '?';
    out[i] = '\0';
}

static void who_user(char *out, size_t size)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    const char *env;

    if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res != NULL &&
        pw.pw_name != NULL && pw.pw_name[0] != '\0') {
        copy_plain(out, size, pw.pw_name);
        return;
    }
    env = getenv("LOGNAME");
    if (env == NULL || env[0] == '\0')
        env = getenv("USER");
    if (env != NULL && env[0] != '\0') {
        copy_plain(out, size, env);
        return;
    }
    snprintf(out, size, "uid:%u", (unsigned int)getuid());
}

/* The first word of $SSH_CLIENT ("ADDR PORT LPORT") or $SSH_CONNECTION ("ADDR PORT SADDR
 * SPORT"): the client's address, IPv4 or IPv6 (with a %zone). Anything else is "unknown". */
static void who_from(char *out, size_t size)
{
    static const char *const vars[] = {"SSH_CLIENT", "SSH_CONNECTION"};

    for (size_t v = 0; v < sizeof vars / sizeof vars[0]; v++) {
        const char *s = getenv(vars[v]);
        size_t n;
        bool good = true;

        if (s == NULL)
            continue;
        while (*s == ' ')
            s++;
        n = strcspn(s, " ");
        if (n == 0)
            continue;
        for (size_t i = 0; i < n; i++)
            if (!isalnum((unsigned char)s[i]) && strchr(".:%-_", s[i]) == NULL)
                good = false;
        if (!good || n >= size) {
            snprintf(out, size, "unknown");
            return;
        }
        snprintf(out, size, "%.*s", (int)n, s);
        return;
    }
    snprintf(out, size, "local");
}

void audit_whoami(struct audit_who *out)
{
    who_user(out->user, sizeof out->user);
    who_from(out->from, sizeof out->from);
}

/* A copy of reason no longer than AUDIT_REASON_MAX bytes, cut at a UTF-8 boundary. */
static char *short_reason(const char *reason)
{
    size_t len = strlen(reason), cut;

    if (len <= AUDIT_REASON_MAX)
        return xstrdup(reason);
    cut = AUDIT_REASON_MAX - 3;
    while (cut > 0 && ((unsigned char)reason[cut] & 0xC0) == 0x80)
        cut--;
    return xasprintf("%.*s...", (int)cut, reason);
}

int audit_record_fill(struct audit_record *r, const char *what, const char *item,
                      const char *reason, char **cause)
{
    memset(r, 0, sizeof *r);
    if (what == NULL || what[0] == '\0') {
        *cause = xasprintf("an audit record needs a non-empty \"what\"");
        return -1;
    }
    audit_whoami(&r->who);
    snprintf(r->time_ms, sizeof r->time_ms, "%lld", (long long)clock_wall_ms());
    r->what = what;
    r->item = item;
    r->reason = reason != NULL ? short_reason(reason) : NULL;

    /* The record's shape, shared with the Lua scripts that audit atomically. */
    r->argv[r->argc++] = "user";
    r->argv[r->argc++] = r->who.user;
    r->argv[r->argc++] = "from";
    r->argv[r->argc++] = r->who.from;
    r->argv[r->argc++] = "time_ms";
    r->argv[r->argc++] = r->time_ms;
    r->argv[r->argc++] = "what";
    r->argv[r->argc++] = r->what;
    if (item != NULL) {
        r->argv[r->argc++] = "item";
        r->argv[r->argc++] = item;
    }
    if (r->reason != NULL) {
        r->argv[r->argc++] = "reason";
        r->argv[r->argc++] = r->reason;
    }
    return 0;
}

void audit_record_done(struct audit_record *r)
{
    free(r->reason);
    r->reason = NULL;
}

int audit_append(struct rlink *l, const char *what, const char *item, const char *reason,
                 char **cause)
{
    struct audit_record rec;
    const char *argv[6 + AUDIT_ARGV_MAX];
    int argc = 0;
    redisReply *r;

    if (audit_record_fill(&rec, what, item, reason, cause) == -1)
        return -1;
    argv[argc++] = "XADD";
    argv[argc++] = AUDIT_KEY;
    argv[argc++] = "MAXLEN";
    argv[argc++] = "~";
    argv[argc++] = AUDIT_MAXLEN_STR;
    argv[argc++] = "*";
    for (int i = 0; i < rec.argc; i++)
        argv[argc++] = rec.argv[i];
    r = rlink_command_argv(l, cause, argc, argv, NULL);
    audit_record_done(&rec);
    if (r == NULL) {
        char *why = *cause;

        *cause = xasprintf("cannot append to the audit stream: %s", why);
        free(why);
        return -1;
    }
    freeReplyObject(r);
    return 0;
}

static char *reply_str(const redisReply *r)
{
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)
        return NULL;
    /* Values are written by this module without NULs; one that has some is cut there. */
    return xstrdup(r->str);
}

/* Fills e from one XREVRANGE element: [id, [field, value, ...]]. */
static int parse_entry(const redisReply *el, struct audit_entry *e, char **cause)
{
    const redisReply *fv;

    if (el->type != REDIS_REPLY_ARRAY || el->elements != 2 ||
        el->element[0]->type != REDIS_REPLY_STRING || el->element[1]->type != REDIS_REPLY_ARRAY) {
        *cause = xasprintf("the audit stream %s holds an entry of an unexpected shape", AUDIT_KEY);
        return -1;
    }
    e->id = xstrdup(el->element[0]->str);
    fv = el->element[1];
    for (size_t i = 0; i + 1 < fv->elements; i += 2) {
        const redisReply *f = fv->element[i], *v = fv->element[i + 1];
        struct {
            const char *name;
            char **slot;
        } fields[] = {
            {"user", &e->user}, {"from", &e->from},     {"what", &e->what},
            {"item", &e->item}, {"reason", &e->reason},
        };

        if (f->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(f->str, "time_ms") == 0 && v->type == REDIS_REPLY_STRING) {
            e->time_ms = strtoll(v->str, NULL, 10);
            continue;
        }
        for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
            if (strcmp(f->str, fields[k].name) == 0 && *fields[k].slot == NULL) {
                *fields[k].slot = reply_str(v);
                break;
            }
        }
    }
    /* A record written by hand may lack fields; show it rather than fail the listing. */
    if (e->user == NULL)
        e->user = xstrdup("?");
    if (e->from == NULL)
        e->from = xstrdup("?");
    if (e->what == NULL)
        e->what = xstrdup("?");
    if (e->time_ms == 0)
        e->time_ms = strtoll(e->id, NULL, 10); /* the id starts with the ms of the XADD */
    return 0;
}

int audit_read(struct rlink *l, int limit, struct audit_entry **entries, size_t *n, char **cause)
{
    char count[16];
    const char *argv[] = {"XREVRANGE", AUDIT_KEY, "+", "-", "COUNT", count};
    struct audit_entry *list;
    redisReply *r;

    *entries = NULL;
    *n = 0;
    if (limit < 1) {
        *cause = xasprintf("the audit limit must be at least 1, not %d", limit);
        return -1;
    }
    snprintf(count, sizeof count, "%d", limit);
    r = rlink_command_argv(l, cause, 6, argv, NULL);
    if (r == NULL) {
        char *why = *cause;

        *cause = xasprintf("cannot read the audit stream: %s", why);
        free(why);
        return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY) {
        *cause = xasprintf("XREVRANGE %s did not answer an array", AUDIT_KEY);
        freeReplyObject(r);
        return -1;
    }
    list = xcalloc(r->elements + 1, sizeof *list);
    for (size_t i = 0; i < r->elements; i++) {
        if (parse_entry(r->element[i], &list[i], cause) == -1) {
            audit_entries_free(list, i + 1);
            freeReplyObject(r);
            return -1;
        }
    }
    *entries = list;
    *n = r->elements;
    freeReplyObject(r);
    return 0;
}

void audit_entries_free(struct audit_entry *entries, size_t n)
{
    if (entries == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(entries[i].id);
        free(entries[i].user);
        free(entries[i].from);
        free(entries[i].what);
        free(entries[i].item);
        free(entries[i].reason);
    }
    free(entries);
}

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
    size_t len;
    unsigned int cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4;
    else
        return 0;
    cp = s[0] & (0x7Fu >> len); /* the lead byte's payload bits */
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

static json_t *json_utf8(const char *s)
{
    char *copy;
    json_t *v;

    if (s == NULL)
        return json_null();
    v = json_string(s);
    if (v != NULL)
        return v;
    copy = xstrdup(s);
    for (unsigned char *p = (unsigned char *)copy; *p != '\0';) {
        size_t k = utf8_seq(p);

        if (k == 0)
            *p++ = '?';
        else
            p += k;
    }
    v = json_string(copy);
    free(copy);
    return v != NULL ? v : json_string("?");
}

json_t *audit_entry_to_json(const struct audit_entry *e)
{
    json_t *o = json_object();

    if (o == NULL)
        fail("out of memory");
    json_object_set_new(o, "id", json_utf8(e->id));
    json_object_set_new(o, "time_ms", json_integer(e->time_ms));
    json_object_set_new(o, "user", json_utf8(e->user));
    json_object_set_new(o, "from", json_utf8(e->from));
    json_object_set_new(o, "what", json_utf8(e->what));
    json_object_set_new(o, "item", json_utf8(e->item));
    json_object_set_new(o, "reason", json_utf8(e->reason));
    return o;
}

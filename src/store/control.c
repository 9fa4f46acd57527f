/*
 * control.c - the emergency broadcast and the halt flag; see control.h. Stateless: every call
 * works on the caller's link, so any thread may call it with its own link.
 */
#include "store/control.h"

#include "core/clock.h"
#include "core/fail.h"
#include "store/audit.h"
#include "store/bus.h"
#include "store/lua_scripts.h"
#include "store/message.h"
#include "store/rlink.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void control_halt_clear(struct control_halt *h)
{
    if (h == NULL)
        return;
    free(h->message);
    free(h->user);
    free(h->from);
    memset(h, 0, sizeof *h);
}

static char *json_str_field(const json_t *o, const char *name, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, name));

    return xstrdup(s != NULL ? s : dflt);
}

/* Fills h from the stored halt record of len bytes; unreadable contents still mean halted. */
static void parse_halt(const char *text, size_t len, struct control_halt *h)
{
    json_t *o = json_loadb(text, len, 0, NULL);

    h->halted = true;
    h->message = json_str_field(o, "message", "(unreadable halt record)");
    h->user = json_str_field(o, "user", "?");
    h->from = json_str_field(o, "from", "?");
    h->time_ms = json_is_integer(json_object_get(o, "time_ms"))
                     ? (int64_t)json_integer_value(json_object_get(o, "time_ms"))
                     : 0;
    json_decref(o);
}

int control_halt_read(struct rlink *l, struct control_halt *out, char **cause)
{
    const char *argv[] = {"GET", CONTROL_HALT_KEY};
    redisReply *r;

    memset(out, 0, sizeof *out);
    r = rlink_command_argv(l, cause, 2, argv, NULL);
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_STRING)
        parse_halt(r->str, r->len, out);
    freeReplyObject(r);
    return 0;
}

int control_check_message(const char *text, char **cause)
{
    json_t *s;

    if (text == NULL || text[0] == '\0') {
        *cause = xasprintf("the emergency message is empty");
        return -1;
    }
    if (strlen(text) > CONTROL_MESSAGE_MAX) {
        *cause = xasprintf("the emergency message is %zu bytes long, more than %d", strlen(text),
                           CONTROL_MESSAGE_MAX);
        return -1;
    }
    s = json_string(text);
    if (s == NULL) {
        *cause = xasprintf("the emergency message is not valid UTF-8");
        return -1;
    }
    json_decref(s);
    return 0;
}

/* "operator:<user>", the sender of what an operator sends. */
static char *operator_sender(const struct audit_who *who)
{
    return xasprintf("operator:%s", who->user);
}

/* Runs a control script: KEYS = halt flag and audit stream; ARGV = head[0..nhead), then the
 * audit record's pairs. */
static redisReply *run_script(struct rlink *l, const struct lua_script *script, const char **head,
                              int nhead, const struct audit_record *rec, char **cause)
{
    const char *argv[2 + 8 + AUDIT_ARGV_MAX];
    int argc = 0;

    argv[argc++] = CONTROL_HALT_KEY;
    argv[argc++] = AUDIT_KEY;
    for (int i = 0; i < nhead; i++)
        argv[argc++] = head[i];
    for (int i = 0; i < rec->argc; i++)
        argv[argc++] = rec->argv[i];
    return rlink_eval(l, script, 2, argc, argv, cause);
}

int control_emergency(struct rlink *l, const char *text, bool halt, long long *receivers,
                      char **msg_id, char **cause)
{
    struct audit_record rec;
    struct msg *m;
    char *sender, *encoded, *record = NULL;
    const char *head[4];
    redisReply *r;
    int rc = -1;

    if (control_check_message(text, cause) == -1)
        return -1;
    if (audit_record_fill(&rec, halt ? "emergency-halt" : "emergency", NULL, text, cause) == -1)
        return -1;
    sender = operator_sender(&rec.who);
    m = msg_new(MSG_EMERGENCY, sender, NULL,
                json_pack("{s:s, s:b, s:s, s:s}", "message", text, "halt", halt, "user",
                          rec.who.user, "from", rec.who.from));
    encoded = msg_encode(m, cause);
    if (encoded == NULL)
        goto done;
    if (halt) {
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:I, s:s}", "message", text, "user", rec.who.user, "from",
                      rec.who.from, "time_ms", (json_int_t)m->time_ms, "message_id", m->id);

        record = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (record == NULL)
            fail("out of memory encoding the halt record");
    }
    head[0] = bus_broadcast_channel(BUS_EMERGENCY);
    head[1] = encoded;
    head[2] = record != NULL ? record : "";
    head[3] = AUDIT_MAXLEN_STR;
    r = run_script(l, &lua_bus_emergency, head, 4, &rec, cause);
    if (r == NULL)
        goto done;
    if (r->type != REDIS_REPLY_INTEGER) {
        *cause = xasprintf("%s.lua did not answer an integer", lua_bus_emergency.name);
        freeReplyObject(r);
        goto done;
    }
    if (receivers != NULL)
        *receivers = r->integer;
    if (msg_id != NULL)
        *msg_id = xstrdup(m->id);
    freeReplyObject(r);
    rc = 0;

done:
    free(record);
    free(encoded);
    msg_free(m);
    free(sender);
    audit_record_done(&rec);
    return rc;
}

int control_resume(struct rlink *l, const char *note, struct control_halt *lifted,
                   long long *receivers, char **cause)
{
    return control_resume_seen(l, note, 0, lifted, receivers, cause);
}

int control_resume_seen(struct rlink *l, const char *note, int64_t seen_ms,
                        struct control_halt *lifted, long long *receivers, char **cause)
{
    struct audit_record rec;
    struct msg *m;
    char *sender, *encoded;
    char seen[24] = "";
    const char *head[4];
    redisReply *r;
    int rc = -1;

    if (lifted != NULL)
        memset(lifted, 0, sizeof *lifted);
    if (audit_record_fill(&rec, "resume", NULL, note, cause) == -1)
        return -1;
    sender = operator_sender(&rec.who);
    m = msg_new(MSG_CONTROL, sender, NULL,
                json_pack("{s:s, s:s, s:s}", "command", CONTROL_CMD_RESUME, "user", rec.who.user,
                          "from", rec.who.from));
    encoded = msg_encode(m, cause);
    if (encoded == NULL)
        goto done;
    if (seen_ms > 0)
        snprintf(seen, sizeof seen, "%lld", (long long)seen_ms);
    head[0] = bus_broadcast_channel(BUS_CONTROL);
    head[1] = encoded;
    head[2] = seen;
    head[3] = AUDIT_MAXLEN_STR;
    r = run_script(l, &lua_bus_resume, head, 4, &rec, cause);
    if (r == NULL)
        goto done;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_INTEGER ||
        r->element[2]->type != REDIS_REPLY_INTEGER) {
        *cause = xasprintf("%s.lua answered in an unexpected shape", lua_bus_resume.name);
        freeReplyObject(r);
        goto done;
    }
    if (lifted != NULL && r->element[0]->len > 0)
        parse_halt(r->element[0]->str, r->element[0]->len, lifted);
    if (receivers != NULL)
        *receivers = r->element[1]->integer;
    rc = r->element[2]->integer == 1 ? 1 : 0;
    freeReplyObject(r);

done:
    free(encoded);
    msg_free(m);
    free(sender);
    audit_record_done(&rec);
    return rc;
}

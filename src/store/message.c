/*
 * message.c - bus messages and their JSON codec; see message.h. No shared state: every
 * function works on the caller's data, so any thread may call them.
 */
#include "store/message.h"

#include "core/clock.h"
#include "core/fail.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* The one table of message types: enum value <-> wire name. */
static const char *const type_names[MSG_TYPE_COUNT] = {
    [MSG_TASK_ASSIGN] = "TASK_ASSIGN", [MSG_TASK_COMPLETE] = "TASK_COMPLETE",
    [MSG_TASK_FAILED] = "TASK_FAILED", [MSG_DEBATE_INVITE] = "DEBATE_INVITE",
    [MSG_DEBATE_VOTE] = "DEBATE_VOTE", [MSG_PROD_START] = "PROD_START",
    [MSG_HEARTBEAT] = "HEARTBEAT",     [MSG_BUDGET_ALERT] = "BUDGET_ALERT",
    [MSG_CONTROL] = "CONTROL",         [MSG_EMERGENCY] = "EMERGENCY",
};

const char *msg_type_name(enum msg_type type)
{
    if ((int)type < 0 || (int)type >= MSG_TYPE_COUNT)
        return NULL;
    return type_names[type];
}

int msg_type_parse(const char *name, enum msg_type *out)
{
    for (int i = 0; i < MSG_TYPE_COUNT; i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *out = (enum msg_type)i;
            return 0;
        }
    }
    return -1;
}

/* 128 random bits as 32 hex digits. getrandom() is thread-safe and, for 16 bytes from the
 * urandom pool, does not block once the pool is ready; the clock fallback only guards an
 * exotic failure and is still unique within the process thanks to the counter. */
static char *new_id(void)
{
    static _Atomic unsigned long counter;
    unsigned char b[16];
    char *id = xmalloc(33);

    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        unsigned long n = ++counter;
        int64_t t = clock_mono_us() ^ clock_wall_ms();

        memcpy(b, &t, sizeof t);
        memcpy(b + 8, &n, sizeof n < 8 ? sizeof n : 8);
    }
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(id + 2 * i, 3, "%02x", b[i]);
    return id;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? xstrdup(s) : NULL;
}

struct msg *msg_new(enum msg_type type, const char *sender, const char *recipient, json_t *payload)
{
    struct msg *m = xcalloc(1, sizeof *m);

    m->id = new_id();
    m->type = type;
    m->sender = xstrdup(sender != NULL ? sender : "");
    m->recipient = dup_or_null(recipient);
    m->time_ms = clock_wall_ms();
    m->payload = payload != NULL ? payload : json_object();
    if (m->payload == NULL)
        fail("out of memory making a message payload");
    return m;
}

struct msg *msg_dup(const struct msg *m)
{
    struct msg *d = xcalloc(1, sizeof *d);

    d->id = xstrdup(m->id);
    d->type = m->type;
    d->sender = xstrdup(m->sender);
    d->recipient = dup_or_null(m->recipient);
    d->correlation_id = dup_or_null(m->correlation_id);
    d->time_ms = m->time_ms;
    d->ttl_ms = m->ttl_ms;
    d->payload = json_deep_copy(m->payload);
    if (d->payload == NULL)
        fail("out of memory copying a message payload");
    return d;
}

void msg_free(struct msg *m)
{
    if (m == NULL)
        return;
    free(m->id);
    free(m->sender);
    free(m->recipient);
    free(m->correlation_id);
    json_decref(m->payload);
    free(m);
}

void msg_set_correlation(struct msg *m, const char *correlation_id)
{
    free(m->correlation_id);
    m->correlation_id = dup_or_null(correlation_id);
}

bool msg_expired(const struct msg *m, int64_t now_ms)
{
    if (m->ttl_ms <= 0)
        return false;
    /* time_ms + ttl_ms could overflow for absurd values: compare the difference instead. */
    return now_ms - m->time_ms >= m->ttl_ms;
}

/* A JSON string of s, or NULL with *cause naming the field when s is not UTF-8. */
static json_t *str_or_null(const char *field, const char *s, char **cause)
{
    json_t *v;

    if (s == NULL)
        return json_null();
    v = json_string(s);
    if (v == NULL)
        *cause = xasprintf("message field \"%s\" is not valid UTF-8", field);
    return v;
}

json_t *msg_to_json(const struct msg *m, char **cause)
{
    const char *name = msg_type_name(m->type);
    const struct {
        const char *field;
        const char *value;
        bool nullable;
    } strings[] = {
        {"id", m->id, false},
        {"type", name, false},
        {"sender", m->sender, false},
        {"recipient", m->recipient, true},
        {"correlation_id", m->correlation_id, true},
    };
    json_t *o = json_object();

    if (o == NULL)
        fail("out of memory encoding a message");
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        json_t *v;

        if (strings[i].value == NULL && !strings[i].nullable) {
            *cause = xasprintf("message field \"%s\" is missing", strings[i].field);
            json_decref(o);
            return NULL;
        }
        v = str_or_null(strings[i].field, strings[i].value, cause);
        if (v == NULL) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, strings[i].field, v);
    }
    if (!json_is_object(m->payload)) {
        *cause = xasprintf("message payload must be a JSON object");
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, "time_ms", json_integer(m->time_ms));
    json_object_set_new(o, "ttl_ms", json_integer(m->ttl_ms));
    json_object_set(o, "payload", m->payload);
    return o;
}

char *msg_encode(const struct msg *m, char **cause)
{
    json_t *o = msg_to_json(m, cause);
    char *text;

    if (o == NULL)
        return NULL;
    text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (text == NULL)
        fail("out of memory encoding a message");
    return text;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "something else";
}

/* The string fields of the wire form: where each goes and whether it may be null. */
struct string_field {
    const char *name;
    size_t offset; /* of the char * in struct msg */
    bool optional; /* may be null or absent */
};

static const struct string_field string_fields[] = {
    {"id", offsetof(struct msg, id), false},
    {"sender", offsetof(struct msg, sender), false},
    {"recipient", offsetof(struct msg, recipient), true},
    {"correlation_id", offsetof(struct msg, correlation_id), true},
};

/* The integer fields: where each goes and whether it may be absent (then 0). */
struct int_field {
    const char *name;
    size_t offset; /* of the int64_t in struct msg */
    bool optional;
};

static const struct int_field int_fields[] = {
    {"time_ms", offsetof(struct msg, time_ms), false},
    {"ttl_ms", offsetof(struct msg, ttl_ms), true},
};

static int read_string(const json_t *o, const struct string_field *f, struct msg *m, char **cause)
{
    const json_t *v = json_object_get(o, f->name);
    char **slot = (char **)(void *)((char *)m + f->offset);
    size_t len;

    if (v == NULL || json_is_null(v)) {
        if (f->optional)
            return 0;
        *cause = xasprintf("message field \"%s\" is missing", f->name);
        return -1;
    }
    if (!json_is_string(v)) {
        *cause = xasprintf("message field \"%s\" must be a string, not %s", f->name, json_kind(v));
        return -1;
    }
    len = json_string_length(v);
    if (len == 0 && !f->optional) {
        *cause = xasprintf("message field \"%s\" is empty", f->name);
        return -1;
    }
    if (len > MSG_FIELD_MAX) {
        *cause = xasprintf("message field \"%s\" is %zu bytes long, more than %d", f->name, len,
                           MSG_FIELD_MAX);
        return -1;
    }
    if (memchr(json_string_value(v), '\0', len) != NULL) {
        *cause = xasprintf("message field \"%s\" contains a NUL character", f->name);
        return -1;
    }
    *slot = xstrdup(json_string_value(v));
    return 0;
}

static int read_int(const json_t *o, const struct int_field *f, struct msg *m, char **cause)
{
    const json_t *v = json_object_get(o, f->name);
    int64_t *slot = (int64_t *)(void *)((char *)m + f->offset);

    if (v == NULL) {
        if (f->optional)
            return 0;
        *cause = xasprintf("message field \"%s\" is missing", f->name);
        return -1;
    }
    if (!json_is_integer(v)) {
        *cause =
            xasprintf("message field \"%s\" must be an integer, not %s", f->name, json_kind(v));
        return -1;
    }
    if (json_integer_value(v) < 0) {
        *cause = xasprintf("message field \"%s\" is negative", f->name);
        return -1;
    }
    *slot = (int64_t)json_integer_value(v);
    return 0;
}

struct msg *msg_from_json(const json_t *o, char **cause)
{
    struct msg *m;
    const json_t *type, *payload;

    if (!json_is_object(o)) {
        *cause = xasprintf("a message must be a JSON object, not %s", json_kind(o));
        return NULL;
    }
    type = json_object_get(o, "type");
    if (type == NULL || json_is_null(type)) {
        *cause = xasprintf("message field \"type\" is missing");
        return NULL;
    }
    if (!json_is_string(type)) {
        *cause = xasprintf("message field \"type\" must be a string, not %s", json_kind(type));
        return NULL;
    }
    payload = json_object_get(o, "payload");
    if (payload != NULL && !json_is_object(payload)) {
        *cause =
            xasprintf("message field \"payload\" must be an object, not %s", json_kind(payload));
        return NULL;
    }

    m = xcalloc(1, sizeof *m);
    if (msg_type_parse(json_string_value(type), &m->type) == -1) {
        *cause = xasprintf("unknown message type \"%.64s\"", json_string_value(type));
        goto bad;
    }
    for (size_t i = 0; i < sizeof string_fields / sizeof string_fields[0]; i++)
        if (read_string(o, &string_fields[i], m, cause) == -1)
            goto bad;
    for (size_t i = 0; i < sizeof int_fields / sizeof int_fields[0]; i++)
        if (read_int(o, &int_fields[i], m, cause) == -1)
            goto bad;
    m->payload = payload != NULL ? json_deep_copy(payload) : json_object();
    if (m->payload == NULL)
        fail("out of memory decoding a message");
    return m;

bad:
    msg_free(m);
    return NULL;
}

struct msg *msg_decode(const char *text, size_t len, char **cause)
{
    json_error_t err;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    struct msg *m;

    if (o == NULL) {
        *cause = xasprintf("a message is not valid JSON: %s (at byte %d)", err.text, err.position);
        return NULL;
    }
    m = msg_from_json(o, cause);
    json_decref(o);
    return m;
}

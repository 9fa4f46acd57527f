/*
 * message.h - the messages agents and operators send each other over the bus (bus.h): id,
 * type, sender, recipient, correlation id, time, time to live and a JSON payload, with a JSON
 * codec that refuses anything of the wrong shape and says why.
 *
 * The message types are one table in message.c (name <-> enum); add a type there and here.
 *
 * Wire form (one JSON object, unknown fields ignored so that newer senders can add some):
 *   {"id": "3f0c…", "type": "TASK_ASSIGN", "sender": "analyst-1", "recipient": "writer-1",
 *    "correlation_id": null, "time_ms": 1714560000000, "ttl_ms": 30000, "payload": {…}}
 * recipient and correlation_id may be null or absent; ttl_ms 0 (or absent) never expires;
 * payload must be an object (absent means {}).
 *
 * Threads: pure functions on the caller's data; a message belongs to one thread at a time.
 */
#ifndef NEWSROOM_MESSAGE_H
#define NEWSROOM_MESSAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum msg_type {
    MSG_TASK_ASSIGN,
    MSG_TASK_COMPLETE,
    MSG_TASK_FAILED,
    MSG_DEBATE_INVITE,
    MSG_DEBATE_VOTE,
    MSG_PROD_START,
    MSG_HEARTBEAT,
    MSG_BUDGET_ALERT,
    MSG_CONTROL,
    MSG_EMERGENCY,
};
#define MSG_TYPE_COUNT ((int)MSG_EMERGENCY + 1)

/* The longest id, sender, recipient or correlation id a decoded message may carry. */
#define MSG_FIELD_MAX 256

struct msg {
    char *id; /* unique; msg_new() makes 32 random hex digits */
    enum msg_type type;
    char *sender;         /* an agent id, or "operator:<user>" for a person */
    char *recipient;      /* an agent id, a tier or NULL for a broadcast */
    char *correlation_id; /* the id of the message this answers, or NULL */
    int64_t time_ms;      /* wall clock (clock_wall_ms) when it was made, ms since the epoch */
    int64_t ttl_ms;       /* 0: never expires; else stale once time_ms + ttl_ms has passed */
    json_t *payload;      /* a JSON object; the message holds one reference */
};
/* The strings are owned by the message (free()d by msg_free()); to replace one, free the old
 * string and store an xstrdup()ed one, or use msg_set_correlation(). */

/* "TASK_ASSIGN" for MSG_TASK_ASSIGN; static storage. NULL for a value outside the enum. */
const char *msg_type_name(enum msg_type type);
/* Parses a type name (exact, upper case). Returns 0, or -1 if name is not a type. */
int msg_type_parse(const char *name, enum msg_type *out);

/* A new message of type from sender to recipient (NULL for a broadcast), with a fresh id, the
 * current wall time and no TTL. Takes ownership of the payload reference (NULL: an empty
 * object). Never returns NULL; free with msg_free(). */
struct msg *msg_new(enum msg_type type, const char *sender, const char *recipient, json_t *payload);
/* A deep copy (the payload is copied too); free with msg_free(). */
struct msg *msg_dup(const struct msg *m);
/* Frees the message and drops its payload reference. NULL is a no-op. */
void msg_free(struct msg *m);

/* Sets (a copy of) the correlation id; NULL clears it. */
void msg_set_correlation(struct msg *m, const char *correlation_id);

/* Whether the message is stale at now_ms (wall ms): it has a TTL and time_ms + ttl_ms <= now. */
bool msg_expired(const struct msg *m, int64_t now_ms);

/* The wire form as a new JSON object (new reference), or NULL with *cause when a field
 * cannot be encoded (a string that is not UTF-8, a payload that is not an object). */
json_t *msg_to_json(const struct msg *m, char **cause);
/* The wire form as compact text; free() it. NULL with *cause as msg_to_json(). */
char *msg_encode(const struct msg *m, char **cause);

/* Reads a message from its wire form. Returns a new message (msg_free) or NULL with *cause
 * naming what is wrong: not JSON, not an object, a missing or empty field, a field of the
 * wrong type ("\"sender\" must be a string, not an integer"), an unknown type, a negative
 * time. The object is borrowed. */
struct msg *msg_from_json(const json_t *o, char **cause);
/* The same from text of len bytes (not necessarily NUL-terminated). */
struct msg *msg_decode(const char *text, size_t len, char **cause);

#endif

/*
 * audit.h - the operator audit stream: one record for every action a person takes on the
 * swarm (approve, reject, emergency, resume, ...), saying who (user name, and the SSH client
 * address when there is one, else "local"), when, what, on which item and why. The stream is
 * AUDIT_KEY, capped at about AUDIT_MAXLEN records (XADD MAXLEN ~), newest last.
 *
 * Record fields in Redis: user, from, time_ms, what, and item and reason when given. Scripts
 * that change something and audit it in the same atomic step (bus_emergency.lua,
 * bus_resume.lua) take the fields from audit_record_fill(), so every record has this shape.
 *
 * Threads: any thread, each with its own link. audit_whoami() reads the process environment
 * and the password database (getpwuid_r), nothing shared.
 */
#ifndef NEWSROOM_AUDIT_H
#define NEWSROOM_AUDIT_H

#include "store/keys.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct rlink;

#define AUDIT_KEY        NR_PREFIX "audit"
#define AUDIT_MAXLEN     10000
#define AUDIT_MAXLEN_STR "10000"
/* A reason longer than this is cut (at a UTF-8 boundary) and marked with "..." */
#define AUDIT_REASON_MAX 4096
/* Field/value pointers in one record: user, from, time_ms, what, item, reason. */
#define AUDIT_ARGV_MAX 12

/* Who the current process acts for: the user name of its real uid (getpwuid_r; $LOGNAME, then
 * $USER when the password database has no entry; "uid:N" as a last resort), and where from:
 * the client address of $SSH_CLIENT or $SSH_CONNECTION, "local" when neither is set. */
struct audit_who {
    char user[64];
    char from[64];
};
void audit_whoami(struct audit_who *out);

/* One record ready to be written, fields pointing into it or into the caller's strings (so
 * it must not be copied or moved once filled). */
struct audit_record {
    struct audit_who who;
    char time_ms[24];
    const char *what;
    const char *item; /* NULL: no item */
    char *reason;     /* NULL: none; owned (a possibly shortened copy) */
    const char *argv[AUDIT_ARGV_MAX];
    int argc; /* field/value pointers in argv, even */
};

/* Fills r as the current user, now (clock_wall_ms), for what (non-empty) on item with reason
 * (both may be NULL): r->argv[0..argc) are the field/value pairs for XADD. what and item are
 * borrowed and must outlive r. Returns 0, or -1 with *cause when what is empty. Release with
 * audit_record_done(). */
int audit_record_fill(struct audit_record *r, const char *what, const char *item,
                      const char *reason, char **cause);
void audit_record_done(struct audit_record *r);

/* Appends one audit record as the current user. item and reason may be NULL. Returns 0 or -1
 * with *cause. */
int audit_append(struct rlink *l, const char *what, const char *item, const char *reason,
                 char **cause);

/* One record as read back. */
struct audit_entry {
    char *id; /* the stream entry id, "1714560000000-0" */
    int64_t time_ms;
    char *user;
    char *from;
    char *what;
    char *item;   /* NULL when the record has none */
    char *reason; /* NULL when the record has none */
};

/* The newest records first, at most limit (>= 1) of them. On success *entries (free with
 * audit_entries_free()) holds *n records, possibly none. Returns 0, or -1 with *cause. */
int audit_read(struct rlink *l, int limit, struct audit_entry **entries, size_t *n, char **cause);
void audit_entries_free(struct audit_entry *entries, size_t n);

/* {"id", "time_ms", "user", "from", "what", "item", "reason"} with null for a missing item or
 * reason: a new reference. Strings that are not UTF-8 have their bad bytes replaced by '?'. */
json_t *audit_entry_to_json(const struct audit_entry *e);

#endif

/*
 * control.h - the operator's big switches: the emergency broadcast and the swarm's halt flag.
 *
 * control_emergency() publishes an EMERGENCY message on the emergency channel (bus.h) and,
 * when asked, sets the halt flag CONTROL_HALT_KEY with the message, who and when; agents read
 * it with control_halt_read() before taking work and stop while it is set. control_resume()
 * lifts the flag and tells the swarm with a CONTROL message {"command": "resume"} on the
 * control channel. Each is one Lua script (bus_emergency.lua, bus_resume.lua) that also appends
 * the audit record (audit.h), so an action is never half done or done unaudited.
 *
 * The halt flag is a plain key that persists until someone resumes: an agent that starts, or
 * reconnects, after the broadcast still sees it. Any existing key counts as halted, even one
 * whose contents cannot be read.
 *
 * Threads: any thread, each with its own link.
 */
#ifndef NEWSROOM_CONTROL_H
#define NEWSROOM_CONTROL_H

#include "store/keys.h"

#include <stdbool.h>
#include <stdint.h>

struct rlink;

#define CONTROL_HALT_KEY NR_PREFIX "control:halt"
/* The longest emergency message, in bytes. */
#define CONTROL_MESSAGE_MAX 2000
/* payload.command of the CONTROL message that control_resume() sends. */
#define CONTROL_CMD_RESUME "resume"

/* The halt state. Strings are owned (control_halt_clear() frees them) and NULL when not
 * halted. */
struct control_halt {
    bool halted;
    char *message; /* what the operator said */
    char *user;    /* who halted it (audit.h's user) */
    char *from;    /* from where ("local" or the SSH client address) */
    int64_t time_ms;
};

/* Reads the flag. Returns 0 with *out filled (release with control_halt_clear()), or -1 with
 * *cause when Redis cannot be asked. */
int control_halt_read(struct rlink *l, struct control_halt *out, char **cause);
void control_halt_clear(struct control_halt *h);

/* Checks an emergency message: not empty, valid UTF-8, at most CONTROL_MESSAGE_MAX bytes.
 * Returns 0, or -1 with *cause. */
int control_check_message(const char *text, char **cause);

/* Publishes an EMERGENCY message (sender "operator:<user>", payload {"message", "halt",
 * "user", "from"}) on the emergency channel; with halt, sets the halt flag first, in the same
 * step, unless a halt is in force already (that one stays: another operator's halt is never
 * overwritten); audits it as "emergency" or "emergency-halt" with the text as the reason. On
 * success *receivers (may be NULL) is how many subscribers got it and *msg_id (may be NULL) a copy
 * of the message id (free it). Returns 0, or -1 with *cause (a bad message, Redis). */
int control_emergency(struct rlink *l, const char *text, bool halt, long long *receivers,
                      char **msg_id, char **cause);

/* Lifts the halt flag, publishes a CONTROL resume message on the control channel and audits
 * it as "resume" with note (may be NULL) as the reason, all in one step. When the swarm was not
 * halted nothing happens. On success *lifted (may be NULL; release with control_halt_clear())
 * holds the halt that was lifted (halted false when there was none) and *receivers (may be
 * NULL) how many subscribers got the message. Returns 0, or -1 with *cause. */
int control_resume(struct rlink *l, const char *note, struct control_halt *lifted,
                   long long *receivers, char **cause);
/* control_resume() of the halt the operator saw (its time_ms; 0: whatever halt is in force):
 * when the halt in force is another one (lifted and set again since), nothing changes and it
 * returns 1 with *lifted (may be NULL) holding the halt in force. 0 and -1 as above. */
int control_resume_seen(struct rlink *l, const char *note, int64_t seen_ms,
                        struct control_halt *lifted, long long *receivers, char **cause);

#endif

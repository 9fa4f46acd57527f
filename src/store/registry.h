/*
 * registry.h - the agent registry: every agent registers itself (id, role, tier, capabilities,
 * host, pid) and then heartbeats with a TTL; an agent whose heartbeat has expired is dead, and
 * a live agent takes over the tasks a dead one left pending in a work queue (queue.h; the
 * queue's consumer name is the agent id).
 *
 * Keys (docs/redis-keys.md): nr:agents, a sorted set of agent ids scored by the server time
 * (ms) at which their heartbeat expires, and nr:agent:ID, a hash with the agent's record, kept
 * for REGISTRY_KEEP_MS after its last heartbeat. Times are the Redis server's clock, so agents
 * on machines whose clocks disagree still judge each other fairly.
 *
 * Liveness: a record names its process (host, host key, pid and the process's start time), so
 * another process on the same host can tell at once that it is gone (registry_process_gone())
 * instead of waiting for its heartbeat to lapse; registry_pulse() renews the heartbeats of all
 * of a process's agents in one step and keeps the locks of their claims alive (blackboard.h),
 * from a thread that never waits on a model or a render.
 *
 * Threads: a struct registry uses the caller's link (borrowed), so it belongs to that link's
 * thread. Errors: 0 / -1 with *cause (free it).
 */
#ifndef NEWSROOM_REGISTRY_H
#define NEWSROOM_REGISTRY_H

#include "store/keys.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct queue;
struct registry;
struct rlink;

#define REGISTRY_SET_KEY      NR_PREFIX "agents"
#define REGISTRY_AGENT_PREFIX NR_PREFIX "agent:"
/* How long an agent's record outlives its last heartbeat (then it vanishes from the list). */
#define REGISTRY_KEEP_MS (24LL * 3600 * 1000)
/* Agent ids follow queue names: 1 to 64 of [A-Za-z0-9_.:-]. */
#define REGISTRY_ID_MAX 64

enum registry_status { REGISTRY_IDLE, REGISTRY_BUSY, REGISTRY_PAUSED, REGISTRY_DEAD };

/* "idle", "busy", "paused", "dead". */
const char *registry_status_name(enum registry_status s);
/* Parses a status name. Returns 0, or -1 when it is none. */
int registry_status_parse(const char *name, enum registry_status *out);

struct registry_agent {
    char id[REGISTRY_ID_MAX + 1];
    char role[32];
    char tier[16];
    char host[256];              /* "" at registration: this machine's host name */
    char host_key[192];          /* "" at registration: registry_host_key() */
    long long pstart;            /* 0 at registration: this process's start time */
    char capabilities[512];      /* comma-separated, may be "" */
    long pid;                    /* 0 at registration: this process */
    enum registry_status status; /* read back as REGISTRY_DEAD once the heartbeat expired */
    /* Filled in when read (server clock, ms since the epoch): */
    int64_t started_ms, heartbeat_ms, expires_ms;
    int ttl_ms;
};

/* The agent as a JSON object (capabilities as an array, heartbeat_age_ms from now_ms). New
 * reference. */
json_t *registry_agent_to_json(const struct registry_agent *a, int64_t now_ms);

/* A registry on link l (borrowed; it must outlive the registry). Free with registry_free(). */
struct registry *registry_new(struct rlink *l);
void registry_free(struct registry *r);

/* Registers this process's agent (a copy of *a is kept for re-registering) with a heartbeat
 * that expires after ttl_ms, replacing any earlier record of the same id. status may be idle,
 * busy or paused. */
int registry_register(struct registry *r, const struct registry_agent *a, int ttl_ms, char **cause);
/* Renews the registered agent's heartbeat for another ttl_ms. If its record has gone (removed
 * by hand, or Redis lost it), registers it again. */
int registry_heartbeat(struct registry *r, char **cause);
/* Sets the registered agent's status (idle, busy or paused) and renews its heartbeat. */
int registry_set_status(struct registry *r, enum registry_status s, char **cause);
/* Removes the registered agent (a clean shutdown). */
int registry_unregister(struct registry *r, char **cause);

/* Every known agent, sorted by id, dead ones included, with *now_ms (may be NULL) the server's
 * time. *out is an array of n agents; free() it. */
int registry_list(struct registry *r, struct registry_agent **out, size_t *n, int64_t *now_ms,
                  char **cause);
/* One agent: *found false when there is no record. */
int registry_get(struct registry *r, const char *id, struct registry_agent *out, bool *found,
                 char **cause);
/* Removes any agent's record. */
int registry_remove(struct registry *r, const char *id, char **cause);
/* Removes up to max agents whose heartbeat expired more than dead_ms ago (retention: dead
 * agents leave the registry). *removed (may be NULL) gets how many. */
int registry_prune(struct registry *r, int64_t dead_ms, int max, int *removed, char **cause);

/* What registry_pulse() learnt of one agent. */
struct registry_pulse_result {
    bool exists;       /* its record was there (else it needs registering again) */
    int64_t reaped_ms; /* it had been declared dead at that time (its claims were taken back),
                          0 if not; the mark is gone now */
};
/* Renews the heartbeats of agents ids[0..n) for ttl_ms and extends to claim_ttl_ms the lock of
 * the claim each works on now (claims[i], an item id, "" or NULL for none; claims may be NULL),
 * in one round trip. Its other claims (nr:bb:held:<id>) are not extended: one it let go without
 * saying so lapses and goes back. out[i] (may be NULL) says what it found for ids[i]. */
int registry_pulse(struct rlink *l, const char *const *ids, const char *const *claims, size_t n,
                   int ttl_ms, int claim_ttl_ms, struct registry_pulse_result *out, char **cause);

/* This process's host key: the host name, the boot id and the pid namespace, so that two
 * processes with the same key see the same pids (buf of at least 192 bytes). */
void registry_host_key(char *buf, size_t size);
/* The start time of process pid (clock ticks after boot, /proc/PID/stat), 0 when unknown. */
long long registry_process_start(long pid);
/* Whether process pid, started at pstart (0: unknown), is gone: it does not exist, or another
 * process has its pid now. A pid that cannot be looked at counts as alive. */
bool registry_process_gone(long pid, long long pstart);

/* Takes over, for q's consumer (the calling agent), up to max tasks that dead agents left
 * pending in queue q (queue_adopt()); the next dequeues on q hand them out first. *claimed
 * (may be NULL) receives how many. */
int registry_reclaim(struct registry *r, struct queue *q, int max, int *claimed, char **cause);

#endif

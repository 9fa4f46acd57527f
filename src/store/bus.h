/*
 * bus.h - the message bus on Redis pub/sub: channel names, publishing, and a subscriber that
 * runs on a thread of its own and calls handlers registered per message type.
 *
 * Channels (one table in bus.c; all under BUS_CHANNEL_PREFIX):
 *   nr:bus:broadcast:all        every agent and control room
 *   nr:bus:broadcast:control    control messages (pause, resume, ...)
 *   nr:bus:broadcast:emergency  emergency broadcasts (control.h)
 *   nr:bus:tier:<tier>          every agent of one tier (scout, analyst, ... moderator)
 *   nr:bus:agent:<agent id>     one agent
 * Pub/sub is for what may be missed: a message reaches only the subscribers connected when it
 * is published, and nothing is kept. Work that must not be lost goes through the work queues.
 * Pub/sub channels are server-wide in Redis, not per database: two swarms that share one
 * server in different databases hear each other's broadcasts.
 *
 * Threads: publishing goes through the caller's own link (rlink.h), from any thread. A
 * subscriber (struct bus_sub) is made, configured and freed by one thread (its owner);
 * between bus_sub_start() and bus_sub_free() it runs a thread of its own with its own
 * hiredis connection (same address, AUTH, SELECT and client name as an rlink), and every
 * handler runs on that thread, one message at a time. A handler must not block for long (a
 * subscriber that falls far behind is disconnected by Redis and reconnects, losing what was
 * published meanwhile) and must not call bus_sub_free() on its own subscriber.
 * bus_sub_stats() and bus_sub_wait_subscribed() may be called from any thread.
 *
 * Reconnection: when the connection drops (server restart, network, a PING that goes
 * unanswered), the subscriber reconnects with exponential backoff and jitter (the rlink
 * options' reconnect delays) and subscribes to all its channels again.
 */
#ifndef NEWSROOM_BUS_H
#define NEWSROOM_BUS_H

#include "store/keys.h"
#include "store/message.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct redis_addr;
struct rlink;
struct rlink_options;

#define BUS_CHANNEL_PREFIX NR_PREFIX "bus:"
/* The longest agent id a channel can name. */
#define BUS_AGENT_ID_MAX 128

enum bus_broadcast {
    BUS_ALL,
    BUS_CONTROL,
    BUS_EMERGENCY,
};
#define BUS_BROADCAST_COUNT ((int)BUS_EMERGENCY + 1)

enum bus_tier {
    BUS_TIER_SCOUT,
    BUS_TIER_ANALYST,
    BUS_TIER_DEBATER,
    BUS_TIER_WRITER,
    BUS_TIER_QA,
    BUS_TIER_PRODUCER,
    BUS_TIER_PUBLISHER,
    BUS_TIER_ARCHIVIST,
    BUS_TIER_MODERATOR,
};
#define BUS_TIER_COUNT ((int)BUS_TIER_MODERATOR + 1)

/* "scout" for BUS_TIER_SCOUT; static storage, NULL outside the enum. */
const char *bus_tier_name(enum bus_tier tier);
/* Parses a tier name (lower case). Returns 0, or -1 if it is not a tier. */
int bus_tier_parse(const char *name, enum bus_tier *out);

/* Channel names, static storage; NULL outside the enum. */
const char *bus_broadcast_channel(enum bus_broadcast b);
const char *bus_tier_channel(enum bus_tier tier);
/* Writes the channel of agent_id into buf. Returns 0, or -1 with *cause when the id is empty,
 * longer than BUS_AGENT_ID_MAX or holds a space or control character, or buf is too small. */
int bus_agent_channel(const char *agent_id, char *buf, size_t size, char **cause);

/* Publishes m (encoded as message.h says) on channel through l. On success *receivers (may
 * be NULL) is the number of subscribers that got it, as PUBLISH counts them. Returns 0, or -1
 * with *cause. */
int bus_publish(struct rlink *l, const char *channel, const struct msg *m, long long *receivers,
                char **cause);
/* The same on a broadcast channel, a tier's channel or an agent's channel. */
int bus_broadcast(struct rlink *l, enum bus_broadcast b, const struct msg *m, long long *receivers,
                  char **cause);
int bus_send_tier(struct rlink *l, enum bus_tier tier, const struct msg *m, long long *receivers,
                  char **cause);
int bus_send_agent(struct rlink *l, const char *agent_id, const struct msg *m, long long *receivers,
                   char **cause);

/* A handler gets each message (borrowed: valid during the call; msg_dup() to keep it) and the
 * channel it came on. It runs on the subscriber's thread. */
typedef void (*bus_handler)(const struct msg *m, const char *channel, void *ctx);

struct bus_sub;

/* A subscriber to the server at addr (copied), using the timeouts, reconnect delays and client
 * name of o: pass the options of the process's rlinks, whose client name the embedded server
 * counts its users by (embedded.h). It does nothing until bus_sub_start(). Never returns
 * NULL; free with bus_sub_free(). */
struct bus_sub *bus_sub_new(const struct redis_addr *addr, const struct rlink_options *o);

/* Stops the thread if it runs (waking it, then joining it) and frees everything. It returns
 * at once unless the thread is inside a connection attempt, which ends within the connect
 * and command timeouts. NULL is a no-op. Owner thread; never from a handler. */
void bus_sub_free(struct bus_sub *s);

/* Before bus_sub_start(), owner thread. Each returns 0, or -1 with *cause (already started,
 * bad name). Adding a channel twice subscribes once. */
int bus_sub_add_channel(struct bus_sub *s, const char *channel, char **cause);
/* The channels of one agent: its own, its tier's and the three broadcasts. */
int bus_sub_add_agent(struct bus_sub *s, const char *agent_id, enum bus_tier tier, char **cause);
/* The handler for one message type (replacing an earlier one; fn NULL removes it). */
int bus_sub_on(struct bus_sub *s, enum msg_type type, bus_handler fn, void *ctx, char **cause);
/* The handler for messages of a type with no handler of its own. */
int bus_sub_on_other(struct bus_sub *s, bus_handler fn, void *ctx, char **cause);
/* A raw channel: subscribed like the others, but its payloads are not messages (msg_decode is
 * not tried) and go, as published, to fn (text NUL-terminated, len its length). One raw channel per
 * subscriber; on its thread. */
typedef void (*bus_raw_handler)(const char *text, size_t len, void *ctx);
int bus_sub_add_raw(struct bus_sub *s, const char *channel, bus_raw_handler fn, void *ctx,
                    char **cause);
/* How long the connection may stay silent before the subscriber sends a PING (default
 * 10000 ms); a PING unanswered for the command timeout counts as a lost connection. */
int bus_sub_set_ping_interval(struct bus_sub *s, int ms, char **cause);

/* Starts the subscriber's thread, which connects and subscribes (retrying in the background
 * while the server is unreachable). Returns 0, or -1 with *cause when it has no channel, was
 * already started, or the thread or its wake-up descriptor cannot be made. */
int bus_sub_start(struct bus_sub *s, char **cause);

/* Waits until the subscriber has been subscribed to all its channels `generation` times (1:
 * the first connection; 2: again after the first reconnection; ...), at most timeout_ms.
 * Returns 0, or -1 on timeout. Any thread. */
int bus_sub_wait_subscribed(struct bus_sub *s, uint64_t generation, int timeout_ms);

struct bus_sub_stats {
    uint64_t received;      /* messages that arrived on a channel */
    uint64_t handled;       /* passed to a handler */
    uint64_t unhandled;     /* valid and fresh, but no handler for their type */
    uint64_t expired;       /* dropped: their TTL had passed (msg_expired) */
    uint64_t invalid;       /* dropped: not a message (msg_decode refused it) */
    uint64_t raw;           /* payloads passed to the raw channel's handler */
    uint64_t subscriptions; /* times subscribed to all channels (the generation) */
    uint64_t disconnects;   /* connections lost after having been made */
    bool subscribed;        /* subscribed to all channels right now */
};
/* A snapshot of the counters. Any thread. */
void bus_sub_stats(struct bus_sub *s, struct bus_sub_stats *out);

#endif

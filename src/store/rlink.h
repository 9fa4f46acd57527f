/*
 * rlink.h - one link to Redis: connect with timeouts, AUTH (password or ACL user and
 * password), SELECT, CLIENT SETNAME, commands with a timeout, reconnection with exponential
 * backoff and jitter, PING latency, server facts, and Lua scripts run by EVALSHA.
 *
 * Threads: a link belongs to the thread that made it, by construction: every call checks
 * that it runs on that thread and ends the process with fail() if not (using another
 * thread's link is a bug in the caller, never bad input, and would corrupt the protocol).
 * Each thread that talks to Redis makes its own link.
 *
 * Errors: functions return -1 (or NULL) with *cause set (free it); a cause names the server by
 * its masked address and never contains the password. After an I/O error the link is down;
 * the next call reconnects once its backoff delay has passed, and fails fast before that.
 * A command is never sent twice on its own: whether to retry is the caller's decision.
 *
 * hiredis writes with write(2), so a process that uses links must ignore SIGPIPE (the
 * newsroom binary does at start-up); a server that goes away then shows as an I/O error.
 *
 * Sentinel: with an address that lists sentinels (redis_sentinels_parse), every connection
 * first asks them, in turn from the last one that answered, for the primary
 * (SENTINEL get-master-addr-by-name), connects there and checks with ROLE that it is the
 * primary; a READONLY answer (a primary demoted under us) drops the link, so after a failover
 * the next call finds the new primary by itself.
 *
 * Durable writes: with wait_replicas > 0, a Lua script whose name matches wait_writes is
 * followed by WAIT, so its success is reported only once that many replicas have it (or as
 * many as the primary has, when it has fewer: a primary left alone after a failover still
 * works). A write the replicas do not confirm in wait_timeout_ms fails with a cause saying so;
 * it stays on the primary.
 */
#ifndef NEWSROOM_RLINK_H
#define NEWSROOM_RLINK_H

#include "store/lua_scripts.h"
#include "store/redis_url.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct config;
struct rlink;

struct rlink_options {
    int connect_timeout_ms;
    int command_timeout_ms;
    int reconnect_base_ms;
    int reconnect_max_ms;
    const char *client_name; /* CLIENT SETNAME, no spaces; NULL for none */
    bool quiet;              /* failures are logged at debug, not warn (probes) */
    int wait_replicas;       /* WAIT for this many replicas after the scripts below; 0: off */
    int wait_timeout_ms;     /* WAIT's timeout */
    const char *wait_writes; /* script name patterns, comma-separated (fnmatch); NULL: none.
                              * Read by rlink_new() only. */
};

struct rlink_info {
    char version[32];   /* redis_version */
    char role[16];      /* master, slave */
    char mode[16];      /* standalone, cluster, sentinel */
    int64_t latency_us; /* one PING round trip */
};

/* Fills the options from the [redis] keys of a configuration (c must outlive the links made
 * with them only until rlink_new() returns). */
void rlink_options_from_config(struct rlink_options *o, const struct config *c);

/* Checks a wait_writes value: comma-separated patterns each matching at least one Lua script.
 * Returns 0, or -1 with *why (free it) naming the pattern that matches none. */
int rlink_wait_writes_check(const char *value, char **why);

/* Opens a connection to a's server with the connect timeout; for a Sentinel address it first
 * asks the sentinels (starting with *first, which it updates to the one that answered) and
 * writes the primary's host and port into a. Returns a context to check for c->err, or NULL
 * with why filled when no sentinel named a primary. For code that keeps its own context (the
 * bus's subscriber); links do this themselves. */
redisContext *rlink_dial(struct redis_addr *a, int timeout_ms, int *first, char *why, size_t size);

/* A link to addr, owned by the calling thread; it connects on first use. Free with
 * rlink_free(). */
struct rlink *rlink_new(const struct redis_addr *addr, const struct rlink_options *o);
void rlink_free(struct rlink *l);

/* The address as a URL with the password masked; owned by the link. */
const char *rlink_address(const struct rlink *l);
bool rlink_connected(const struct rlink *l);
/* Failed connection attempts since the last success. */
int rlink_failures(const struct rlink *l);
/* Whether the last connection attempt was refused by AUTH (a configuration error, not an
 * unreachable server). */
bool rlink_auth_refused(const struct rlink *l);
/* Whether the last connection attempt failed because of a setting (a configuration error,
 * exit 2, not an unreachable server): AUTH refused, a password the server wants and none
 * given (NOAUTH), a database the server does not have. The cause names the setting. */
bool rlink_config_refused(const struct rlink *l);

/* Connects now if the link is down and its backoff delay has passed. Returns 0 when
 * connected. */
int rlink_ensure(struct rlink *l, char **cause);
/* Keeps trying, sleeping the backoff delays between attempts, until connected (0), until
 * timeout_ms has passed or *stop is set (-1 with *cause). stop may be NULL. */
int rlink_wait_connected(struct rlink *l, int timeout_ms, const volatile sig_atomic_t *stop,
                         char **cause);

/* Sends one command (hiredis format). Returns the reply (free with freeReplyObject()), or
 * NULL with *cause on an I/O error, a timeout or an error reply. */
redisReply *rlink_command(struct rlink *l, char **cause, const char *fmt, ...);
/* Commands every link of this process has sent through rlink_command*() and rlink_eval()
 * (each one round trip; a NOSCRIPT retry counts twice), for benchmarks. Any thread. */
long long rlink_commands_sent(void);
redisReply *rlink_command_argv(struct rlink *l, char **cause, int argc, const char **argv,
                               const size_t *argvlen);

/* One command of a transaction: argv[0..argc), argvlen[i] the length of argv[i] (NULL: strlen()
 * of each). */
struct rlink_cmd {
    int argc;
    const char *const *argv;
    const size_t *argvlen;
};

/* Sends cmds[0..n) between MULTI and EXEC, all in one round trip (counted as one command by
 * rlink_commands_sent()): Redis runs them together, nothing between them, and none of them
 * when it refuses one at queueing (a wrong number of arguments: EXECABORT). For writes whose
 * arguments are large, where a Lua script would copy and hash every byte of them. Returns
 * EXEC's reply, an array of the n replies (free with freeReplyObject()), or NULL with *cause on
 * an I/O error, a timeout, a refusal or an error reply of any of the commands (Redis does not
 * undo the others then). Not followed by WAIT: wait_writes names scripts. */
redisReply *rlink_transaction(struct rlink *l, const struct rlink_cmd *cmds, size_t n,
                              char **cause);

/* Runs script by EVALSHA with nkeys keys followed by the other arguments in argv[0..argc);
 * loads it with SCRIPT LOAD when the server answers NOSCRIPT and runs it again. Returns the
 * reply as rlink_command() does. */
redisReply *rlink_eval(struct rlink *l, const struct lua_script *script, int nkeys, int argc,
                       const char **argv, char **cause);
/* rlink_eval() with binary-safe arguments: argvlen[i] is the length of argv[i] (packed
 * vectors hold NUL bytes); argvlen NULL takes strlen() of each. */
redisReply *rlink_eval_bin(struct rlink *l, const struct lua_script *script, int nkeys, int argc,
                           const char **argv, const size_t *argvlen, char **cause);

/* Reading replies (all borrowed from the reply): element i of array reply r as text (a
 * string or status element), or "" when r is not an array, i is past its end or the element
 * is of another type. */
const char *rlink_reply_str(const redisReply *r, size_t i);
/* Element i of array reply r as a number (an integer element, or a string in base 10), or
 * 0. */
long long rlink_reply_int(const redisReply *r, size_t i);
/* The value of field name in a flat field/value array (HGETALL), or "" when it is not
 * there. */
const char *rlink_reply_field(const redisReply *h, const char *name);

/* PING round trip in microseconds. */
int rlink_ping(struct rlink *l, int64_t *latency_us, char **cause);
/* Version, role and mode from INFO, and a PING latency. */
int rlink_info(struct rlink *l, struct rlink_info *out, char **cause);

#endif

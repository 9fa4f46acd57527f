/*
 * embedded.h - the private redis-server that Newsroom runs when no Redis is configured: a
 * child process listening only on a Unix socket in the data directory (no TCP port), with its
 * append-only file there too.
 *
 * Sharing: every Newsroom process on the same data directory uses the same server. The first
 * one starts it; later ones find it answering on the socket and reuse it. When a process lets
 * go (embedded_release(), on exit or on SIGINT/SIGTERM), it stops the server only if no other
 * live Newsroom process is still connected, so the server lives exactly as long as someone
 * uses it. Start and stop are serialised between processes by an flock() on redis.lock in the
 * data directory. Every link of a Newsroom process must carry the client name that
 * embedded_client_name() gives, which is how the last user is recognised.
 *
 * Threads: call from the main thread, before other threads start and after they stop.
 */
#ifndef NEWSROOM_EMBEDDED_H
#define NEWSROOM_EMBEDDED_H

#include "store/redis_url.h"

#include <stdbool.h>
#include <sys/types.h>

struct config;
struct embedded;

/* Starts or reuses the server for data_dir and fills *addr with its socket. Returns NULL with
 * *cause when redis-server is missing (the message names the Debian package), the data
 * directory cannot be used, a server for it runs but does not answer, or the server does not
 * come up in time (the message quotes its log); *config_error says whether the cause is the
 * configuration (missing program, unusable data directory) rather than the server. A server
 * still loading a large append-only file is waited for as long as it makes progress. Free
 * with embedded_release(). */
struct embedded *embedded_start(const struct config *c, const char *data_dir,
                                struct redis_addr *addr, bool *config_error, char **cause);

/* Lets go of the server: stops it when this is the last Newsroom process using it, and waits
 * for it to exit. NULL is a no-op. */
void embedded_release(struct embedded *e);

/* Whether this process started the server (rather than reused it), and its pid. */
bool embedded_started_here(const struct embedded *e);
pid_t embedded_pid(const struct embedded *e);

/* "newsroom:<pid>:<what>": the CLIENT SETNAME of a link of this process. Returns buf. */
char *embedded_client_name(const char *what, char *buf, size_t size);

#endif

/*
 * preview.h - the preview server: a producer watches a package's video, thumbnail and
 * captions from their own machine through `ssh -L`. An HTTP server (libmicrohttpd) in the
 * swarm's process, bound to 127.0.0.1 on [preview] port, serves
 *
 *   GET|HEAD /p/<token>/video.mp4 | thumbnail.png | captions.srt
 *
 * with byte ranges (RFC 9110: one range a request; 206 with Content-Range, 416 when it cannot
 * be satisfied). A token is 32 random hex characters, one per story, kept in Redis with the
 * package's folder, or with its "where" in the S3 package store (media/store.h; the server then
 * fetches the file through the store into a cache under the packages folder), for [preview]
 * token_ttl_s (nr:preview:tok:<token>, nr:preview:story:<id>); an unknown or expired token,
 * another file name or a folder outside the packages folder (after resolving links) is refused
 * with 404, never served.
 *
 * Threads: preview_token() and preview_url() on any thread with its own link. The server
 * answers on libmicrohttpd's own thread, with a link of its own guarded by a mutex;
 * preview_start() and preview_stop() belong to the thread that owns the server.
 */
#ifndef NEWSROOM_PREVIEW_H
#define NEWSROOM_PREVIEW_H

#include "store/redis_url.h"
#include "store/rlink.h"

#include <stddef.h>

struct config;

#define PREVIEW_TOKEN_LEN 32
#define PREVIEW_PREFIX    "nr:preview:"

/* The token of story id's package in folder: the one in force, or a new one kept ttl_s. The
 * folder is an absolute path, or the compact JSON "where" of a package in the S3 store
 * (pstore_where_of()). Returns 0 with the token (PREVIEW_TOKEN_LEN hex characters and a NUL)
 * in token, or -1 with *cause. */
int preview_token(struct rlink *l, const char *id, const char *folder, int ttl_s,
                  char token[PREVIEW_TOKEN_LEN + 1], char **cause);

/* The URL of a file of a package under a token on port, and the ssh line that forwards the
 * same port from the producer's machine to this host (its name from gethostname()). */
void preview_url(int port, const char *token, const char *file, char *url, size_t url_size);
void preview_ssh_line(int port, char *line, size_t size);

struct preview;

/* Starts the server on 127.0.0.1:port serving packages under packages_dir (resolved once;
 * it must exist), looking tokens up on its own link to addr. Returns the server, or NULL with
 * *cause (the port taken, the folder missing). */
struct preview *preview_start(int port, const char *packages_dir, const struct redis_addr *addr,
                              const struct rlink_options *link, char **cause);
/* Stops it (waits for its thread) and frees it; NULL is a no-op. */
void preview_stop(struct preview *p);

/* Starts the server as cfg says ([preview] port; 0: off, returns NULL with *cause NULL),
 * serving cfg's packages folder (made if missing) and packages in cfg's package store; cfg is
 * borrowed and must outlive the server. */
struct preview *preview_start_config(const struct config *cfg, const struct redis_addr *addr,
                                     char **cause);

#endif

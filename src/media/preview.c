/*
 * preview.c - the preview server and its tokens; see preview.h.
 *
 * A request is answered only when all of these hold: GET or HEAD; the path is exactly
 * /p/<32 hex>/<one of the package's three file names>; the token names a package in Redis (it
 * expires there): a folder that, resolved with realpath(), lies inside the packages folder, or
 * the "where" of a package in the S3 package store, whose file is then fetched once through the
 * store into <packages>/.preview/<token>/ and served from there; and the file, opened without
 * following a final link, is a regular file. Anything else is 404 (405 for other methods), with
 * no hint of which check failed. Bodies are sent straight from the file (sendfile through
 * libmicrohttpd) with one byte range a request. The .preview folder is emptied when the server
 * starts and stops.
 *
 * Threads: libmicrohttpd answers on its own single thread (MHD_USE_INTERNAL_POLLING_THREAD);
 * the server's Redis link and package store are made and used there only (under a mutex all
 * the same), and freed by preview_stop() once that thread has ended. preview_token() runs on the
 * caller's thread and link.
 */
#include "media/preview.h"

#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "core/paths.h"
#include "media/store.h"
#include "media/video.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_KEY PREVIEW_PREFIX "tok:"
#define STORY_KEY PREVIEW_PREFIX "story:"
#define CACHE_DIR ".preview" /* under the packages folder: files fetched from the store */

static const struct {
    const char *name, *type;
} served[] = {
    {"video.mp4", "video/mp4"},
    {"thumbnail.png", "image/png"},
    {"captions.srt", "application/x-subrip; charset=utf-8"},
};

struct preview {
    struct MHD_Daemon *d;
    char *root; /* the packages folder, resolved */
    pthread_mutex_t mu;
    struct redis_addr addr;
    struct rlink_options lo;
    struct rlink *l; /* made on libmicrohttpd's thread, at its first request: a link belongs to
                        the thread that made it */
    const struct config *cfg; /* borrowed: for the package store; NULL: local folders only */
    struct pstore *store;     /* made on libmicrohttpd's thread at the first S3 package */
};

static bool is_token(const char *s, size_t n)
{
    if (n != PREVIEW_TOKEN_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return false;
    return true;
}

static void new_token(char out[PREVIEW_TOKEN_LEN + 1])
{
    unsigned char raw[PREVIEW_TOKEN_LEN / 2];
    size_t got = 0;

    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail("getrandom: %s", strerror(errno));
        }
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

int preview_token(struct rlink *l, const char *id, const char *folder, int ttl_s,
                  char token[PREVIEW_TOKEN_LEN + 1], char **cause)
{
    redisReply *r;
    char ttl[16];

    if (folder == NULL || (folder[0] != '/' && folder[0] != '{')) {
        *cause = xstrdup("a package is an absolute folder or a package store's JSON");
        return -1;
    }
    r = rlink_command(l, cause, "GET %s%s", STORY_KEY, id);
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_STRING && is_token(r->str, r->len)) {
        redisReply *f;

        snprintf(token, PREVIEW_TOKEN_LEN + 1, "%s", r->str);
        freeReplyObject(r);
        /* The token in force, if it still names this folder. */
        f = rlink_command(l, cause, "GET %s%s", TOKEN_KEY, token);
        if (f == NULL)
            return -1;
        if (f->type == REDIS_REPLY_STRING && strcmp(f->str, folder) == 0) {
            freeReplyObject(f);
            return 0;
        }
        freeReplyObject(f);
    } else {
        freeReplyObject(r);
    }
    new_token(token);
    snprintf(ttl, sizeof ttl, "%d", ttl_s > 0 ? ttl_s : 3600);
    r = rlink_command(l, cause, "SET %s%s %s EX %s", TOKEN_KEY, token, folder, ttl);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    r = rlink_command(l, cause, "SET %s%s %s EX %s", STORY_KEY, id, token, ttl);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

void preview_url(int port, const char *token, const char *file, char *url, size_t url_size)
{
    snprintf(url, url_size, "http://127.0.0.1:%d/p/%s/%s", port, token, file);
}

void preview_ssh_line(int port, char *line, size_t size)
{
    char host[256];

    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "THIS-HOST");
    host[sizeof host - 1] = '\0';
    for (char *p = host; *p != '\0'; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
            *p = '?';
    snprintf(line, size, "ssh -N -L %d:127.0.0.1:%d %s", port, port, host);
}

/* ---- the server ---- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc;

    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    rc = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return rc;
}

/* The folder a token's S3 package is served from, with file name fetched into it through the
 * store when it is not there yet; NULL when it cannot be. Called under p->mu. */
static char *fetched(struct preview *p, const char *token, const char *where_json, const char *name)
{
    json_t *where = json_loads(where_json, 0, NULL);
    char *dir = xasprintf("%s/%s/%s", p->root, CACHE_DIR, token), *path = NULL, *cause = NULL;
    struct stat st;
    int rc = -1;

    if (where == NULL || !pstore_where_is_s3(where) || p->cfg == NULL)
        goto out;
    path = xasprintf("%s/%s", dir, name);
    if (stat(path, &st) == 0) {
        rc = 0;
        goto out;
    }
    if (p->store == NULL && (p->store = pstore_open(p->cfg, &cause)) == NULL)
        goto out;
    if (paths_mkdir_p(dir, 0700, &cause) == -1)
        goto out;
    rc = pstore_get_file(p->store, where, name, path, &cause);
out:
    if (rc != 0 && cause != NULL)
        log_warn("preview: %s of %s: %s", name, token, cause);
    free(cause);
    free(path);
    json_decref(where);
    if (rc != 0) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* The folder a token names, resolved, with file name ready in it; NULL when unknown, expired
 * or outside the root. */
static char *token_folder(struct preview *p, const char *token, const char *name)
{
    char *cause = NULL, *real = NULL, *dir = NULL;
    redisReply *r;

    pthread_mutex_lock(&p->mu);
    if (p->l == NULL)
        p->l = rlink_new(&p->addr, &p->lo);
    r = rlink_command(p->l, &cause, "GET %s%s", TOKEN_KEY, token);
    if (r != NULL && r->type == REDIS_REPLY_STRING && r->str[0] == '{')
        dir = fetched(p, token, r->str, name);
    pthread_mutex_unlock(&p->mu);
    if (r == NULL) {
        log_warn("preview: token lookup: %s", cause);
        free(cause);
        return NULL;
    }
    if (r->type == REDIS_REPLY_STRING)
        real = realpath(dir != NULL ? dir : r->str, NULL);
    free(dir);
    freeReplyObject(r);
    if (real != NULL) {
        size_t n = strlen(p->root), c = strlen(CACHE_DIR);
        /* One folder below the root, or the store's cache folder of a token. */
        const char *rest = real + n + 1;
        bool inside = strncmp(real, p->root, n) == 0 && real[n] == '/' &&
                      (strchr(rest, '/') == NULL || (strncmp(rest, CACHE_DIR "/", c + 1) == 0 &&
                                                     is_token(rest + c + 1, strlen(rest + c + 1))));

        if (!inside) {
            free(real);
            real = NULL;
        }
    }
    return real;
}

/* "bytes=A-B", "bytes=A-", "bytes=-N" against size: 1 with [*from, *to] inclusive, 0 when
 * there is no (usable) range header, -1 when it cannot be satisfied. */
static int parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
    char *end;
    unsigned long long a, b;

    if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
        return 0; /* absent, another unit, or several ranges: the whole file */
    h += 6;
    if (*h == '-') {
        b = strtoull(h + 1, &end, 10);
        if (end == h + 1 || *end != '\0' || b == 0 || size == 0)
            return -1;
        *from = b >= size ? 0 : size - b;
        *to = size - 1;
        return 1;
    }
    a = strtoull(h, &end, 10);
    if (end == h || *end != '-')
        return -1;
    if (end[1] == '\0') {
        b = size - 1;
    } else {
        char *e2;

        b = strtoull(end + 1, &e2, 10);
        if (*e2 != '\0' || b < a)
            return -1;
        if (b >= size)
            b = size - 1;
    }
    if (a >= size)
        return -1;
    *from = a;
    *to = b;
    return 1;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **state)
{
    struct preview *p = cls;
    const char *tok, *name, *slash;
    char token[PREVIEW_TOKEN_LEN + 1], *folder, *path, range[96], len[32];
    const char *type = NULL;
    struct MHD_Response *r;
    struct stat st;
    uint64_t from = 0, to = 0;
    enum MHD_Result rc;
    int fd, rr;

    (void)version;
    (void)upload;
    (void)upload_size;
    if (*state == NULL) { /* the headers: answer on the next call */
        *state = (void *)1;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only\n");
    if (strncmp(url, "/p/", 3) != 0)
        return reply(c, MHD_HTTP_NOT_FOUND, "not found\n");
    tok = url + 3;
    slash = strchr(tok, '/');
    if (slash == NULL || !is_token(tok, (size_t)(slash - tok)))
        return reply(c, MHD_HTTP_NOT_FOUND, "not found\n");
    name = slash + 1;
    for (size_t i = 0; i < sizeof served / sizeof served[0]; i++)
        if (strcmp(name, served[i].name) == 0)
            type = served[i].type;
    if (type == NULL)
        return reply(c, MHD_HTTP_NOT_FOUND, "not found\n");
    memcpy(token, tok, PREVIEW_TOKEN_LEN);
    token[PREVIEW_TOKEN_LEN] = '\0';
    if ((folder = token_folder(p, token, name)) == NULL)
        return reply(c, MHD_HTTP_NOT_FOUND, "not found (unknown or expired token)\n");
    path = xasprintf("%s/%s", folder, name);
    free(folder);
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    free(path);
    if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
        if (fd != -1)
            close(fd);
        return reply(c, MHD_HTTP_NOT_FOUND, "not found\n");
    }
    rr = parse_range(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range"), (uint64_t)st.st_size,
                     &from, &to);
    if (rr == -1) {
        close(fd);
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        snprintf(range, sizeof range, "bytes */%lld", (long long)st.st_size);
        MHD_add_response_header(r, "Content-Range", range);
        rc = MHD_queue_response(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, r);
        MHD_destroy_response(r);
        return rc;
    }
    if (rr == 0) {
        from = 0;
        to = st.st_size > 0 ? (uint64_t)st.st_size - 1 : 0;
    }
    r = MHD_create_response_from_fd_at_offset64(st.st_size > 0 ? to - from + 1 : 0, fd,
                                                (uint64_t)from);
    if (r == NULL) {
        close(fd);
        return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot answer\n");
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    snprintf(len, sizeof len, "%" PRIu64, st.st_size > 0 ? to - from + 1 : 0);
    if (rr == 1) {
        snprintf(range, sizeof range, "bytes %" PRIu64 "-%" PRIu64 "/%lld", from, to,
                 (long long)st.st_size);
        MHD_add_response_header(r, "Content-Range", range);
    }
    rc = MHD_queue_response(c, rr == 1 ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

static struct preview *start(int port, const char *packages_dir, const struct redis_addr *addr,
                             const struct rlink_options *link, const struct config *cfg,
                             char **cause)
{
    struct preview *p;
    struct sockaddr_in sa;
    struct rlink_options lo = *link;

    if (port <= 0 || port > 65535) {
        *cause = xasprintf("preview: port %d is not a port", port);
        return NULL;
    }
    p = xcalloc(1, sizeof *p);
    p->root = realpath(packages_dir, NULL);
    if (p->root == NULL) {
        *cause = xasprintf("preview: the packages folder %s: %s", packages_dir, strerror(errno));
        free(p);
        return NULL;
    }
    p->cfg = cfg;
    {
        /* What an earlier run fetched from the store. */
        char *cache = xasprintf("%s/%s", p->root, CACHE_DIR);

        paths_rmrf(cache);
        free(cache);
    }
    pthread_mutex_init(&p->mu, NULL);
    lo.client_name = "nr-preview";
    lo.quiet = true;
    p->addr = *addr;
    p->lo = lo;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port, NULL,
                            NULL, serve, p, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
    if (p->d == NULL) {
        *cause = xasprintf("preview: cannot listen on 127.0.0.1:%d (taken?)", port);
        preview_stop(p);
        return NULL;
    }
    return p;
}

struct preview *preview_start(int port, const char *packages_dir, const struct redis_addr *addr,
                              const struct rlink_options *link, char **cause)
{
    return start(port, packages_dir, addr, link, NULL, cause);
}

void preview_stop(struct preview *p)
{
    if (p == NULL)
        return;
    if (p->d != NULL)
        MHD_stop_daemon(p->d);
    rlink_free(p->l);
    pstore_free(p->store);
    if (p->root != NULL) {
        char *cache = xasprintf("%s/%s", p->root, CACHE_DIR);

        paths_rmrf(cache);
        free(cache);
    }
    memset(&p->addr, 0, sizeof p->addr); /* the password */
    pthread_mutex_destroy(&p->mu);
    free(p->root);
    free(p);
}

struct preview *preview_start_config(const struct config *cfg, const struct redis_addr *addr,
                                     char **cause)
{
    struct rlink_options lo;
    struct preview *p;
    char *dir;

    *cause = NULL;
    if (cfg->preview_port <= 0)
        return NULL;
    dir = video_packages_dir(cfg);
    if (paths_mkdir_p(dir, 0700, cause) == -1) {
        free(dir);
        return NULL;
    }
    rlink_options_from_config(&lo, cfg);
    p = start(cfg->preview_port, dir, addr, &lo, cfg, cause);
    free(dir);
    return p;
}

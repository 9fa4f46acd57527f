/*
 * store.c - the package store's two backends; see store.h. A store is used by one thread at a
 * time (its CURL handle and buffers are its own); the only shared state is curl's global
 * initialisation (once, under pthread_once) and the byte counter (atomic).
 *
 * s3 requests: path-style (ENDPOINT/BUCKET/KEY) or virtual-hosted (BUCKET.HOST/KEY) URLs with
 * every key byte but unreserved ones and '/' percent-encoded, so the URL's path is already the
 * canonical URI of Signature V4; query strings are written in canonical order with every
 * parameter given a value ("uploads="), so that libcurl's signature (which signs the query as
 * written) is what S3 computes. The body's SHA-256 goes in x-amz-content-sha256, which libcurl
 * signs as the payload hash.
 */
#define _GNU_SOURCE /* renameat2 (RENAME_EXCHANGE) */
#include "media/store.h"

#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"
#include "media/video.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MB             (1024 * 1024)
#define ERROR_BODY_MAX 65536 /* an error answer's body kept for its message */
#define PARTS_MAX      10000 /* S3's limit on parts of one upload */

static const char *const area_names[] = {
    [PSTORE_PACKAGES] = "packages", [PSTORE_PUBLISHED] = "published"};

static const struct {
    const char *name;
    enum pstore_kind kind;
} kinds[] = {{"local", PSTORE_LOCAL}, {"s3", PSTORE_S3}};

struct pstore {
    enum pstore_kind kind;
    char *described;
    /* local */
    char *dirs[2]; /* by area */
    /* s3 */
    char *bucket, *prefix, *endpoint, *region, *key_id, *secret, *token;
    char sigv4[160]; /* the CURLOPT_AWS_SIGV4 parameter */
    bool path_style;
    size_t threshold, part_size;
    int timeout_ms;
    CURL *curl;
};

static atomic_llong bytes_sent;

long long pstore_bytes_sent(void)
{
    return atomic_load(&bytes_sent);
}

int pstore_kind_check(const char *value, char **why)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(value, kinds[i].name) == 0)
            return 0;
    *why = xasprintf("\"%s\" is not a package store (local or s3)", value);
    return -1;
}

int pstore_url_style_check(const char *value, char **why)
{
    if (strcmp(value, "auto") == 0 || strcmp(value, "path") == 0 || strcmp(value, "virtual") == 0)
        return 0;
    *why = xasprintf("\"%s\" is not auto, path or virtual", value);
    return -1;
}

enum pstore_kind pstore_kind(const struct pstore *s)
{
    return s->kind;
}

const char *pstore_describe(const struct pstore *s)
{
    return s->described;
}

/* ---- names ---- */

/* Whether s may be one path segment of a key or a folder: not empty, not starting with '.',
 * no '/', no control characters. */
static bool segment_ok(const char *s)
{
    if (*s == '\0' || *s == '.')
        return false;
    for (; *s != '\0'; s++)
        if (*s == '/' || (unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static int check_names(const char *id, const char *name, char **cause)
{
    if (!segment_ok(id)) {
        *cause = xasprintf("story id \"%s\" cannot name a package", id);
        return -1;
    }
    if (name != NULL && !segment_ok(name)) {
        *cause = xasprintf("bad package file name \"%s\"", name);
        return -1;
    }
    return 0;
}

/* ---- local backend ---- */

/* Writes data to path through a temporary file beside it, fsync'd and renamed into place. */
static int write_atomic(const char *path, const void *data, size_t len, char **cause)
{
    char *tmp = xasprintf("%s.XXXXXX", path);
    int fd = mkstemp(tmp);

    if (fd == -1 || paths_write_all(fd, data, len) == -1 || fsync(fd) == -1 ||
        fchmod(fd, 0644) == -1 || close(fd) == -1 || rename(tmp, path) == -1) {
        *cause = xasprintf("cannot write %s: %s", path, strerror(errno));
        if (fd != -1)
            close(fd);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

/* Copies the file src to the new file dst, fsync'd. */
static int copy_file(const char *src, const char *dst, char **cause)
{
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1;
    char buf[65536];
    ssize_t got;

    if (in == -1) {
        *cause = xasprintf("cannot read %s: %s", src, strerror(errno));
        return -1;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out == -1)
        goto bad;
    while ((got = read(in, buf, sizeof buf)) > 0)
        if (paths_write_all(out, buf, (size_t)got) == -1)
            goto bad;
    if (got == -1 || fsync(out) == -1 || close(out) == -1) {
        out = -1;
        goto bad;
    }
    close(in);
    return 0;
bad:
    *cause = xasprintf("cannot copy %s to %s: %s", src, dst, strerror(errno));
    close(in);
    if (out != -1)
        close(out);
    return -1;
}

/* Whether path holds exactly len bytes equal to data. */
static bool same_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    char buf[8192];
    size_t off = 0, got;
    bool same = true;

    if (f == NULL)
        return false;
    while (same && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (off + got > len || memcmp(buf, data + off, got) != 0)
            same = false;
        off += got;
    }
    if (ferror(f))
        same = false;
    fclose(f);
    return same && off == len;
}

/* Whether folder holds every one of the files with the same contents. */
static bool same_folder(const char *folder, const struct pstore_file *files, size_t n)
{
    struct stat sb;
    bool same = true;

    if (stat(folder, &sb) == -1 || !S_ISDIR(sb.st_mode))
        return false;
    for (size_t i = 0; same && i < n; i++) {
        char *p = xasprintf("%s/%s", folder, files[i].name);

        same = same_file(p, files[i].data, files[i].len);
        free(p);
    }
    return same;
}

/* Writes the files into the new folder tmp, each fsync'd. */
static int fill_dir(const char *tmp, const struct pstore_file *files, size_t n, char **cause)
{
    for (size_t i = 0; i < n; i++) {
        char *p = xasprintf("%s/%s", tmp, files[i].name);
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

        if (fd == -1 || paths_write_all(fd, files[i].data, files[i].len) == -1 || fsync(fd) == -1 ||
            close(fd) == -1) {
            *cause = xasprintf("cannot write %s: %s", p, strerror(errno));
            if (fd != -1)
                close(fd);
            free(p);
            return -1;
        }
        free(p);
    }
    return 0;
}

/* Moves the finished folder tmp to folder in one step: renamed, or exchanged with an older
 * version (left at tmp for the caller to remove). */
static int swap_in(const char *tmp, const char *folder, char **cause)
{
    if (rename(tmp, folder) == 0)
        return 0;
    if ((errno == EEXIST || errno == ENOTEMPTY) &&
        renameat2(AT_FDCWD, tmp, AT_FDCWD, folder, RENAME_EXCHANGE) == 0)
        return 0;
    *cause = xasprintf("cannot move the package into %s: %s", folder, strerror(errno));
    return -1;
}

/* Makes the hidden temporary folder .<id>.XXXXXX in dir. Returns it (free it), or NULL with
 * *cause. */
static char *temp_folder(const char *dir, const char *id, char **cause)
{
    char *tmp = xasprintf("%s/.%s.XXXXXX", dir, id);

    if (mkdtemp(tmp) != NULL)
        return tmp;
    *cause = xasprintf("cannot make a temporary folder in %s: %s", dir, strerror(errno));
    free(tmp);
    return NULL;
}

/* The filled temporary folder tmp becomes dir/id: synced, swapped in, dir synced. */
static int settle(const char *dir, const char *tmp, const char *target, char **cause)
{
    if (chmod(tmp, 0755) == -1 || paths_fsync_dir(tmp) == -1) {
        *cause = xasprintf("cannot sync %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (swap_in(tmp, target, cause) == -1)
        return -1;
    if (paths_fsync_dir(dir) == -1) {
        *cause = xasprintf("cannot sync %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int pstore_folder_write(const char *dir, const char *id, const struct pstore_file *files, size_t n,
                        bool *unchanged, char **cause)
{
    char *folder, *tmp = NULL;
    int rc = -1;

    *unchanged = false;
    if (check_names(id, NULL, cause) == -1)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (check_names(id, files[i].name, cause) == -1)
            return -1;
    if (paths_mkdir_p(dir, 0755, cause) == -1)
        return -1;
    folder = xasprintf("%s/%s", dir, id);
    if (same_folder(folder, files, n)) {
        *unchanged = true;
        free(folder);
        return 0;
    }
    if ((tmp = temp_folder(dir, id, cause)) != NULL && fill_dir(tmp, files, n, cause) == 0 &&
        settle(dir, tmp, folder, cause) == 0)
        rc = 0;
    /* On success tmp is gone or holds the replaced package; on failure the half-made one. */
    if (tmp != NULL)
        paths_rmrf(tmp);
    free(tmp);
    free(folder);
    return rc;
}

static int local_put_folder(struct pstore *s, enum pstore_area area, const char *id,
                            const char *dir, const char *const *names, size_t n, char **folder,
                            char **cause)
{
    const char *root = s->dirs[area];
    char *target, *rdir, *rtarget, *tmp = NULL;
    int rc = -1;

    if (paths_mkdir_p(root, 0755, cause) == -1)
        return -1;
    target = xasprintf("%s/%s", root, id);
    rdir = realpath(dir, NULL);
    rtarget = realpath(target, NULL);
    if (rdir != NULL && rtarget != NULL && strcmp(rdir, rtarget) == 0) {
        rc = 0; /* already where it belongs (the render writes there) */
        goto out;
    }
    if ((tmp = temp_folder(root, id, cause)) == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        char *from = xasprintf("%s/%s", dir, names[i]), *to = xasprintf("%s/%s", tmp, names[i]);
        int r = copy_file(from, to, cause);

        free(from);
        free(to);
        if (r == -1)
            goto out;
    }
    if (settle(root, tmp, target, cause) == -1)
        goto out;
    rc = 0;
out:
    if (tmp != NULL)
        paths_rmrf(tmp); /* the half-made folder, or the one replaced */
    free(tmp);
    free(rdir);
    free(rtarget);
    if (rc == 0) {
        char *abs = realpath(target, NULL);

        *folder = abs != NULL ? abs : xstrdup(target);
    }
    free(target);
    return rc;
}

static int local_put(struct pstore *s, enum pstore_area area, const char *id, const char *name,
                     const void *data, size_t len, char **cause)
{
    char *dir = xasprintf("%s/%s", s->dirs[area], id), *path;
    int rc;

    if (paths_mkdir_p(dir, 0755, cause) == -1) {
        free(dir);
        return -1;
    }
    path = xasprintf("%s/%s", dir, name);
    rc = write_atomic(path, data, len, cause);
    if (rc == 0)
        paths_fsync_dir(dir);
    free(path);
    free(dir);
    return rc;
}

/* Reads path whole into a new buffer. Returns 0, 1 when it does not exist, -1 with *cause. */
static int read_whole(const char *path, char **data, size_t *len, char **cause)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, got;
    char chunk[65536];

    if (f == NULL) {
        if (errno == ENOENT)
            return 1;
        *cause = xasprintf("cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf = xrealloc(buf, n + got + 1);
        memcpy(buf + n, chunk, got);
        n += got;
    }
    if (ferror(f)) {
        *cause = xasprintf("cannot read %s: %s", path, strerror(errno));
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    if (buf == NULL)
        buf = xcalloc(1, 1);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

/* ---- s3 backend: HTTP ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        fail("curl_global_init failed");
}

struct buf {
    char *data;
    size_t len, max; /* max: 0 for no limit */
};

/* Appends len bytes to b (cut at b->max when set). */
static void buf_add(struct buf *b, const char *data, size_t k)
{
    if (b->max > 0 && b->len + k > b->max)
        k = b->len < b->max ? b->max - b->len : 0;
    b->data = xrealloc(b->data, b->len + k + 1);
    memcpy(b->data + b->len, data, k);
    b->len += k;
    b->data[b->len] = '\0';
}

static size_t to_buf(char *data, size_t size, size_t n, void *user)
{
    buf_add(user, data, size * n);
    return size * n;
}

/* A GET into a file: the body goes to the file only when the answer is a success, else to the
 * error buffer (its S3 error code and message). */
struct sink {
    CURL *curl;
    FILE *file;
    struct buf *err;
};

static size_t to_file(char *data, size_t size, size_t n, void *user)
{
    struct sink *k = user;
    long code = 0;

    curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code <= 299)
        return fwrite(data, size, n, k->file) * size;
    return to_buf(data, size, n, k->err);
}

/* Keeps the ETag header of an answer. */
static size_t etag_header(char *data, size_t size, size_t n, void *user)
{
    char *etag = user;
    size_t len = size * n;

    if (len > 5 && strncasecmp(data, "ETag:", 5) == 0) {
        const char *v = data + 5;
        size_t vl = len - 5;

        while (vl > 0 && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        snprintf(etag, 128, "%.*s", (int)vl, v);
    }
    return len;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1)
        fail("SHA-256 failed");
    for (unsigned int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* Percent-encodes s for a URL path (keep_slash) or a query value. */
static char *uri_encode(const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~' || (keep_slash && *p == '/')) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

/* The value of <tag>...</tag> in an XML answer, as a new string, or NULL. */
static char *xml_value(const char *xml, const char *tag)
{
    char open[64], close[64];
    const char *a, *b;

    if (xml == NULL)
        return NULL;
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    if ((a = strstr(xml, open)) == NULL)
        return NULL;
    a += strlen(open);
    if ((b = strstr(a, close)) == NULL)
        return NULL;
    return xasprintf("%.*s", (int)(b - a), a);
}

/* The object URL of key (bucket URL when key is NULL) with query q (canonical, or NULL). */
static char *object_url(const struct pstore *s, const char *key, const char *q)
{
    char *ek = uri_encode(key != NULL ? key : "", true), *url;
    const char *sep = q != NULL ? "?" : "";

    if (q == NULL)
        q = "";
    if (s->path_style) {
        url = xasprintf("%s/%s/%s%s%s", s->endpoint, s->bucket, ek, sep, q);
    } else {
        const char *host = strstr(s->endpoint, "://");

        url = xasprintf("%.*s%s.%s/%s%s%s", (int)(host - s->endpoint + 3), s->endpoint, s->bucket,
                        host + 3, ek, sep, q);
    }
    free(ek);
    return url;
}

struct request {
    const char *method; /* GET, PUT, POST, DELETE, HEAD */
    const char *key;    /* NULL: the bucket */
    const char *query;  /* canonical, or NULL */
    const void *body;
    size_t body_len;
    FILE *sink;         /* GET: the body goes here; NULL: into answer */
    struct buf *answer; /* the body (errors always land here too) */
    char *etag;         /* 128 bytes for the ETag header, or NULL */
    long status;
};

/* One signed request. Returns 0 for a 2xx answer; otherwise *cause names the method, the
 * object and S3's error code and message, and it returns 1 for 404 (no such key), else -1. */
static int s3_do(struct pstore *s, struct request *rq, char **cause)
{
    struct curl_slist *hl = NULL;
    struct buf err = {.max = ERROR_BODY_MAX};
    struct sink sink;
    char hash[65], *h, *url;
    CURLcode rc;
    CURL *c = s->curl;

    curl_easy_reset(c);
    sha256_hex(rq->body != NULL ? rq->body : "", rq->body_len, hash);
    h = xasprintf("x-amz-content-sha256: %s", hash);
    hl = curl_slist_append(hl, h);
    free(h);
    if (s->token[0] != '\0') {
        h = xasprintf("x-amz-security-token: %s", s->token);
        hl = curl_slist_append(hl, h);
        free(h);
    }
    hl = curl_slist_append(hl, "Expect:");
    if (rq->body != NULL)
        hl = curl_slist_append(hl, "Content-Type: application/octet-stream");
    if (hl == NULL)
        fail("out of memory building S3 headers");
    url = object_url(s, rq->key, rq->query);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
    curl_easy_setopt(c, CURLOPT_USERNAME, s->key_id);
    curl_easy_setopt(c, CURLOPT_PASSWORD, s->secret);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "newsroom/" NEWSROOM_VERSION);
    if (strcmp(rq->method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(rq->method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    if (rq->body != NULL || strcmp(rq->method, "POST") == 0 || strcmp(rq->method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body != NULL ? rq->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    }
    if (rq->etag != NULL) {
        rq->etag[0] = '\0';
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, etag_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, rq->etag);
    }
    /* A GET into a file writes there only once the status says it is the object: the body
     * of an error goes to err instead (decided in the first write, see below). */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_buf);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, rq->answer != NULL ? rq->answer : &err);
    if (rq->sink != NULL) {
        sink = (struct sink){c, rq->sink, &err};
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_file);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    }
    rc = curl_easy_perform(c);
    rq->status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rq->status);
    curl_slist_free_all(hl);
    if (rc == CURLE_OK && rq->body != NULL)
        atomic_fetch_add(&bytes_sent, (long long)rq->body_len);
    if (rc != CURLE_OK) {
        *cause = xasprintf("s3 %s %s: %s", rq->method, url, curl_easy_strerror(rc));
        free(url);
        free(err.data);
        return -1;
    }
    if (rq->status < 200 || rq->status > 299) {
        const char *body = rq->answer != NULL ? rq->answer->data : err.data;
        char *code = xml_value(body, "Code"), *msg = xml_value(body, "Message");

        *cause = xasprintf("s3 %s %s: HTTP %ld%s%s%s%s", rq->method, url, rq->status,
                           code != NULL ? " " : "", code != NULL ? code : "",
                           msg != NULL ? ": " : "", msg != NULL ? msg : "");
        free(code);
        free(msg);
        free(url);
        free(err.data);
        return rq->status == 404 ? 1 : -1;
    }
    free(url);
    free(err.data);
    return 0;
}

static char *object_key(const struct pstore *s, enum pstore_area area, const char *id,
                        const char *name)
{
    return xasprintf("%s%s/%s/%s", s->prefix, area_names[area], id, name);
}

/* ---- s3 backend: uploads ---- */

static int s3_put_mem(struct pstore *s, const char *key, const void *data, size_t len, char **cause)
{
    struct request rq = {
        .method = "PUT", .key = key, .body = data != NULL ? data : "", .body_len = len};

    return s3_do(s, &rq, cause) == 0 ? 0 : -1;
}

static void s3_abort(struct pstore *s, const char *key, const char *upload_id)
{
    char *eid = uri_encode(upload_id, false), *q = xasprintf("uploadId=%s", eid), *why = NULL;
    struct request rq = {.method = "DELETE", .key = key, .query = q};

    if (s3_do(s, &rq, &why) == -1)
        free(why); /* the bucket's lifecycle rule cleans up what an abort could not */
    free(q);
    free(eid);
}

/* A multipart upload of the open file f (size bytes): parts of part_size, then the list of
 * parts; any failure aborts it, so nothing appears under key. */
static int s3_put_multipart(struct pstore *s, const char *key, FILE *f, size_t size, char **cause)
{
    struct buf ans = {.max = ERROR_BODY_MAX};
    struct request rq = {.method = "POST", .key = key, .query = "uploads=", .answer = &ans};
    size_t nparts = (size + s->part_size - 1) / s->part_size;
    char *upload_id, *eid, (*etags)[128], *chunk = NULL;
    struct buf list = {0};
    int rc = -1;

    if (nparts > PARTS_MAX) {
        *cause = xasprintf("s3: %s is too large for %zu MB parts", key, s->part_size / MB);
        return -1;
    }
    if (s3_do(s, &rq, cause) != 0) {
        free(ans.data);
        return -1;
    }
    upload_id = xml_value(ans.data, "UploadId");
    free(ans.data);
    if (upload_id == NULL || *upload_id == '\0') {
        *cause = xasprintf("s3: starting the upload of %s gave no UploadId", key);
        free(upload_id);
        return -1;
    }
    eid = uri_encode(upload_id, false);
    etags = xcalloc(nparts, sizeof *etags);
    chunk = xmalloc(s->part_size);
    for (size_t i = 0; i < nparts; i++) {
        size_t want = i + 1 < nparts ? s->part_size : size - i * s->part_size;
        char *q = xasprintf("partNumber=%zu&uploadId=%s", i + 1, eid);
        struct request part = {.method = "PUT",
                               .key = key,
                               .query = q,
                               .body = chunk,
                               .body_len = want,
                               .etag = etags[i]};
        int r;

        if (fread(chunk, 1, want, f) != want) {
            *cause = xasprintf("s3: cannot read part %zu of %s: %s", i + 1, key,
                               ferror(f) ? strerror(errno) : "file shorter than it was");
            free(q);
            goto out;
        }
        r = s3_do(s, &part, cause);
        free(q);
        if (r != 0)
            goto out;
        if (etags[i][0] == '\0') {
            *cause = xasprintf("s3: part %zu of %s came back without an ETag", i + 1, key);
            goto out;
        }
    }
    buf_add(&list, "<CompleteMultipartUpload>", 25);
    for (size_t i = 0; i < nparts; i++) {
        char *p =
            xasprintf("<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>", i + 1, etags[i]);

        buf_add(&list, p, strlen(p));
        free(p);
    }
    buf_add(&list, "</CompleteMultipartUpload>", 26);
    {
        char *q = xasprintf("uploadId=%s", eid);
        struct buf done = {.max = ERROR_BODY_MAX};
        struct request fin = {.method = "POST",
                              .key = key,
                              .query = q,
                              .body = list.data,
                              .body_len = list.len,
                              .answer = &done};

        rc = s3_do(s, &fin, cause) == 0 ? 0 : -1;
        /* S3 may answer 200 with an error in the body. */
        if (rc == 0 && done.data != NULL && strstr(done.data, "<Error>") != NULL) {
            char *code = xml_value(done.data, "Code");

            *cause = xasprintf("s3: completing the upload of %s failed: %s", key,
                               code != NULL ? code : "error");
            free(code);
            rc = -1;
        }
        free(done.data);
        free(q);
    }
out:
    if (rc == -1)
        s3_abort(s, key, upload_id);
    free(list.data);
    free(chunk);
    free(etags);
    free(eid);
    free(upload_id);
    return rc;
}

static int s3_put_path(struct pstore *s, const char *key, const char *path, char **cause)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    int rc;

    if (f == NULL || fstat(fileno(f), &sb) == -1) {
        *cause = xasprintf("cannot read %s: %s", path, strerror(errno));
        if (f != NULL)
            fclose(f);
        return -1;
    }
    if ((size_t)sb.st_size > s->threshold) {
        rc = s3_put_multipart(s, key, f, (size_t)sb.st_size, cause);
    } else {
        char *data = xmalloc((size_t)sb.st_size + 1);

        if (fread(data, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
            *cause = xasprintf("cannot read %s: %s", path, strerror(errno));
            rc = -1;
        } else {
            rc = s3_put_mem(s, key, data, (size_t)sb.st_size, cause);
        }
        free(data);
    }
    fclose(f);
    return rc;
}

/* data as key: one PUT, or a multipart upload above the threshold (read through fmemopen). */
static int s3_put_data(struct pstore *s, const char *key, const void *data, size_t len,
                       char **cause)
{
    FILE *f;
    int rc;

    if (len <= s->threshold)
        return s3_put_mem(s, key, data, len, cause);
    if ((f = fmemopen((void *)data, len, "rb")) == NULL) {
        *cause = xasprintf("s3: cannot read %s from memory: %s", key, strerror(errno));
        return -1;
    }
    rc = s3_put_multipart(s, key, f, len, cause);
    fclose(f);
    return rc;
}

static int s3_delete(struct pstore *s, const char *key, char **cause)
{
    struct request rq = {.method = "DELETE", .key = key};
    int rc = s3_do(s, &rq, cause);

    if (rc == 1) { /* already gone */
        free(*cause);
        *cause = NULL;
    }
    return rc == -1 ? -1 : 0;
}

/* ---- opening ---- */

static char *trimmed(const char *s)
{
    size_t n;

    while (*s == ' ')
        s++;
    n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    return xasprintf("%.*s", (int)n, s);
}

static int open_s3(struct pstore *s, const struct config *c, char **cause)
{
    const char *style = c->store_url_style;

    if (c->store_bucket[0] == '\0') {
        *cause = xasprintf("[store] kind is s3 but bucket (NEWSROOM_S3_BUCKET) is empty");
        return -1;
    }
    if (c->store_access_key_id[0] == '\0' || c->store_secret_access_key[0] == '\0') {
        *cause = xasprintf("[store] kind is s3 but the keys are missing: set AWS_ACCESS_KEY_ID "
                           "and AWS_SECRET_ACCESS_KEY (or [store] access_key_id and "
                           "secret_access_key)");
        return -1;
    }
    s->bucket = trimmed(c->store_bucket);
    s->region = trimmed(c->store_region[0] != '\0' ? c->store_region : "us-east-1");
    if (c->store_endpoint[0] != '\0') {
        size_t n;

        s->endpoint = trimmed(c->store_endpoint);
        n = strlen(s->endpoint);
        while (n > 0 && s->endpoint[n - 1] == '/')
            s->endpoint[--n] = '\0';
        if (strncmp(s->endpoint, "http://", 7) != 0 && strncmp(s->endpoint, "https://", 8) != 0) {
            *cause =
                xasprintf("[store] endpoint \"%s\" is not an http:// or https:// URL", s->endpoint);
            return -1;
        }
    } else {
        s->endpoint = xasprintf("https://s3.%s.amazonaws.com", s->region);
    }
    if (strcmp(style, "path") == 0)
        s->path_style = true;
    else if (strcmp(style, "virtual") == 0)
        s->path_style = false;
    else /* auto: AWS's own endpoints by bucket host name, any other by path */
        s->path_style = c->store_endpoint[0] != '\0';
    if (c->store_prefix[0] != '\0' && c->store_prefix[strlen(c->store_prefix) - 1] != '/')
        s->prefix = xasprintf("%s/", c->store_prefix);
    else
        s->prefix = xstrdup(c->store_prefix);
    s->key_id = xstrdup(c->store_access_key_id);
    s->secret = xstrdup(c->store_secret_access_key);
    s->token = xstrdup(c->store_session_token);
    s->threshold = (size_t)c->store_multipart_threshold_mb * MB;
    s->part_size = (size_t)c->store_part_size_mb * MB;
    s->timeout_ms = c->store_timeout_ms;
    pthread_once(&curl_once, curl_init_once);
    if ((s->curl = curl_easy_init()) == NULL)
        fail("curl_easy_init failed");
    snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", s->region);
    s->described = xasprintf("s3://%s/%s at %s", s->bucket, s->prefix, s->endpoint);
    return 0;
}

char *pstore_area_dir(const struct config *c, enum pstore_area area)
{
    char *data, *dir;

    if (area == PSTORE_PACKAGES)
        return video_packages_dir(c);
    if (c->publish_dir[0] != '\0')
        return xstrdup(c->publish_dir);
    data = config_data_dir(c);
    dir = xasprintf("%s/publish", data);
    free(data);
    return dir;
}

struct pstore *pstore_open(const struct config *c, char **cause)
{
    struct pstore *s = xcalloc(1, sizeof *s);

    if (pstore_kind_check(c->store_kind, cause) == -1) {
        free(s);
        return NULL;
    }
    s->kind = strcmp(c->store_kind, "s3") == 0 ? PSTORE_S3 : PSTORE_LOCAL;
    s->dirs[PSTORE_PACKAGES] = pstore_area_dir(c, PSTORE_PACKAGES);
    s->dirs[PSTORE_PUBLISHED] = pstore_area_dir(c, PSTORE_PUBLISHED);
    if (s->kind == PSTORE_LOCAL) {
        s->described =
            xasprintf("local (%s, %s)", s->dirs[PSTORE_PACKAGES], s->dirs[PSTORE_PUBLISHED]);
        return s;
    }
    if (open_s3(s, c, cause) == -1) {
        pstore_free(s);
        return NULL;
    }
    return s;
}

void pstore_free(struct pstore *s)
{
    if (s == NULL)
        return;
    if (s->curl != NULL)
        curl_easy_cleanup(s->curl);
    free(s->dirs[0]);
    free(s->dirs[1]);
    free(s->described);
    free(s->bucket);
    free(s->prefix);
    free(s->endpoint);
    free(s->region);
    free(s->key_id);
    if (s->secret != NULL) /* a key: not left in freed memory */
        memset(s->secret, 0, strlen(s->secret));
    free(s->secret);
    if (s->token != NULL)
        memset(s->token, 0, strlen(s->token));
    free(s->token);
    free(s);
}

/* ---- the interface ---- */

/* Deletes the objects of keys ({name: key}) a failed call had put, so no half package stays,
 * and frees keys. */
static void s3_undo(struct pstore *s, json_t *keys)
{
    const char *name;
    json_t *v;

    json_object_foreach(keys, name, v)
    {
        char *why = NULL;

        if (s3_delete(s, json_string_value(v), &why) == -1)
            free(why); /* the bucket's lifecycle rule is the last resort */
    }
    json_decref(keys);
}

int pstore_put_folder(struct pstore *s, enum pstore_area area, const char *id, const char *dir,
                      const char *const *names, size_t n, json_t **where, char **cause)
{
    json_t *files = json_array(), *keys;

    if (check_names(id, NULL, cause) == -1)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        if (check_names(id, names[i], cause) == -1)
            goto bad;
        json_array_append_new(files, json_string(names[i]));
    }
    if (s->kind == PSTORE_LOCAL) {
        char *folder;

        if (local_put_folder(s, area, id, dir, names, n, &folder, cause) == -1)
            goto bad;
        *where = json_pack("{s:s, s:s, s:o}", "kind", "local", "folder", folder, "files", files);
        free(folder);
        return 0;
    }
    keys = json_object();
    for (size_t i = 0; i < n; i++) {
        char *key = object_key(s, area, id, names[i]), *path = xasprintf("%s/%s", dir, names[i]);
        int rc = s3_put_path(s, key, path, cause);

        free(path);
        if (rc == -1) {
            s3_undo(s, keys);
            free(key);
            goto bad;
        }
        json_object_set_new(keys, names[i], json_string(key));
        free(key);
    }
    *where = json_pack("{s:s, s:s, s:s, s:o, s:o}", "kind", "s3", "bucket", s->bucket, "endpoint",
                       s->endpoint, "files", files, "keys", keys);
    return 0;
bad:
    json_decref(files);
    return -1;
}

int pstore_put_files(struct pstore *s, enum pstore_area area, const char *id,
                     const struct pstore_file *files, size_t n, bool *unchanged, json_t **where,
                     char **cause)
{
    json_t *names = json_array(), *keys;

    *unchanged = false;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(names, json_string(files[i].name));
    if (s->kind == PSTORE_LOCAL) {
        char *folder, *abs;

        if (pstore_folder_write(s->dirs[area], id, files, n, unchanged, cause) == -1) {
            json_decref(names);
            return -1;
        }
        folder = xasprintf("%s/%s", s->dirs[area], id);
        abs = realpath(folder, NULL);
        *where = json_pack("{s:s, s:s, s:o}", "kind", "local", "folder", abs != NULL ? abs : folder,
                           "files", names);
        free(abs);
        free(folder);
        return 0;
    }
    if (check_names(id, NULL, cause) == -1) {
        json_decref(names);
        return -1;
    }
    keys = json_object();
    for (size_t i = 0; i < n; i++) {
        char *key = NULL;

        if (check_names(id, files[i].name, cause) == -1 ||
            s3_put_data(s, (key = object_key(s, area, id, files[i].name)), files[i].data,
                        files[i].len, cause) == -1) {
            s3_undo(s, keys);
            free(key);
            json_decref(names);
            return -1;
        }
        json_object_set_new(keys, files[i].name, json_string(key));
        free(key);
    }
    *where = json_pack("{s:s, s:s, s:s, s:o, s:o}", "kind", "s3", "bucket", s->bucket, "endpoint",
                       s->endpoint, "files", names, "keys", keys);
    return 0;
}

int pstore_put(struct pstore *s, enum pstore_area area, const char *id, const char *name,
               const void *data, size_t len, char **cause)
{
    char *key;
    int rc;

    if (check_names(id, name, cause) == -1)
        return -1;
    if (s->kind == PSTORE_LOCAL)
        return local_put(s, area, id, name, data, len, cause);
    key = object_key(s, area, id, name);
    rc = s3_put_data(s, key, data, len, cause);
    free(key);
    return rc;
}

int pstore_put_file(struct pstore *s, enum pstore_area area, const char *id, const char *name,
                    const char *path, char **cause)
{
    char *key, *data = NULL;
    size_t len;
    int rc;

    if (check_names(id, name, cause) == -1)
        return -1;
    if (s->kind == PSTORE_LOCAL) {
        rc = read_whole(path, &data, &len, cause);
        if (rc == 1)
            *cause = xasprintf("cannot read %s: no such file", path);
        if (rc != 0)
            return -1;
        rc = local_put(s, area, id, name, data, len, cause);
        free(data);
        return rc;
    }
    key = object_key(s, area, id, name);
    rc = s3_put_path(s, key, path, cause);
    free(key);
    return rc;
}

static bool is_local(const json_t *where)
{
    const char *kind = json_string_value(json_object_get(where, "kind"));

    return kind == NULL || strcmp(kind, "local") == 0;
}

/* Where file name of where is: a new path (local) or key (s3). Returns 0, 1 when where does
 * not list it, -1 with *cause when where is not a package of this store's kind. */
static int locate(struct pstore *s, const json_t *where, const char *name, char **out, char **cause)
{
    const char *kind = json_string_value(json_object_get(where, "kind"));
    const json_t *files = json_object_get(where, "files"), *v;
    bool listed = false;
    size_t i;

    if (!segment_ok(name)) {
        *cause = xasprintf("bad package file name \"%s\"", name);
        return -1;
    }
    json_array_foreach(files, i, v) listed =
        listed || (json_is_string(v) && strcmp(json_string_value(v), name) == 0);
    if (kind == NULL || strcmp(kind, "local") == 0) {
        const char *folder = json_string_value(json_object_get(where, "folder"));

        if (folder == NULL) {
            *cause = xasprintf("the package records no folder");
            return -1;
        }
        if (!listed)
            return 1;
        *out = xasprintf("%s/%s", folder, name);
        return 0;
    }
    if (strcmp(kind, "s3") == 0) {
        const char *bucket = json_string_value(json_object_get(where, "bucket"));
        const char *key = json_string_value(json_object_get(json_object_get(where, "keys"), name));

        if (s->kind != PSTORE_S3) {
            *cause = xasprintf("the package is in S3 bucket %s but this process's [store] kind is "
                               "local: configure the same s3 store",
                               bucket != NULL ? bucket : "?");
            return -1;
        }
        if (bucket == NULL || strcmp(bucket, s->bucket) != 0) {
            *cause = xasprintf("the package is in S3 bucket %s, not in %s",
                               bucket != NULL ? bucket : "?", s->bucket);
            return -1;
        }
        if (key == NULL)
            return 1;
        *out = xstrdup(key);
        return 0;
    }
    *cause = xasprintf("the package's store \"%s\" is unknown", kind);
    return -1;
}

int pstore_get(struct pstore *s, const json_t *where, const char *name, char **data, size_t *len,
               char **cause)
{
    char *at = NULL;
    int rc = locate(s, where, name, &at, cause);
    struct buf b = {0};
    struct request rq = {.method = "GET", .answer = &b};

    if (rc != 0)
        return rc;
    if (is_local(where)) {
        rc = read_whole(at, data, len, cause);
        free(at);
        return rc;
    }
    rq.key = at;
    rc = s3_do(s, &rq, cause);
    free(at);
    if (rc != 0) {
        free(b.data);
        if (rc == 1) {
            free(*cause);
            *cause = NULL;
        }
        return rc;
    }
    *data = b.data != NULL ? b.data : xcalloc(1, 1);
    *len = b.len;
    return 0;
}

int pstore_get_file(struct pstore *s, const json_t *where, const char *name, const char *path,
                    char **cause)
{
    char *at = NULL, *tmp;
    int rc = locate(s, where, name, &at, cause), fd;
    FILE *f;

    if (rc != 0)
        return rc;
    tmp = xasprintf("%s.XXXXXX", path);
    if ((fd = mkstemp(tmp)) == -1 || (f = fdopen(fd, "wb")) == NULL) {
        *cause = xasprintf("cannot write %s: %s", path, strerror(errno));
        if (fd != -1)
            close(fd);
        free(tmp);
        free(at);
        return -1;
    }
    if (is_local(where)) {
        char *from = at;

        fclose(f);
        unlink(tmp);
        rc = copy_file(from, tmp, cause);
        if (rc == -1 && errno == ENOENT) {
            free(*cause);
            *cause = NULL;
            rc = 1;
        }
    } else {
        struct request rq = {.method = "GET", .key = at, .sink = f};

        rc = s3_do(s, &rq, cause);
        if (rc == 1) {
            free(*cause);
            *cause = NULL;
        }
        if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
            if (rc == 0)
                *cause = xasprintf("cannot write %s: %s", path, strerror(errno));
            rc = rc == 0 ? -1 : rc;
        }
        fclose(f);
    }
    if (rc == 0 && (chmod(tmp, 0644) == -1 || rename(tmp, path) == -1)) {
        *cause = xasprintf("cannot write %s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    free(at);
    return rc;
}

int pstore_remove(struct pstore *s, const json_t *where, char **cause)
{
    const json_t *files = json_object_get(where, "files"), *v;
    size_t i;

    if (is_local(where)) {
        const char *folder = json_string_value(json_object_get(where, "folder"));

        if (folder != NULL && paths_rmrf(folder) == -1 && errno != ENOENT) {
            *cause = xasprintf("cannot remove %s: %s", folder, strerror(errno));
            return -1;
        }
        return 0;
    }
    json_array_foreach(files, i, v)
    {
        char *key = NULL;
        int rc = json_is_string(v) ? locate(s, where, json_string_value(v), &key, cause) : 1;

        if (rc == -1)
            return -1;
        if (rc == 0) {
            rc = s3_delete(s, key, cause);
            free(key);
            if (rc == -1)
                return -1;
        }
    }
    return 0;
}

int pstore_check(struct pstore *s, char **cause)
{
    static const char probe[] = "newsroom store probe\n";
    char id[64], *data = NULL;
    const char *names[1] = {"probe.txt"};
    json_t *where;
    size_t len;
    int rc;

    if (s->kind == PSTORE_LOCAL) {
        for (int a = 0; a < 2; a++)
            if (paths_mkdir_p(s->dirs[a], 0755, cause) == -1)
                return -1;
        return 0;
    }
    snprintf(id, sizeof id, "probe-%ld-%ld", (long)getpid(), (long)time(NULL));
    if (pstore_put(s, PSTORE_PACKAGES, id, names[0], probe, sizeof probe - 1, cause) == -1)
        return -1;
    {
        char *key = object_key(s, PSTORE_PACKAGES, id, names[0]);

        where = json_pack("{s:s, s:s, s:[s], s:{s:s}}", "kind", "s3", "bucket", s->bucket, "files",
                          names[0], "keys", names[0], key);
        free(key);
    }
    rc = pstore_get(s, where, names[0], &data, &len, cause);
    if (rc == 1)
        *cause = xasprintf("s3: a probe object written to %s could not be read back", s->described);
    if (rc == 0 && (len != sizeof probe - 1 || memcmp(data, probe, len) != 0)) {
        *cause = xasprintf("s3: a probe object read back from %s differs", s->described);
        rc = -1;
    }
    free(data);
    if (rc == 0)
        rc = pstore_remove(s, where, cause);
    json_decref(where);
    return rc == 0 ? 0 : -1;
}

json_t *pstore_where_of(const json_t *pkg)
{
    const json_t *st = json_object_get(pkg, "store");
    const json_t *folder = json_object_get(pkg, "folder"), *files = json_object_get(pkg, "files");

    if (json_is_object(st))
        return json_incref((json_t *)st);
    if (!json_is_string(folder) || !json_is_array(files))
        return NULL;
    return json_pack("{s:s, s:O, s:O}", "kind", "local", "folder", folder, "files", files);
}

bool pstore_where_is_s3(const json_t *where)
{
    const char *kind = json_string_value(json_object_get(where, "kind"));

    return kind != NULL && strcmp(kind, "s3") == 0;
}

int pstore_localize(struct pstore *s, const json_t *where, const char *name, const char *dir,
                    char **path, char **cause)
{
    char *at = NULL;
    int rc;

    if (is_local(where)) {
        rc = locate(s, where, name, &at, cause);
        if (rc == 0)
            *path = at;
        return rc;
    }
    at = xasprintf("%s/%s", dir, name);
    rc = pstore_get_file(s, where, name, at, cause);
    if (rc == 0)
        *path = at;
    else
        free(at);
    return rc;
}

int pstore_put_package(struct pstore *s, const char *id, json_t *pkg, char **cause)
{
    const char *folder = json_string_value(json_object_get(pkg, "folder"));
    const json_t *files = json_object_get(pkg, "files"), *v;
    const char **names;
    size_t n = json_array_size(files), i, k = 0;
    json_t *where = NULL;
    int rc;

    if (folder == NULL || !json_is_array(files) || n == 0) {
        *cause = xasprintf("the package of %s lists no folder and files", id);
        return -1;
    }
    names = xcalloc(n, sizeof *names);
    /* Every file but the manifest, then the manifest: it marks a package complete. */
    json_array_foreach(files, i, v) if (json_is_string(v) &&
                                        strcmp(json_string_value(v), "manifest.json") != 0)
        names[k++] = json_string_value(v);
    json_array_foreach(files, i, v) if (json_is_string(v) &&
                                        strcmp(json_string_value(v), "manifest.json") == 0)
        names[k++] = json_string_value(v);
    rc = pstore_put_folder(s, PSTORE_PACKAGES, id, folder, names, k, &where, cause);
    free(names);
    if (rc == -1)
        return -1;
    if (s->kind == PSTORE_S3) {
        static const char *const local_paths[] = {"folder", "mp4", "srt", "thumbnail", "manifest"};

        paths_rmrf(folder);
        for (i = 0; i < sizeof local_paths / sizeof local_paths[0]; i++)
            json_object_del(pkg, local_paths[i]);
    }
    json_object_set_new(pkg, "store", where);
    return 0;
}

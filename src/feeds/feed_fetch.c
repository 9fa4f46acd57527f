/*
 * feed_fetch.c - feeds over HTTP(S) with libcurl and from the file system; see feed_fetch.h.
 * The size limit is enforced twice for HTTP: CURLOPT_MAXFILESIZE_LARGE refuses a declared
 * Content-Length before the body is read, and the write callback stops a body without one
 * (chunked, or lying) the moment it passes the limit. Response headers are collected anew on
 * every status line, so the validators kept are those of the final response after redirects.
 *
 * Threads: any; each call owns its handle. curl_global_init runs once under pthread_once.
 */
#include "feeds/feed_fetch.h"

#include "core/fail.h"

#include <curl/curl.h>
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define FOLDER_FILES_MAX 1000

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        fail("curl_global_init failed");
}

struct sink {
    char *buf;
    size_t len, cap, max;
    bool too_big;
    char *etag, *last_modified;
};

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    struct sink *s = user;
    size_t add = size * n;

    if (s->len + add > s->max) {
        s->too_big = true;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    if (s->len + add + 1 > s->cap) {
        s->cap = (s->len + add + 1) * 2;
        if (s->cap > s->max + 1)
            s->cap = s->max + 1;
        s->buf = xrealloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, data, add);
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

/* header "name:" at data (len bytes) -> a new trimmed value, or NULL. */
static char *header_value(const char *data, size_t len, const char *name)
{
    size_t nl = strlen(name);
    const char *v, *end = data + len;

    if (len <= nl || strncasecmp(data, name, nl) != 0)
        return NULL;
    v = data + nl;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    if (end - v > 512)
        return NULL;
    return xasprintf("%.*s", (int)(end - v), v);
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    struct sink *s = user;
    size_t len = size * n;
    char *v;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new response (after a redirect): forget the previous one's validators. */
        free(s->etag);
        free(s->last_modified);
        s->etag = s->last_modified = NULL;
    } else if ((v = header_value(data, len, "etag:")) != NULL) {
        free(s->etag);
        s->etag = v;
    } else if ((v = header_value(data, len, "last-modified:")) != NULL) {
        free(s->last_modified);
        s->last_modified = v;
    }
    return len;
}

static int fetch_http(const char *url, const char *etag, const char *last_modified,
                      const struct feed_fetch_options *o, struct feed_response *out, char **cause)
{
    struct sink s = {.max = o->max_bytes};
    struct curl_slist *hl = NULL;
    char *h;
    CURL *c;
    CURLcode rc;
    long status = 0;
    char *final = NULL;

    pthread_once(&global_once, global_init);
    c = curl_easy_init();
    if (c == NULL)
        fail("curl_easy_init failed");
    if (etag != NULL && *etag != '\0') {
        h = xasprintf("If-None-Match: %s", etag);
        hl = curl_slist_append(hl, h);
        free(h);
    }
    if (last_modified != NULL && *last_modified != '\0') {
        h = xasprintf("If-Modified-Since: %s", last_modified);
        hl = curl_slist_append(hl, h);
        free(h);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(o->timeout_ms < 10000 ? o->timeout_ms : 10000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)o->max_redirects);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "newsroom/" NEWSROOM_VERSION " (feed reader)");
    rc = curl_easy_perform(c);
    curl_slist_free_all(hl);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK) {
        char *eff = NULL;

        curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
        final = xstrdup(eff != NULL ? eff : url);
    }
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || (status != 304 && (status < 200 || status > 299))) {
        if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED)
            *cause = xasprintf("the feed is larger than the %zu byte limit", o->max_bytes);
        else if (rc == CURLE_TOO_MANY_REDIRECTS)
            *cause = xasprintf("more than %d redirects", o->max_redirects);
        else if (rc == CURLE_OPERATION_TIMEDOUT)
            *cause = xasprintf("no complete answer within %d ms", o->timeout_ms);
        else if (rc != CURLE_OK)
            *cause = xstrdup(curl_easy_strerror(rc));
        else
            *cause = xasprintf("HTTP status %ld", status);
        free(s.buf);
        free(s.etag);
        free(s.last_modified);
        free(final);
        return -1;
    }
    out->status = status;
    out->etag = s.etag;
    out->last_modified = s.last_modified;
    if (status == 304) {
        out->not_modified = true;
        free(s.buf);
        free(final);
        return 0;
    }
    out->bodies = xcalloc(1, sizeof *out->bodies);
    out->bodies[0] = (struct feed_body){final, s.buf != NULL ? s.buf : xstrdup(""), s.len};
    out->nbodies = 1;
    return 0;
}

bool feed_source_is_file(const char *source)
{
    return strncasecmp(source, "file://", 7) == 0 ||
           (strncasecmp(source, "http://", 7) != 0 && strncasecmp(source, "https://", 8) != 0);
}

/* The path of a file source: file://PATH or file://localhost/PATH, or the source itself. */
static const char *file_path(const char *source)
{
    if (strncasecmp(source, "file://localhost/", 17) == 0)
        return source + 16;
    if (strncasecmp(source, "file://", 7) == 0)
        return source + 7;
    return source;
}

/* Reads a regular file of at most max bytes, refusing a longer one without reading it. */
static int read_file(const char *path, size_t max, char **data, size_t *len, char **cause)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    size_t got = 0;
    char *buf;

    if (fd == -1) {
        *cause = xasprintf("%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
        *cause = xasprintf("%s: not a regular file", path);
        close(fd);
        return -1;
    }
    if ((uint64_t)sb.st_size > max) {
        *cause = xasprintf("%s: the feed is larger than the %zu byte limit", path, max);
        close(fd);
        return -1;
    }
    buf = xmalloc((size_t)sb.st_size + 1);
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fetch_file(const char *source, const char *etag, const struct feed_fetch_options *o,
                      struct feed_response *out, char **cause)
{
    const char *path = file_path(source);
    struct stat sb;
    char **names = NULL, *validator;
    size_t nnames = 0;
    unsigned long long sum = 0, total = 0;

    if (stat(path, &sb) == -1) {
        *cause = xasprintf("%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;

        if (d == NULL) {
            *cause = xasprintf("%s: %s", path, strerror(errno));
            return -1;
        }
        while ((de = readdir(d)) != NULL && nnames < FOLDER_FILES_MAX) {
            struct stat fs;
            char *p;

            if (de->d_name[0] == '.')
                continue;
            p = xasprintf("%s/%s", path, de->d_name);
            if (stat(p, &fs) == 0 && S_ISREG(fs.st_mode)) {
                names = xrealloc(names, (nnames + 1) * sizeof *names);
                names[nnames++] = p;
                /* The folder's validator: every file's size and time, and their count. */
                sum = sum * 1000003u + (unsigned long long)fs.st_size * 31u +
                      (unsigned long long)fs.st_mtim.tv_sec * 1000000000ull +
                      (unsigned long long)fs.st_mtim.tv_nsec;
                total += (unsigned long long)fs.st_size;
            } else {
                free(p);
            }
        }
        closedir(d);
        qsort(names, nnames, sizeof *names, cmp_str);
        validator = xasprintf("dir:%zu:%llu:%llx", nnames, total, sum);
    } else {
        names = xmalloc(sizeof *names);
        names[nnames++] = xstrdup(path);
        validator = xasprintf("file:%lld:%lld.%09ld", (long long)sb.st_size,
                              (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
    }
    out->status = 200;
    out->etag = validator;
    if (etag != NULL && strcmp(etag, validator) == 0) {
        out->not_modified = true;
        for (size_t i = 0; i < nnames; i++)
            free(names[i]);
        free(names);
        return 0;
    }
    out->bodies = xcalloc(nnames + 1, sizeof *out->bodies);
    for (size_t i = 0; i < nnames; i++) {
        struct feed_body *b = &out->bodies[out->nbodies];

        if (read_file(names[i], o->max_bytes, &b->data, &b->len, cause) == -1) {
            for (size_t k = i; k < nnames; k++)
                free(names[k]);
            free(names);
            feed_response_clear(out);
            return -1;
        }
        b->url = xasprintf("file://%s", names[i]);
        free(names[i]);
        out->nbodies++;
    }
    free(names);
    return 0;
}

int feed_fetch(const char *source, const char *etag, const char *last_modified,
               const struct feed_fetch_options *o, struct feed_response *out, char **cause)
{
    memset(out, 0, sizeof *out);
    if (feed_source_is_file(source))
        return fetch_file(source, etag, o, out, cause);
    return fetch_http(source, etag, last_modified, o, out, cause);
}

void feed_response_clear(struct feed_response *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nbodies; i++) {
        free(r->bodies[i].url);
        free(r->bodies[i].data);
    }
    free(r->bodies);
    free(r->etag);
    free(r->last_modified);
    memset(r, 0, sizeof *r);
}

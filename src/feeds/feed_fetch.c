/*
 * feed_fetch.c - feeds, pages and robots.txt over HTTP(S) with libcurl, and feeds from the file
 * system; see feed_fetch.h. The size limit is enforced twice for HTTP:
 * CURLOPT_MAXFILESIZE_LARGE refuses a declared Content-Length before the body is read, and
 * the write callback stops a body without one (chunked, or lying) the moment it passes the
 * limit. Response headers are collected anew on every status line, so the validators kept are
 * those of the final response after redirects.
 *
 * Threads: a transfer is used by one thread at a time (its easy handle); curl_global_init runs
 * once under pthread_once.
 */
#include "feeds/feed_fetch.h"

#include "core/fail.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define FOLDER_FILES_MAX 1000
#define USER_AGENT       "newsroom/" NEWSROOM_VERSION " (feed reader; +robots.txt honoured)"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        fail("curl_global_init failed");
}

void feed_fetch_init(void)
{
    pthread_once(&global_once, global_init);
}

struct feed_transfer {
    CURL *easy;
    struct curl_slist *headers;
    enum feed_fetch_kind kind;
    struct feed_fetch_options o;
    char *url;
    /* the answer as it comes */
    char *buf;
    size_t len, cap;
    bool too_big;
    char *etag, *last_modified;
};

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    struct feed_transfer *t = user;
    size_t add = size * n;

    if (t->len + add > t->o.max_bytes) {
        t->too_big = true;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    if (t->len + add + 1 > t->cap) {
        t->cap = (t->len + add + 1) * 2;
        if (t->cap > t->o.max_bytes + 1)
            t->cap = t->o.max_bytes + 1;
        t->buf = xrealloc(t->buf, t->cap);
    }
    memcpy(t->buf + t->len, data, add);
    t->len += add;
    t->buf[t->len] = '\0';
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
    struct feed_transfer *t = user;
    size_t len = size * n;
    char *v;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new response (after a redirect): forget the previous one's validators. */
        free(t->etag);
        free(t->last_modified);
        t->etag = t->last_modified = NULL;
    } else if ((v = header_value(data, len, "etag:")) != NULL) {
        free(t->etag);
        t->etag = v;
    } else if ((v = header_value(data, len, "last-modified:")) != NULL) {
        free(t->last_modified);
        t->last_modified = v;
    }
    return len;
}

static void add_header(struct feed_transfer *t, const char *name, const char *value)
{
    char *h;

    if (value == NULL || *value == '\0')
        return;
    h = xasprintf("%s: %s", name, value);
    t->headers = curl_slist_append(t->headers, h);
    free(h);
}

struct feed_transfer *feed_transfer_new(enum feed_fetch_kind kind, const char *url,
                                        const char *etag, const char *last_modified,
                                        const struct feed_fetch_options *o)
{
    static const char *const accept[] = {
        [FEED_FETCH_FEED] = "application/rss+xml, application/atom+xml, application/rdf+xml, "
                            "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8",
        [FEED_FETCH_PAGE] = "text/html, application/xhtml+xml;q=0.9",
        [FEED_FETCH_ROBOTS] = "text/plain, */*;q=0.5",
        [FEED_FETCH_MEDIA] = "image/webp, image/png, image/jpeg, image/gif;q=0.9, "
                             "video/mp4;q=0.9, */*;q=0.5",
    };
    struct feed_transfer *t = xcalloc(1, sizeof *t);
    CURL *c;

    feed_fetch_init();
    t->kind = kind;
    t->o = *o;
    t->url = xstrdup(url);
    c = t->easy = curl_easy_init();
    if (c == NULL)
        fail("curl_easy_init failed");
    if (kind == FEED_FETCH_FEED) {
        add_header(t, "If-None-Match", etag);
        add_header(t, "If-Modified-Since", last_modified);
    }
    add_header(t, "Accept", accept[kind]);
    curl_easy_setopt(c, CURLOPT_URL, t->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers);
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
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
    return t;
}

CURL *feed_transfer_easy(struct feed_transfer *t)
{
    return t->easy;
}

/* The media type of a Content-Type value, lower case, and its charset (new strings). */
static void content_type(const char *ct, char **type, char **charset)
{
    const char *semi, *cs;
    size_t n;

    *type = *charset = NULL;
    if (ct == NULL)
        return;
    semi = strchr(ct, ';');
    n = semi != NULL ? (size_t)(semi - ct) : strlen(ct);
    while (n > 0 && ct[n - 1] == ' ')
        n--;
    *type = xasprintf("%.*s", (int)n, ct);
    for (char *p = *type; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    for (cs = semi; cs != NULL; cs = strchr(cs + 1, ';')) {
        const char *v = cs + 1;

        while (*v == ' ')
            v++;
        if (strncasecmp(v, "charset=", 8) == 0) {
            v += 8;
            if (*v == '"')
                v++;
            n = strcspn(v, "\"; ");
            if (n > 0 && n < 40)
                *charset = xasprintf("%.*s", (int)n, v);
            break;
        }
    }
}

int feed_transfer_finish(struct feed_transfer *t, CURLcode rc, struct feed_answer *out,
                         char **cause)
{
    long status = 0;
    char *eff = NULL, *ct = NULL, *type = NULL, *charset = NULL;

    memset(out, 0, sizeof *out);
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
    curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &eff);
    out->status = status;
    /* The host's fault: no (whole) answer, or one saying it cannot answer now. A body too big,
     * a redirect loop, a 404 or a page that is not HTML are answers. */
    out->host_fault = status >= 500 || status == 429;
    if (rc != CURLE_OK) {
        if (t->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
            *cause = xasprintf("larger than the %zu byte limit", t->o.max_bytes);
        } else if (rc == CURLE_TOO_MANY_REDIRECTS) {
            *cause = xasprintf("more than %d redirects", t->o.max_redirects);
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            *cause = xasprintf("no complete answer within %d ms", t->o.timeout_ms);
            out->host_fault = true;
        } else {
            *cause = xstrdup(curl_easy_strerror(rc));
            out->host_fault = true;
        }
        return -1;
    }
    if (t->kind != FEED_FETCH_ROBOTS && status != 304 && (status < 200 || status > 299)) {
        *cause = xasprintf("HTTP status %ld", status);
        return -1;
    }
    content_type(ct, &type, &charset);
    if (t->kind == FEED_FETCH_PAGE && status != 304 &&
        (type == NULL ||
         (strcmp(type, "text/html") != 0 && strcmp(type, "application/xhtml+xml") != 0))) {
        *cause = xasprintf("not an HTML page (Content-Type: %s)", type != NULL ? type : "none");
        free(type);
        free(charset);
        return -1;
    }
    free(type);
    out->not_modified = status == 304;
    out->url = xstrdup(eff != NULL ? eff : t->url);
    out->charset = charset;
    out->etag = t->etag;
    out->last_modified = t->last_modified;
    t->etag = t->last_modified = NULL;
    if (!out->not_modified) {
        out->data = t->buf != NULL ? t->buf : xstrdup("");
        out->len = t->len;
        t->buf = NULL;
    }
    return 0;
}

void feed_transfer_free(struct feed_transfer *t)
{
    if (t == NULL)
        return;
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    free(t->url);
    free(t->buf);
    free(t->etag);
    free(t->last_modified);
    free(t);
}

void feed_answer_clear(struct feed_answer *a)
{
    if (a == NULL)
        return;
    free(a->url);
    free(a->data);
    free(a->etag);
    free(a->last_modified);
    free(a->charset);
    for (size_t i = 0; i < a->nmembers; i++)
        free(a->members[i]);
    free(a->members);
    memset(a, 0, sizeof *a);
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
static int read_file(const char *path, size_t max, char **data, size_t *len, char **validator,
                     char **cause)
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
    *validator = xasprintf("file:%lld:%lld.%09ld", (long long)sb.st_size,
                           (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
    if ((uint64_t)sb.st_size > max) {
        *cause = xasprintf("%s: larger than the %zu byte limit", path, max);
        close(fd);
        free(*validator);
        *validator = NULL;
        return -1;
    }
    if (data == NULL) {
        close(fd);
        return 0;
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

/* The regular files of folder path as sources: source "/" name. */
static int list_folder(const char *source, const char *path, struct feed_answer *out, char **cause)
{
    DIR *d = opendir(path);
    struct dirent *de;
    size_t slen = strlen(source);

    if (d == NULL) {
        *cause = xasprintf("%s: %s", path, strerror(errno));
        return -1;
    }
    while (slen > 1 && source[slen - 1] == '/')
        slen--;
    while ((de = readdir(d)) != NULL && out->nmembers < FOLDER_FILES_MAX) {
        struct stat fs;
        char *p;

        if (de->d_name[0] == '.')
            continue;
        p = xasprintf("%s/%s", path, de->d_name);
        if (stat(p, &fs) == 0 && S_ISREG(fs.st_mode)) {
            out->members = xrealloc(out->members, (out->nmembers + 1) * sizeof *out->members);
            out->members[out->nmembers++] = xasprintf("%.*s/%s", (int)slen, source, de->d_name);
        }
        free(p);
    }
    closedir(d);
    qsort(out->members, out->nmembers, sizeof *out->members, cmp_str);
    return 0;
}

int feed_file_fetch(const char *source, const char *etag, size_t max, struct feed_answer *out,
                    char **cause)
{
    const char *path = file_path(source);
    struct stat sb;
    char *validator = NULL;

    memset(out, 0, sizeof *out);
    if (stat(path, &sb) == -1) {
        *cause = xasprintf("%s: %s", path, strerror(errno));
        return -1;
    }
    out->status = 200;
    /* An absolute URL, also for a relative path: what the document refers to (its pictures)
     * must resolve the same from any folder. */
    if (path[0] == '/') {
        out->url = xasprintf("file://%s", path);
    } else {
        char *abs = realpath(path, NULL);

        out->url = abs != NULL ? xasprintf("file://%s", abs) : xasprintf("file:%s", path);
        free(abs);
    }
    if (S_ISDIR(sb.st_mode)) {
        if (list_folder(source, path, out, cause) == -1) {
            feed_answer_clear(out);
            return -1;
        }
        return 0;
    }
    if (read_file(path, max, NULL, NULL, &validator, cause) == -1) {
        feed_answer_clear(out);
        return -1;
    }
    if (etag != NULL && strcmp(etag, validator) == 0) {
        out->not_modified = true;
        out->etag = validator;
        return 0;
    }
    free(validator);
    validator = NULL;
    if (read_file(path, max, &out->data, &out->len, &validator, cause) == -1) {
        feed_answer_clear(out);
        return -1;
    }
    out->etag = validator;
    return 0;
}

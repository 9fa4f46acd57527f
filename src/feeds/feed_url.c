/*
 * feed_url.c - RFC 3986 reference resolution and the parts of a URL the fetcher needs; see
 * feed_url.h. A URL is split into its five components by the generic syntax alone (appendix
 * B's regular expression, written out), so nothing is ever decoded or re-encoded on the way:
 * what the feed wrote is what comes out, bar the bytes no URL may hold.
 *
 * Threads: any; no state.
 */
#include "feeds/feed_url.h"

#include "core/fail.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One component: start and length in the string it came from; defined is RFC 3986's "is
 * defined" (a present but empty query differs from none). */
struct part {
    const char *p;
    size_t n;
    bool defined;
};

struct uri {
    struct part scheme, authority, path, query, fragment;
};

/* Splits s by appendix B: ^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))? */
static void split(const char *s, struct uri *u)
{
    const char *p = s, *q;

    memset(u, 0, sizeof *u);
    q = p + strcspn(p, ":/?#");
    if (*q == ':' && q > p && isalpha((unsigned char)*p)) {
        u->scheme = (struct part){p, (size_t)(q - p), true};
        p = q + 1;
    }
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        q = p + strcspn(p, "/?#");
        u->authority = (struct part){p, (size_t)(q - p), true};
        p = q;
    }
    q = p + strcspn(p, "?#");
    u->path = (struct part){p, (size_t)(q - p), true};
    p = q;
    if (*p == '?') {
        p++;
        q = p + strcspn(p, "#");
        u->query = (struct part){p, (size_t)(q - p), true};
        p = q;
    }
    if (*p == '#') {
        p++;
        u->fragment = (struct part){p, strlen(p), true};
    }
}

/* A growing string. */
struct out {
    char *s;
    size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
    size_t need = o->len + n + 1;

    if (need > o->cap || o->s == NULL) {
        o->cap = need * 2;
        o->s = xrealloc(o->s, o->cap);
    }
    memcpy(o->s + o->len, s, n);
    o->len += n;
    o->s[o->len] = '\0';
}

static void puts_part(struct out *o, const struct part *p)
{
    put(o, p->p, p->n);
}

/* The scheme in its canonical lower case (RFC 3986 3.1). */
static void put_scheme(struct out *o, const struct part *p)
{
    size_t start = o->len;

    puts_part(o, p);
    for (size_t i = start; i < o->len; i++)
        o->s[i] = (char)tolower((unsigned char)o->s[i]);
    put(o, ":", 1);
}

/* Drops the last segment and the "/" before it from what o holds past start. */
static void pop_segment(struct out *o, size_t start)
{
    while (o->len > start && o->s[o->len - 1] != '/')
        o->len--;
    if (o->len > start)
        o->len--;
    o->s[o->len] = '\0';
}

/* RFC 3986 5.2.4: removes "." and ".." segments of path (n bytes) into o. */
static void remove_dots(struct out *o, const char *path, size_t n)
{
    char *in = xmalloc(n + 1), *p;
    size_t start = o->len;

    memcpy(in, path, n);
    in[n] = '\0';
    p = in;
    put(o, "", 0);
    while (*p != '\0') {
        if (strncmp(p, "../", 3) == 0) {
            p += 3;
        } else if (strncmp(p, "./", 2) == 0 || strncmp(p, "/./", 3) == 0) {
            p += 2;
        } else if (strcmp(p, "/.") == 0) {
            p[1] = '\0';
        } else if (strncmp(p, "/../", 4) == 0) {
            p += 3;
            pop_segment(o, start);
        } else if (strcmp(p, "/..") == 0) {
            p[1] = '\0';
            pop_segment(o, start);
        } else if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
            break;
        } else {
            size_t seg = *p == '/' ? 1 + strcspn(p + 1, "/") : strcspn(p, "/");

            put(o, p, seg);
            p += seg;
        }
    }
    free(in);
}

/* RFC 3986 5.2.3: the base's path without its last segment, then ref's path. */
static void merge(struct out *o, const struct uri *base, const struct part *ref_path)
{
    struct out m = {0};

    if (base->authority.defined && base->path.n == 0) {
        put(&m, "/", 1);
    } else {
        size_t keep = base->path.n;

        while (keep > 0 && base->path.p[keep - 1] != '/')
            keep--;
        put(&m, base->path.p, keep);
    }
    put(&m, ref_path->p, ref_path->n);
    remove_dots(o, m.s, m.len);
    free(m.s);
}

/* Copies s into a new string, escaping the bytes a URL cannot hold. */
static char *escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    struct out o = {0};

    put(&o, "", 0);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p) != NULL) {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};

            put(&o, e, 3);
        } else {
            put(&o, (const char *)p, 1);
        }
    }
    return o.s;
}

/* s without leading and trailing white space, a new string. */
static char *trimmed(const char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    return xasprintf("%.*s", (int)n, s);
}

char *feed_url_resolve(const char *base, const char *ref)
{
    struct uri b, r;
    struct out o = {0}, path = {0};
    const struct part *scheme, *auth, *query;
    char *rs = ref != NULL ? trimmed(ref) : NULL, *bs = base != NULL ? trimmed(base) : NULL, *out;

    if (rs == NULL || *rs == '\0') {
        free(rs);
        free(bs);
        return NULL;
    }
    split(rs, &r);
    if (bs != NULL)
        split(bs, &b);
    if (!r.scheme.defined && (bs == NULL || !b.scheme.defined)) {
        free(rs);
        free(bs);
        return NULL;
    }
    /* RFC 3986 5.2.2: the target's scheme, authority, path and query. */
    put(&path, "", 0);
    if (r.scheme.defined || r.authority.defined) {
        scheme = r.scheme.defined ? &r.scheme : &b.scheme;
        auth = r.authority.defined ? &r.authority : NULL;
        remove_dots(&path, r.path.p, r.path.n);
        query = r.query.defined ? &r.query : NULL;
    } else {
        scheme = &b.scheme;
        auth = b.authority.defined ? &b.authority : NULL;
        if (r.path.n == 0) {
            puts_part(&path, &b.path);
            query = r.query.defined ? &r.query : b.query.defined ? &b.query : NULL;
        } else {
            if (r.path.p[0] == '/')
                remove_dots(&path, r.path.p, r.path.n);
            else
                merge(&path, &b, &r.path);
            query = r.query.defined ? &r.query : NULL;
        }
    }
    /* 5.3: put together. */
    put_scheme(&o, scheme);
    if (auth != NULL) {
        put(&o, "//", 2);
        puts_part(&o, auth);
    }
    put(&o, path.s, path.len);
    free(path.s);
    if (query != NULL) {
        put(&o, "?", 1);
        puts_part(&o, query);
    }
    if (r.fragment.defined) {
        put(&o, "#", 1);
        puts_part(&o, &r.fragment);
    }
    out = escape(o.s);
    free(o.s);
    free(rs);
    free(bs);
    return out;
}

/* The scheme (lower case) and the host part of an http(s) URL, or false. */
static bool http_parts(const char *url, struct uri *u, bool *https)
{
    if (url == NULL)
        return false;
    split(url, u);
    if (!u->scheme.defined || !u->authority.defined)
        return false;
    if (u->scheme.n == 4 && strncasecmp(u->scheme.p, "http", 4) == 0)
        *https = false;
    else if (u->scheme.n == 5 && strncasecmp(u->scheme.p, "https", 5) == 0)
        *https = true;
    else
        return false;
    return true;
}

/* The host and port of an authority (user info dropped): host bytes, and the port or -1. */
static bool host_port(const struct part *auth, const char **host, size_t *hlen, long *port)
{
    const char *p = auth->p, *end = auth->p + auth->n, *at, *colon = NULL;

    at = memchr(p, '@', auth->n);
    if (at != NULL)
        p = at + 1;
    if (p < end && *p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));

        if (close == NULL)
            return false;
        *host = p;
        *hlen = (size_t)(close - p + 1);
        if (close + 1 < end && close[1] == ':')
            colon = close + 1;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        *host = p;
        *hlen = (size_t)((colon != NULL ? colon : end) - p);
    }
    *port = -1;
    if (colon != NULL && colon + 1 < end) {
        char buf[8];
        size_t n = (size_t)(end - colon - 1);
        char *e;

        if (n >= sizeof buf)
            return false;
        memcpy(buf, colon + 1, n);
        buf[n] = '\0';
        *port = strtol(buf, &e, 10);
        if (*e != '\0' || *port < 0 || *port > 65535)
            return false;
    }
    return *hlen > 0;
}

bool feed_url_is_http(const char *url)
{
    struct uri u;
    bool https;
    const char *h;
    size_t hl;
    long port;

    return http_parts(url, &u, &https) && host_port(&u.authority, &h, &hl, &port);
}

static char *lower(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);

    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[n] = '\0';
    return out;
}

char *feed_url_origin(const char *url)
{
    struct uri u;
    bool https;
    const char *h;
    size_t hl;
    long port;
    char *host, *out;

    if (!http_parts(url, &u, &https) || !host_port(&u.authority, &h, &hl, &port))
        return NULL;
    host = lower(h, hl);
    if (port == -1 || port == (https ? 443 : 80))
        out = xasprintf("%s://%s", https ? "https" : "http", host);
    else
        out = xasprintf("%s://%s:%ld", https ? "https" : "http", host, port);
    free(host);
    return out;
}

char *feed_url_host(const char *url)
{
    struct uri u;
    bool https;
    const char *h;
    size_t hl;
    long port;

    if (!http_parts(url, &u, &https) || !host_port(&u.authority, &h, &hl, &port))
        return NULL;
    return lower(h, hl);
}

char *feed_url_path(const char *url)
{
    struct uri u;
    bool https;

    if (!http_parts(url, &u, &https))
        return NULL;
    if (u.query.defined)
        return xasprintf("%.*s?%.*s", u.path.n > 0 ? (int)u.path.n : 1,
                         u.path.n > 0 ? u.path.p : "/", (int)u.query.n, u.query.p);
    return xasprintf("%.*s", u.path.n > 0 ? (int)u.path.n : 1, u.path.n > 0 ? u.path.p : "/");
}

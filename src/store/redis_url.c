/*
 * redis_url.c - parsing and formatting of Redis addresses; see redis_url.h. Pure functions
 * without state, safe from any thread. Every message that quotes a URL quotes its masked
 * form (redis_url_mask), so no path through here can print a password.
 */
#include "store/redis_url.h"

#include "core/fail.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The end of the userinfo of a redis:// URL whose authority starts at auth: the last '@'
 * in the URL, so that a password with '/', '?', '#' or '@' in it is still recognised (and
 * masked) as a password; NULL when there is none. */
static const char *userinfo_end(const char *auth)
{
    return strrchr(auth, '@');
}

char *redis_url_mask(const char *url, char *buf, size_t size)
{
    const char *auth = strstr(url, "://");
    const char *at, *colon;

    snprintf(buf, size, "%s", url);
    if (auth == NULL)
        return buf;
    auth += 3;
    at = userinfo_end(auth);
    if (at == NULL)
        return buf;
    colon = memchr(auth, ':', (size_t)(at - auth));
    if (colon == NULL)
        return buf;
    snprintf(buf, size, "%.*s***%s", (int)(colon + 1 - url), url, at);
    return buf;
}

/* Percent-decodes [s, s+n) into out (size bytes). Returns 0, or -1 on a bad escape or when
 * the result does not fit. */
static int pct_decode(const char *s, size_t n, char *out, size_t size)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];

        if (c == '%') {
            char hex[3];
            char *endp;

            if (i + 2 >= n)
                return -1;
            if (!isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]))
                return -1;
            hex[0] = s[i + 1];
            hex[1] = s[i + 2];
            hex[2] = '\0';
            c = (int)strtol(hex, &endp, 16);
            if (c == 0)
                return -1;
            i += 2;
        }
        if (o + 1 >= size)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

/* Parses a decimal integer in [lo, hi] from exactly [s, s+n). */
static int parse_int(const char *s, size_t n, long lo, long hi, int *out)
{
    char tmp[16];
    char *end;
    long v;

    if (n == 0 || n >= sizeof tmp)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    v = strtol(tmp, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* Parses "db=N" (the only query parameter) from a query string without the '?'. */
static int parse_query(const char *q, struct redis_addr *out, const char *shown, char **cause)
{
    while (*q != '\0') {
        size_t n = strcspn(q, "&");

        if (n > 3 && strncmp(q, "db=", 3) == 0) {
            if (parse_int(q + 3, n - 3, 0, INT_MAX, &out->db) == -1) {
                *cause = xasprintf("%s: database \"%.*s\" is not a whole number", shown,
                                   (int)(n - 3), q + 3);
                return -1;
            }
            out->db_set = true;
        } else {
            *cause = xasprintf("%s: unknown parameter \"%.*s\" (only db=N is understood)", shown,
                               (int)n, q);
            return -1;
        }
        q += n;
        if (*q == '&')
            q++;
    }
    return 0;
}

static int parse_unix(const char *rest, struct redis_addr *out, const char *shown, char **cause)
{
    size_t n = strcspn(rest, "?");

    if (n == 0 || rest[0] != '/') {
        *cause = xasprintf("%s: a unix:// URL needs an absolute socket path, as in "
                           "unix:///run/redis/redis.sock",
                           shown);
        return -1;
    }
    if (n > REDIS_SOCKET_PATH_MAX) {
        *cause = xasprintf("%s: socket path is %zu bytes long; the system allows %d", shown, n,
                           REDIS_SOCKET_PATH_MAX);
        return -1;
    }
    if (pct_decode(rest, n, out->path, sizeof out->path) == -1) {
        *cause = xasprintf("%s: bad %%-escape in the socket path", shown);
        return -1;
    }
    out->transport = REDIS_UNIX;
    if (rest[n] == '?')
        return parse_query(rest + n + 1, out, shown, cause);
    return 0;
}

static int parse_tcp(const char *rest, struct redis_addr *out, const char *shown, char **cause)
{
    const char *auth = rest, *hostp, *hend, *portp = NULL, *tail;
    const char *at = userinfo_end(rest);
    size_t alen;

    /* The host part starts after the userinfo, which may itself hold '/', '?' or '#'. */
    alen = strcspn(at != NULL ? at + 1 : rest, "/?#");
    tail = (at != NULL ? at + 1 : rest) + alen;
    if (*tail == '#') {
        *cause = xasprintf("%s: a fragment (#...) has no meaning in a Redis URL", shown);
        return -1;
    }
    if (at != NULL) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        size_t ulen = colon != NULL ? (size_t)(colon - auth) : (size_t)(at - auth);

        if (pct_decode(auth, ulen, out->user, sizeof out->user) == -1) {
            *cause = xasprintf("%s: the user name has a bad %%-escape or is too long", shown);
            return -1;
        }
        if (colon != NULL && pct_decode(colon + 1, (size_t)(at - colon - 1), out->password,
                                        sizeof out->password) == -1) {
            *cause = xasprintf("%s: the password has a bad %%-escape or is too long", shown);
            return -1;
        }
        hostp = at + 1;
    } else {
        hostp = auth;
    }

    if (*hostp == '[') {
        hend = memchr(hostp, ']', (size_t)(tail - hostp));
        if (hend == NULL) {
            *cause = xasprintf("%s: an IPv6 address opened with '[' is never closed", shown);
            return -1;
        }
        if (hend + 1 < tail) {
            if (hend[1] != ':') {
                *cause = xasprintf("%s: expected ':port' after the IPv6 address", shown);
                return -1;
            }
            portp = hend + 2;
        }
        hostp++;
    } else {
        hend = memchr(hostp, ':', (size_t)(tail - hostp));
        if (hend != NULL)
            portp = hend + 1;
        else
            hend = tail;
    }
    if (hend == hostp) {
        *cause = xasprintf("%s: the host is missing", shown);
        return -1;
    }
    if ((size_t)(hend - hostp) >= sizeof out->host) {
        *cause = xasprintf("%s: the host name is too long", shown);
        return -1;
    }
    for (const char *p = hostp; p < hend; p++) {
        if (!isalnum((unsigned char)*p) && strchr(".-_:%", *p) == NULL) {
            *cause = xasprintf("%s: the host has a character that no host name has ('%c')", shown,
                               isprint((unsigned char)*p) ? *p : '?');
            return -1;
        }
    }
    memcpy(out->host, hostp, (size_t)(hend - hostp));
    out->host[hend - hostp] = '\0';

    out->port = 6379;
    if (portp != NULL && parse_int(portp, (size_t)(tail - portp), 1, 65535, &out->port) == -1) {
        *cause = xasprintf("%s: port \"%.*s\" is not a number from 1 to 65535", shown,
                           (int)(tail - portp), portp);
        return -1;
    }

    if (*tail == '/') {
        size_t dlen = strcspn(tail + 1, "?");

        if (dlen > 0 && parse_int(tail + 1, dlen, 0, INT_MAX, &out->db) == -1) {
            *cause = xasprintf("%s: database \"%.*s\" is not a whole number", shown, (int)dlen,
                               tail + 1);
            return -1;
        }
        out->db_set = dlen > 0;
        tail += 1 + dlen;
    }
    if (*tail == '?')
        return parse_query(tail + 1, out, shown, cause);
    out->transport = REDIS_TCP;
    return 0;
}

int redis_url_parse(const char *url, struct redis_addr *out, char **cause)
{
    char shown[600];
    struct redis_addr a;
    int rc;

    memset(&a, 0, sizeof a);
    redis_url_mask(url, shown, sizeof shown);
    if (strncmp(url, "rediss://", 9) == 0) {
        *cause = xasprintf("%s: rediss:// (TLS) is not supported, because this build's hiredis "
                           "has no TLS; reach the server through a local TLS tunnel (stunnel "
                           "or ssh -L, see README.md) and use redis://127.0.0.1:PORT",
                           shown);
        return -1;
    }
    if (strncmp(url, "redis://", 8) == 0) {
        rc = parse_tcp(url + 8, &a, shown, cause);
    } else if (strncmp(url, "unix://", 7) == 0) {
        rc = parse_unix(url + 7, &a, shown, cause);
    } else {
        *cause = xasprintf("%s: expected a URL starting with redis:// or unix://", shown);
        return -1;
    }
    if (rc == 0)
        *out = a;
    return rc;
}

int redis_addr_tcp(struct redis_addr *out, const char *host, const char *port, const char *password,
                   char **cause)
{
    struct redis_addr a;

    memset(&a, 0, sizeof a);
    a.transport = REDIS_TCP;
    if (host == NULL || *host == '\0' || strlen(host) >= sizeof a.host) {
        *cause = xasprintf("Redis host \"%s\" is empty or too long", host != NULL ? host : "");
        return -1;
    }
    snprintf(a.host, sizeof a.host, "%s", host);
    a.port = 6379;
    if (port != NULL && *port != '\0' && parse_int(port, strlen(port), 1, 65535, &a.port) == -1) {
        *cause = xasprintf("Redis port \"%s\" is not a number from 1 to 65535", port);
        return -1;
    }
    if (password != NULL) {
        if (strlen(password) >= sizeof a.password) {
            *cause = xasprintf("Redis password is longer than %zu bytes", sizeof a.password - 1);
            return -1;
        }
        snprintf(a.password, sizeof a.password, "%s", password);
    }
    *out = a;
    return 0;
}

/* A Sentinel address: the sentinels, the master name and db, and the primary when known. */
static char *format_sentinel(const struct redis_addr *a, const char *cred, char *buf, size_t size)
{
    size_t o;

    o = (size_t)snprintf(buf, size, "sentinel://%s", cred);
    for (int i = 0; i < a->nsentinels && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o,
                              strchr(a->sentinels[i].host, ':') != NULL ? "%s[%s]:%d" : "%s%s:%d",
                              i > 0 ? "," : "", a->sentinels[i].host, a->sentinels[i].port);
    if (o < size)
        o += (size_t)snprintf(buf + o, size - o, "/%s/%d", a->master_name, a->db);
    if (o < size && a->host[0] != '\0')
        snprintf(buf + o, size - o, " -> %s:%d", a->host, a->port);
    return buf;
}

char *redis_addr_format(const struct redis_addr *a, char *buf, size_t size)
{
    char cred[200] = "";

    if (a->user[0] != '\0' || a->password[0] != '\0')
        snprintf(cred, sizeof cred, "%s%s@", a->user, a->password[0] != '\0' ? ":***" : "");
    if (a->nsentinels > 0) {
        return format_sentinel(a, cred, buf, size);
    } else if (a->transport == REDIS_UNIX) {
        /* Credentials for a socket come from REDIS_PASSWORD, not the URL: show the path. */
        if (a->db != 0)
            snprintf(buf, size, "unix://%s?db=%d", a->path, a->db);
        else
            snprintf(buf, size, "unix://%s", a->path);
    } else if (strchr(a->host, ':') != NULL) {
        snprintf(buf, size, "redis://%s[%s]:%d/%d", cred, a->host, a->port, a->db);
    } else {
        snprintf(buf, size, "redis://%s%s:%d/%d", cred, a->host, a->port, a->db);
    }
    return buf;
}

/* One "host[:port]" or "[v6]:port" entry of a sentinel list, [s, s+n). */
static int parse_sentinel(const char *s, size_t n, struct redis_sentinel_addr *out, char **cause)
{
    const char *entry = s, *hend, *portp = NULL, *end = s + n;
    size_t hlen;

    if (n > 0 && *s == '[') {
        hend = memchr(s, ']', n);
        if (hend == NULL || (hend + 1 < end && hend[1] != ':')) {
            *cause =
                xasprintf("sentinel \"%.*s\": write an IPv6 address as [addr]:port", (int)n, s);
            return -1;
        }
        portp = hend + 1 < end ? hend + 2 : NULL;
        s++;
    } else {
        hend = memchr(s, ':', n);
        if (hend != NULL)
            portp = hend + 1;
        else
            hend = end;
    }
    hlen = (size_t)(hend - s);
    if (hlen == 0 || hlen >= sizeof out->host) {
        *cause = xasprintf("sentinel \"%.*s\": the host is %s", (int)n, entry,
                           hlen == 0 ? "missing" : "too long");
        return -1;
    }
    for (const char *p = s; p < hend; p++)
        if (!isalnum((unsigned char)*p) && strchr(".-_:%", *p) == NULL) {
            *cause = xasprintf("sentinel \"%.*s\": the host has a character that no host name "
                               "has ('%c')",
                               (int)n, entry, isprint((unsigned char)*p) ? *p : '?');
            return -1;
        }
    memcpy(out->host, s, hlen);
    out->host[hlen] = '\0';
    out->port = REDIS_SENTINEL_PORT;
    if (portp != NULL && parse_int(portp, (size_t)(end - portp), 1, 65535, &out->port) == -1) {
        *cause = xasprintf("sentinel \"%.*s\": port \"%.*s\" is not a number from 1 to 65535",
                           (int)n, entry, (int)(end - portp), portp);
        return -1;
    }
    return 0;
}

int redis_sentinels_parse(const char *list, const char *master, struct redis_addr *out,
                          char **cause)
{
    struct redis_sentinel_addr found[REDIS_SENTINELS_MAX];
    int n = 0;

    if (master == NULL || *master == '\0' || strlen(master) >= sizeof out->master_name ||
        strpbrk(master, " \t\r\n") != NULL) {
        *cause = xasprintf("the Sentinel master name \"%s\" is empty, too long or has white space",
                           master != NULL ? master : "");
        return -1;
    }
    for (const char *p = list;;) {
        size_t len;

        while (*p == ' ' || *p == '\t')
            p++;
        len = strcspn(p, ",");
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > 0) {
            if (n == REDIS_SENTINELS_MAX) {
                *cause = xasprintf("more than %d sentinels listed", REDIS_SENTINELS_MAX);
                return -1;
            }
            if (parse_sentinel(p, len, &found[n], cause) == -1)
                return -1;
            n++;
        }
        p += strcspn(p, ",");
        if (*p == '\0')
            break;
        p++;
    }
    if (n == 0) {
        *cause = xasprintf("no sentinel listed (expected host:port,host:port,...)");
        return -1;
    }
    out->transport = REDIS_TCP;
    out->host[0] = '\0';
    out->port = 0;
    out->nsentinels = n;
    memcpy(out->sentinels, found, (size_t)n * sizeof found[0]);
    snprintf(out->master_name, sizeof out->master_name, "%s", master);
    return 0;
}

/*
 * redis_url.h - where a Redis server is and how to log in: parsed from REDIS_URL
 * (redis://[user[:password]@]host[:port][/db], unix:///path/to/socket[?db=N]) or built from
 * REDIS_HOST / REDIS_PORT / REDIS_PASSWORD. Pure functions, no I/O, safe from any thread.
 *
 * With Redis Sentinel the primary's address is not configured but asked of the sentinels
 * (REDIS_SENTINELS=host:port,... and a master name) every time a link connects; see rlink.h.
 *
 * The password is kept in the struct for AUTH and never leaves it: every formatted form and
 * every error message shows it as "***".
 */
#ifndef NEWSROOM_REDIS_URL_H
#define NEWSROOM_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>

/* sun_path of a Unix socket address holds 107 bytes and a NUL. */
#define REDIS_SOCKET_PATH_MAX 107

/* Sentinels one address may list, and their default port. */
#define REDIS_SENTINELS_MAX 8
#define REDIS_SENTINEL_PORT 26379

enum redis_transport { REDIS_TCP, REDIS_UNIX };

struct redis_sentinel_addr {
    char host[256];
    int port;
};

struct redis_addr {
    enum redis_transport transport;
    char host[256];                       /* TCP: a name or an address (no brackets) */
    int port;                             /* TCP: 1 to 65535 */
    char path[REDIS_SOCKET_PATH_MAX + 1]; /* Unix: the socket path */
    char user[128];                       /* ACL user; empty for the default user */
    char password[512];                   /* empty when none; a secret */
    int db;                               /* SELECT index, 0 by default */
    bool db_set;                          /* the URL named the database */
    /* Sentinel: when nsentinels > 0, host and port are the primary's as last asked of these
     * sentinels (empty before the first connection), and every connection asks again. */
    int nsentinels;
    struct redis_sentinel_addr sentinels[REDIS_SENTINELS_MAX];
    char master_name[128];       /* the name the sentinels monitor the primary under */
    char sentinel_password[512]; /* AUTH to the sentinels; empty when none; a secret */
};

/* Parses url into *out. Returns 0, or -1 with *cause (free it) saying what is wrong; the
 * message quotes the URL with any password masked. */
int redis_url_parse(const char *url, struct redis_addr *out, char **cause);

/* Fills *out for a TCP server at host:port with an optional password (NULL for none).
 * Returns 0, or -1 with *cause when the host is empty or too long or the port is bad. */
int redis_addr_tcp(struct redis_addr *out, const char *host, const char *port, const char *password,
                   char **cause);

/* Makes *out a Sentinel address: list is "host[:port],..." (IPv6 as [addr]:port; port
 * REDIS_SENTINEL_PORT when left out), master the primary's name. Leaves the transport TCP, the
 * host empty and user, password and db as they were. Returns 0, or -1 with *cause naming the
 * entry that is wrong. */
int redis_sentinels_parse(const char *list, const char *master, struct redis_addr *out,
                          char **cause);

/* Writes the address as a URL with the password masked ("redis://u:***@h:6379/0") into buf;
 * a Sentinel address as "sentinel://h1:26379,h2:26379/NAME/0", followed by " -> HOST:PORT"
 * once a primary is known. Returns buf. */
char *redis_addr_format(const struct redis_addr *a, char *buf, size_t size);

/* Copies url into buf with the password part (between "//user:" and "@") masked as "***". */
char *redis_url_mask(const char *url, char *buf, size_t size);

#endif

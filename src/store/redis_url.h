/*
 * redis_url.h - where a Redis server is and how to log in: parsed from REDIS_URL
 * (redis://[user[:password]@]host[:port][/db], unix:///path/to/socket[?db=N]) or built from
 * REDIS_HOST / REDIS_PORT / REDIS_PASSWORD. Pure functions, no I/O, safe from any thread.
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

enum redis_transport { REDIS_TCP, REDIS_UNIX };

struct redis_addr {
    enum redis_transport transport;
    char host[256];                       /* TCP: a name or an address (no brackets) */
    int port;                             /* TCP: 1 to 65535 */
    char path[REDIS_SOCKET_PATH_MAX + 1]; /* Unix: the socket path */
    char user[128];                       /* ACL user; empty for the default user */
    char password[512];                   /* empty when none; a secret */
    int db;                               /* SELECT index, 0 by default */
    bool db_set;                          /* the URL named the database */
};

/* Parses url into *out. Returns 0, or -1 with *cause (free it) saying what is wrong; the
 * message quotes the URL with any password masked. */
int redis_url_parse(const char *url, struct redis_addr *out, char **cause);

/* Fills *out for a TCP server at host:port with an optional password (NULL for none).
 * Returns 0, or -1 with *cause when the host is empty or too long or the port is bad. */
int redis_addr_tcp(struct redis_addr *out, const char *host, const char *port, const char *password,
                   char **cause);

/* Writes the address as a URL with the password masked ("redis://u:***@h:6379/0") into buf.
 * Returns buf. */
char *redis_addr_format(const struct redis_addr *a, char *buf, size_t size);

/* Copies url into buf with the password part (between "//user:" and "@") masked as "***". */
char *redis_url_mask(const char *url, char *buf, size_t size);

#endif

/*
 * testenv.h - helpers for the tests: temporary directories, the environment that
 * scripts/test sets for the shared test Redis, and a private redis-server that a test owns
 * (started, stopped and restarted by the test itself, on a Unix socket in a temporary folder,
 * as hiredis's own tests do). Single-threaded test code.
 */
#ifndef NEWSROOM_TESTENV_H
#define NEWSROOM_TESTENV_H

#include "store/redis_url.h"

#include <stdbool.h>
#include <sys/types.h>

/* A new directory under $TMPDIR (or /tmp), short enough for socket paths. Free the string;
 * remove the directory with test_rmrf(). Aborts the test program if it cannot be made. */
char *test_tmpdir(void);
/* rm -rf path. */
void test_rmrf(const char *path);
/* The value of a variable that scripts/test sets; aborts with a message naming it when it is
 * missing, since the test cannot run without it. */
const char *test_env(const char *name);
/* Writes text to path (creating or truncating). */
void test_write_file(const char *path, const char *text);
/* Reads a whole file; free the result. NULL if it cannot be read. */
char *test_read_file(const char *path);

struct test_redis {
    char dir[80];
    char sock[108];
    pid_t pid;
    const char *const *extra; /* extra redis-server arguments, NULL-terminated, or NULL */
};

/* Starts redis-server on s->sock (no TCP port) in dir, with the extra arguments, and waits
 * until it answers PING. Returns 0, or -1 after printing why. */
int test_redis_start(struct test_redis *s, const char *dir, const char *const *extra);
/* SIGTERM and wait for it to exit. */
void test_redis_stop(struct test_redis *s);
/* Stop, then start again with the same settings. */
int test_redis_restart(struct test_redis *s);

/* A link to the shared test server that scripts/test starts, on its Unix socket with its
 * password, in database db, named name. Free with rlink_free(). */
struct rlink;
struct rlink *test_shared_link(int db, const char *name);
/* The shared test server as a TCP URL with its password and database 0, for links a test
 * hands to threads or child processes. Points to a static buffer. */
const char *test_shared_url(void);
/* Runs a command with one string argument (fmt in hiredis form) and returns its reply;
 * fails the current test, with the server's message, when it fails. */
struct redisReply;
struct redisReply *test_must(struct rlink *l, const char *fmt, const char *arg);
/* The server's clock (TIME) in ms; fails the current test when it cannot be read. */
long long test_server_ms(struct rlink *l);

/* A private redis-server for a group of tests (cmocka group setup/teardown): started in a
 * temporary folder with the extra arguments; test_private_addr() is its address. */
int test_private_start(const char *const *extra);
void test_private_stop(void);
const struct redis_addr *test_private_addr(void);
struct test_redis *test_private(void);
/* The private server's temporary folder. */
const char *test_private_dir(void);

#endif

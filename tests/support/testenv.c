/*
 * testenv.c - see testenv.h.
 */
#define _XOPEN_SOURCE 700
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/rlink.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path;

    if (base == NULL || *base == '\0' || strlen(base) > 40)
        base = "/tmp";
    path = malloc(strlen(base) + 16);
    if (path == NULL)
        abort();
    sprintf(path, "%s/nr-XXXXXX", base);
    if (mkdtemp(path) == NULL) {
        fprintf(stderr, "test: cannot make a temporary directory in %s: %s\n", base,
                strerror(errno));
        abort();
    }
    return path;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void test_rmrf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *test_env(const char *name)
{
    const char *v = getenv(name);

    if (v == NULL || *v == '\0') {
        fprintf(stderr,
                "test: %s is not set; run the tests through scripts/test, which starts "
                "the services they use\n",
                name);
        exit(1);
    }
    return v;
}

void test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
        fprintf(stderr, "test: cannot write %s: %s\n", path, strerror(errno));
        abort();
    }
}

char *test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf == NULL)
        abort();
    n = (long)fread(buf, 1, (size_t)n, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

struct rlink *test_shared_link(int db, const char *name)
{
    const struct rlink_options o = {.connect_timeout_ms = 2000,
                                    .command_timeout_ms = 5000,
                                    .reconnect_base_ms = 20,
                                    .reconnect_max_ms = 200,
                                    .client_name = name};
    struct redis_addr a = {.transport = REDIS_UNIX, .db = db, .db_set = true};

    snprintf(a.path, sizeof a.path, "%s", test_env("NEWSROOM_TEST_REDIS_SOCKET"));
    snprintf(a.password, sizeof a.password, "%s", test_env("NEWSROOM_TEST_REDIS_PASSWORD"));
    return rlink_new(&a, &o);
}

const char *test_shared_url(void)
{
    static char url[512];

    if (url[0] == '\0')
        snprintf(url, sizeof url, "redis://:%s@127.0.0.1:%s/0",
                 test_env("NEWSROOM_TEST_REDIS_PASSWORD"), test_env("NEWSROOM_TEST_REDIS_PORT"));
    return url;
}

redisReply *test_must(struct rlink *l, const char *fmt, const char *arg)
{
    char *cause = NULL;
    redisReply *r = rlink_command(l, &cause, fmt, arg);

    if (r == NULL)
        fail_msg("%s: %s", fmt, cause);
    return r;
}

long long test_server_ms(struct rlink *l)
{
    redisReply *r = test_must(l, "TIME%s", "");
    long long ms =
        strtoll(r->element[0]->str, NULL, 10) * 1000 + strtoll(r->element[1]->str, NULL, 10) / 1000;

    freeReplyObject(r);
    return ms;
}

static struct test_redis private_srv;
static char *private_dir;
static struct redis_addr private_addr;

int test_private_start(const char *const *extra)
{
    private_dir = test_tmpdir();
    if (test_redis_start(&private_srv, private_dir, extra) == -1)
        return -1;
    memset(&private_addr, 0, sizeof private_addr);
    private_addr.transport = REDIS_UNIX;
    snprintf(private_addr.path, sizeof private_addr.path, "%s", private_srv.sock);
    return 0;
}

void test_private_stop(void)
{
    test_redis_stop(&private_srv);
    if (private_dir != NULL) {
        test_rmrf(private_dir);
        free(private_dir);
        private_dir = NULL;
    }
}

const struct redis_addr *test_private_addr(void)
{
    return &private_addr;
}

struct test_redis *test_private(void)
{
    return &private_srv;
}

const char *test_private_dir(void)
{
    return private_dir;
}

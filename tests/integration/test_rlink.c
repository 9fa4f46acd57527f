/*
 * test_rlink.c - the Redis link against real redis-servers: the shared test server that
 * scripts/test starts (TCP with the default user's password, Unix socket, an ACL user), and
 * private servers this test owns for what needs a server of its own (restart, a slow command).
 * Covers AUTH, refusal with a wrong password (the password never in a message), SELECT,
 * reconnection with backoff, command timeouts, Lua scripts reloaded after SCRIPT FLUSH, and
 * WAIT after durable scripts against a private primary with a replica (stopped with SIGSTOP,
 * then killed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/lua_scripts.h"
#include "store/rlink.h"
#include "testenv.h"

#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct rlink_options opts = {
    .connect_timeout_ms = 2000,
    .command_timeout_ms = 2000,
    .reconnect_base_ms = 20,
    .reconnect_max_ms = 200,
    .client_name = "newsroom-test",
};

static struct rlink *link_to(const char *url)
{
    struct redis_addr a;
    char *cause = NULL;

    if (redis_url_parse(url, &a, &cause) == -1)
        fail_msg("%s", cause);
    return rlink_new(&a, &opts);
}

static char *tcp_url(const char *user, const char *password)
{
    static char url[512];

    snprintf(url, sizeof url, "redis://%s%s%s%s127.0.0.1:%s/0", user, password ? ":" : "",
             password ? password : "", (*user || password) ? "@" : "",
             test_env("NEWSROOM_TEST_REDIS_PORT"));
    return url;
}

/* Runs a command that must succeed and returns its reply. */
static redisReply *must(struct rlink *l, const char *fmt, const char *arg)
{
    char *cause = NULL;
    redisReply *r = rlink_command(l, &cause, fmt, arg);

    if (r == NULL)
        fail_msg("%s: %s", fmt, cause);
    return r;
}

static void test_tcp_with_password(void **state)
{
    struct rlink *l = link_to(tcp_url("", test_env("NEWSROOM_TEST_REDIS_PASSWORD")));
    struct rlink_info info;
    char *cause = NULL;
    redisReply *r;

    (void)state;
    assert_false(rlink_connected(l));
    assert_int_equal(rlink_info(l, &info, &cause), 0);
    assert_true(rlink_connected(l));
    assert_true(info.latency_us > 0);
    assert_true(strlen(info.version) >= 5);
    assert_string_equal(info.role, "master");
    assert_string_equal(info.mode, "standalone");
    /* The address never shows the password. */
    assert_null(strstr(rlink_address(l), test_env("NEWSROOM_TEST_REDIS_PASSWORD")));
    assert_non_null(strstr(rlink_address(l), ":***@127.0.0.1:"));
    freeReplyObject(must(l, "SET test:rlink:tcp %s", "hello"));
    r = must(l, "GET test:rlink:tcp%s", "");
    assert_string_equal(r->str, "hello");
    freeReplyObject(r);
    r = must(l, "CLIENT GETNAME%s", "");
    assert_string_equal(r->str, "newsroom-test");
    freeReplyObject(r);
    rlink_free(l);
}

static void test_unix_socket_and_select(void **state)
{
    char url[512];
    struct rlink *l3, *l0;
    redisReply *r;
    struct redis_addr a;
    char *cause = NULL;

    (void)state;
    snprintf(url, sizeof url, "unix://%s?db=3", test_env("NEWSROOM_TEST_REDIS_SOCKET"));
    assert_int_equal(redis_url_parse(url, &a, &cause), 0);
    snprintf(a.password, sizeof a.password, "%s", test_env("NEWSROOM_TEST_REDIS_PASSWORD"));
    l3 = rlink_new(&a, &opts);
    a.db = 0;
    l0 = rlink_new(&a, &opts);
    freeReplyObject(must(l3, "DEL test:rlink:db%s", ""));
    freeReplyObject(must(l0, "DEL test:rlink:db%s", ""));
    freeReplyObject(must(l3, "SET test:rlink:db %s", "three"));
    r = must(l0, "EXISTS test:rlink:db%s", "");
    assert_int_equal(r->integer, 0); /* it went to db 3, not db 0 */
    freeReplyObject(r);
    r = must(l3, "GET test:rlink:db%s", "");
    assert_string_equal(r->str, "three");
    freeReplyObject(r);
    rlink_free(l3);
    rlink_free(l0);
}

static void test_acl_user(void **state)
{
    const char *user = test_env("NEWSROOM_TEST_REDIS_ACL_USER");
    struct rlink *l = link_to(tcp_url(user, test_env("NEWSROOM_TEST_REDIS_ACL_PASSWORD")));
    redisReply *r;

    (void)state;
    r = must(l, "ACL WHOAMI%s", "");
    assert_string_equal(r->str, user);
    freeReplyObject(r);
    rlink_free(l);
}

static void test_wrong_password_refused(void **state)
{
    const char *user = test_env("NEWSROOM_TEST_REDIS_ACL_USER");
    const char *wrong = "not-the-password-4711";
    struct rlink *l = link_to(tcp_url(user, wrong));
    char *cause = NULL;

    (void)state;
    assert_int_equal(rlink_ensure(l, &cause), -1);
    assert_false(rlink_connected(l));
    assert_non_null(strstr(cause, "authentication as user"));
    assert_non_null(strstr(cause, "WRONGPASS"));
    assert_non_null(strstr(cause, "127.0.0.1:"));
    assert_null(strstr(cause, wrong));
    free(cause);
    rlink_free(l);

    /* No password at all: refused while connecting (NOAUTH), as a setting to fix. */
    l = link_to(tcp_url("", NULL));
    cause = NULL;
    assert_null(rlink_command(l, &cause, "GET x"));
    assert_non_null(strstr(cause, "NOAUTH"));
    assert_non_null(strstr(cause, "REDIS_PASSWORD"));
    assert_true(rlink_config_refused(l));
    free(cause);
    rlink_free(l);
}

/* A database the server does not have (it has 64) is a setting to fix, named. */
static void test_database_out_of_range(void **state)
{
    const char *base = tcp_url("", test_env("NEWSROOM_TEST_REDIS_PASSWORD"));
    struct rlink *l;
    char url[512];
    char *cause = NULL;

    (void)state;
    /* The URL ends in "/0": the same server, database 99. */
    snprintf(url, sizeof url, "%.*s/99", (int)strlen(base) - 2, base);
    l = link_to(url);
    assert_int_equal(rlink_ensure(l, &cause), -1);
    assert_true(rlink_config_refused(l));
    assert_non_null(strstr(cause, "database 99 does not exist"));
    assert_non_null(strstr(cause, "REDIS_DB"));
    assert_null(strstr(cause, test_env("NEWSROOM_TEST_REDIS_PASSWORD")));
    free(cause);
    rlink_free(l);
}

/* A TCP port on which nothing listens: bind one, note it, close it. */
static int free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port;

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static void test_unreachable_backs_off(void **state)
{
    char url[128];
    struct rlink *l;
    char *cause = NULL;
    int before;

    (void)state;
    snprintf(url, sizeof url, "redis://:pw-never-shown@127.0.0.1:%d", free_port());
    l = link_to(url);
    assert_int_equal(rlink_ensure(l, &cause), -1);
    assert_non_null(strstr(cause, "Connection refused"));
    assert_non_null(strstr(cause, "127.0.0.1:"));
    assert_null(strstr(cause, "pw-never-shown"));
    free(cause);
    assert_int_equal(rlink_failures(l), 1);
    /* Within the backoff delay the link fails fast, without a new attempt. */
    cause = NULL;
    assert_int_equal(rlink_ensure(l, &cause), -1);
    assert_non_null(strstr(cause, "next attempt in"));
    assert_int_equal(rlink_failures(l), 1);
    free(cause);
    /* Waiting keeps trying with growing delays until the deadline. */
    before = rlink_failures(l);
    cause = NULL;
    assert_int_equal(rlink_wait_connected(l, 500, NULL, &cause), -1);
    assert_non_null(strstr(cause, "unreachable after 500 ms"));
    assert_true(rlink_failures(l) > before);
    /* 500 ms with delays from 20 ms doubling to 200 ms: a handful of attempts, not hundreds. */
    assert_true(rlink_failures(l) < 15);
    free(cause);
    rlink_free(l);
}

/* The private server of the test that runs now (tests/support: test_private_*); the teardown
 * stops it even when an assertion ended the test early. */
static int stop_private_server(void **state)
{
    (void)state;
    test_private_stop();
    return 0;
}

static void test_reconnect_after_restart(void **state)
{
    /* With AUTH and SELECT, which a reconnection must redo. */
    static const char *const extra[] = {"--requirepass", "restart-pw", NULL};
    struct redis_addr a = {.transport = REDIS_UNIX, .db = 2};
    struct rlink *l;
    char *cause = NULL;
    redisReply *r;
    int64_t us;

    (void)state;
    assert_int_equal(test_private_start(extra), 0);
    snprintf(a.path, sizeof a.path, "%s", test_private()->sock);
    snprintf(a.password, sizeof a.password, "restart-pw");
    l = rlink_new(&a, &opts);
    freeReplyObject(must(l, "SET before %s", "restart"));
    assert_int_equal(test_redis_restart(test_private()), 0);

    /* The old connection is gone: the next command says so and marks the link down. */
    r = rlink_command(l, &cause, "PING");
    assert_null(r);
    assert_non_null(strstr(cause, "link lost"));
    assert_false(rlink_connected(l));
    free(cause);
    cause = NULL;
    assert_int_equal(rlink_wait_connected(l, 5000, NULL, &cause), 0);
    assert_int_equal(rlink_failures(l), 0);
    assert_int_equal(rlink_ping(l, &us, &cause), 0);
    /* Authenticated and in database 2 again. */
    freeReplyObject(must(l, "SET after %s", "restart"));
    r = must(l, "CLIENT INFO%s", "");
    assert_non_null(strstr(r->str, " db=2 "));
    freeReplyObject(r);
    rlink_free(l);
}

static void test_command_timeout(void **state)
{
    static const char *const extra[] = {"--enable-debug-command", "yes", NULL};
    struct rlink_options o = opts;
    struct redis_addr a = {.transport = REDIS_UNIX};
    struct rlink *l;
    char *cause = NULL;
    int64_t us;

    (void)state;
    assert_int_equal(test_private_start(extra), 0);
    snprintf(a.path, sizeof a.path, "%s", test_private()->sock);
    o.command_timeout_ms = 200;
    l = rlink_new(&a, &o);
    assert_null(rlink_command(l, &cause, "DEBUG SLEEP 1"));
    assert_non_null(strstr(cause, "link lost"));
    free(cause);
    cause = NULL;
    /* Once the server is free again, the link comes back. */
    assert_int_equal(rlink_wait_connected(l, 5000, NULL, &cause), 0);
    assert_int_equal(rlink_ping(l, &us, &cause), 0);
    rlink_free(l);
}

static long long eval_int(struct rlink *l, const struct lua_script *s, int argc, const char **argv)
{
    char *cause = NULL;
    redisReply *r = rlink_eval(l, s, 1, argc, argv, &cause);
    long long v;

    if (r == NULL)
        fail_msg("%s: %s", s->name, cause);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    v = r->integer;
    freeReplyObject(r);
    return v;
}

static long long script_exists(struct rlink *l, const struct lua_script *s)
{
    redisReply *r = must(l, "SCRIPT EXISTS %s", s->sha1);
    long long v = r->element[0]->integer;

    freeReplyObject(r);
    return v;
}

static void test_lua_loaded_after_flush(void **state)
{
    struct rlink *l = link_to(tcp_url("", test_env("NEWSROOM_TEST_REDIS_PASSWORD")));
    const char *wrong[] = {"test:lock", "other-token"};
    const char *right[] = {"test:lock", "token-1"};
    const char *extend[] = {"test:lock", "token-1", "60000"};
    redisReply *r;

    (void)state;
    assert_true(lua_script_count >= 2);
    assert_int_equal(strlen(lua_lock_release.sha1), 40);
    freeReplyObject(must(l, "SCRIPT FLUSH%s", ""));
    freeReplyObject(must(l, "SET test:lock %s", "token-1"));
    assert_int_equal(script_exists(l, &lua_lock_release), 0);
    /* NOSCRIPT, loaded, run: the wrong token changes nothing. */
    assert_int_equal(eval_int(l, &lua_lock_release, 2, wrong), 0);
    assert_int_equal(script_exists(l, &lua_lock_release), 1);
    assert_int_equal(eval_int(l, &lua_lock_extend, 3, extend), 1);
    r = must(l, "PTTL test:lock%s", "");
    assert_true(r->integer > 50000);
    freeReplyObject(r);
    /* Flushed again under our feet: loaded again, and the right token releases. */
    freeReplyObject(must(l, "SCRIPT FLUSH%s", ""));
    assert_int_equal(eval_int(l, &lua_lock_release, 2, right), 1);
    r = must(l, "EXISTS test:lock%s", "");
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    rlink_free(l);
}

/* A transaction of two commands that fails, its cause saying why. */
static void tx_refused(struct rlink *l, const struct rlink_cmd cmds[2], const char *why)
{
    char *cause = NULL;

    assert_null(rlink_transaction(l, cmds, 2, &cause));
    assert_non_null(cause);
    if (strstr(cause, why) == NULL)
        fail_msg("the cause \"%s\" does not say \"%s\"", cause, why);
    free(cause);
}

/* rlink_transaction(): the replies in order, one round trip, binary arguments; a command
 * Redis refuses at queueing runs nothing; an error at the run is reported (Redis keeps the
 * others); the link stays in step after each. */
static void test_transaction(void **state)
{
    struct rlink *l = link_to(tcp_url("", test_env("NEWSROOM_TEST_REDIS_PASSWORD")));
    enum { BIG = 1 << 20 };
    char *big = malloc(BIG), *cause = NULL;
    const size_t biglen[] = {3, strlen("test:rlink-tx:big"), BIG};
    long long sent;
    redisReply *r;

    (void)state;
    assert_non_null(big);
    memset(big, 'x', BIG);
    big[BIG / 2] = '\0';
    freeReplyObject(
        must(l, "DEL test:rlink-tx:a test:rlink-tx:b test:rlink-tx:c %s", "test:rlink-tx:d"));
    sent = rlink_commands_sent();
    r = rlink_transaction(
        l,
        (const struct rlink_cmd[]){
            {3, (const char *const[]){"SET", "test:rlink-tx:a", "1"}, NULL},
            {4, (const char *const[]){"RPUSH", "test:rlink-tx:b", "x", "y"}, NULL},
            {2, (const char *const[]){"INCR", "test:rlink-tx:a"}, NULL},
            {3, (const char *const[]){"SET", "test:rlink-tx:big", big}, biglen},
        },
        4, &cause);
    if (r == NULL)
        fail_msg("transaction: %s", cause);
    assert_int_equal(rlink_commands_sent() - sent, 1);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 4);
    assert_string_equal(r->element[0]->str, "OK");
    assert_int_equal(r->element[1]->integer, 2);
    assert_int_equal(r->element[2]->integer, 2);
    freeReplyObject(r);
    r = must(l, "GET %s", "test:rlink-tx:big");
    assert_int_equal(r->len, BIG);
    assert_memory_equal(r->str, big, BIG);
    freeReplyObject(r);
    /* Refused at queueing (RPUSH without a value): EXECABORT, the SET before it not run. */
    tx_refused(l,
               (const struct rlink_cmd[]){
                   {3, (const char *const[]){"SET", "test:rlink-tx:c", "1"}, NULL},
                   {2, (const char *const[]){"RPUSH", "test:rlink-tx:b"}, NULL},
               },
               "wrong number of arguments");
    r = must(l, "EXISTS %s", "test:rlink-tx:c");
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    /* An error at the run (a list command on a string): reported; the others ran. */
    tx_refused(l,
               (const struct rlink_cmd[]){
                   {3, (const char *const[]){"SET", "test:rlink-tx:d", "1"}, NULL},
                   {3, (const char *const[]){"RPUSH", "test:rlink-tx:a", "z"}, NULL},
               },
               "WRONGTYPE");
    r = must(l, "GET %s", "test:rlink-tx:d");
    assert_string_equal(r->str, "1");
    freeReplyObject(r);
    /* In step: the next command gets its own reply. */
    r = must(l, "LRANGE test:rlink-tx:b 0 -1%s", "");
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[1]->str, "y");
    freeReplyObject(r);
    freeReplyObject(
        must(l, "DEL test:rlink-tx:a test:rlink-tx:b test:rlink-tx:big %s", "test:rlink-tx:d"));
    free(big);
    rlink_free(l);
}

/* The number of replicas online at the primary at sock (INFO replication: state=online). */
static int replicas_of(const char *sock)
{
    struct redis_addr a = {.transport = REDIS_UNIX};
    struct rlink *l;
    redisReply *r;
    int n = 0;

    snprintf(a.path, sizeof a.path, "%s", sock);
    l = rlink_new(&a, &opts);
    r = must(l, "INFO %s", "replication");
    for (const char *p = r->str; (p = strstr(p, "state=online")) != NULL; p++)
        n++;
    freeReplyObject(r);
    rlink_free(l);
    return n;
}

/* Polls until the primary has want replicas online (replication has no other signal). */
static void await_replicas(const char *sock, int want)
{
    for (int i = 0; i < 1000 && replicas_of(sock) != want; i++)
        usleep(10000);
    assert_int_equal(replicas_of(sock), want);
}

static void test_wait_for_replica(void **state)
{
    char *dir = test_tmpdir(), pdir[200], rdir[200], port[16], *cause = NULL;
    const char *pextra[] = {"--port", port, "--bind", "127.0.0.1", NULL};
    const char *rextra[] = {"--replicaof", "127.0.0.1", port, NULL};
    struct test_redis primary = {0}, replica = {0};
    struct rlink_options o = opts;
    struct redis_addr a = {.transport = REDIS_UNIX};
    const char *extend[] = {"test:lock", "token-1", "60000"};
    const char *release[] = {"test:other", "token-2"};
    struct rlink *l;
    redisReply *r;

    (void)state;
    snprintf(port, sizeof port, "%d", free_port());
    snprintf(pdir, sizeof pdir, "%s/p", dir);
    snprintf(rdir, sizeof rdir, "%s/r", dir);
    mkdir(pdir, 0700);
    mkdir(rdir, 0700);
    assert_int_equal(test_redis_start(&primary, pdir, pextra), 0);
    assert_int_equal(test_redis_start(&replica, rdir, rextra), 0);
    await_replicas(primary.sock, 1);

    /* lock_extend waits for one replica; lock_release does not. */
    o.wait_replicas = 1;
    o.wait_timeout_ms = 1500; /* generous: a loaded machine is slow, the replica is not */
    o.wait_writes = "lock_ext*";
    snprintf(a.path, sizeof a.path, "%s", primary.sock);
    l = rlink_new(&a, &o);
    freeReplyObject(must(l, "SET test:lock %s", "token-1"));
    assert_int_equal(eval_int(l, &lua_lock_extend, 3, extend), 1);

    /* A replica that does not answer: the durable write fails after the timeout, saying so,
     * and the other script is not held up. */
    kill(replica.pid, SIGSTOP);
    r = rlink_eval(l, &lua_lock_extend, 1, 3, extend, &cause);
    assert_null(r);
    assert_non_null(strstr(cause, "lock_extend.lua was not confirmed by 1 replica(s) within 1500"));
    free(cause);
    cause = NULL;
    assert_int_equal(eval_int(l, &lua_lock_release, 2, release), 0);
    /* Back: confirmed again. */
    kill(replica.pid, SIGCONT);
    assert_int_equal(eval_int(l, &lua_lock_extend, 3, extend), 1);

    /* No replica left (alone after a failover): writes go on, confirmed by none. */
    kill(replica.pid, SIGKILL);
    waitpid(replica.pid, NULL, 0);
    replica.pid = 0;
    await_replicas(primary.sock, 0);
    assert_int_equal(eval_int(l, &lua_lock_extend, 3, extend), 1);

    rlink_free(l);
    test_redis_stop(&primary);
    test_rmrf(dir);
    free(dir);
}

int main(void)
{
    /* hiredis writes with write(2): a server that went away must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_with_password),
        cmocka_unit_test(test_unix_socket_and_select),
        cmocka_unit_test(test_acl_user),
        cmocka_unit_test(test_wrong_password_refused),
        cmocka_unit_test(test_database_out_of_range),
        cmocka_unit_test(test_unreachable_backs_off),
        cmocka_unit_test_teardown(test_reconnect_after_restart, stop_private_server),
        cmocka_unit_test_teardown(test_command_timeout, stop_private_server),
        cmocka_unit_test(test_lua_loaded_after_flush),
        cmocka_unit_test(test_transaction),
        cmocka_unit_test(test_wait_for_replica),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

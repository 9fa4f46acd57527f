/*
 * test_redis_url.c - REDIS_URL parsing: every accepted form, every refused one with a clear
 * message, and no password in any message or formatted address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/redis_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct redis_addr ok(const char *url)
{
    struct redis_addr a;
    char *cause = NULL;

    if (redis_url_parse(url, &a, &cause) == -1)
        fail_msg("%s was refused: %s", url, cause);
    return a;
}

/* Expects url to be refused with a message containing needle and never the secret. */
static void bad(const char *url, const char *needle, const char *secret)
{
    struct redis_addr a;
    char *cause = NULL;

    memset(&a, 0x5a, sizeof a);
    if (redis_url_parse(url, &a, &cause) == 0)
        fail_msg("%s was accepted", url);
    if (strstr(cause, needle) == NULL)
        fail_msg("message for %s lacks \"%s\": %s", url, needle, cause);
    if (secret != NULL && strstr(cause, secret) != NULL)
        fail_msg("message for %s shows the password: %s", url, cause);
    free(cause);
}

static void test_tcp_forms(void **state)
{
    struct redis_addr a;

    (void)state;
    a = ok("redis://localhost");
    assert_int_equal(a.transport, REDIS_TCP);
    assert_string_equal(a.host, "localhost");
    assert_int_equal(a.port, 6379);
    assert_int_equal(a.db, 0);
    assert_string_equal(a.user, "");
    assert_string_equal(a.password, "");

    a = ok("redis://10.1.2.3:6380/4");
    assert_string_equal(a.host, "10.1.2.3");
    assert_int_equal(a.port, 6380);
    assert_int_equal(a.db, 4);

    a = ok("redis://:s3cret@cache:7000");
    assert_string_equal(a.user, "");
    assert_string_equal(a.password, "s3cret");

    a = ok("redis://agent:pa%3Ass%40word@cache.example.org:7000/1");
    assert_string_equal(a.user, "agent");
    assert_string_equal(a.password, "pa:ss@word");
    assert_string_equal(a.host, "cache.example.org");

    a = ok("redis://ops@cache/");
    assert_string_equal(a.user, "ops");
    assert_string_equal(a.password, "");
    assert_int_equal(a.db, 0);

    a = ok("redis://[::1]:6390/2");
    assert_string_equal(a.host, "::1");
    assert_int_equal(a.port, 6390);
    assert_int_equal(a.db, 2);

    a = ok("redis://h?db=5");
    assert_int_equal(a.db, 5);
    assert_true(a.db_set);
    a = ok("redis://h");
    assert_false(a.db_set);

    /* Passwords with the URL's own delimiters in them, written raw. */
    a = ok("redis://u:pa/ss?w#o@rd@cache:7001/2");
    assert_string_equal(a.user, "u");
    assert_string_equal(a.password, "pa/ss?w#o@rd");
    assert_string_equal(a.host, "cache");
    assert_int_equal(a.port, 7001);
    assert_int_equal(a.db, 2);
}

static void test_unix_forms(void **state)
{
    struct redis_addr a;

    (void)state;
    a = ok("unix:///run/redis/redis.sock");
    assert_int_equal(a.transport, REDIS_UNIX);
    assert_string_equal(a.path, "/run/redis/redis.sock");
    assert_int_equal(a.db, 0);
    a = ok("unix:///tmp/r.sock?db=7");
    assert_string_equal(a.path, "/tmp/r.sock");
    assert_int_equal(a.db, 7);
}

static void test_refused(void **state)
{
    char longpath[200] = "unix:///";

    (void)state;
    bad("rediss://:pw@secure:6380", "TLS", "pw@");
    bad("rediss://secure:6380", "tunnel", NULL);
    bad("http://localhost", "redis://", NULL);
    bad("localhost:6379", "redis://", NULL);
    bad("", "redis://", NULL);
    bad("redis://", "host is missing", NULL);
    bad("redis://:topsecret@:6379", "host is missing", "topsecret");
    bad("redis://host:0", "port", NULL);
    bad("redis://host:65536", "port", NULL);
    bad("redis://host:port", "port", NULL);
    bad("redis://:topsecret@host:99999", "port", "topsecret");
    bad("redis://host/abc", "database", NULL);
    bad("redis://host/-1", "database", NULL);
    bad("redis://host?tls=yes", "unknown parameter", NULL);
    bad("redis://ho st", "character", NULL);
    bad("redis://[::1:6379", "never closed", NULL);
    bad("redis://u:bad%zzpw@h", "%-escape", "bad%zzpw");
    bad("redis://host#frag", "fragment", NULL);
    bad("unix://relative.sock", "absolute", NULL);
    bad("unix:///tmp/x.sock?db=x", "database", NULL);
    for (size_t i = strlen(longpath); i < sizeof longpath - 6; i++)
        longpath[i] = 'a';
    longpath[sizeof longpath - 6] = '\0';
    bad(longpath, "the system allows", NULL);
}

static void test_format_masks_password(void **state)
{
    struct redis_addr a;
    char buf[600];

    (void)state;
    a = ok("redis://agent:pa55word@cache:7000/3");
    assert_string_equal(redis_addr_format(&a, buf, sizeof buf), "redis://agent:***@cache:7000/3");
    a = ok("redis://:pa55word@cache");
    assert_string_equal(redis_addr_format(&a, buf, sizeof buf), "redis://:***@cache:6379/0");
    a = ok("redis://cache");
    assert_string_equal(redis_addr_format(&a, buf, sizeof buf), "redis://cache:6379/0");
    a = ok("redis://[::1]:7000");
    assert_string_equal(redis_addr_format(&a, buf, sizeof buf), "redis://[::1]:7000/0");
    a = ok("unix:///tmp/r.sock?db=2");
    strcpy(a.password, "pa55word");
    assert_string_equal(redis_addr_format(&a, buf, sizeof buf), "unix:///tmp/r.sock?db=2");
    assert_string_equal(redis_url_mask("redis://u:pa55word@h:1/0", buf, sizeof buf),
                        "redis://u:***@h:1/0");
    assert_string_equal(redis_url_mask("redis://h:1/0", buf, sizeof buf), "redis://h:1/0");
    assert_string_equal(redis_url_mask("redis://:pa/ss@h:1/0", buf, sizeof buf),
                        "redis://:***@h:1/0");
    assert_string_equal(redis_url_mask("rediss://:p?a#s@s@h", buf, sizeof buf), "rediss://:***@h");
    /* A bad URL whose password holds delimiters: the message never shows it. */
    bad("redis://:se/cr?et#@host:99999", "port", "se/cr");
    bad("rediss://:se/cr?et@host", "TLS", "se/cr");
}

static void test_host_port_form(void **state)
{
    struct redis_addr a;
    char *cause = NULL;

    (void)state;
    assert_int_equal(redis_addr_tcp(&a, "db1", "6390", "pw", &cause), 0);
    assert_string_equal(a.host, "db1");
    assert_int_equal(a.port, 6390);
    assert_string_equal(a.password, "pw");
    assert_int_equal(redis_addr_tcp(&a, "db1", NULL, NULL, &cause), 0);
    assert_int_equal(a.port, 6379);
    assert_int_equal(redis_addr_tcp(&a, "", "1", NULL, &cause), -1);
    free(cause);
    cause = NULL;
    assert_int_equal(redis_addr_tcp(&a, "db1", "http", NULL, &cause), -1);
    assert_non_null(strstr(cause, "\"http\""));
    free(cause);
}

static void bad_sentinels(const char *list, const char *master, const char *expect)
{
    struct redis_addr a;
    char *cause = NULL;

    memset(&a, 0, sizeof a);
    assert_int_equal(redis_sentinels_parse(list, master, &a, &cause), -1);
    assert_non_null(cause);
    if (strstr(cause, expect) == NULL)
        fail_msg("sentinels \"%s\": cause \"%s\" lacks \"%s\"", list, cause, expect);
    assert_int_equal(a.nsentinels, 0);
    free(cause);
}

static void test_sentinels(void **state)
{
    struct redis_addr a;
    char *cause = NULL, buf[700];

    (void)state;
    memset(&a, 0, sizeof a);
    snprintf(a.user, sizeof a.user, "newsroom");
    snprintf(a.password, sizeof a.password, "s3cret");
    a.db = 2;
    assert_int_equal(
        redis_sentinels_parse(" s1.internal:26380, 10.0.0.2 ,[::1]:26381", "main", &a, &cause), 0);
    assert_int_equal(a.nsentinels, 3);
    assert_string_equal(a.sentinels[0].host, "s1.internal");
    assert_int_equal(a.sentinels[0].port, 26380);
    assert_string_equal(a.sentinels[1].host, "10.0.0.2");
    assert_int_equal(a.sentinels[1].port, REDIS_SENTINEL_PORT);
    assert_string_equal(a.sentinels[2].host, "::1");
    assert_int_equal(a.sentinels[2].port, 26381);
    assert_string_equal(a.master_name, "main");
    assert_int_equal(a.transport, REDIS_TCP);
    /* The credentials and database stay; the password never shows. */
    assert_string_equal(a.password, "s3cret");
    assert_string_equal(redis_addr_format(&a, buf, sizeof buf),
                        "sentinel://newsroom:***@s1.internal:26380,10.0.0.2:26379,[::1]:26381/"
                        "main/2");
    snprintf(a.host, sizeof a.host, "10.0.0.7");
    a.port = 6380;
    assert_string_equal(redis_addr_format(&a, buf, sizeof buf),
                        "sentinel://newsroom:***@s1.internal:26380,10.0.0.2:26379,[::1]:26381/"
                        "main/2 -> 10.0.0.7:6380");

    bad_sentinels("", "main", "no sentinel");
    bad_sentinels(" , ,", "main", "no sentinel");
    bad_sentinels("h1:26379,h2:port", "main", "\"port\"");
    bad_sentinels("h1:0", "main", "1 to 65535");
    bad_sentinels(":26379", "main", "host is missing");
    bad_sentinels("h/1:26379", "main", "'/'");
    bad_sentinels("[::1:26379", "main", "[addr]:port");
    bad_sentinels("a,b,c,d,e,f,g,h,i", "main", "more than 8");
    bad_sentinels("h1", "", "master name");
    bad_sentinels("h1", "two words", "master name");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_forms),      cmocka_unit_test(test_unix_forms),
        cmocka_unit_test(test_refused),        cmocka_unit_test(test_format_masks_password),
        cmocka_unit_test(test_host_port_form), cmocka_unit_test(test_sentinels),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

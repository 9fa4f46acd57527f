/*
 * test_robots.c - robots.txt read as RFC 9309 says: our group over "*", merged groups, the
 * longest match deciding with Allow on a tie, "*" and "$" patterns, percent-escapes compared
 * without regard to case, comments and odd spacing, Crawl-delay, an empty Disallow, and the
 * allow-all and deny-all stand-ins for a missing file and an unreachable server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "feeds/robots.h"

#include <stdlib.h>
#include <string.h>

static struct robots *parse(const char *txt)
{
    return robots_parse(txt, strlen(txt));
}

static void test_groups(void **state)
{
    struct robots *r;

    (void)state;
    /* Our own group wins over "*", wherever it stands. */
    r = parse("User-agent: *\nDisallow: /\n\nUser-agent: Newsroom\nDisallow: /private/\n");
    assert_true(robots_allowed(r, "/news/1.html"));
    assert_false(robots_allowed(r, "/private/x"));
    robots_free(r);
    /* Only "*": it applies. */
    r = parse("# a comment\nUser-agent: *   # everyone\nDisallow: /tmp/\nDisallow: /cgi-bin/\n");
    assert_false(robots_allowed(r, "/tmp/a"));
    assert_false(robots_allowed(r, "/cgi-bin/x?y"));
    assert_true(robots_allowed(r, "/"));
    robots_free(r);
    /* Another bot's group is not ours. */
    r = parse("User-agent: otherbot\nDisallow: /\n");
    assert_true(robots_allowed(r, "/anything"));
    robots_free(r);
    /* Several agents sharing a group; two groups for us, merged. */
    r = parse("User-agent: a\nUser-agent: newsroom\nDisallow: /one\n\nUser-agent: b\nDisallow: /\n"
              "User-agent: NEWSROOM\nDisallow: /two\nCrawl-delay: 2.5\n");
    assert_false(robots_allowed(r, "/one/x"));
    assert_false(robots_allowed(r, "/two"));
    assert_true(robots_allowed(r, "/three"));
    assert_int_equal(robots_crawl_delay_ms(r), 2500);
    robots_free(r);
}

static void test_matching(void **state)
{
    struct robots *r;

    (void)state;
    r = parse("User-agent: *\r\nDisallow: /a\r\nAllow: /a/open\r\nDisallow: /*.pdf$\r\n"
              "Disallow: /x*y\r\nAllow: /tie\r\nDisallow: /tie\r\nDisallow: /p%2fq\r\n"
              "Disallow:\r\n");
    assert_false(robots_allowed(r, "/a"));
    assert_false(robots_allowed(r, "/abc"));
    /* The longer rule wins. */
    assert_true(robots_allowed(r, "/a/open/door"));
    assert_false(robots_allowed(r, "/docs/file.pdf"));
    assert_true(robots_allowed(r, "/docs/file.pdf?x=1"));
    assert_false(robots_allowed(r, "/x123y"));
    assert_false(robots_allowed(r, "/xy/z"));
    assert_true(robots_allowed(r, "/xz"));
    /* Equal length: Allow. */
    assert_true(robots_allowed(r, "/tie"));
    /* %2f and %2F are the same. */
    assert_false(robots_allowed(r, "/p%2Fq"));
    assert_true(robots_allowed(r, "/p/q"));
    assert_int_equal(robots_crawl_delay_ms(r), 0);
    robots_free(r);
    /* Many stars stay cheap. */
    r = parse("User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*a*a*b\n");
    assert_true(
        robots_allowed(r, "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    robots_free(r);
}

static void test_stand_ins(void **state)
{
    struct robots *r;

    (void)state;
    r = robots_allow_all();
    assert_true(robots_allowed(r, "/"));
    robots_free(r);
    r = robots_deny_all();
    assert_false(robots_allowed(r, "/"));
    assert_false(robots_allowed(r, "/robots.txt"));
    robots_free(r);
    /* Garbage is no rule at all. */
    r = parse("<html><body>Not found</body></html>");
    assert_true(robots_allowed(r, "/x"));
    robots_free(r);
    r = robots_parse("User-agent: *\nDisallow: /\0hidden", 26);
    assert_false(robots_allowed(r, "/x"));
    robots_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_stand_ins),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

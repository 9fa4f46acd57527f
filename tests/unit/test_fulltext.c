/*
 * test_fulltext.c - article extraction against the pages in tests/html/: a news article with a
 * cookie banner, site header and navigation, ads (a leaderboard and one inside the story),
 * share buttons, a byline, a figure, related links, a newsletter box, comments, a most-read
 * box, a footer, scripts and styles; a table-laid page of the old web with a menu column, an
 * ad table, a list of links and a comment thread; an ISO-8859-1 page that says so only in its
 * <meta>, with hidden paragraphs; and a section front with links and no article. The text
 * extracted must be the article's paragraphs and nothing else, exactly as each .txt file has
 * them; the section front must be refused, as must pages with no text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "feeds/fulltext.h"
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A page or text of tests/html (none holds a NUL byte). */
static char *slurp(const char *rel, size_t *len)
{
    char path[4096], *text;

    snprintf(path, sizeof path, "%s/tests/html/%s", test_env("NEWSROOM_SOURCE_DIR"), rel);
    text = test_read_file(path);
    if (text == NULL)
        fail_msg("cannot read %s", path);
    *len = strlen(text);
    return text;
}

/* Extracts page (with charset) and compares with the .txt beside it, paragraph by paragraph
 * so a failure says which one. */
static void expect_article(const char *page, const char *charset, const char *txt)
{
    size_t len, wlen, words = 0;
    char *html = slurp(page, &len), *want = slurp(txt, &wlen), *got = NULL, *cause = NULL;
    char *g, *w, *gs = NULL, *ws = NULL;

    while (wlen > 0 && want[wlen - 1] == '\n')
        want[--wlen] = '\0';
    if (fulltext_extract(html, len, charset, 1024 * 1024, &got, &words, &cause) == -1)
        fail_msg("%s: %s", page, cause);
    if (strcmp(got, want) != 0) {
        /* Find the first paragraph that differs. */
        g = strtok_r(got, "\n", &gs);
        w = strtok_r(want, "\n", &ws);
        while (g != NULL && w != NULL && strcmp(g, w) == 0) {
            g = strtok_r(NULL, "\n", &gs);
            w = strtok_r(NULL, "\n", &ws);
        }
        fail_msg("%s: got paragraph\n  \"%s\"\nwanted\n  \"%s\"", page, g ? g : "(end)",
                 w ? w : "(end)");
    }
    assert_true(words >= FULLTEXT_MIN_WORDS);
    free(got);
    free(want);
    free(html);
}

static void test_news_article(void **state)
{
    (void)state;
    expect_article("article_news.html", NULL, "article_news.txt");
    /* The answer's charset names the same encoding: the same text. */
    expect_article("article_news.html", "utf-8", "article_news.txt");
}

static void test_table_layout(void **state)
{
    (void)state;
    expect_article("article_tables.html", NULL, "article_tables.txt");
}

static void test_latin1_hidden(void **state)
{
    (void)state;
    /* The charset from the page's own <meta>; hidden paragraphs never appear. */
    expect_article("latin1.html", NULL, "latin1.txt");
    /* A charset libxml2 does not know: the page's own is used. */
    expect_article("latin1.html", "x-no-such-charset", "latin1.txt");
}

static void refused(const char *html, size_t len, const char *needle)
{
    char *text = NULL, *cause = NULL;
    size_t words = 0;

    if (fulltext_extract(html, len, NULL, 1024 * 1024, &text, &words, &cause) == 0)
        fail_msg("extracted \"%.200s\"", text);
    assert_null(text);
    if (strstr(cause, needle) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", cause, needle);
    free(cause);
}

static void test_no_article(void **state)
{
    size_t len;
    char *page = slurp("section_front.html", &len);
    const char *html;

    (void)state;
    refused(page, len, "no paragraph");
    free(page);
    refused("", 0, "empty");
    refused("<html><body><p>Short.</p></body></html>", 39, "no paragraph");
    html = "<p>One sentence of about thirty characters, no more.</p>";
    refused(html, strlen(html), "only 8 words");
    refused("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, "");
}

static void test_cap(void **state)
{
    size_t len, words = 0;
    char *html = slurp("article_news.html", &len), *text = NULL, *cause = NULL;

    (void)state;
    /* At most max bytes, ending on a whole character. */
    assert_int_equal(fulltext_extract(html, len, NULL, 401, &text, &words, &cause), 0);
    assert_true(strlen(text) <= 401);
    assert_true(strlen(text) > 300);
    free(text);
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_news_article),  cmocka_unit_test(test_table_layout),
        cmocka_unit_test(test_latin1_hidden), cmocka_unit_test(test_no_article),
        cmocka_unit_test(test_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

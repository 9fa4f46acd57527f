/*
 * test_news_item.c - news items: normalisation and content hash, the JSON codec (every
 * field, every refusal with its reason), ids, and RFC 3339 times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/news_item.h"

#include <stdlib.h>
#include <string.h>

static struct news_item *parse(const char *text, char **cause)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_ALLOW_NUL, &err);
    struct news_item *it;

    if (j == NULL)
        fail_msg("test JSON does not parse: %s", err.text);
    *cause = NULL;
    it = news_item_from_json(j, cause);
    json_decref(j);
    return it;
}

static void refused(const char *text, const char *needle)
{
    char *cause;
    struct news_item *it = parse(text, &cause);

    if (it != NULL)
        fail_msg("accepted: %s", text);
    if (strstr(cause, needle) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", cause, needle);
    free(cause);
}

static void test_normalise(void **state)
{
    char *n;

    (void)state;
    n = news_normalise("  Breaking:   U.S. Senate\tPASSES bill!!\n");
    assert_string_equal(n, "breaking us senate passes bill");
    free(n);
    /* Typographic punctuation and spaces fold like their ASCII cousins; letters keep case. */
    n = news_normalise("Crème brûlée — “quoted”…\u00a0Storm’s Ärger");
    assert_string_equal(n, "crème brûlée quoted storms Ärger");
    free(n);
    n = news_normalise("");
    assert_string_equal(n, "");
    free(n);
}

static void test_hash_folds_case_space_punctuation(void **state)
{
    char a[65], b[65], c[65];

    (void)state;
    news_content_hash("Storm hits coast", "Winds of 120 km/h.", a);
    news_content_hash("STORM  hits coast!", "winds of 120 kmh", b);
    news_content_hash("Storm hits coast", "Winds of 130 km/h.", c);
    {
        char d[65], e[65];

        news_content_hash("Storm’s “eye” — here", "x", d);
        news_content_hash("Storm's \"eye\" - here", "x", e);
        assert_string_equal(d, e);
    }
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 64);
    /* Title and body are kept apart: moving words between them is another story. */
    news_content_hash("Storm hits", "coast Winds of 120 km/h.", b);
    assert_string_not_equal(a, b);
    /* SHA-256 of "\n" (both parts empty), a known value. */
    news_content_hash("", "", a);
    assert_string_equal(a, "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b");
}

static void test_full_item(void **state)
{
    char *cause;
    struct news_item *it;
    json_t *j;

    (void)state;
    it = parse("{\"id\": \"wire-42\", \"title\": \"Storm hits coast\", \"content\": \"Line 1\\n"
               "Line 2\", \"source\": \"Wire\", \"url\": \"https://example.org/a\", "
               "\"published\": \"2026-11-28T10:00:00.250+01:00\", \"topics\": [\"weather\"]}",
               &cause);
    assert_non_null(it);
    assert_string_equal(it->id, "wire-42");
    assert_string_equal(it->content, "Line 1\nLine 2");
    assert_int_equal(it->published_ms, 1795860000250LL - 3600000LL);
    assert_int_equal(it->ntopics, 1);
    assert_string_equal(it->topics[0], "weather");
    j = news_item_to_json(it);
    assert_string_equal(json_string_value(json_object_get(j, "hash")), it->hash);
    /* Round trip: the JSON form parses back to the same item. */
    {
        struct news_item *back = news_item_from_json(j, &cause);

        assert_non_null(back);
        assert_string_equal(back->hash, it->hash);
        assert_int_equal(back->published_ms, it->published_ms);
        news_item_free(back);
    }
    json_decref(j);
    news_item_free(it);
}

static void test_id_derived_from_hash(void **state)
{
    char *cause;
    struct news_item *a =
        parse("{\"title\": \"T\", \"content\": \"C\", \"source\": \"S\"}", &cause);
    struct news_item *b =
        parse("{\"title\": \"t!\", \"content\": \"c\", \"source\": \"X\"}", &cause);

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a->id, b->id);
    assert_int_equal(strncmp(a->id, "n-", 2), 0);
    assert_int_equal(strlen(a->id), 18);
    assert_false(news_item_has_identity(a));
    news_item_free(a);
    news_item_free(b);
}

/* Without an id the link is the identity: the same URL is the same story, whatever its text. */
static void test_id_derived_from_link(void **state)
{
    char *cause;
    struct news_item *a = parse("{\"title\": \"T\", \"content\": \"C\", \"source\": \"S\", "
                                "\"url\": \"https://x.example/1\"}",
                                &cause);
    struct news_item *b = parse("{\"title\": \"Other\", \"content\": \"Text\", \"source\": "
                                "\"S\", \"url\": \"https://x.example/1\"}",
                                &cause);
    struct news_item *c = parse("{\"id\": \"g-1\", \"title\": \"T\", \"content\": \"C\", "
                                "\"source\": \"S\", \"url\": \"https://x.example/1\"}",
                                &cause);

    (void)state;
    assert_string_equal(a->id, b->id);
    assert_int_equal(strncmp(a->id, "u-", 2), 0);
    assert_int_equal(strlen(a->id), 18);
    assert_true(news_item_has_identity(a));
    assert_string_equal(c->id, "g-1");
    assert_true(news_item_has_identity(c));
    news_item_free(a);
    news_item_free(b);
    news_item_free(c);
}

static void test_refusals(void **state)
{
    (void)state;
    refused("[1]", "expected a JSON object");
    refused("{\"content\": \"c\", \"source\": \"s\"}", "title: missing");
    refused("{\"title\": \"\", \"content\": \"c\", \"source\": \"s\"}", "title: empty");
    refused("{\"title\": 7, \"content\": \"c\", \"source\": \"s\"}",
            "title: expected a string, got an integer");
    refused("{\"title\": \"t\", \"content\": [\"c\"], \"source\": \"s\"}",
            "content: expected a string, got an array");
    refused("{\"title\": \"t\", \"content\": \"c\"}", "source: missing");
    refused("{\"title\": \"t\", \"content\": \"c\", \"source\": \"s\", \"colour\": 1}",
            "unknown field \"colour\"");
    refused("{\"title\": \"a\\u0007b\", \"content\": \"c\", \"source\": \"s\"}",
            "title: contains a control character");
    refused("{\"title\": \"a\\nb\", \"content\": \"c\", \"source\": \"s\"}",
            "title: contains a control character");
    refused("{\"title\": \"a\\u009bb\", \"content\": \"c\", \"source\": \"s\"}", "C1 control");
    refused("{\"title\": \"t\", \"content\": \"c\\u001b[2J\", \"source\": \"s\"}",
            "content: contains a control character");
    refused("{\"title\": \"a\\u0000b\", \"content\": \"c\", \"source\": \"s\"}", "NUL");
    refused("{\"title\": \"t\", \"content\": \"c\", \"source\": \"s\", \"id\": \"a b\"}", "id:");
    refused("{\"title\": \"t\", \"content\": \"c\", \"source\": \"s\", \"published\": "
            "\"yesterday\"}",
            "published:");
    refused("{\"title\": \"t\", \"content\": \"c\", \"source\": \"s\", \"published\": true}",
            "published: expected");
    refused("{\"title\": \"t\", \"content\": \"c\", \"source\": \"s\", \"topics\": \"x\"}",
            "topics: expected an array");
    refused("{\"title\": \"t\", \"content\": \"c\", \"source\": \"s\", \"topics\": [1]}",
            "topics[0]");
    refused("{\"title\": \"t\", \"content\": \"c\", \"source\": \"s\", \"hash\": \"abc\"}",
            "hash: does not match");
}

static void test_size_limits(void **state)
{
    size_t n = NEWS_CONTENT_MAX + 10;
    char *big = malloc(n + 100), *cause = NULL;
    json_t *j;

    (void)state;
    memset(big, 'x', n);
    big[n] = '\0';
    j = json_pack("{s:s, s:s, s:s}", "title", "t", "content", big, "source", "s");
    assert_null(news_item_from_json(j, &cause));
    assert_non_null(strstr(cause, "content:"));
    assert_non_null(strstr(cause, "more than"));
    free(cause);
    json_decref(j);
    big[NEWS_TITLE_MAX + 1] = '\0';
    j = json_pack("{s:s, s:s, s:s}", "title", big, "content", "c", "source", "s");
    cause = NULL;
    assert_null(news_item_from_json(j, &cause));
    assert_non_null(strstr(cause, "title:"));
    free(cause);
    json_decref(j);
    free(big);
}

static void test_times(void **state)
{
    int64_t ms;

    (void)state;
    assert_int_equal(news_parse_time("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(news_parse_time("2000-03-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 951868800000LL);
    assert_int_equal(news_parse_time("2026-11-28T10:00:00-05:30", &ms), 0);
    assert_int_equal(ms, 1795860000000LL + 5LL * 3600000 + 30LL * 60000);
    assert_int_equal(news_parse_time("2026-11-28 10:00:00.5Z", &ms), 0);
    assert_int_equal(ms, 1795860000500LL);
    assert_int_equal(news_parse_time("2026-11-28", &ms), -1);
    assert_int_equal(news_parse_time("2026-13-28T10:00:00Z", &ms), -1);
    assert_int_equal(news_parse_time("2026-11-28T10:00:00", &ms), -1);
    assert_int_equal(news_parse_time("2026-11-28T10:00:00Zjunk", &ms), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_hash_folds_case_space_punctuation),
        cmocka_unit_test(test_full_item),
        cmocka_unit_test(test_id_derived_from_hash),
        cmocka_unit_test(test_id_derived_from_link),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_times),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

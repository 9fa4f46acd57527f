/*
 * test_feed_parse.c - the feed parser against the corpus in tests/feeds/: RSS 2.0 (plain, in
 * Userland's namespace, prefixed), Atom 1.0, RSS 1.0 and RSS 0.90, ISO-8859-1, Windows-1252
 * mislabelled as ISO-8859-1, UTF-16 and UTF-32 with and without a byte order mark, CDATA, HTML
 * entities, escaped and XHTML content (blocks apart, script and style gone), relative links
 * with xml:base and, from files, against the feed's self or alternate link, RFC 3986
 * resolution keeping percent-escapes, permalink guids, every date form the parser reads (and
 * the first-seen time when none is readable), missing guids, two files from feedparser's own
 * test suite, and every broken document (empty, truncated, wrong encoding, not XML, not a
 * feed and why, an entity bomb, an external entity that must not be read) refused with its
 * reason and no item. Also the URL resolver, the text cleaner and the sniffer on their own.
 * Pictures: every kind of image reference (images.xml, images.atom), what must not count (a
 * video, audio, data: and mailto: sources, thumbnails beside their picture), the rule for
 * feeds read from files (images_file.xml), and an article page's og:image and twitter:image.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "feeds/feed_image.h"
#include "feeds/feed_parse.h"
#include "feeds/feed_text.h"
#include "feeds/feed_url.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first-seen time every parse here is given. */
#define NOW_MS 1750000000000LL

static char *slurp(const char *rel, size_t *len)
{
    const char *dir = getenv("NEWSROOM_SOURCE_DIR");
    char path[4096];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof path, "%s/tests/feeds/%s", dir != NULL ? dir : ".", rel);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void parse_ok(const char *rel, const char *url, struct feed_doc *d)
{
    size_t len;
    char *buf = slurp(rel, &len), *cause = NULL;

    if (feed_parse(buf, len, url, NOW_MS, d, &cause) == -1)
        fail_msg("%s: %s", rel, cause);
    free(buf);
}

static void parse_str(const char *doc, const char *url, struct feed_doc *d)
{
    char *cause = NULL;

    if (feed_parse(doc, strlen(doc), url, NOW_MS, d, &cause) == -1)
        fail_msg("%s: %s", doc, cause);
}

static const struct news_item *item(const struct feed_doc *d, size_t i)
{
    assert_true(i < d->nentries);
    return d->entries[i].item;
}

static void expect_id(const struct news_item *it, const char *key)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    char want[64] = "feed-";

    EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 16; i++)
        snprintf(want + 5 + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(it->id, want);
}

static void test_rss2(void **state)
{
    struct feed_doc d;
    const struct news_item *it;

    (void)state;
    parse_ok("rss2.xml", "https://news.example.org/feed.xml", &d);
    assert_int_equal(d.format, FEED_RSS2);
    assert_string_equal(d.title, "Example & Daily");
    assert_int_equal(d.nentries, 3);
    assert_int_equal(d.skipped, 0);

    it = item(&d, 0);
    expect_id(it, "guid\nbridge-2026-1");
    assert_string_equal(d.entries[0].guid, "bridge-2026-1");
    assert_string_equal(it->title, "Harbour bridge reopens after repairs");
    assert_string_equal(it->content, "The harbour bridge reopened on Monday \xe2\x80\x93 three "
                                     "weeks early. Officials said traffic would return to "
                                     "normal.");
    assert_string_equal(it->source, "Example & Daily");
    assert_string_equal(it->url, "https://news.example.org/world/stories/bridge.html");
    assert_int_equal(it->published_ms, 1055217600000LL);
    assert_int_equal(d.entries[0].date, FEED_DATE_FEED);
    assert_int_equal(d.entries[0].text, FEED_TEXT_FEED);
    assert_null(d.entries[0].fulltext);
    assert_int_equal(it->ntopics, 2);
    assert_string_equal(it->topics[0], "Transport");
    assert_string_equal(it->topics[1], "City");

    it = item(&d, 1);
    expect_id(it, "link\nhttps://news.example.org/local/budget.html");
    assert_null(d.entries[1].guid);
    assert_string_equal(it->title, "Council\xe2\x80\x99s budget passes");
    /* content:encoded wins over the description; &nbsp; becomes a plain space. */
    assert_string_equal(it->content, "The council approved the 2026 budget by seven votes to "
                                     "four & adjourned until June.");
    assert_string_equal(it->url, "https://news.example.org/local/budget.html");
    assert_int_equal(it->published_ms, 1055316600000LL);

    it = item(&d, 2);
    expect_id(it, "title\nWeather warning for the coast\n");
    assert_string_equal(it->url, "");
    /* No date: the time it was first seen, and said so. */
    assert_int_equal(it->published_ms, NOW_MS);
    assert_int_equal(d.entries[2].date, FEED_DATE_FIRST_SEEN);
    assert_int_equal(it->ntopics, 0);
    feed_doc_clear(&d);
}

static void test_rss2_namespace(void **state)
{
    struct feed_doc d;

    (void)state;
    /* The issue's own reproduction first. */
    parse_str("<rss version=\"2.0\" xmlns=\"http://backend.userland.com/rss2\"><channel><title>T"
              "</title><item><title>One</title><link>http://example.com/1</link></item></channel>"
              "</rss>",
              NULL, &d);
    assert_int_equal(d.nentries, 1);
    assert_string_equal(item(&d, 0)->title, "One");
    assert_string_equal(item(&d, 0)->url, "http://example.com/1");
    feed_doc_clear(&d);

    parse_ok("rss2_ns.xml", NULL, &d);
    assert_int_equal(d.format, FEED_RSS2);
    assert_string_equal(d.title, "Namespaced Wire");
    assert_int_equal(d.nentries, 2);
    assert_string_equal(item(&d, 0)->content, "The first story of a namespaced feed.");
    assert_int_equal(item(&d, 0)->published_ms, 1055217600000LL);
    assert_string_equal(item(&d, 0)->topics[0], "World");
    assert_string_equal(item(&d, 1)->url, "https://ns.example.com/stories/2");
    assert_int_equal(item(&d, 1)->published_ms, 1055221200000LL);
    feed_doc_clear(&d);

    parse_ok("rss2_prefixed.xml", NULL, &d);
    assert_int_equal(d.nentries, 1);
    assert_string_equal(item(&d, 0)->url, "https://prefixed.example.com/1");
    feed_doc_clear(&d);
}

static void test_atom(void **state)
{
    struct feed_doc d;
    const struct news_item *it;

    (void)state;
    parse_ok("atom.xml", "https://atom.example.com/feed.atom", &d);
    assert_int_equal(d.format, FEED_ATOM);
    assert_string_equal(d.title, "Atom Science Desk");
    assert_int_equal(d.nentries, 2);

    it = item(&d, 0);
    expect_id(it, "guid\nurn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a");
    assert_string_equal(it->title, "Probe reaches Jupiter orbit");
    assert_string_equal(it->content, "The probe entered orbit after a six-year trip.");
    assert_string_equal(it->url, "https://atom.example.com/blog/2003/12/probe");
    /* published (with its offset) wins over updated. */
    assert_int_equal(it->published_ms, 1071336602000LL);
    assert_int_equal(it->ntopics, 1);
    assert_string_equal(it->topics[0], "Space");

    it = item(&d, 1);
    /* A text title: "&amp;" is the character, no HTML parse. */
    assert_string_equal(it->title, "Vaccine trial results & next steps");
    assert_string_equal(it->content, "The trial met its primary endpoint.");
    /* The entry's own xml:base, then the relative href. */
    assert_string_equal(it->url, "https://other.example.net/a/c/trial");
    /* A date alone: midnight UTC, marked as having no zone. */
    assert_int_equal(it->published_ms, 1071187200000LL);
    assert_int_equal(d.entries[1].date, FEED_DATE_NO_ZONE);
    feed_doc_clear(&d);
}

static void test_atom03(void **state)
{
    struct feed_doc d;

    (void)state;
    parse_ok("atom03.xml", NULL, &d);
    assert_int_equal(d.format, FEED_ATOM);
    assert_string_equal(d.title, "Old Atom");
    assert_int_equal(d.nentries, 1);
    assert_string_equal(item(&d, 0)->content, "Escaped HTML content.");
    assert_string_equal(item(&d, 0)->url, "https://oldatom.example/2004/01/03");
    /* issued, with its offset: 12:00 UTC. */
    assert_int_equal(item(&d, 0)->published_ms, 1072958400000LL);
    assert_string_equal(d.entries[0].guid, "tag:oldatom.example,2004:3");
    feed_doc_clear(&d);
}

static void test_atom_xhtml(void **state)
{
    struct feed_doc d;

    (void)state;
    parse_str("<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>urn:x</id><title>X</title>"
              "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>First.</p>"
              "<p>Second</p><script>alert(1)</script></div></content></entry></feed>",
              NULL, &d);
    assert_string_equal(item(&d, 0)->content, "First. Second");
    feed_doc_clear(&d);

    parse_ok("atom_xhtml.xml", NULL, &d);
    assert_int_equal(d.nentries, 4);
    assert_string_equal(item(&d, 0)->title, "Title with markup");
    assert_string_equal(item(&d, 0)->content, "First. Second");
    /* Prefixed XHTML: headings, list items, cells and line breaks apart; style gone. */
    assert_string_equal(item(&d, 1)->content, "Heading one two a b tail line");
    /* Escaped HTML reads the same as XHTML. */
    assert_string_equal(item(&d, 2)->content, "First. Second");
    /* Content elsewhere (src): the summary. */
    assert_string_equal(item(&d, 3)->content, "The summary stands in.");
    feed_doc_clear(&d);

    parse_ok("rss_unescaped.xml", NULL, &d);
    assert_string_equal(item(&d, 0)->content, "Alpha. Beta");
    feed_doc_clear(&d);
}

static void test_rdf(void **state)
{
    struct feed_doc d;
    const struct news_item *it;

    (void)state;
    parse_ok("rdf.xml", NULL, &d);
    assert_int_equal(d.format, FEED_RDF);
    assert_string_equal(d.title, "RDF Wire");
    assert_int_equal(d.nentries, 1);
    it = item(&d, 0);
    expect_id(it, "guid\nhttps://rdf.example.org/markets/1");
    assert_string_equal(it->title, "Markets close higher");
    assert_string_equal(it->content, "Shares rose 2% on strong earnings.");
    assert_string_equal(it->url, "https://rdf.example.org/markets/1");
    assert_int_equal(it->published_ms, 1073336400000LL);
    assert_string_equal(it->topics[0], "Business");
    feed_doc_clear(&d);
}

static void test_rss090(void **state)
{
    struct feed_doc d;

    (void)state;
    parse_ok("rss090.xml", "file:///srv/feeds/rss090.xml", &d);
    assert_int_equal(d.format, FEED_RSS090);
    assert_string_equal(d.title, "Ninety");
    assert_int_equal(d.nentries, 2);
    assert_string_equal(item(&d, 0)->title, "First of the nineties");
    assert_string_equal(item(&d, 0)->url, "https://ninety.example/1.html");
    /* From a file: against the channel's link. */
    assert_string_equal(item(&d, 1)->url, "https://ninety.example/2.html");
    feed_doc_clear(&d);

    /* feedparser's own RSS 0.90 cases, unchanged (tests/feeds/feedparser/NOTICE). */
    parse_ok("feedparser/rss090_channel_title.xml", NULL, &d);
    assert_string_equal(d.title, "Example title");
    feed_doc_clear(&d);
    parse_ok("feedparser/rss090_item_title.xml", NULL, &d);
    assert_int_equal(d.nentries, 1);
    assert_string_equal(item(&d, 0)->title, "Item title");
    feed_doc_clear(&d);
}

static void test_encodings(void **state)
{
    static const char *const wide[] = {"utf32le.xml",       "utf32be.xml",       "utf32le_bom.xml",
                                       "utf16le_nobom.xml", "utf16be_nobom.xml", "utf32le_decl.xml",
                                       "utf16le_decl.xml"};
    struct feed_doc d;

    (void)state;
    parse_ok("latin1.xml", NULL, &d);
    assert_string_equal(d.title, "Caf\xc3\xa9 Nouvelles");
    assert_int_equal(d.nentries, 1);
    assert_string_equal(item(&d, 0)->title, "Le caf\xc3\xa9 ouvre \xc3\xa0 Paris");
    assert_string_equal(item(&d, 0)->content, "Un caf\xc3\xa9 na\xc3\xaf"
                                              "f ouvre ses portes.");
    /* RFC 822 with a zone name. */
    assert_int_equal(item(&d, 0)->published_ms, 1075726800000LL);
    feed_doc_clear(&d);

    parse_ok("utf16.xml", NULL, &d);
    assert_string_equal(d.title, "Wide Feed");
    assert_int_equal(d.nentries, 1);
    assert_string_equal(item(&d, 0)->title, "Stra\xc3\x9f"
                                            "e gesperrt \xe2\x80\x94 Umleitung");
    expect_id(item(&d, 0), "guid\nwide-1");
    feed_doc_clear(&d);

    /* UTF-32 and UTF-16 known by their first four bytes (XML 1.0 appendix F). */
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) {
        char title[64], want[128];
        size_t n = strcspn(wide[i], ".");

        parse_ok(wide[i], NULL, &d);
        snprintf(title, sizeof title, "Wide %.*s", (int)n, wide[i]);
        snprintf(want, sizeof want,
                 "Stra\xc3\x9f"
                 "e \xe2\x80\x94 %.*s",
                 (int)n, wide[i]);
        assert_string_equal(d.title, title);
        assert_int_equal(d.nentries, 1);
        assert_string_equal(item(&d, 0)->title, want);
        assert_string_equal(item(&d, 0)->content, "\xc3\x89t\xc3\xa9 \xf0\x9f\x93\xb0");
        feed_doc_clear(&d);
    }
}

static void test_cp1252(void **state)
{
    struct feed_doc d;

    (void)state;
    /* Read as browsers read ISO-8859-1: Windows-1252 in 0x80-0x9F. */
    parse_ok("cp1252.xml", NULL, &d);
    assert_int_equal(d.nentries, 2);
    assert_string_equal(item(&d, 0)->title, "Don\xe2\x80\x99t panic");
    assert_string_equal(item(&d, 0)->content, "\xe2\x80\x9cQuoted\xe2\x80\x9d for \xe2\x82\xac"
                                              "10 \xe2\x80\x93 caf\xc3\xa9 \xe2\x80\x99s");
    /* 0x81 has no Windows-1252 character: it stays a control, made a space. */
    assert_string_equal(item(&d, 1)->title, "Undefined byte");
    /* &#146; in escaped HTML, as HTML reads it. */
    assert_string_equal(item(&d, 1)->content, "Reference \xe2\x80\x99 in HTML");
    feed_doc_clear(&d);
}

static void test_file_links(void **state)
{
    struct feed_doc d;

    (void)state;
    /* The reproduction: from a file, against the self link. */
    parse_str("<feed xmlns=\"http://www.w3.org/2005/Atom\"><link rel=\"self\" "
              "href=\"https://example.com/blog/feed.xml\"/><entry><id>urn:x</id><title>A</title>"
              "<link href=\"/blog/2003/atom03\"/></entry></feed>",
              "file:///tmp/feed.xml", &d);
    assert_string_equal(item(&d, 0)->url, "https://example.com/blog/2003/atom03");
    feed_doc_clear(&d);

    parse_ok("atom_self.xml", "file:///srv/feeds/atom_self.xml", &d);
    assert_int_equal(d.nentries, 3);
    assert_string_equal(item(&d, 0)->url, "https://example.com/blog/2003/atom03");
    assert_string_equal(item(&d, 1)->url, "https://example.com/blog/posts/b.html?ref=feed#top");
    /* xml:base relative to the self link, then the href. */
    assert_string_equal(item(&d, 2)->url, "https://example.com/archive/c.html");
    feed_doc_clear(&d);
    /* Over HTTP the document's own URL is the base, whatever the self link says. */
    parse_ok("atom_self.xml", "https://mirror.example.org/feeds/self.xml", &d);
    assert_string_equal(item(&d, 1)->url,
                        "https://mirror.example.org/feeds/posts/b.html?ref=feed#top");
    feed_doc_clear(&d);

    parse_ok("rss_alternate.xml", "file:///srv/feeds/rss_alternate.xml", &d);
    assert_string_equal(item(&d, 0)->url, "https://site.example/news/story/1.html");
    feed_doc_clear(&d);
    parse_ok("rss_self_atom.xml", NULL, &d);
    assert_string_equal(item(&d, 0)->url, "https://feeds.example.net/a/stories/x.html");
    feed_doc_clear(&d);
    /* Nothing to resolve against: a relative link is dropped, an absolute one kept, mailto:
     * never. */
    parse_ok("rss_nobase.xml", "file:///srv/feeds/rss_nobase.xml", &d);
    assert_string_equal(item(&d, 0)->url, "");
    assert_string_equal(item(&d, 1)->url, "https://absolute.example/ok");
    assert_string_equal(item(&d, 2)->url, "");
    feed_doc_clear(&d);
}

static void test_escapes(void **state)
{
    struct feed_doc d;

    (void)state;
    parse_ok("escapes.xml", NULL, &d);
    assert_int_equal(d.nentries, 4);
    /* The reproduction: escapes survive. */
    assert_string_equal(item(&d, 0)->url, "http://example.com/dir/a%2Fb-%26-c%21");
    assert_string_equal(item(&d, 1)->url, "http://example.com/up/%7Euser/x%20y?p=%3D#f%23");
    assert_string_equal(item(&d, 2)->url, "http://example.com/dir/?a=b&c=%26");
    /* What a URL cannot hold is escaped as browsers do: UTF-8 bytes, space, bar. */
    assert_string_equal(item(&d, 3)->url, "http://example.com/dir/caf%C3%A9%20menu%7Cx");
    feed_doc_clear(&d);
    /* The same over HTTP (the document's URL as the base). */
    parse_str("<rss version=\"2.0\"><channel><item><title>S</title><link>a%2Fb-%26-c%21</link>"
              "</item></channel></rss>",
              "http://example.com/dir/feed.xml", &d);
    assert_string_equal(item(&d, 0)->url, "http://example.com/dir/a%2Fb-%26-c%21");
    feed_doc_clear(&d);
}

static void test_url_resolve(void **state)
{
    /* RFC 3986 5.4's examples against its base, and a few of our own. */
    static const char *const cases[][2] = {
        {"g:h", "g:h"},
        {"g", "http://a/b/c/g"},
        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},
        {"//g", "http://g"},
        {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"},
        {";x", "http://a/b/c/;x"},
        {"", NULL},
        {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},
        {"..", "http://a/b/"},
        {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},
        {"../..", "http://a/"},
        {"../../g", "http://a/g"},
        {"../../../g", "http://a/g"},
        {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},
        {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},
        {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},
        {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
        {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},
        {"g#s/../x", "http://a/b/c/g#s/../x"},
        {"  %2F%2e%41 ", "http://a/b/c/%2F%2e%41"},
    };
    char *u;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        u = feed_url_resolve("http://a/b/c/d;p?q", cases[i][0]);
        if (cases[i][1] == NULL) {
            assert_null(u);
            continue;
        }
        if (u == NULL || strcmp(u, cases[i][1]) != 0)
            fail_msg("\"%s\" resolved to \"%s\", not \"%s\"", cases[i][0], u ? u : "(null)",
                     cases[i][1]);
        free(u);
    }
    assert_null(feed_url_resolve(NULL, "relative/only"));
    u = feed_url_resolve(NULL, "HTTPS://Example.COM:443/x");
    assert_string_equal(u, "https://Example.COM:443/x");
    free(u);
    u = feed_url_origin("HTTPS://user@Example.COM:443/x?y");
    assert_string_equal(u, "https://example.com");
    free(u);
    u = feed_url_origin("http://[::1]:8080/");
    assert_string_equal(u, "http://[::1]:8080");
    free(u);
    assert_null(feed_url_origin("file:///etc/passwd"));
    assert_null(feed_url_origin("http:///nohost"));
    u = feed_url_path("http://h/a%2Fb?q=1#frag");
    assert_string_equal(u, "/a%2Fb?q=1");
    free(u);
    u = feed_url_path("http://h");
    assert_string_equal(u, "/");
    free(u);
}

static void test_permalinks(void **state)
{
    struct feed_doc d;

    (void)state;
    parse_ok("permalink.xml", "file:///srv/permalink.xml", &d);
    assert_int_equal(d.nentries, 5);
    assert_string_equal(item(&d, 0)->url, "https://perma.example/a");
    assert_string_equal(item(&d, 1)->url, "https://perma.example/b");
    assert_string_equal(item(&d, 2)->url, "");
    assert_string_equal(item(&d, 3)->url, "https://perma.example/d-link");
    /* A guid that is no URL is no link, whatever RSS 2.0 presumes. */
    assert_string_equal(item(&d, 4)->url, "");
    /* The guid stays the id either way. */
    expect_id(item(&d, 0), "guid\nhttps://perma.example/a");
    feed_doc_clear(&d);
}

static void test_date_items(void **state)
{
    static const struct {
        int64_t ms;
        enum feed_date_kind kind;
    } want[] = {
        {1345545180000LL, FEED_DATE_NO_ZONE}, {1668589200000LL, FEED_DATE_FEED},
        {1578664980000LL, FEED_DATE_NO_ZONE}, {1702735353000LL, FEED_DATE_NO_ZONE},
        {1538547300000LL, FEED_DATE_FEED},    {784111777000LL, FEED_DATE_FEED},
        {784111777000LL, FEED_DATE_NO_ZONE},  {NOW_MS, FEED_DATE_FIRST_SEEN},
        {NOW_MS, FEED_DATE_FIRST_SEEN},
    };
    struct feed_doc d;

    (void)state;
    parse_ok("dates.xml", NULL, &d);
    assert_int_equal(d.nentries, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < d.nentries; i++) {
        if (item(&d, i)->published_ms != want[i].ms || d.entries[i].date != want[i].kind)
            fail_msg("%s: %lld (kind %d), wanted %lld (kind %d)", item(&d, i)->title,
                     (long long)item(&d, i)->published_ms, d.entries[i].date, (long long)want[i].ms,
                     want[i].kind);
    }
    feed_doc_clear(&d);
}

static void test_dates(void **state)
{
    static const struct {
        const char *s;
        int64_t ms;
        enum feed_date_kind kind;
    } ok[] = {
        {"Tue, 10 Jun 2003 04:00:00 GMT", 1055217600000LL, FEED_DATE_FEED},
        {"10 Jun 2003 06:00:00 +0200", 1055217600000LL, FEED_DATE_FEED},
        {"Tuesday, 10 June 2003 00:00 EDT", 1055217600000LL, FEED_DATE_FEED},
        {"Tue, 10 Jun 03 04:00:00 Z", 1055217600000LL, FEED_DATE_FEED},
        {"2003-06-10T04:00:00Z", 1055217600000LL, FEED_DATE_FEED},
        {"2003-06-10T06:00:00+02:00", 1055217600000LL, FEED_DATE_FEED},
        {"2003-06-10T06:00:00.250+0200", 1055217600250LL, FEED_DATE_FEED},
        {"2003-06-10 04:00:00 UTC", 1055217600000LL, FEED_DATE_FEED},
        {" 2003-06-10 ", 1055203200000LL, FEED_DATE_NO_ZONE},
        {"2012-08-21T10:33:00", 1345545180000LL, FEED_DATE_NO_ZONE},
        {"2012-08-21T10:33", 1345545180000LL, FEED_DATE_NO_ZONE},
        {"mer, 16 nov 2022 10:00:00 +0100", 1668589200000LL, FEED_DATE_FEED},
        {"mié, 16 nov 2022 10:00:00 +0100", 1668589200000LL, FEED_DATE_FEED},
        {"Mi, 16 Nov 2022 10:00:00 +0100", 1668589200000LL, FEED_DATE_FEED},
        {"16 novembre 2022 10:00:00 +0100", 1668589200000LL, FEED_DATE_FEED},
        {"16 d\xc3\xa9"
         "c. 2022 10:00 CET",
         1671181200000LL, FEED_DATE_FEED},
        {"2020/1/10 14:03:00", 1578664980000LL, FEED_DATE_NO_ZONE},
        {"2020.01.10 14:03", 1578664980000LL, FEED_DATE_NO_ZONE},
        {"Sat, Dec 16 2023 02:02:33 PM", 1702735353000LL, FEED_DATE_NO_ZONE},
        {"Dec 16, 2023 12:02 AM GMT", 1702684920000LL, FEED_DATE_FEED},
        {"December 16th, 2023", 1702684800000LL, FEED_DATE_NO_ZONE},
        {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777000LL, FEED_DATE_FEED},
        {"Sun Nov  6 08:49:37 1994", 784111777000LL, FEED_DATE_NO_ZONE},
        {"Thu, 01 Jan 2004 00:00:00 GMT+0100", 1072911600000LL, FEED_DATE_FEED},
        {"1700000000", 1700000000000LL, FEED_DATE_FEED},
    };
    static const char *const bad[] = {
        "yesterday-ish",
        "",
        "   ",
        "sometime last week",
        "2003-13-01",
        "2003-02-30",
        "31 Feb 2003",
        "Tue, 10 Jun 2003 25:00:00 GMT",
        "Tue, 10 Jun 2003 04:00:00 XYZ",
        "10 Jun",
        "Jun 2003",
        "13:00 PM 10 Jun 2003",
        "2003-06-10T04:00:00+99:00",
        "12345",
        "Mon, 10 Jun 2003 04:00:00 GMT and more words",
    };
    int64_t ms;
    enum feed_date_kind kind;

    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (feed_parse_date(ok[i].s, &ms, &kind) == -1)
            fail_msg("\"%s\" was not read", ok[i].s);
        if (ms != ok[i].ms || kind != ok[i].kind)
            fail_msg("\"%s\": %lld (kind %d), wanted %lld (kind %d)", ok[i].s, (long long)ms, kind,
                     (long long)ok[i].ms, ok[i].kind);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (feed_parse_date(bad[i], &ms, &kind) == 0)
            fail_msg("\"%s\" was read as %lld", bad[i], (long long)ms);
}

static void test_source_fallback(void **state)
{
    const char *doc = "<rss version=\"2.0\"><channel><item><title>T</title>"
                      "<description>B</description></item></channel></rss>";
    struct feed_doc d;

    (void)state;
    parse_str(doc, "https://host.example.com/x.rss", &d);
    assert_string_equal(item(&d, 0)->source, "host.example.com");
    feed_doc_clear(&d);
    parse_str(doc, "file:///srv/feeds/local.xml", &d);
    assert_string_equal(item(&d, 0)->source, "local.xml");
    feed_doc_clear(&d);
}

static void refused(const char *rel, const char *needle)
{
    size_t len;
    char *buf = slurp(rel, &len), *cause = NULL;
    struct feed_doc d;

    if (feed_parse(buf, len, NULL, NOW_MS, &d, &cause) == 0)
        fail_msg("%s: accepted with %zu items", rel, d.nentries);
    assert_null(d.entries);
    assert_int_equal(d.nentries, 0);
    if (strstr(cause, needle) == NULL)
        fail_msg("%s: reason \"%s\" lacks \"%s\"", rel, cause, needle);
    free(cause);
    free(buf);
}

static void test_broken(void **state)
{
    (void)state;
    refused("broken/truncated.xml", "not well-formed");
    refused("broken/wrong_encoding.xml", "UTF-8");
    refused("broken/not_xml.txt", "not well-formed");
    refused("broken/html.xml", "not a feed: the root element is <html> (no namespace)");
    refused("broken/empty.xml", "empty document");
    refused("broken/blank.xml", "empty document");
    /* No message that contradicts itself: what is missing, or which namespace is wrong. */
    refused("broken/rss_no_channel.xml", "not a feed: <rss> has no <channel>");
    refused("broken/atom_wrong_ns.xml", "not a feed: the root element is <feed> in namespace "
                                        "\"http://example.com/not-atom\", not Atom's");
    refused("broken/rdf_unknown.xml", "holds no RSS 1.0");
}

/* Whether any item text holds needle. */
static bool any_text(const struct feed_doc *d, const char *needle)
{
    for (size_t i = 0; i < d->nentries; i++)
        if (strstr(d->entries[i].item->title, needle) != NULL ||
            strstr(d->entries[i].item->content, needle) != NULL)
            return true;
    return false;
}

static void test_entity_bomb(void **state)
{
    size_t len;
    char *buf = slurp("broken/bomb.xml", &len), *cause = NULL;
    struct feed_doc d;

    (void)state;
    /* Refused by libxml2's amplification check, or, if it parses, bounded by the walker:
     * never a billion laughs in memory. */
    if (feed_parse(buf, len, NULL, NOW_MS, &d, &cause) == 0) {
        for (size_t i = 0; i < d.nentries; i++)
            assert_true(strlen(d.entries[i].item->content) <= NEWS_CONTENT_MAX);
        feed_doc_clear(&d);
    } else {
        assert_non_null(strstr(cause, "entit"));
        free(cause);
    }
    free(buf);
}

static void test_external_entity(void **state)
{
    size_t len;
    char *buf = slurp("broken/xxe.xml", &len), *cause = NULL, *passwd;
    struct feed_doc d;
    FILE *f = fopen("/etc/passwd", "r");
    char line[256] = "root:x:0:0";

    (void)state;
    /* Whatever the outcome, no line of /etc/passwd reaches an item. */
    if (f != NULL) {
        if (fgets(line, sizeof line, f) != NULL)
            line[strcspn(line, "\n")] = '\0';
        fclose(f);
    }
    passwd = strdup(line);
    if (feed_parse(buf, len, NULL, NOW_MS, &d, &cause) == 0) {
        assert_false(any_text(&d, passwd));
        assert_false(any_text(&d, "root:"));
        assert_int_equal(d.nentries, 1);
        assert_string_equal(item(&d, 0)->title, "Leak here");
        feed_doc_clear(&d);
    } else {
        assert_null(strstr(cause, "root:"));
        free(cause);
    }
    free(passwd);
    free(buf);
}

static void test_html_text(void **state)
{
    char *t;

    (void)state;
    t = feed_html_text("<p>a&amp;b</p><style>x{}</style><br>c &lt;d&gt;\t\n e", 1000);
    assert_string_equal(t, "a&b c <d> e");
    free(t);
    t = feed_html_text("plain   text\x01with\x7f"
                       "controls",
                       1000);
    assert_string_equal(t, "plain text with controls");
    free(t);
    /* Cut on a character boundary. */
    t = feed_html_text("ab\xc3\xa9\xc3\xa9", 4);
    assert_string_equal(t, "ab\xc3\xa9");
    free(t);
    /* C1 as Windows-1252; an invalid byte becomes U+FFFD, never passes through. */
    t = feed_clean_text("don\xc2\x92t \xc2\x80 \xff!", 1000);
    assert_string_equal(t, "don\xe2\x80\x99t \xe2\x82\xac \xef\xbf\xbd!");
    free(t);
    assert_int_equal(feed_word_count("  one two\tthree\n\nfour "), 4);
    assert_int_equal(feed_word_count(""), 0);
    /* Scripts without spaces: a character a word (six for "Tokyo news" in Japanese, one for
     * "OK"; two for "Seoul" in Korean). */
    assert_int_equal(feed_word_count("\xe6\x9d\xb1\xe4\xba\xac\xe3\x83\x8b\xe3\x83\xa5\xe3\x83\xbc"
                                     "\xe3\x82\xb9 OK"),
                     7);
    assert_int_equal(feed_word_count("\xec\x84\x9c\xec\x9a\xb8"), 2);
}

/* The image i of entry e: its URL and kind. */
static void expect_image(const struct feed_doc *d, size_t e, size_t i, const char *url,
                         enum feed_image_kind kind)
{
    assert_true(e < d->nentries);
    if (i >= d->entries[e].images.n)
        fail_msg("entry %zu has %zu images, not %zu", e, d->entries[e].images.n, i + 1);
    assert_string_equal(d->entries[e].images.v[i].url, url);
    assert_int_equal(d->entries[e].images.v[i].kind, kind);
}

static void test_images(void **state)
{
    struct feed_doc d;
    const struct feed_image *im;
    json_t *meta, *arr;

    (void)state;
    parse_ok("images.xml", "https://herald.example/feed.rss", &d);
    assert_int_equal(d.nentries, 8);
    /* media:content with its credit and title; the thumbnails beside it are its copies. */
    assert_int_equal(d.entries[0].images.n, 1);
    expect_image(&d, 0, 0, "https://img.herald.example/dam/large.jpg", FEED_IMAGE_MEDIA_CONTENT);
    im = &d.entries[0].images.v[0];
    assert_string_equal(im->credit, "Ana Lopez");
    assert_string_equal(im->alt, "The dam at dawn");
    assert_int_equal(im->width, 1600);
    assert_int_equal(im->height, 900);
    /* A media:group: the video left out, the group's credit, a relative URL resolved, a
     * media:content without type or medium counted by its file name. */
    assert_int_equal(d.entries[1].images.n, 2);
    expect_image(&d, 1, 0, "https://img.herald.example/bridge/wide.jpeg", FEED_IMAGE_MEDIA_CONTENT);
    assert_string_equal(d.entries[1].images.v[0].credit, "City Photo Desk");
    assert_string_equal(d.entries[1].images.v[0].type, "image/jpeg");
    expect_image(&d, 1, 1, "https://herald.example/bridge/close.png", FEED_IMAGE_MEDIA_CONTENT);
    /* A thumbnail alone counts. */
    assert_int_equal(d.entries[2].images.n, 1);
    expect_image(&d, 2, 0, "https://img.herald.example/library/t.jpg", FEED_IMAGE_MEDIA_THUMBNAIL);
    /* Enclosures: the image one, not the audio. */
    assert_int_equal(d.entries[3].images.n, 1);
    expect_image(&d, 3, 0, "https://img.herald.example/harbour/boats.png", FEED_IMAGE_ENCLOSURE);
    assert_int_equal(d.entries[4].images.n, 1);
    expect_image(&d, 4, 0, "https://img.herald.example/podcast/cover.jpg", FEED_IMAGE_ITUNES);
    assert_int_equal(d.entries[5].images.n, 1);
    expect_image(&d, 5, 0, "https://img.herald.example/market/hall.webp",
                 FEED_IMAGE_ATOM_ENCLOSURE);
    /* <img> in escaped HTML: relative resolved, data: and mailto: dropped, the declared 1x1
     * tracking pixel kept with its size (the fetch refuses it with its reason). */
    assert_int_equal(d.entries[6].images.n, 2);
    expect_image(&d, 6, 0, "https://herald.example/photos/bus.jpg", FEED_IMAGE_HTML);
    assert_string_equal(d.entries[6].images.v[0].alt, "A yellow bus");
    assert_int_equal(d.entries[6].images.v[0].width, 800);
    expect_image(&d, 6, 1, "https://track.example/p.gif", FEED_IMAGE_HTML);
    assert_int_equal(d.entries[6].images.v[1].width, 1);
    assert_string_equal(item(&d, 6)->content, "Twelve new buses.");
    expect_image(&d, 7, 0, "https://img.herald.example/rail/train.jpg", FEED_IMAGE_HTML);
    /* What the story's body carries. */
    meta = feed_entry_meta(&d.entries[0]);
    arr = json_object_get(meta, "images");
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "kind")),
                        "media:content");
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "credit")),
                        "Ana Lopez");
    json_decref(meta);
    meta = feed_entry_meta(&d.entries[3]);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(meta, "images"), 0), "kind")),
                        "enclosure");
    json_decref(meta);
    feed_doc_clear(&d);

    parse_ok("images.atom", NULL, &d);
    assert_int_equal(d.nentries, 3);
    assert_int_equal(d.entries[0].images.n, 1);
    expect_image(&d, 0, 0, "https://science.example/img/comet.jpg", FEED_IMAGE_ATOM_ENCLOSURE);
    expect_image(&d, 1, 0, "https://science.example/2026/mirror.png", FEED_IMAGE_HTML);
    assert_string_equal(d.entries[1].images.v[0].alt, "The new mirror");
    assert_int_equal(d.entries[2].images.n, 2);
    expect_image(&d, 2, 0, "https://science.example/img/rover.jpg", FEED_IMAGE_MEDIA_CONTENT);
    expect_image(&d, 2, 1, "https://science.example/img/ice.gif", FEED_IMAGE_HTML);
    feed_doc_clear(&d);

    /* From a file: relative pictures beside it, nothing outside its folder. */
    parse_ok("images_file.xml", "file:///srv/feeds/local/images_file.xml", &d);
    assert_string_equal(item(&d, 0)->url, "https://local.example/news/1.html");
    assert_int_equal(d.entries[0].images.n, 3);
    expect_image(&d, 0, 0, "file:///srv/feeds/local/images/harbour.jpg", FEED_IMAGE_MEDIA_CONTENT);
    expect_image(&d, 0, 1, "https://cdn.local.example/a.jpg", FEED_IMAGE_MEDIA_CONTENT);
    expect_image(&d, 0, 2, "file:///srv/feeds/local/images/chart%20data.png", FEED_IMAGE_ENCLOSURE);
    feed_doc_clear(&d);
    /* A file URL with dot segments: the same pictures, the same folder. */
    parse_ok("images_file.xml", "file:///srv/feeds/x/../local/images_file.xml", &d);
    assert_int_equal(d.entries[0].images.n, 3);
    expect_image(&d, 0, 0, "file:///srv/feeds/local/images/harbour.jpg", FEED_IMAGE_MEDIA_CONTENT);
    feed_doc_clear(&d);
    /* A relative file URL (none comes from a fetch: files are read as absolute URLs) is no
     * folder to keep pictures in: its relative references resolve as its links do, against
     * the site. */
    parse_ok("images_file.xml", "file:feeds/local/images_file.xml", &d);
    expect_image(&d, 0, 0, "https://local.example/images/harbour.jpg", FEED_IMAGE_MEDIA_CONTENT);
    for (size_t i = 0; i < d.entries[0].images.n; i++)
        assert_true(strncmp(d.entries[0].images.v[i].url, "https://", 8) == 0);
    feed_doc_clear(&d);
    /* Over HTTP the same references are the site's. */
    parse_ok("images_file.xml", "https://local.example/feed.xml", &d);
    expect_image(&d, 0, 0, "https://local.example/images/harbour.jpg", FEED_IMAGE_MEDIA_CONTENT);
    for (size_t i = 0; i < d.entries[0].images.n; i++)
        assert_true(strncmp(d.entries[0].images.v[i].url, "https://", 8) == 0);
    feed_doc_clear(&d);
}

static void test_page_images(void **state)
{
    static const char page[] =
        "<html><head><title>A</title>"
        "<meta property=\"og:image\" content=\"/media/lead.jpg\">"
        "<meta property=\"og:image:width\" content=\"1200\">"
        "<meta property=\"og:image:height\" content=\"630\">"
        "<meta property=\"og:image:alt\" content=\"The lead picture\">"
        "<meta property=\"og:image\" content=\"https://cdn.example/second.jpg\">"
        "<meta name=\"twitter:image\" content=\"https://cdn.example/card.png\">"
        "<meta name=\"twitter:image:src\" content=\"https://cdn.example/ignored.png\">"
        "</head><body><p>Text <img src=\"/in-body.jpg\"></p></body></html>";
    struct feed_images l = {0};

    (void)state;
    feed_images_from_page(&l, page, strlen(page), NULL, "https://news.example/a/story.html");
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0].url, "https://news.example/media/lead.jpg");
    assert_int_equal(l.v[0].kind, FEED_IMAGE_OG);
    assert_int_equal(l.v[0].width, 1200);
    assert_int_equal(l.v[0].height, 630);
    assert_string_equal(l.v[0].alt, "The lead picture");
    assert_string_equal(l.v[1].url, "https://cdn.example/card.png");
    assert_int_equal(l.v[1].kind, FEED_IMAGE_TWITTER);
    /* Never a page's pictures from a page that is not http(s). */
    feed_images_clear(&l);
    feed_images_from_page(&l, page, strlen(page), NULL, "file:///tmp/story.html");
    assert_int_equal(l.n, 0);
    feed_images_clear(&l);
}

static void test_sniff(void **state)
{
    const char *enc = "x";

    (void)state;
    assert_int_equal(feed_sniff("  \n<?xml", 8, &enc), FEED_SNIFF_XML);
    assert_null(enc);
    assert_int_equal(feed_sniff("\xef\xbb\xbf<rss", 7, NULL), FEED_SNIFF_XML);
    assert_int_equal(feed_sniff("\xff\xfe<\0", 4, NULL), FEED_SNIFF_XML);
    assert_int_equal(feed_sniff("\xfe\xff\0<", 4, NULL), FEED_SNIFF_XML);
    assert_int_equal(feed_sniff("\xff\xfe\0\0<\0\0\0", 8, &enc), FEED_SNIFF_XML);
    assert_string_equal(enc, "UTF-32LE");
    assert_int_equal(feed_sniff("<\0\0\0r\0\0\0", 8, &enc), FEED_SNIFF_XML);
    assert_string_equal(enc, "UTF-32LE");
    assert_int_equal(feed_sniff("\0\0\0<\0\0\0r", 8, &enc), FEED_SNIFF_XML);
    assert_string_equal(enc, "UTF-32BE");
    assert_int_equal(feed_sniff("<\0r\0", 4, &enc), FEED_SNIFF_XML);
    assert_string_equal(enc, "UTF-16LE");
    assert_int_equal(feed_sniff("\0\n\0<\0r", 6, &enc), FEED_SNIFF_XML);
    assert_string_equal(enc, "UTF-16BE");
    assert_int_equal(feed_sniff("{\"id\":1}", 8, NULL), FEED_SNIFF_JSON);
    assert_int_equal(feed_sniff(" \t{", 3, NULL), FEED_SNIFF_JSON);
    assert_int_equal(feed_sniff("hello", 5, NULL), FEED_SNIFF_OTHER);
    assert_int_equal(feed_sniff("", 0, NULL), FEED_SNIFF_EMPTY);
    assert_int_equal(feed_sniff(" \r\n\t", 4, NULL), FEED_SNIFF_EMPTY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rss2),
        cmocka_unit_test(test_rss2_namespace),
        cmocka_unit_test(test_atom),
        cmocka_unit_test(test_atom03),
        cmocka_unit_test(test_atom_xhtml),
        cmocka_unit_test(test_rdf),
        cmocka_unit_test(test_rss090),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_cp1252),
        cmocka_unit_test(test_file_links),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_url_resolve),
        cmocka_unit_test(test_permalinks),
        cmocka_unit_test(test_date_items),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_source_fallback),
        cmocka_unit_test(test_broken),
        cmocka_unit_test(test_entity_bomb),
        cmocka_unit_test(test_external_entity),
        cmocka_unit_test(test_html_text),
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_images),
        cmocka_unit_test(test_page_images),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

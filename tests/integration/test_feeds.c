/*
 * test_feeds.c - feeds against real things: the fetcher pool against local libmicrohttpd
 * servers (tests/support/fake_feed.c): conditional GET (ETag, then Last-Modified), the size
 * limit on a 50 MB body with and without a declared length, redirects bounded; full text
 * (robots.txt fetched once per host and obeyed, pages spaced by the host interval, only
 * text/html taken, the article extracted exactly, failures keeping the summary and saying
 * why); per-host concurrency limits, a hanging host holding only its own queue, failing hosts,
 * the breaker hook refusing a host, and the real per-host circuit breaker opening on a failing
 * host, refusing it without a request, and closing after a trial; cancels and frees that never
 * wait for a hanging fetch. The shared schedule (claims, backoff, extended and given-back
 * claims, a folder's files, what --once waits for). Scout swarms: over file sources (a folder
 * whose files are sources of their own, one bad file failing alone, an unchanged file not read
 * again, a cross-feed copy merged as a further source); over hanging HTTP sources (the
 * heartbeat never lapses, a halt is obeyed within a second, the swarm stops at once); and a
 * scout stopped mid-poll losing no item (validators saved only once every item is written).
 * Finally `ctl ingest` of oversized lines, its peak memory measured. Shared test Redis,
 * databases 15 and 29. Waits are conditions with deadlines, never blind sleeps; the
 * timings printed are for the report, and only the issue's own bounds are asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agents/agent.h"
#include "core/config.h"
#include "cost/pricing.h"
#include "fake_feed.h"
#include "feeds/feed_pool.h"
#include "feeds/feed_store.h"
#include "recovery/breaker.h"
#include "store/blackboard.h"
#include "store/control.h"
#include "store/registry.h"
#include "store/rlink.h"
#include "swarmenv.h"
#include "testenv.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DB        15
#define DB_INGEST 29

static const struct feed_fetch_options opts = {5000, 10u * 1024 * 1024, 5};

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, f);
    n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    s = malloc((size_t)n + 1);
    assert_non_null(s);
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

static struct rlink *fresh_link(void)
{
    struct rlink *l = test_shared_link(DB, "test_feeds");

    freeReplyObject(test_must(l, "FLUSHDB%s", ""));
    return l;
}

static char *corpus(const char *dir, const char *rel, size_t *len)
{
    char path[4096], *text;

    snprintf(path, sizeof path, "%s/tests/%s/%s", test_env("NEWSROOM_SOURCE_DIR"), dir, rel);
    text = test_read_file(path);
    if (text == NULL)
        fail_msg("cannot read %s", path);
    *len = strlen(text);
    return text;
}

/* The status object of source from feed_store_list (new reference). */
static json_t *status_of(struct rlink *l, const char *source)
{
    char *cause = NULL;
    json_t *all = feed_store_list(l, &cause), *v, *found = NULL;
    size_t i;

    if (all == NULL)
        fail_msg("feed_store_list: %s", cause);
    json_array_foreach(all, i, v) if (strcmp(json_string_value(json_object_get(v, "source")),
                                             source) == 0) found = json_incref(v);
    json_decref(all);
    if (found == NULL)
        fail_msg("no status for %s", source);
    return found;
}

static const char *st_str(const json_t *st, const char *key)
{
    return json_string_value(json_object_get(st, key));
}

static json_int_t st_int(const json_t *st, const char *key)
{
    return json_integer_value(json_object_get(st, key));
}

/* ---- the pool ---- */

/* What one job gave: its items (in order) and its done. */
struct outcome {
    struct feed_event *items[64];
    size_t nitems;
    struct feed_event *done;
};

static void outcome_clear(struct outcome *o)
{
    for (size_t i = 0; i < o->nitems; i++)
        feed_event_free(o->items[i]);
    feed_event_free(o->done);
    memset(o, 0, sizeof *o);
}

/* Runs job on p for owner and gathers its events until its done, within secs. */
static void run_job(struct feed_pool *p, uintptr_t owner, const struct feed_job *job, int secs,
                    struct outcome *o)
{
    int64_t end = clock_mono_ms() + secs * 1000;

    memset(o, 0, sizeof *o);
    feed_pool_submit(p, owner, job);
    while (o->done == NULL) {
        struct feed_event *ev;

        if (clock_mono_ms() > end)
            fail_msg("%s: no done within %d s", job->source, secs);
        ev = feed_pool_wait(p, owner, 200);
        if (ev == NULL)
            continue;
        if (ev->kind == FEED_EVENT_DONE)
            o->done = ev;
        else if (o->nitems < 64)
            o->items[o->nitems++] = ev;
        else
            feed_event_free(ev);
    }
}

static struct feed_pool *pool_new(int interval_ms, int conns)
{
    struct feed_pool_options po = {.host_connections = conns,
                                   .page_interval_ms = interval_ms,
                                   .robots_ttl_s = 3600,
                                   .fulltext_min_words = 120};

    return feed_pool_new(&po);
}

static void test_conditional_get(void **state)
{
    struct fake_feed *f = fake_feed_start();
    struct rlink *l = fresh_link();
    struct feed_pool *p = pool_new(0, 2);
    struct feed_poll poll = {.interval_ms = 60000, .backoff_max_ms = 600000, .by = "test"};
    char *url = fmt("%s/feed.xml", fake_feed_base(f)), *cause = NULL, *etag, *lm;
    struct feed_job job = {.source = url, .fetch = opts};
    struct outcome o;
    size_t len;
    char *body = corpus("feeds", "rss2.xml", &len);
    json_t *st;

    (void)state;
    fake_feed_set(f, body, len, "\"v1\"", "Tue, 10 Jun 2003 04:00:00 GMT");
    /* First poll: the whole feed and its validators. */
    assert_int_equal(feed_store_validators(l, url, &etag, &lm, &cause), 0);
    assert_null(etag);
    run_job(p, 1, &job, 10, &o);
    assert_string_equal(o.done->outcome, "ok");
    assert_int_equal(o.nitems, 3);
    assert_int_equal(o.done->items, 3);
    assert_string_equal(o.done->etag, "\"v1\"");
    assert_string_equal(o.done->last_modified, "Tue, 10 Jun 2003 04:00:00 GMT");
    assert_string_equal(o.items[0]->entry.item->title, "Harbour bridge reopens after repairs");
    poll.outcome = "ok";
    poll.items = o.done->items;
    poll.title = o.done->title;
    poll.etag = o.done->etag;
    poll.last_modified = o.done->last_modified;
    assert_int_equal(feed_store_done(l, url, &poll, &cause), 0);
    outcome_clear(&o);

    /* Second poll: the kept ETag gets a 304 and no item. */
    assert_int_equal(feed_store_validators(l, url, &etag, &lm, &cause), 0);
    assert_string_equal(etag, "\"v1\"");
    job.etag = etag;
    job.last_modified = lm;
    run_job(p, 1, &job, 10, &o);
    assert_string_equal(o.done->outcome, "not_modified");
    assert_int_equal(o.nitems, 0);
    outcome_clear(&o);
    free(etag);
    free(lm);
    assert_int_equal(fake_feed_requests(f), 2);
    assert_int_equal(fake_feed_not_modified(f), 1);

    /* A server without ETags: If-Modified-Since alone. */
    fake_feed_set(f, body, len, NULL, "Wed, 11 Jun 2003 04:00:00 GMT");
    job.etag = job.last_modified = NULL;
    run_job(p, 1, &job, 10, &o);
    assert_null(o.done->etag);
    assert_string_equal(o.done->last_modified, "Wed, 11 Jun 2003 04:00:00 GMT");
    outcome_clear(&o);
    job.last_modified = "Wed, 11 Jun 2003 04:00:00 GMT";
    run_job(p, 1, &job, 10, &o);
    assert_string_equal(o.done->outcome, "not_modified");
    outcome_clear(&o);
    assert_int_equal(fake_feed_not_modified(f), 2);

    st = status_of(l, url);
    assert_string_equal(st_str(st, "status"), "ok");
    assert_int_equal(st_int(st, "items"), 3);
    assert_int_equal(st_int(st, "files"), -1);
    assert_string_equal(st_str(st, "title"), "Example & Daily");
    json_decref(st);
    feed_pool_free(p);
    free(body);
    free(url);
    rlink_free(l);
    fake_feed_stop(f);
}

/* One job's done outcome must be an error naming needle. */
static void expect_error(struct feed_pool *p, const char *url, const char *needle)
{
    struct feed_job job = {.source = url, .fetch = opts};
    struct outcome o;

    run_job(p, 7, &job, 20, &o);
    assert_string_equal(o.done->outcome, "error");
    assert_int_equal(o.nitems, 0);
    if (strstr(o.done->error, needle) == NULL)
        fail_msg("%s: \"%s\" lacks \"%s\"", url, o.done->error, needle);
    outcome_clear(&o);
}

static void test_limits(void **state)
{
    struct fake_feed *f = fake_feed_start();
    struct feed_pool *p = pool_new(0, 2);
    char *url;
    size_t len;
    char *body = corpus("feeds", "atom.xml", &len);
    struct feed_job job = {.fetch = opts};
    struct outcome o;
    long long sent;

    (void)state;
    /* Declared length: refused before the body is read. */
    url = fmt("%s/big", fake_feed_base(f));
    expect_error(p, url, "larger than the 10485760 byte limit");
    free(url);
    /* No declared length: stopped as soon as the limit is passed. */
    url = fmt("%s/big-chunked", fake_feed_base(f));
    expect_error(p, url, "larger than");
    free(url);
    sent = fake_feed_big_sent(f);
    /* What the server handed over for both (socket buffers included) is far from 100 MB. */
    assert_true(sent < 40LL * 1024 * 1024);
    /* Redirects: followed within the bound, refused past it. */
    fake_feed_set(f, body, len, NULL, NULL);
    job.source = url = fmt("%s/hop/3", fake_feed_base(f));
    run_job(p, 7, &job, 10, &o);
    assert_string_equal(o.done->outcome, "ok");
    assert_int_equal(o.nitems, 2);
    outcome_clear(&o);
    free(url);
    url = fmt("%s/hop/9", fake_feed_base(f));
    expect_error(p, url, "more than 5 redirects");
    free(url);
    url = fmt("%s/nothing-here", fake_feed_base(f));
    expect_error(p, url, "HTTP status 404");
    free(url);
    feed_pool_free(p);
    free(body);
    fake_feed_stop(f);
}

/* An RSS feed whose items link to pages on base. */
static char *page_feed(const char *base)
{
    return fmt("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Pages</title>"
               "<item><guid>p1</guid><title>Bridge</title><link>%s/news/bridge.html</link>"
               "<description>The bridge reopened.</description></item>"
               "<item><guid>p2</guid><title>Budget</title><link>%s/news/budget.html</link>"
               "<description>The budget passed.</description></item>"
               "<item><guid>p3</guid><title>Front</title><link>%s/news/front.html</link>"
               "<description>A section front.</description></item>"
               "<item><guid>p4</guid><title>Private</title><link>%s/private/memo.html</link>"
               "<description>Behind robots.txt.</description></item>"
               "<item><guid>p5</guid><title>PDF</title><link>%s/files/report.pdf</link>"
               "<description>Not a page.</description></item>"
               "<item><guid>p6</guid><title>Gone</title><link>%s/news/gone.html</link>"
               "<description>Deleted.</description></item>"
               "<item><guid>p7</guid><title>No link</title>"
               "<description>Nothing to fetch.</description></item>"
               "</channel></rss>",
               base, base, base, base, base, base);
}

static const struct feed_event *by_guid(const struct outcome *o, const char *guid)
{
    for (size_t i = 0; i < o->nitems; i++)
        if (o->items[i]->entry.guid != NULL && strcmp(o->items[i]->entry.guid, guid) == 0)
            return o->items[i];
    fail_msg("no item %s", guid);
    return NULL;
}

static void expect_kept(const struct outcome *o, const char *guid, const char *summary,
                        const char *needle)
{
    const struct feed_event *e = by_guid(o, guid);

    assert_int_equal(e->entry.text, FEED_TEXT_FEED);
    assert_string_equal(e->entry.item->content, summary);
    if (e->entry.fulltext == NULL || strstr(e->entry.fulltext, needle) == NULL)
        fail_msg("%s: fulltext \"%s\" lacks \"%s\"", guid,
                 e->entry.fulltext ? e->entry.fulltext : "(null)", needle);
}

static void test_fulltext(void **state)
{
    struct fake_feed *f = fake_feed_start();
    struct feed_pool *p = pool_new(150, 2);
    char *feed = page_feed(fake_feed_base(f)), *url = fmt("%s/feed.xml", fake_feed_base(f));
    size_t len, tlen;
    char *news = corpus("html", "article_news.html", &len);
    char *news_txt = corpus("html", "article_news.txt", &tlen);
    char *tables, *tables_txt, *front, *robots;
    struct feed_job job = {.source = url, .fetch = opts, .fulltext = true};
    struct outcome o;
    struct feed_pool_counts c;
    const struct feed_event *e;
    json_t *meta;
    int64_t t0;

    (void)state;
    fake_feed_route(f, "/news/bridge.html", 200, "text/html; charset=utf-8", news, len, 0);
    tables = corpus("html", "article_tables.html", &len);
    fake_feed_route(f, "/news/budget.html", 200, "text/html", tables, len, 0);
    front = corpus("html", "section_front.html", &len);
    fake_feed_route(f, "/news/front.html", 200, "text/html", front, len, 0);
    fake_feed_route(f, "/private/memo.html", 200, "text/html", news, strlen(news), 0);
    fake_feed_route(f, "/files/report.pdf", 200, "application/pdf", "%PDF-1.4", 8, 0);
    robots = corpus("html", "robots.txt", &len);
    fake_feed_route(f, "/robots.txt", 200, "text/plain", robots, len, 0);
    fake_feed_set(f, feed, strlen(feed), NULL, NULL);
    t0 = clock_mono_ms();
    run_job(p, 3, &job, 30, &o);
    assert_string_equal(o.done->outcome, "ok");
    assert_int_equal(o.nitems, 7);
    assert_int_equal(o.done->fulltext_tried, 6);
    assert_int_equal(o.done->fulltext_used, 2);

    /* The article, exactly: its paragraphs and nothing else. */
    while (tlen > 0 && news_txt[tlen - 1] == '\n')
        news_txt[--tlen] = '\0';
    e = by_guid(&o, "p1");
    assert_int_equal(e->entry.text, FEED_TEXT_FULL);
    assert_string_equal(e->entry.fulltext, "extracted");
    assert_string_equal(e->entry.item->content, news_txt);
    meta = feed_entry_meta(&e->entry);
    assert_string_equal(json_string_value(json_object_get(meta, "text")), "full");
    assert_string_equal(json_string_value(json_object_get(meta, "fulltext")), "extracted");
    assert_string_equal(json_string_value(json_object_get(meta, "guid")), "p1");
    /* The page's own pictures join the entry's: og:image resolved against the page, then
     * twitter:image. */
    assert_int_equal(e->entry.images.n, 2);
    {
        char *lead = fmt("%s/media/bridge-lead.jpg", fake_feed_base(f));

        assert_string_equal(e->entry.images.v[0].url, lead);
        free(lead);
    }
    assert_int_equal(e->entry.images.v[0].kind, FEED_IMAGE_OG);
    assert_int_equal(e->entry.images.v[0].width, 1200);
    assert_string_equal(e->entry.images.v[1].url, "https://cdn.example.net/cards/bridge.png");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(meta, "images"), 1), "kind")),
                        "twitter:image");
    json_decref(meta);
    tables_txt = corpus("html", "article_tables.txt", &tlen);
    while (tlen > 0 && tables_txt[tlen - 1] == '\n')
        tables_txt[--tlen] = '\0';
    e = by_guid(&o, "p2");
    assert_int_equal(e->entry.text, FEED_TEXT_FULL);
    assert_string_equal(e->entry.item->content, tables_txt);
    /* Failures keep the feed's text and say why. */
    expect_kept(&o, "p3", "A section front.", "no paragraph");
    expect_kept(&o, "p4", "Behind robots.txt.", "robots.txt of");
    expect_kept(&o, "p5", "Not a page.", "not an HTML page (Content-Type: application/pdf)");
    expect_kept(&o, "p6", "Deleted.", "HTTP status 404");
    e = by_guid(&o, "p7");
    assert_string_equal(e->entry.fulltext, "no http(s) link to fetch the article from");
    /* robots.txt asked once for the host; the disallowed page never asked for. */
    assert_int_equal(fake_feed_hits(f, "/robots.txt"), 1);
    assert_int_equal(fake_feed_hits(f, "/private/memo.html"), 0);
    feed_pool_counts(p, &c);
    assert_int_equal(c.robots, 1);
    assert_int_equal(c.robots_denied, 1);
    assert_int_equal(c.pages, 5);
    /* robots.txt, then 150 ms later the first page, then four more pages spaced by the
     * host's Crawl-delay (200 ms, over the 150 ms interval): at least 950 ms (a lower bound,
     * which a slow machine only makes longer). */
    assert_true(clock_mono_ms() - t0 >= 950);
    outcome_clear(&o);

    /* Long enough already: nothing fetched. */
    {
        char *longfeed = fmt("<rss version=\"2.0\"><channel><item><guid>l1</guid><title>L</title>"
                             "<link>%s/news/bridge.html</link><description>%s</description>"
                             "</item></channel></rss>",
                             fake_feed_base(f), news_txt);
        struct feed_job lj = {.source = "http://unused.invalid/long.xml",
                              .fetch = opts,
                              .fulltext = true,
                              .data = longfeed,
                              .len = strlen(longfeed)};

        run_job(p, 3, &lj, 10, &o);
        assert_int_equal(o.nitems, 1);
        assert_int_equal(o.items[0]->entry.text, FEED_TEXT_FEED);
        assert_null(o.items[0]->entry.fulltext);
        assert_int_equal(o.done->fulltext_tried, 0);
        outcome_clear(&o);
        free(longfeed);
    }
    feed_pool_counts(p, &c);
    assert_int_equal(c.pages, 5);
    feed_pool_free(p);
    free(feed);
    free(url);
    free(news);
    free(news_txt);
    free(tables);
    free(tables_txt);
    free(front);
    free(robots);
    fake_feed_stop(f);
}

/* A port on 127.0.0.1 nothing listens on. */
static unsigned dead_port(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

/* The breaker hook of the test: refuses one origin, counts every report. */
struct stand_in {
    char refused[64];
    int ok, failed;
};

static bool stand_in_allow(void *ctx, const char *origin, char **why)
{
    struct stand_in *b = ctx;

    if (strcmp(origin, b->refused) == 0) {
        *why = strdup("circuit open (test)");
        return false;
    }
    return true;
}

static void stand_in_report(void *ctx, const char *origin, bool ok, const char *why)
{
    struct stand_in *b = ctx;

    (void)origin;
    (void)why;
    if (ok)
        b->ok++;
    else
        b->failed++;
}

static void test_hosts(void **state)
{
    struct fake_feed *slow = fake_feed_start(), *fast = fake_feed_start(),
                     *refused = fake_feed_start();
    struct stand_in br = {0};
    struct feed_pool_options po = {.host_connections = 2,
                                   .page_interval_ms = 0,
                                   .robots_ttl_s = 60,
                                   .fulltext_min_words = 120,
                                   .host_allow = stand_in_allow,
                                   .host_report = stand_in_report,
                                   .host_ctx = &br};
    struct feed_pool *p;
    size_t len;
    char *body = corpus("feeds", "rss2.xml", &len), *url, *urls[6];
    struct outcome o;
    int done = 0;
    int64_t t0;

    (void)state;
    snprintf(br.refused, sizeof br.refused, "%s", fake_feed_base(refused));
    p = feed_pool_new(&po);
    /* Six feeds on a host that hangs, one on a fast host: the fast one is not held up, and
     * the slow host never sees more than two requests at once. */
    for (int i = 0; i < 6; i++) {
        char path[32];
        struct feed_job job = {.fetch = {30000, opts.max_bytes, 5}};

        snprintf(path, sizeof path, "/slow/%d.xml", i);
        fake_feed_route(slow, path, 200, "application/rss+xml", body, len, -1);
        job.source = urls[i] = fmt("%s%s", fake_feed_base(slow), path);
        feed_pool_submit(p, 5, &job);
    }
    AWAIT(10, fake_feed_active(slow) == 2);
    fake_feed_set(fast, body, len, NULL, NULL);
    url = fmt("%s/feed.xml", fake_feed_base(fast));
    t0 = clock_mono_ms();
    {
        struct feed_job job = {.source = url, .fetch = opts};

        run_job(p, 6, &job, 10, &o);
    }
    assert_string_equal(o.done->outcome, "ok");
    assert_int_equal(o.nitems, 3);
    outcome_clear(&o);
    print_message("fast host's feed while the slow host hangs: %lld ms\n",
                  (long long)(clock_mono_ms() - t0));
    assert_int_equal(fake_feed_active(slow), 2);
    assert_int_equal(fake_feed_max_active(slow), 2);
    free(url);
    /* Failing hosts: nothing listening, a server error; the breaker refuses one outright. */
    url = fmt("http://127.0.0.1:%u/feed.xml", dead_port());
    expect_error(p, url, "onnect");
    free(url);
    fake_feed_route(fast, "/500.xml", 500, "text/plain", "oops", 4, 0);
    url = fmt("%s/500.xml", fake_feed_base(fast));
    expect_error(p, url, "HTTP status 500");
    free(url);
    /* A 404 is an answer, not the host's fault: the breaker hears a success. */
    url = fmt("%s/gone.xml", fake_feed_base(fast));
    expect_error(p, url, "HTTP status 404");
    free(url);
    url = fmt("%s/feed.xml", fake_feed_base(refused));
    expect_error(p, url, "refused: circuit open (test)");
    free(url);
    assert_int_equal(fake_feed_requests(refused), 0);
    /* An article on the refused host: not fetched (robots.txt neither), the summary kept with
     * the breaker's reason. */
    {
        char *links = fmt("<rss version=\"2.0\"><channel><item><guid>r1</guid><title>R</title>"
                          "<link>%s/story.html</link><description>Short.</description></item>"
                          "</channel></rss>",
                          fake_feed_base(refused));
        struct feed_job job = {.source = "http://unused.invalid/links.xml",
                               .fetch = opts,
                               .fulltext = true,
                               .data = links,
                               .len = strlen(links)};

        run_job(p, 6, &job, 10, &o);
        assert_int_equal(o.nitems, 1);
        assert_string_equal(o.items[0]->entry.item->content, "Short.");
        assert_non_null(strstr(o.items[0]->entry.fulltext, "refused: circuit open (test)"));
        outcome_clear(&o);
        free(links);
    }
    assert_int_equal(fake_feed_requests(refused), 0);
    /* Released (and answering at once from now on), the slow host's feeds all arrive, never
     * more than two at a time. */
    for (int i = 0; i < 6; i++)
        fake_feed_route(slow, urls[i] + strlen(fake_feed_base(slow)), 200, "application/rss+xml",
                        body, len, 0);
    fake_feed_release(slow);
    while (done < 6) {
        struct feed_event *ev = feed_pool_wait(p, 5, 10000);

        if (ev == NULL)
            fail_msg("slow feeds: %d of 6 done", done);
        if (ev->kind == FEED_EVENT_DONE) {
            assert_string_equal(ev->outcome, "ok");
            done++;
        }
        feed_event_free(ev);
    }
    assert_int_equal(fake_feed_max_active(slow), 2);
    /* Reports: the fast feed, the 404, the six slow ones; only the dead port and the 500 are
     * the hosts' fault. */
    assert_int_equal(br.ok, 8);
    assert_int_equal(br.failed, 2);
    for (int i = 0; i < 6; i++)
        free(urls[i]);
    feed_pool_free(p);
    free(body);
    fake_feed_stop(slow);
    fake_feed_stop(fast);
    fake_feed_stop(refused);
}

/* Runs job on p: whether it ended "ok" (a refusal by an open breaker ends "error"). */
static bool fetched_ok(struct feed_pool *p, const struct feed_job *job)
{
    struct outcome o;
    bool ok;

    run_job(p, 9, job, 10, &o);
    ok = strcmp(o.done->outcome, "ok") == 0;
    outcome_clear(&o);
    return ok;
}

/* The real per-host breaker, as feed_pool_options_from_config() wires it: a host answering
 * 500 opens its breaker after the policy's failures, then is refused without a request until
 * the cool-down, when one trial goes through; a success closes it. Another host is untouched. */
static void test_host_breaker(void **state)
{
    struct fake_feed *bad = fake_feed_start(), *good = fake_feed_start();
    struct breaker_policy bp = {.failures = 3,
                                .window_ms = 60000,
                                .cooldown_ms = 400,
                                .trials = 1,
                                .successes = 1,
                                .refresh_ms = 100};
    struct feed_pool_options po;
    struct feed_pool *p;
    struct config *cfg;
    struct pricing *pricing;
    size_t len;
    char *body = corpus("feeds", "rss2.xml", &len);
    char *bad_url = fmt("%s/feed.xml", fake_feed_base(bad));
    char *good_url = fmt("%s/feed.xml", fake_feed_base(good));
    struct feed_job job = {.source = good_url, .fetch = opts};
    struct outcome o;

    (void)state;
    breaker_set_local_policy(&bp);
    swarmenv_models(true, &cfg, &pricing);
    feed_pool_options_from_config(&po, cfg);
    p = feed_pool_new(&po);
    fake_feed_route(bad, "/feed.xml", 500, "text/plain", "down", 4, 0);
    fake_feed_set(good, body, len, NULL, NULL);
    for (int i = 0; i < 3; i++)
        expect_error(p, bad_url, "HTTP status 500");
    assert_int_equal(fake_feed_hits(bad, "/feed.xml"), 3);
    assert_int_equal(breaker_state_of(breaker_for("feed", fake_feed_base(bad))), BREAKER_OPEN);
    /* Open: refused at once, nothing sent. */
    expect_error(p, bad_url, "is open");
    assert_int_equal(fake_feed_hits(bad, "/feed.xml"), 3);
    /* The other host is not held back. */
    run_job(p, 8, &job, 10, &o);
    assert_string_equal(o.done->outcome, "ok");
    outcome_clear(&o);
    /* After the cool-down one trial goes through; the host has recovered, so it closes. */
    fake_feed_set(bad, body, len, NULL, NULL);
    fake_feed_route(bad, "/feed.xml", 200, "application/rss+xml", body, len, 0);
    job.source = bad_url;
    AWAIT(10, fetched_ok(p, &job));
    assert_int_equal(fake_feed_hits(bad, "/feed.xml"), 4);
    assert_int_equal(breaker_state_of(breaker_for("feed", fake_feed_base(bad))), BREAKER_CLOSED);
    feed_pool_free(p);
    breaker_policy_from_config(&bp, cfg);
    breaker_set_local_policy(&bp);
    free(body);
    free(bad_url);
    free(good_url);
    config_free(cfg);
    pricing_free(pricing);
    fake_feed_stop(bad);
    fake_feed_stop(good);
}

static void test_cancel(void **state)
{
    struct fake_feed *f = fake_feed_start();
    struct feed_pool *p = pool_new(0, 4);
    struct feed_job job = {.fetch = {60000, opts.max_bytes, 5}};
    struct feed_event *ev;
    char *url;
    int64_t t0, cancel_ms, free_ms;

    (void)state;
    fake_feed_route(f, "/hang.xml", 200, "application/rss+xml",
                    "<rss><channel><item><title>T</title></item></channel></rss>", 59, -1);
    job.source = url = fmt("%s/hang.xml", fake_feed_base(f));
    feed_pool_submit(p, 9, &job);
    feed_pool_submit(p, 10, &job);
    AWAIT(10, fake_feed_active(f) == 2);
    /* A cancel drops the owner's fetch at once; the other owner's goes on. */
    t0 = clock_mono_ms();
    feed_pool_cancel(p, 9);
    cancel_ms = clock_mono_ms() - t0;
    fake_feed_release(f);
    for (int got = 0; got < 2;) {
        ev = feed_pool_wait(p, 10, 10000);
        if (ev == NULL)
            fail_msg("the fetch that was not cancelled never ended");
        got += ev->kind == FEED_EVENT_ITEM || ev->kind == FEED_EVENT_DONE;
        feed_event_free(ev);
    }
    assert_null(feed_pool_take(p, 9));
    /* Freeing the pool cuts a hanging fetch: no waiting for the 60 s timeout. */
    feed_pool_submit(p, 11, &job);
    AWAIT(10, fake_feed_hits(f, "/hang.xml") == 3 && fake_feed_active(f) == 1);
    t0 = clock_mono_ms();
    feed_pool_free(p);
    free_ms = clock_mono_ms() - t0;
    print_message("cancel with a fetch hanging: %lld ms; pool freed with one hanging in %lld ms\n",
                  (long long)cancel_ms, (long long)free_ms);
    assert_true(free_ms < 5000);
    free(url);
    fake_feed_stop(f);
}

/* ---- the schedule ---- */

static void test_schedule(void **state)
{
    struct rlink *a = fresh_link(), *b = test_shared_link(DB, "test_feeds_b");
    const char *sources[] = {"file:///nonexistent/one.xml", "file:///nonexistent/two.xml"};
    const char *folder[] = {"/srv/folder"};
    const char *files[] = {"/srv/folder/a.xml", "/srv/folder/b.xml"};
    struct feed_poll p = {.outcome = "error",
                          .error = "gone",
                          .interval_ms = 1000,
                          .backoff_max_ms = 3000,
                          .by = "test"};
    char **got = NULL, *cause = NULL, *first = NULL;
    int64_t now, since;
    json_t *st;
    int n;

    (void)state;
    /* Scout A claims the first due source; scout B cannot have it, only the other one. */
    n = feed_store_claim(a, sources, 2, 60000, 1, &got, &cause);
    assert_int_equal(n, 1);
    assert_string_equal(got[0], sources[0]);
    feed_store_strv_free(got, (size_t)n);
    n = feed_store_claim(b, sources, 2, 60000, 10, &got, &cause);
    assert_int_equal(n, 1);
    assert_string_equal(got[0], sources[1]);
    feed_store_strv_free(got, (size_t)n);
    n = feed_store_claim(a, sources, 2, 60000, 10, &got, &cause);
    assert_int_equal(n, 0);
    feed_store_strv_free(got, 0);

    /* An unfinished poll's claim is extended; a given-back one is due at once. */
    assert_int_equal(feed_store_now(a, &now, &cause), 0);
    assert_int_equal(feed_store_extend(a, sources, 1, 600000, &cause), 0);
    st = status_of(a, sources[0]);
    assert_true(st_int(st, "due_ms") >= now + 590000);
    json_decref(st);
    assert_int_equal(feed_store_release(b, sources[1], &cause), 0);
    n = feed_store_claim(a, sources, 2, 60000, 10, &got, &cause);
    assert_int_equal(n, 1);
    assert_string_equal(got[0], sources[1]);
    feed_store_strv_free(got, (size_t)n);

    /* Failures back off: 2x, 4x, then the ceiling. */
    for (int i = 1; i <= 3; i++) {
        json_int_t delay;

        assert_int_equal(feed_store_done(a, sources[0], &p, &cause), 0);
        st = status_of(a, sources[0]);
        delay = st_int(st, "next_ms") - st_int(st, "last_fetch_ms");
        assert_int_equal(st_int(st, "failures"), i);
        assert_int_equal(delay, i == 1 ? 2000 : 3000);
        assert_string_equal(st_str(st, "error"), "gone");
        json_decref(st);
    }
    p.outcome = "ok";
    assert_int_equal(feed_store_done(a, sources[0], &p, &cause), 0);
    st = status_of(a, sources[0]);
    assert_int_equal(st_int(st, "failures"), 0);
    assert_string_equal(st_str(st, "error"), "");
    json_decref(st);

    /* A folder's files are sources of their own, claimed after it; a file gone from the
     * folder leaves the schedule with its status. */
    assert_int_equal(feed_store_now(a, &since, &cause), 0);
    assert_int_equal(feed_store_unpolled(a, folder, 1, since, &first, &cause), 1);
    assert_string_equal(first, "/srv/folder");
    free(first);
    n = feed_store_claim(a, folder, 1, 60000, 10, &got, &cause);
    assert_int_equal(n, 1);
    feed_store_strv_free(got, (size_t)n);
    assert_int_equal(feed_store_members(a, folder[0], files, 2, &cause), 0);
    p.folder = true;
    p.files = 2;
    assert_int_equal(feed_store_done(a, folder[0], &p, &cause), 0);
    /* Polled, but its two files are due and not yet polled: --once would wait. */
    assert_int_equal(feed_store_unpolled(a, folder, 1, since, &first, &cause), 2);
    assert_true(strcmp(first, files[0]) == 0 || strcmp(first, files[1]) == 0);
    free(first);
    n = feed_store_claim(b, folder, 1, 60000, 10, &got, &cause);
    assert_int_equal(n, 2);
    assert_string_equal(got[0], files[0]);
    assert_string_equal(got[1], files[1]);
    feed_store_strv_free(got, (size_t)n);
    p.folder = false;
    assert_int_equal(feed_store_done(b, files[0], &p, &cause), 0);
    assert_int_equal(feed_store_done(b, files[1], &p, &cause), 0);
    assert_int_equal(feed_store_unpolled(a, folder, 1, since, NULL, &cause), 0);
    st = status_of(a, folder[0]);
    assert_int_equal(st_int(st, "files"), 2);
    json_decref(st);
    assert_int_equal(feed_store_members(a, folder[0], files, 1, &cause), 0);
    {
        redisReply *r = test_must(a, "ZSCORE nr:feed:due %s", files[1]);

        assert_int_equal(r->type, REDIS_REPLY_NIL);
        freeReplyObject(r);
        r = test_must(a, "EXISTS nr:feed:src:%s", files[1]);
        assert_int_equal(r->integer, 0);
        freeReplyObject(r);
    }
    rlink_free(a);
    rlink_free(b);
}

/* ---- scouts ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char *path = fmt("%s/%s", dir, name);

    test_write_file(path, text);
    free(path);
}

/* A scout swarm over file sources: a folder with good and broken feeds (each its own source),
 * and a file repeating a story of the folder's. */
static void test_scout_swarm(void **state)
{
    struct rlink *l = fresh_link();
    struct bb *bb = bb_new(l, "test");
    struct config *cfg;
    struct pricing *pricing;
    struct swarm_options o;
    struct swarm *s;
    struct swarm_totals t;
    const char *src = test_env("NEWSROOM_SOURCE_DIR");
    char *dir = test_tmpdir(), *folder = fmt("%s/wire", dir), *text, *good, *bad, *dup;
    size_t len;
    json_t *st;

    (void)state;
    assert_int_equal(mkdir(folder, 0700), 0);
    text = corpus("feeds", "rss2.xml", &len);
    write_file(folder, "rss2.xml", text);
    free(text);
    text = corpus("feeds", "atom.xml", &len);
    write_file(folder, "atom.xml", text);
    free(text);
    text = corpus("feeds", "broken/truncated.xml", &len);
    write_file(folder, "truncated.xml", text);
    free(text);
    write_file(folder, ".hidden.xml", "not read");
    swarmenv_models(true, &cfg, &pricing);
    free(cfg->feed_sources);
    cfg->feed_sources = fmt("%s, file://%s/tests/feeds/dup.xml", folder, src);
    cfg->feed_poll_interval_s = 1;
    swarmenv_options(&o, DB, cfg, pricing, "scout:2", 0, 1);
    s = swarmenv_start(&o);
    /* rss2 3 + atom 2 + dup 2 (one rss2's weather story again under another guid: another
     * outlet's copy, merged into it as a further source) = 6 new, 1 merged. */
    AWAIT(30, (swarm_totals(s, &t), t.written + t.duplicates + t.merged >= 7));
    good = fmt("%s/rss2.xml", folder);
    bad = fmt("%s/truncated.xml", folder);
    dup = fmt("file://%s/tests/feeds/dup.xml", src);
    /* Each of the folder's files is a source with its own status; the broken one fails
     * alone, and the folder itself is fine. */
    AWAIT(10, (st = status_of(l, bad), strcmp(st_str(st, "status"), "error") == 0
                                           ? (json_decref(st), 1)
                                           : (json_decref(st), 0)));
    st = status_of(l, folder);
    assert_string_equal(st_str(st, "status"), "ok");
    assert_int_equal(st_int(st, "files"), 3);
    json_decref(st);
    st = status_of(l, good);
    assert_string_equal(st_str(st, "status"), "ok");
    assert_int_equal(st_int(st, "items"), 3);
    assert_true(strncmp(st_str(st, "etag"), "file:", 5) == 0);
    json_decref(st);
    st = status_of(l, bad);
    assert_true(strstr(st_str(st, "error"), "not well-formed") != NULL);
    json_decref(st);
    /* One weather story in two feeds: whichever came second is merged (its source counts it
     * with the duplicates). */
    {
        json_t *st2 = status_of(l, good);

        st = status_of(l, dup);
        assert_int_equal(st_int(st, "duplicates") + st_int(st2, "duplicates"), 1);
        json_decref(st);
        json_decref(st2);
    }
    /* The next polls: an unchanged file is not read again; a changed one is, and its new item
     * is written. */
    text = corpus("feeds", "rss2.xml", &len);
    {
        char *more = strstr(text, "</channel>"), *changed;

        assert_non_null(more);
        *more = '\0';
        changed = fmt("%s<item><guid>new-1</guid><title>A new story</title><description>Fresh."
                      "</description></item></channel></rss>\n",
                      text);
        write_file(folder, "rss2.xml", changed);
        free(changed);
    }
    free(text);
    AWAIT(20, (swarm_totals(s, &t), t.written >= 7));
    {
        char *atom = fmt("%s/atom.xml", folder);

        AWAIT(20, (st = status_of(l, atom), strcmp(st_str(st, "status"), "not_modified") == 0
                                                ? (json_decref(st), 1)
                                                : (json_decref(st), 0)));
        free(atom);
    }
    swarm_stop(s);
    swarm_totals(s, &t);
    assert_int_equal(t.written, 7);
    assert_int_equal(t.merged, 1);
    /* The changed file read again: its three earlier items are the same identity with the same
     * content. */
    assert_int_equal(t.duplicates, 3);
    assert_int_equal(swarmenv_count(bb, BB_PENDING), 7);
    swarm_free(s);
    {
        /* What the feed record says on the story: where its text and date came from. */
        struct bb_item *it = NULL;
        char *cause = NULL;
        const json_t *feed;

        {
            redisReply *r = test_must(l, "ZRANGE nr:bb:st:PENDING 0 0%s", "");
            char *id = strdup(r->element[0]->str);

            freeReplyObject(r);
            assert_int_equal(bb_read(bb, id, &it, &cause), BB_OK);
            free(id);
        }
        feed = json_object_get(it->body, "feed");
        assert_true(json_is_object(feed));
        assert_non_null(json_string_value(json_object_get(feed, "date")));
        assert_string_equal(json_string_value(json_object_get(feed, "text")), "feed");
        bb_item_free(it);
    }
    free(good);
    free(bad);
    free(dup);
    test_rmrf(dir);
    free(dir);
    free(folder);
    bb_free(bb);
    config_free(cfg);
    pricing_free(pricing);
    rlink_free(l);
}

/* The oldest heartbeat age of the agents of role (ms), or -1 when one of them is missing or
 * dead; *paused counts those paused. */
static long heartbeat_age(struct rlink *l, const char *role, int want, int *paused)
{
    struct registry *reg = registry_new(l);
    struct registry_agent *agents = NULL;
    size_t n = 0;
    int64_t now = 0;
    char *cause = NULL;
    long oldest = 0;
    int seen = 0;

    *paused = 0;
    if (registry_list(reg, &agents, &n, &now, &cause) == -1)
        fail_msg("registry: %s", cause);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(agents[i].role, role) != 0)
            continue;
        if (agents[i].status == REGISTRY_DEAD)
            oldest = -1;
        else if (oldest >= 0 && now - agents[i].heartbeat_ms > oldest)
            oldest = (long)(now - agents[i].heartbeat_ms);
        *paused += agents[i].status == REGISTRY_PAUSED;
        seen++;
    }
    free(agents);
    registry_free(reg);
    return seen == want ? oldest : -1;
}

/* Scouts whose every fetch hangs: their heartbeat never lapses, a halt is obeyed within a
 * second, and the swarm stops without waiting for the fetches. */
static void test_scouts_never_block(void **state)
{
    struct fake_feed *f = fake_feed_start();
    struct rlink *l = fresh_link();
    struct config *cfg;
    struct pricing *pricing;
    struct swarm_options o;
    struct swarm *s;
    char *list = NULL, *cause = NULL;
    long worst = 0;
    int paused = 0;
    int64_t t0, halt_ms, stop_ms;
    struct control_halt lifted;

    (void)state;
    for (int i = 0; i < 6; i++) {
        char path[32], *u, *prev = list;

        snprintf(path, sizeof path, "/hang/%d.xml", i);
        fake_feed_route(f, path, 200, "application/rss+xml", "<rss/>", 6, -1);
        u = fmt("%s%s", fake_feed_base(f), path);
        list = fmt("%s%s%s", prev != NULL ? prev : "", prev != NULL ? ", " : "", u);
        free(prev);
        free(u);
    }
    swarmenv_models(true, &cfg, &pricing);
    free(cfg->feed_sources);
    cfg->feed_sources = list;
    cfg->feed_timeout_ms = 60000;
    swarmenv_options(&o, DB, cfg, pricing, "scout:2", 0, 1);
    o.heartbeat_ttl_ms = 1500;
    s = swarmenv_start(&o);
    /* Two fetches hang: the host's two connections. */
    AWAIT(10, fake_feed_active(f) == 2);
    AWAIT(10, heartbeat_age(l, "scout", 2, &paused) >= 0);
    /* Three seconds of hanging fetches: no heartbeat older than its lifetime. */
    t0 = clock_mono_ms();
    while (clock_mono_ms() - t0 < 3000) {
        long age = heartbeat_age(l, "scout", 2, &paused);

        if (age < 0)
            fail_msg("a scout's heartbeat lapsed while its fetches hang");
        if (age > worst)
            worst = age;
        clock_sleep_ms(50, NULL);
    }
    assert_true(worst < o.heartbeat_ttl_ms);
    assert_int_equal(fake_feed_active(f), 2);
    /* A halt: both scouts paused within a second. */
    t0 = clock_mono_ms();
    if (control_emergency(l, "test halt", true, NULL, NULL, &cause) == -1)
        fail_msg("halt: %s", cause);
    while (heartbeat_age(l, "scout", 2, &paused) >= 0 && paused < 2 && clock_mono_ms() - t0 < 5000)
        clock_sleep_ms(10, NULL);
    halt_ms = clock_mono_ms() - t0;
    assert_int_equal(paused, 2);
    assert_true(halt_ms <= 1000);
    assert_int_equal(control_resume(l, "test", &lifted, NULL, &cause), 0);
    control_halt_clear(&lifted);
    /* Stopping does not wait for the 60 s fetches. */
    t0 = clock_mono_ms();
    swarm_stop(s);
    stop_ms = clock_mono_ms() - t0;
    print_message("hanging fetches: oldest scout heartbeat %ld ms (lifetime %d ms), halt obeyed "
                  "in %lld ms, swarm stopped in %lld ms\n",
                  worst, o.heartbeat_ttl_ms, (long long)halt_ms, (long long)stop_ms);
    assert_true(stop_ms < 10000);
    swarm_free(s);
    config_free(cfg);
    pricing_free(pricing);
    rlink_free(l);
    fake_feed_stop(f);
}

/* A scout stopped while an article fetch hangs: the items written stay, the validators are not
 * saved, the claim is given back, and the next swarm writes what was missing. */
static void test_no_item_lost(void **state)
{
    struct fake_feed *f = fake_feed_start();
    struct rlink *l = fresh_link();
    struct bb *bb = bb_new(l, "test");
    struct config *cfg;
    struct pricing *pricing;
    struct swarm_options o;
    struct swarm *s;
    struct swarm_totals t;
    size_t len;
    /* Two different articles: the same page behind both links would be one story told twice,
     * and the vector memory would merge the second into the first. */
    size_t len_b;
    char *news = corpus("html", "article_news.html", &len), *feed, *url;
    char *other = corpus("html", "article_tables.html", &len_b);
    char *etag = NULL, *lm = NULL, *cause = NULL;
    json_t *st;
    struct bb_item *it = NULL;
    const char *base = fake_feed_base(f);

    (void)state;
    feed = fmt("<rss version=\"2.0\"><channel><title>Lost</title>"
               "<item><guid>n1</guid><title>Long one</title><description>%s</description></item>"
               "<item><guid>n2</guid><title>Short a</title><link>%s/pages/a.html</link>"
               "<description>Summary a.</description></item>"
               "<item><guid>n3</guid><title>Short b</title><link>%s/pages/b.html</link>"
               "<description>Summary b.</description></item>"
               "</channel></rss>",
               "Word word word word word word word word word word word word word word word word "
               "word word word word word word word word word word word word word word word word "
               "word word word word word word word word word word word word word word word word "
               "word word word word word word word word word word word word word word word word "
               "word word word word word word word word word word word word word word word word "
               "word word word word word word word word word word word word word word word word "
               "word word word word word word word word word word word word word word word word "
               "word word word word word word word word word word word word word word word word.",
               base, base);
    fake_feed_set(f, feed, strlen(feed), "\"lost-v1\"", NULL);
    fake_feed_route(f, "/robots.txt", 404, "text/plain", "", 0, 0);
    fake_feed_route(f, "/pages/a.html", 200, "text/html", news, len, -1);
    fake_feed_route(f, "/pages/b.html", 200, "text/html", other, len_b, 0);
    url = fmt("%s/feed.xml", base);
    swarmenv_models(true, &cfg, &pricing);
    free(cfg->feed_sources);
    cfg->feed_sources = strdup(url);
    free(cfg->feed_fulltext);
    cfg->feed_fulltext = strdup("*");
    cfg->feed_fulltext_host_interval_ms = 0;
    swarmenv_options(&o, DB, cfg, pricing, "scout:1", 0, 1);
    s = swarmenv_start(&o);
    /* The long item and b are written; a's page hangs. */
    AWAIT(20, (swarm_totals(s, &t), t.written >= 2));
    AWAIT(10, fake_feed_active(f) == 1);
    swarm_stop(s);
    swarm_totals(s, &t);
    swarm_free(s);
    assert_int_equal(t.written, 2);
    /* No validator saved, no poll recorded, the source due again. */
    assert_int_equal(feed_store_validators(l, url, &etag, &lm, &cause), 0);
    assert_null(etag);
    assert_null(lm);
    st = status_of(l, url);
    assert_int_equal(st_int(st, "last_fetch_ms"), 0);
    assert_true(st_int(st, "due_ms") == 0);
    json_decref(st);
    /* The next swarm, with the page answering: everything, and now the validators. */
    fake_feed_route(f, "/pages/a.html", 200, "text/html", news, len, 0);
    fake_feed_release(f);
    s = swarmenv_start(&o);
    AWAIT(20, (swarm_totals(s, &t), t.written >= 1));
    AWAIT(10, (feed_store_validators(l, url, &etag, &lm, &cause), etag != NULL));
    swarm_stop(s);
    swarm_free(s);
    assert_string_equal(etag, "\"lost-v1\"");
    free(etag);
    free(lm);
    assert_int_equal(swarmenv_count(bb, BB_PENDING), 3);
    {
        redisReply *r = test_must(l, "ZRANGE nr:bb:st:PENDING 0 -1%s", "");
        int full = 0;

        for (size_t i = 0; i < r->elements; i++) {
            const json_t *feedm;

            assert_int_equal(bb_read(bb, r->element[i]->str, &it, &cause), BB_OK);
            feedm = json_object_get(it->body, "feed");
            full += strcmp(json_string_value(json_object_get(feedm, "text")), "full") == 0;
            bb_item_free(it);
        }
        freeReplyObject(r);
        assert_int_equal(full, 2);
    }
    st = status_of(l, url);
    assert_string_equal(st_str(st, "status"), "ok");
    json_decref(st);
    free(feed);
    free(url);
    free(news);
    free(other);
    bb_free(bb);
    config_free(cfg);
    pricing_free(pricing);
    rlink_free(l);
    fake_feed_stop(f);
}

/* ---- ctl ingest with bounded memory ---- */

/* Runs `newsroom ctl ingest -` under peak_rss (tests/support/peak_rss.c: it forks the binary
 * itself, so the peak is the binary's own, not this test's image copied by fork) feeding it
 * what gen writes (total bytes); returns its exit status and peak resident memory (KiB) and
 * keeps its stdout in out. */
static int ingest_child(const char *dir, void (*gen)(int fd, long long total), long long total,
                        long *peak_kb, char **out)
{
    int in[2];
    char *url = fmt("%s", test_shared_url()), *slash, *outpath = fmt("%s/ingest.out", dir);
    char *errpath = fmt("%s/ingest.err", dir), *err, *mark;
    pid_t pid;
    int status;

    slash = strrchr(url, '/');
    assert_non_null(slash);
    *slash = '\0';
    assert_int_equal(pipe(in), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *redis = fmt("%s/%d", url, DB_INGEST);
        int fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(in[0], STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(efd, STDERR_FILENO);
        close(in[0]);
        close(in[1]);
        setenv("REDIS_URL", redis, 1);
        setenv("NEWSROOM_DATA_DIR", dir, 1);
        unsetenv("NEWSROOM_CONFIG");
        execl(test_env("NEWSROOM_PEAK_RSS"), "peak_rss", test_env("NEWSROOM_BINARY"), "ctl",
              "ingest", "-", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    signal(SIGPIPE, SIG_IGN);
    gen(in[1], total);
    close(in[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    *out = test_read_file(outpath);
    err = test_read_file(errpath);
    mark = err != NULL ? strstr(err, "peak_rss_kb ") : NULL;
    if (mark == NULL)
        fail_msg("no peak from peak_rss: %s", err != NULL ? err : "(no stderr)");
    *peak_kb = strtol(mark + 12, NULL, 10);
    free(err);
    free(errpath);
    free(outpath);
    free(url);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);

        if (w <= 0)
            return; /* the reader went away: it says why in its output */
        buf += w;
        n -= (size_t)w;
    }
}

static void write_str(int fd, const char *s)
{
    write_all(fd, s, strlen(s));
}

/* One good line, a line of total bytes, one good line. */
static void gen_long_line(int fd, long long total)
{
    static char chunk[64 * 1024];
    const char *head = "{\"title\": \"huge\", \"source\": \"x\", \"content\": \"";

    memset(chunk, 'x', sizeof chunk);
    write_str(fd,
              "{\"id\": \"m1\", \"title\": \"Before\", \"content\": \"c\", \"source\": \"s\"}\n");
    write_all(fd, head, strlen(head));
    for (long long done = 0; done < total; done += (long long)sizeof chunk)
        write_all(fd, chunk, sizeof chunk);
    write_all(fd, "\"}\n", 3);
    write_str(fd,
              "{\"id\": \"m2\", \"title\": \"After\", \"content\": \"c\", \"source\": \"s\"}\n");
}

/* total bytes and no newline at all. */
static void gen_no_newline(int fd, long long total)
{
    static char chunk[64 * 1024];

    memset(chunk, '{', sizeof chunk);
    for (long long done = 0; done < total; done += (long long)sizeof chunk)
        write_all(fd, chunk, sizeof chunk);
}

static void gen_small(int fd, long long total)
{
    (void)total;
    write_str(fd,
              "{\"id\": \"s1\", \"title\": \"Small\", \"content\": \"c\", \"source\": \"s\"}\n");
}

static void test_ingest_memory(void **state)
{
    struct rlink *l = test_shared_link(DB_INGEST, "test_feeds_ingest");
    char *dir = test_tmpdir(), *out = NULL;
    long base_kb, long_kb, none_kb;
    int code;

    (void)state;
    freeReplyObject(test_must(l, "FLUSHDB%s", ""));
    code = ingest_child(dir, gen_small, 0, &base_kb, &out);
    assert_int_equal(code, 0);
    free(out);
    /* A 200 MB line between two good ones: refused with its number, the others written. */
    code = ingest_child(dir, gen_long_line, 200LL * 1024 * 1024, &long_kb, &out);
    assert_int_equal(code, 1);
    if (strstr(out, "line 2: longer than the 4194304 byte limit") == NULL ||
        strstr(out, "accepted 2, updated 0, merged 0, duplicate 0, invalid 1") == NULL)
        fail_msg("200 MB line: %s", out);
    free(out);
    /* 150 MB without a newline: one line, refused. */
    code = ingest_child(dir, gen_no_newline, 150LL * 1024 * 1024, &none_kb, &out);
    assert_int_equal(code, 1);
    if (strstr(out, "line 1: longer than") == NULL)
        fail_msg("150 MB, no newline: %s", out);
    free(out);
    print_message("ctl ingest peak RSS: %ld KiB for one small line, %ld KiB for a 200 MB "
                  "line (+%ld), %ld KiB for 150 MB without a newline (+%ld)\n",
                  base_kb, long_kb, long_kb - base_kb, none_kb, none_kb - base_kb);
    /* Memory stays within a few MB of the small run's whatever the input: the 4 MB line
     * buffer and its growth, and what a sanitizer build keeps around it. */
    assert_true(base_kb > 0 && long_kb > 0 && none_kb > 0);
    assert_true(long_kb - base_kb < 24 * 1024);
    assert_true(none_kb - base_kb < 24 * 1024);
    test_rmrf(dir);
    free(dir);
    rlink_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conditional_get), cmocka_unit_test(test_limits),
        cmocka_unit_test(test_fulltext),        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_host_breaker),    cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_scout_swarm),     cmocka_unit_test(test_scouts_never_block),
        cmocka_unit_test(test_no_item_lost),    cmocka_unit_test(test_ingest_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

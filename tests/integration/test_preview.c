/*
 * test_preview.c - the preview server (src/media/preview.c) through a real HTTP client
 * (libcurl) against the shared test Redis (database 32): a package's video, thumbnail and
 * captions under a story's token, whole and by byte ranges (a span, an open end, a suffix, one
 * past the end refused with 416); HEAD; and everything that must be refused: a wrong token, a
 * malformed one, an expired one, another file name, a path with "..", a token whose folder is
 * outside the packages folder (directly or through a link), another method.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "media/preview.h"
#include "store/rlink.h"
#include "testenv.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB      32
#define VIDEO_N 10000

struct fx {
    char *dir, packages[512], story[600], outside[600];
    struct rlink *l;
    struct preview *p;
    int port;
    unsigned char video[VIDEO_N];
};

struct got {
    long code;
    char *body;
    size_t len;
    char range[128];
};

static size_t on_body(char *ptr, size_t size, size_t n, void *arg)
{
    struct got *g = arg;

    g->body = realloc(g->body, g->len + size * n + 1);
    memcpy(g->body + g->len, ptr, size * n);
    g->len += size * n;
    return size * n;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *arg)
{
    struct got *g = arg;

    if (strncasecmp(ptr, "Content-Range: ", 15) == 0) {
        snprintf(g->range, sizeof g->range, "%.*s", (int)(size * n - 15), ptr + 15);
        g->range[strcspn(g->range, "\r\n")] = '\0';
    }
    return size * n;
}

/* One request: path on the server, an optional Range value, a method ("GET", "HEAD", ...). */
static struct got get(struct fx *f, const char *path, const char *range, const char *method)
{
    struct got g = {0};
    char url[512];
    CURL *c = curl_easy_init();

    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", f->port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* ".." goes to the server as it is */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    if (range != NULL)
        curl_easy_setopt(c, CURLOPT_RANGE, range);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (curl_easy_perform(c) != CURLE_OK)
        fail_msg("request %s failed", url);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &g.code);
    curl_easy_cleanup(c);
    return g;
}

static void got_free(struct got *g)
{
    free(g->body);
}

/* A loopback port nothing listens on now. */
static int free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int s = socket(AF_INET, SOCK_STREAM, 0), port;

    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
    port = ntohs(sa.sin_port);
    close(s);
    return port;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char path[700], *cause = NULL;
    struct redis_addr a = {.transport = REDIS_UNIX, .db = DB, .db_set = true};
    struct rlink_options lo = {.connect_timeout_ms = 2000, .command_timeout_ms = 2000};

    f->dir = test_tmpdir();
    snprintf(f->packages, sizeof f->packages, "%s/packages", f->dir);
    snprintf(f->story, sizeof f->story, "%s/story-1", f->packages);
    snprintf(f->outside, sizeof f->outside, "%s/outside", f->dir);
    mkdir(f->packages, 0700);
    mkdir(f->story, 0700);
    mkdir(f->outside, 0700);
    for (size_t i = 0; i < VIDEO_N; i++)
        f->video[i] = (unsigned char)(i * 7 + 3);
    snprintf(path, sizeof path, "%s/video.mp4", f->story);
    write_bytes(path, f->video, VIDEO_N);
    snprintf(path, sizeof path, "%s/thumbnail.png", f->story);
    test_write_file(path, "PNG!");
    snprintf(path, sizeof path, "%s/captions.srt", f->story);
    test_write_file(path, "1\n00:00:00,000 --> 00:00:01,000\nHello\n");
    snprintf(path, sizeof path, "%s/secret.txt", f->story);
    test_write_file(path, "not a package file");
    snprintf(path, sizeof path, "%s/video.mp4", f->outside);
    test_write_file(path, "outside the packages folder");
    /* A folder inside the packages folder that is a link to one outside it. */
    snprintf(path, sizeof path, "%s/evil", f->packages);
    assert_int_equal(symlink(f->outside, path), 0);
    f->l = test_shared_link(DB, "test_preview");
    freeReplyObject(test_must(f->l, "FLUSHDB%s", ""));
    snprintf(a.path, sizeof a.path, "%s", test_env("NEWSROOM_TEST_REDIS_SOCKET"));
    snprintf(a.password, sizeof a.password, "%s", test_env("NEWSROOM_TEST_REDIS_PASSWORD"));
    f->port = free_port();
    f->p = preview_start(f->port, f->packages, &a, &lo, &cause);
    if (f->p == NULL)
        fail_msg("preview_start: %s", cause);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    preview_stop(f->p);
    rlink_free(f->l);
    test_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void test_serves_with_ranges(void **state)
{
    struct fx *f = *state;
    char token[PREVIEW_TOKEN_LEN + 1], again[PREVIEW_TOKEN_LEN + 1], path[256], url[256];
    char *cause = NULL;
    struct got g;

    assert_int_equal(preview_token(f->l, "story-1", f->story, 60, token, &cause), 0);
    assert_int_equal(strlen(token), PREVIEW_TOKEN_LEN);
    assert_int_equal(preview_token(f->l, "story-1", f->story, 60, again, &cause), 0);
    assert_string_equal(token, again); /* one token a story while it lasts */
    preview_url(f->port, token, "video.mp4", url, sizeof url);
    assert_non_null(strstr(url, "http://127.0.0.1:"));
    snprintf(path, sizeof path, "/p/%s/video.mp4", token);
    /* Whole. */
    g = get(f, path, NULL, "GET");
    assert_int_equal(g.code, 200);
    assert_int_equal(g.len, VIDEO_N);
    assert_memory_equal(g.body, f->video, VIDEO_N);
    got_free(&g);
    /* A span. */
    g = get(f, path, "100-199", "GET");
    assert_int_equal(g.code, 206);
    assert_string_equal(g.range, "bytes 100-199/10000");
    assert_int_equal(g.len, 100);
    assert_memory_equal(g.body, f->video + 100, 100);
    got_free(&g);
    /* An open end, and a suffix. */
    g = get(f, path, "9990-", "GET");
    assert_int_equal(g.code, 206);
    assert_string_equal(g.range, "bytes 9990-9999/10000");
    assert_memory_equal(g.body, f->video + 9990, 10);
    got_free(&g);
    g = get(f, path, "-50", "GET");
    assert_int_equal(g.code, 206);
    assert_int_equal(g.len, 50);
    assert_memory_equal(g.body, f->video + VIDEO_N - 50, 50);
    got_free(&g);
    /* Past the end. */
    g = get(f, path, "20000-", "GET");
    assert_int_equal(g.code, 416);
    assert_string_equal(g.range, "bytes */10000");
    got_free(&g);
    /* HEAD, the thumbnail and the captions. */
    g = get(f, path, NULL, "HEAD");
    assert_int_equal(g.code, 200);
    assert_int_equal(g.len, 0);
    got_free(&g);
    snprintf(path, sizeof path, "/p/%s/captions.srt", token);
    g = get(f, path, NULL, "GET");
    assert_int_equal(g.code, 200);
    assert_non_null(g.body);
    assert_non_null(strstr(g.body, "Hello"));
    got_free(&g);
    snprintf(path, sizeof path, "/p/%s/thumbnail.png", token);
    g = get(f, path, NULL, "GET");
    assert_int_equal(g.code, 200);
    got_free(&g);
}

static void test_refuses(void **state)
{
    struct fx *f = *state;
    char token[PREVIEW_TOKEN_LEN + 1], path[512], evil[600], *cause = NULL;
    struct got g;
    static const char *const bad_tails[] = {
        "secret.txt", "../story-1/video.mp4", "../../outside/video.mp4", "video.mp4/", "",
    };

    assert_int_equal(preview_token(f->l, "story-1", f->story, 60, token, &cause), 0);
    /* A wrong token of the right form, a malformed one. */
    g = get(f, "/p/0123456789abcdef0123456789abcdef/video.mp4", NULL, "GET");
    assert_int_equal(g.code, 404);
    got_free(&g);
    g = get(f, "/p/XYZ/video.mp4", NULL, "GET");
    assert_int_equal(g.code, 404);
    got_free(&g);
    /* Other names and paths under a good token. */
    for (size_t i = 0; i < sizeof bad_tails / sizeof bad_tails[0]; i++) {
        snprintf(path, sizeof path, "/p/%s/%s", token, bad_tails[i]);
        g = get(f, path, NULL, "GET");
        if (g.code != 404)
            fail_msg("%s answered %ld", path, g.code);
        got_free(&g);
    }
    g = get(f, "/etc/passwd", NULL, "GET");
    assert_int_equal(g.code, 404);
    got_free(&g);
    /* Another method. */
    snprintf(path, sizeof path, "/p/%s/video.mp4", token);
    g = get(f, path, NULL, "DELETE");
    assert_int_equal(g.code, 405);
    got_free(&g);
    /* Tokens whose folder is outside the packages folder: named directly, or through a link. */
    freeReplyObject(
        test_must(f->l, "SET nr:preview:tok:11111111111111111111111111111111 %s", f->outside));
    g = get(f, "/p/11111111111111111111111111111111/video.mp4", NULL, "GET");
    assert_int_equal(g.code, 404);
    got_free(&g);
    snprintf(evil, sizeof evil, "%s/evil", f->packages);
    freeReplyObject(
        test_must(f->l, "SET nr:preview:tok:22222222222222222222222222222222 %s", evil));
    g = get(f, "/p/22222222222222222222222222222222/video.mp4", NULL, "GET");
    assert_int_equal(g.code, 404);
    got_free(&g);
    /* Expired: once its key lapses in Redis the token serves nothing. */
    {
        char key[128];
        int64_t end = clock_mono_ms() + 5000;

        g = get(f, path, NULL, "GET");
        assert_int_equal(g.code, 200);
        got_free(&g);
        snprintf(key, sizeof key, "nr:preview:tok:%s", token);
        freeReplyObject(test_must(f->l, "PEXPIRE %s 1", key));
        do {
            g = get(f, path, NULL, "GET");
            if (g.code == 404)
                break;
            got_free(&g);
            clock_sleep_ms(5, NULL);
        } while (clock_mono_ms() < end);
        assert_int_equal(g.code, 404);
        got_free(&g);
    }
    /* A relative folder is never a token's. */
    assert_int_equal(preview_token(f->l, "story-2", "relative/dir", 60, token, &cause), -1);
    free(cause);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_serves_with_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses, setup, teardown),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

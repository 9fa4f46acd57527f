/*
 * test_store.c - the package store (src/media/store.h): the local backend's folders, and the s3
 * backend against a real S3-compatible server started here (s3rver, the npm package, behind
 * tests/support/s3_server.mjs, which checks every request's Signature V4 as S3 does): objects
 * written and read back byte for byte (ids with ':' in them), a multipart upload of a file above
 * the threshold, wrong keys refused (and never shown), a part the server fails (the upload is
 * aborted and no object appears), an uploading process killed in the middle (no object), a
 * package whose second file fails (the first is deleted again), and the configuration's checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/config.h"
#include "media/store.h"
#include "testenv.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEY_ID "NEWSROOMTESTKEY"
#define SECRET "test-secret-9f2c41d7"
#define BUCKET "newsroom-test"

static char *dir;       /* this test's temporary folder */
static char s3_url[64]; /* the server's endpoint */
static char s3_log[300];
static pid_t s3_pid;

/* Starts node s3_server.mjs and reads "ready PORT". */
static int start_s3(void **state)
{
    const char *src = test_env("NEWSROOM_SOURCE_DIR");
    const char *peers = getenv("NEWSROOM_PEERS_DIR");
    char script[600], data[300], pkg[600], line[64];
    int out[2];
    FILE *f;

    (void)state;
    dir = test_tmpdir();
    if (peers == NULL || *peers == '\0')
        fail_msg("NEWSROOM_PEERS_DIR is not set (tests/CMakeLists.txt sets it)");
    snprintf(pkg, sizeof pkg, "%s/s3rver/node_modules/s3rver/package.json", peers);
    if (access(pkg, R_OK) != 0)
        fail_msg("s3rver is not installed in %s/s3rver: scripts/test installs it (npm install "
                 "--prefix %s/s3rver s3rver@3)",
                 peers, peers);
    snprintf(script, sizeof script, "%s/tests/support/s3_server.mjs", src);
    snprintf(data, sizeof data, "%s/s3data", dir);
    snprintf(s3_log, sizeof s3_log, "%s/s3.log", dir);
    mkdir(data, 0700);
    if (pipe(out) == -1)
        return -1;
    s3_pid = fork();
    if (s3_pid == 0) {
        int devnull = open("/dev/null", O_RDWR);

        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(out[1], 1);
        dup2(devnull, 2);
        close(out[0]);
        execlp("node", "node", script, "0", data, s3_log, KEY_ID, SECRET, BUCKET, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    f = fdopen(out[0], "r");
    if (f == NULL || fgets(line, sizeof line, f) == NULL || strncmp(line, "ready ", 6) != 0)
        fail_msg("the S3 server did not start (node %s)", script);
    fclose(f);
    snprintf(s3_url, sizeof s3_url, "http://127.0.0.1:%d", atoi(line + 6));
    return 0;
}

static int stop_s3(void **state)
{
    (void)state;
    if (s3_pid > 0) {
        kill(s3_pid, SIGTERM);
        waitpid(s3_pid, NULL, 0);
    }
    test_rmrf(dir);
    free(dir);
    return 0;
}

/* A store from a configuration of this test's data folder and the given [store] lines. */
static struct pstore *open_store(const char *store_lines, char **cause)
{
    char path[400], *text;
    struct config *c = config_new();
    struct pstore *s;

    snprintf(path, sizeof path, "%s/store.conf", dir);
    text = malloc(strlen(store_lines) + strlen(dir) + 64);
    sprintf(text, "[general]\ndata_dir = %s/data\n[store]\n%s", dir, store_lines);
    test_write_file(path, text);
    chmod(path, 0600); /* it holds keys */
    free(text);
    if (config_load_file(c, path, cause) == -1)
        fail_msg("%s", *cause);
    s = pstore_open(c, cause);
    config_free(c);
    return s;
}

static struct pstore *s3_store(const char *key_id, const char *secret)
{
    char lines[600], *cause = NULL;
    struct pstore *s;

    snprintf(lines, sizeof lines,
             "kind = s3\nbucket = %s\nprefix = nr-test\nendpoint = %s\nregion = eu-west-3\n"
             "access_key_id = %s\nsecret_access_key = %s\nmultipart_threshold_mb = 5\n"
             "part_size_mb = 5\n",
             BUCKET, s3_url, key_id, secret);
    s = open_store(lines, &cause);
    if (s == NULL)
        fail_msg("%s", cause);
    return s;
}

/* A file of n pseudo-random bytes at dir/name; returns its contents (free them). */
static char *make_file(const char *folder, const char *name, size_t n, unsigned seed)
{
    char path[600], *data = malloc(n + 1);
    FILE *f;

    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        data[i] = (char)(seed >> 16);
    }
    data[n] = '\0';
    snprintf(path, sizeof path, "%s/%s", folder, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    return data;
}

/* Lines of the server's log holding every one of the strings a, b (b may be NULL). */
static int log_count(const char *a, const char *b)
{
    char *text = test_read_file(s3_log), *line, *save = NULL;
    int n = 0;

    if (text == NULL)
        return 0;
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
        if (strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL))
            n++;
    free(text);
    return n;
}

static void expect_missing(struct pstore *s, const json_t *where, const char *name)
{
    char *data = NULL, *cause = NULL;
    size_t len;

    assert_int_equal(pstore_get(s, where, name, &data, &len, &cause), 1);
    assert_null(data);
}

static void test_local(void **state)
{
    char *cause = NULL, src[400], *a, *b, *data = NULL, out[500];
    const char *names[] = {"video.mp4", "manifest.json"};
    struct pstore *s;
    json_t *where = NULL;
    size_t len;

    (void)state;
    s = open_store("kind = local\n", &cause);
    assert_non_null(s);
    assert_int_equal(pstore_kind(s), PSTORE_LOCAL);
    snprintf(src, sizeof src, "%s/render", dir);
    mkdir(src, 0700);
    a = make_file(src, "video.mp4", 70000, 1);
    b = make_file(src, "manifest.json", 100, 2);
    assert_int_equal(pstore_put_folder(s, PSTORE_PACKAGES, "wire:7", src, names, 2, &where, &cause),
                     0);
    assert_string_equal(json_string_value(json_object_get(where, "kind")), "local");
    assert_non_null(
        strstr(json_string_value(json_object_get(where, "folder")), "/packages/wire:7"));
    assert_int_equal(pstore_get(s, where, "video.mp4", &data, &len, &cause), 0);
    assert_int_equal(len, 70000);
    assert_memory_equal(data, a, len);
    free(data);
    snprintf(out, sizeof out, "%s/copy.json", dir);
    assert_int_equal(pstore_get_file(s, where, "manifest.json", out, &cause), 0);
    data = test_read_file(out);
    assert_memory_equal(data, b, 100);
    free(data);
    /* A name the package does not list, and one that is not a name. */
    expect_missing(s, where, "thumbnail.png");
    assert_int_equal(pstore_get(s, where, "../etc", &data, &len, &cause), -1);
    free(cause);
    cause = NULL;
    /* One file into the published area, written in place atomically. */
    assert_int_equal(pstore_put(s, PSTORE_PUBLISHED, "wire:7", "script.txt", "hi\n", 3, &cause), 0);
    snprintf(out, sizeof out, "%s/data/publish/wire:7/script.txt", dir);
    data = test_read_file(out);
    assert_string_equal(data, "hi\n");
    free(data);
    assert_int_equal(pstore_check(s, &cause), 0);
    assert_int_equal(pstore_remove(s, where, &cause), 0);
    expect_missing(s, where, "video.mp4");
    json_decref(where);
    free(a);
    free(b);
    pstore_free(s);
}

static void test_s3_roundtrip(void **state)
{
    struct pstore *s = s3_store(KEY_ID, SECRET);
    const char *names[] = {"captions.srt", "thumbnail.png", "manifest.json"};
    char src[400], *files[3], *data = NULL, *cause = NULL, out[500];
    json_t *where = NULL;
    size_t len;

    (void)state;
    assert_int_equal(pstore_kind(s), PSTORE_S3);
    assert_null(strstr(pstore_describe(s), SECRET));
    snprintf(src, sizeof src, "%s/pkg", dir);
    mkdir(src, 0700);
    files[0] = make_file(src, names[0], 300, 3);
    files[1] = make_file(src, names[1], 40000, 4);
    files[2] = make_file(src, names[2], 0, 5);
    if (pstore_put_folder(s, PSTORE_PACKAGES, "wire:42-a", src, names, 3, &where, &cause) != 0)
        fail_msg("%s", cause);
    /* The story records the object keys. */
    assert_string_equal(json_string_value(json_object_get(where, "kind")), "s3");
    assert_string_equal(json_string_value(json_object_get(where, "bucket")), BUCKET);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(where, "keys"), "thumbnail.png")),
        "nr-test/packages/wire:42-a/thumbnail.png");
    for (int i = 0; i < 3; i++) {
        if (pstore_get(s, where, names[i], &data, &len, &cause) != 0)
            fail_msg("%s: %s", names[i], cause);
        assert_int_equal(len, i == 0 ? 300 : i == 1 ? 40000 : 0);
        if (len > 0)
            assert_memory_equal(data, files[i], len);
        free(data);
        data = NULL;
    }
    snprintf(out, sizeof out, "%s/thumb.png", dir);
    assert_int_equal(pstore_get_file(s, where, "thumbnail.png", out, &cause), 0);
    data = test_read_file(out);
    assert_memory_equal(data, files[1], 40000);
    free(data);
    expect_missing(s, where, "video.mp4");
    /* Every request went through the signature check and passed it. */
    assert_int_equal(log_count("\"status\":403", NULL), 0);
    assert_true(log_count("\"at\":\"end\"", "\"status\":200") >= 6);
    assert_int_equal(pstore_check(s, &cause), 0);
    assert_int_equal(pstore_remove(s, where, &cause), 0);
    expect_missing(s, where, "thumbnail.png");
    json_decref(where);
    for (int i = 0; i < 3; i++)
        free(files[i]);
    pstore_free(s);
}

static void test_s3_multipart(void **state)
{
    struct pstore *s = s3_store(KEY_ID, SECRET);
    const size_t n = 12 * 1024 * 1024 + 3;
    const char *names[] = {"video.mp4"};
    char src[400], out[500], *data, *back, *cause = NULL;
    json_t *where = NULL;
    int before = log_count("partNumber=", "\"at\":\"end\"");

    (void)state;
    snprintf(src, sizeof src, "%s/big", dir);
    mkdir(src, 0700);
    data = make_file(src, "video.mp4", n, 6);
    if (pstore_put_folder(s, PSTORE_PACKAGES, "wire:big", src, names, 1, &where, &cause) != 0)
        fail_msg("%s", cause);
    /* Three parts of 5, 5 and 2 MB, then the list of parts. */
    assert_int_equal(log_count("partNumber=", "\"at\":\"end\"") - before, 3);
    assert_true(log_count("\"method\":\"POST\"", "uploads=") >= 1);
    snprintf(out, sizeof out, "%s/big.out", dir);
    if (pstore_get_file(s, where, "video.mp4", out, &cause) != 0)
        fail_msg("%s", cause);
    back = malloc(n);
    {
        FILE *f = fopen(out, "rb");

        assert_non_null(f);
        assert_int_equal(fread(back, 1, n, f), n);
        assert_int_equal(fgetc(f), EOF);
        fclose(f);
    }
    assert_memory_equal(back, data, n);
    free(back);
    free(data);
    json_decref(where);
    pstore_free(s);
}

static void test_s3_wrong_keys(void **state)
{
    struct pstore *s;
    char *cause = NULL;

    (void)state;
    s = s3_store(KEY_ID, "not-the-secret");
    assert_int_equal(pstore_put(s, PSTORE_PACKAGES, "wire:1", "a.txt", "x", 1, &cause), -1);
    assert_non_null(strstr(cause, "403"));
    assert_non_null(strstr(cause, "SignatureDoesNotMatch"));
    assert_null(strstr(cause, "not-the-secret"));
    free(cause);
    cause = NULL;
    assert_int_equal(pstore_check(s, &cause), -1);
    assert_non_null(strstr(cause, "SignatureDoesNotMatch"));
    free(cause);
    cause = NULL;
    pstore_free(s);

    s = s3_store("NOSUCHKEY", SECRET);
    assert_int_equal(pstore_put(s, PSTORE_PACKAGES, "wire:1", "a.txt", "x", 1, &cause), -1);
    assert_non_null(strstr(cause, "InvalidAccessKeyId"));
    assert_null(strstr(cause, SECRET));
    free(cause);
    pstore_free(s);
}

/* A part the server fails: the upload is aborted, nothing appears, and the package's file
 * uploaded before it is deleted again. */
static void test_s3_failed_part(void **state)
{
    struct pstore *s = s3_store(KEY_ID, SECRET);
    const char *names[] = {"captions.srt", "video.mp4"};
    char src[400], *a, *b, *cause = NULL;
    json_t *where = NULL, *probe;

    (void)state;
    snprintf(src, sizeof src, "%s/failing", dir);
    mkdir(src, 0700);
    a = make_file(src, names[0], 500, 7);
    b = make_file(src, names[1], 11 * 1024 * 1024, 8);
    assert_int_equal(
        pstore_put_folder(s, PSTORE_PACKAGES, "fail-part2", src, names, 2, &where, &cause), -1);
    assert_null(where);
    assert_non_null(strstr(cause, "InternalError"));
    free(cause);
    cause = NULL;
    /* The abort went out. */
    assert_true(log_count("\"method\":\"DELETE\"", "uploadId=") >= 1);
    probe =
        json_pack("{s:s, s:s, s:[s,s], s:{s:s, s:s}}", "kind", "s3", "bucket", BUCKET, "files",
                  names[0], names[1], "keys", names[0], "nr-test/packages/fail-part2/captions.srt",
                  names[1], "nr-test/packages/fail-part2/video.mp4");
    expect_missing(s, probe, "video.mp4");
    expect_missing(s, probe, "captions.srt");
    json_decref(probe);
    free(a);
    free(b);
    pstore_free(s);
}

/* The uploading process killed while its part 2 is on the wire: no object. */
static void test_s3_killed_upload(void **state)
{
    char src[400], path[500], *data;
    json_t *probe;
    struct pstore *s;
    pid_t child;
    int64_t deadline;

    (void)state;
    snprintf(src, sizeof src, "%s/stalling", dir);
    mkdir(src, 0700);
    data = make_file(src, "video.mp4", 11 * 1024 * 1024, 9);
    free(data);
    snprintf(path, sizeof path, "%s/video.mp4", src);
    child = fork();
    if (child == 0) {
        char *cause = NULL;

        s = s3_store(KEY_ID, SECRET);
        pstore_put_file(s, PSTORE_PACKAGES, "stall-part2", "video.mp4", path, &cause);
        _exit(0);
    }
    deadline = clock_mono_ms() + 30000;
    while (log_count("\"at\":\"stalled\"", "stall-part2") == 0 && clock_mono_ms() < deadline)
        usleep(20000); /* awaiting the server's log line: there is no other signal */
    assert_int_equal(log_count("\"at\":\"stalled\"", "stall-part2"), 1);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    s = s3_store(KEY_ID, SECRET);
    probe = json_pack("{s:s, s:s, s:[s], s:{s:s}}", "kind", "s3", "bucket", BUCKET, "files",
                      "video.mp4", "keys", "video.mp4", "nr-test/packages/stall-part2/video.mp4");
    expect_missing(s, probe, "video.mp4");
    json_decref(probe);
    pstore_free(s);
}

/* A rendered package into the store, as the producer puts it: s3 keeps only the store's
 * record (the local folder and paths go), local keeps the folder; either way its files come back
 * through pstore_where_of() and pstore_localize(). */
static void test_put_package(void **state)
{
    const char *stores[2] = {"kind = local\n", NULL};
    char lines[600];

    (void)state;
    snprintf(lines, sizeof lines,
             "kind = s3\nbucket = %s\nprefix = nr-test\nendpoint = %s\naccess_key_id = %s\n"
             "secret_access_key = %s\n",
             BUCKET, s3_url, KEY_ID, SECRET);
    stores[1] = lines;
    for (int k = 0; k < 2; k++) {
        char *cause = NULL, src[400], *video, *path = NULL, *back, fetch[400];
        struct pstore *s = open_store(stores[k], &cause);
        json_t *pkg, *where;
        struct stat st;

        assert_non_null(s);
        snprintf(src, sizeof src, "%s/data/packages/wire:pkg%d", dir, k);
        test_rmrf(src);
        snprintf(fetch, sizeof fetch, "%s/fetch%d", dir, k);
        mkdir(fetch, 0700);
        {
            char parent[400];

            snprintf(parent, sizeof parent, "%s/data/packages", dir);
            mkdir(parent, 0755);
            mkdir(src, 0755);
        }
        video = make_file(src, "video.mp4", 30000, 10 + (unsigned)k);
        free(make_file(src, "manifest.json", 50, 20));
        free(make_file(src, "thumbnail.png", 500, 30));
        pkg = json_pack("{s:s, s:s, s:[s,s,s], s:s+, s:s}", "kind", "video", "folder", src, "files",
                        "video.mp4", "thumbnail.png", "manifest.json", "mp4", src, "/video.mp4",
                        "duration_s", "60");
        if (pstore_put_package(s, k == 0 ? "wire:pkg0" : "wire:pkg1", pkg, &cause) != 0)
            fail_msg("%s", cause);
        where = pstore_where_of(pkg);
        assert_non_null(where);
        assert_int_equal(pstore_where_is_s3(where), k == 1);
        /* s3: the local copy and the local paths are gone; local: both stay. */
        assert_int_equal(stat(src, &st) == 0, k == 0);
        assert_int_equal(json_object_get(pkg, "mp4") != NULL, k == 0);
        assert_int_equal(pstore_localize(s, where, "video.mp4", fetch, &path, &cause), 0);
        back = test_read_file(path);
        assert_non_null(back);
        assert_memory_equal(back, video, 30000);
        assert_int_equal(pstore_localize(s, where, "missing.bin", fetch, &path, &cause), 1);
        free(back);
        free(path);
        free(video);
        json_decref(where);
        json_decref(pkg);
        pstore_free(s);
    }
}

static void test_config_errors(void **state)
{
    char *cause = NULL;
    struct pstore *s;

    (void)state;
    s = open_store("kind = s3\naccess_key_id = a\nsecret_access_key = b\n", &cause);
    assert_null(s);
    assert_non_null(strstr(cause, "bucket"));
    free(cause);
    cause = NULL;
    s = open_store("kind = s3\nbucket = b\n", &cause);
    assert_null(s);
    assert_non_null(strstr(cause, "AWS_SECRET_ACCESS_KEY"));
    free(cause);
    cause = NULL;
    s = open_store("kind = s3\nbucket = b\nendpoint = ftp://x\naccess_key_id = a\n"
                   "secret_access_key = b\n",
                   &cause);
    assert_null(s);
    assert_non_null(strstr(cause, "ftp://x"));
    free(cause);
    cause = NULL;
    {
        struct config *c = config_new();
        char path[400];

        snprintf(path, sizeof path, "%s/bad.conf", dir);
        test_write_file(path, "[store]\nkind = nfs\n");
        assert_int_equal(config_load_file(c, path, &cause), -1);
        assert_non_null(strstr(cause, "\"nfs\" is not a package store"));
        free(cause);
        cause = NULL;
        test_write_file(path, "[store]\nurl_style = sideways\n");
        assert_int_equal(config_load_file(c, path, &cause), -1);
        assert_non_null(strstr(cause, "url_style"));
        free(cause);
        config_free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local),          cmocka_unit_test(test_s3_roundtrip),
        cmocka_unit_test(test_s3_multipart),   cmocka_unit_test(test_s3_wrong_keys),
        cmocka_unit_test(test_s3_failed_part), cmocka_unit_test(test_s3_killed_upload),
        cmocka_unit_test(test_put_package),    cmocka_unit_test(test_config_errors),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, start_s3, stop_s3);
}

/*
 * test_config.c - configuration: defaults, files, layering (--config, $NEWSROOM_CONFIG, XDG),
 * environment overrides, every kind of bad file and value (each naming file:line and key,
 * leaving the configuration untouched), masking of secrets, the Redis target, and the
 * documented config/newsroom.conf against the built-in defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/config.h"
#include "store/redis_url.h"
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const vars[] = {"NEWSROOM_CONFIG",
                                   "NEWSROOM_DATA_DIR",
                                   "NEWSROOM_LOG_LEVEL",
                                   "NEWSROOM_SWARM_NAME",
                                   "REDIS_URL",
                                   "REDIS_HOST",
                                   "REDIS_PORT",
                                   "REDIS_USER",
                                   "REDIS_PASSWORD",
                                   "REDIS_DB",
                                   "XDG_DATA_HOME",
                                   "REDIS_SENTINELS",
                                   "REDIS_SENTINEL_MASTER",
                                   "REDIS_SENTINEL_PASSWORD",
                                   "REDIS_WAIT_REPLICAS",
                                   NULL};

struct fx {
    char *dir;
    char path[512];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char xdg[512];

    for (int i = 0; vars[i] != NULL; i++)
        unsetenv(vars[i]);
    f->dir = test_tmpdir();
    snprintf(f->path, sizeof f->path, "%s/test.conf", f->dir);
    /* An XDG config home of our own, empty unless a test writes into it. */
    snprintf(xdg, sizeof xdg, "%s/xdg", f->dir);
    mkdir(xdg, 0700);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    test_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* The display entry of section.key. */
static struct config_entry entry(const struct config *c, const char *section, const char *key)
{
    struct config_entry e;

    for (int i = 0; i < config_key_count(); i++) {
        config_entry_get(c, i, &e);
        if (strcmp(e.section, section) == 0 && strcmp(e.key, key) == 0)
            return e;
    }
    fail_msg("no key %s.%s", section, key);
    return e;
}

static void test_defaults(void **state)
{
    struct config *c = config_new();

    (void)state;
    assert_string_equal(c->swarm_name, "newsroom");
    assert_string_equal(c->redis_url, "");
    assert_int_equal(c->redis_port, 6379);
    assert_int_equal(c->redis_connect_timeout_ms, 2000);
    assert_int_equal(c->log_level, LOG_INFO);
    assert_string_equal(entry(c, "redis", "port").origin, "default");
    assert_null(c->file);
    config_free(c);
    config_free(NULL);
}

static void test_file_values_and_origins(void **state)
{
    struct fx *f = *state;
    struct config *c = config_new();
    char *cause = NULL;
    char want[600];

    test_write_file(f->path, "; a comment\n"
                             "[general]\n"
                             "swarm_name = night desk\n"
                             "log_level = debug\n"
                             "\n"
                             "[redis]\n"
                             "port = 7000\n");
    assert_int_equal(config_load_file(c, f->path, &cause), 0);
    assert_string_equal(c->swarm_name, "night desk");
    assert_int_equal(c->log_level, LOG_DEBUG);
    assert_int_equal(c->redis_port, 7000);
    snprintf(want, sizeof want, "%s:7", f->path);
    assert_string_equal(entry(c, "redis", "port").origin, want);
    snprintf(want, sizeof want, "%s:3", f->path);
    assert_string_equal(entry(c, "general", "swarm_name").origin, want);
    assert_string_equal(entry(c, "redis", "db").origin, "default");
    assert_string_equal(c->file, f->path);
    config_free(c);
}

/* Loads text and expects an error whose message contains every one of the needles, with the
 * configuration left exactly as it was. */
static void expect_bad(struct fx *f, const char *text, const char *n1, const char *n2)
{
    struct config *c = config_new();
    char *cause = NULL;

    c->redis_port = 1234;
    test_write_file(f->path, text);
    assert_int_equal(config_load_file(c, f->path, &cause), -1);
    assert_non_null(cause);
    if (strstr(cause, n1) == NULL)
        fail_msg("\"%s\" does not contain \"%s\"", cause, n1);
    if (n2 != NULL && strstr(cause, n2) == NULL)
        fail_msg("\"%s\" does not contain \"%s\"", cause, n2);
    /* Nothing half-written: the keys before the bad line did not land either. */
    assert_int_equal(c->redis_port, 1234);
    assert_string_equal(c->swarm_name, "newsroom");
    assert_null(c->file);
    free(cause);
    config_free(c);
}

static void test_bad_files(void **state)
{
    struct fx *f = *state;
    char at[600];

    /* An unknown section is reported at its first key, which names both. */
    snprintf(at, sizeof at, "%s:4:", f->path);
    expect_bad(f, "[general]\nswarm_name = x\n[nonsense]\nkey = 1\n", at, "[nonsense]");
    expect_bad(f, "[general]\nswarm_name = x\n[redis]\nprot = 1\n", at, "\"prot\"");
    expect_bad(f, "[general]\nswarm_name = x\n[redis]\nport = many\n", at, "port");
    expect_bad(f, "[general]\nswarm_name = x\n[redis]\nport = 70000\n", at, "out of range");
    expect_bad(f, "[general]\nswarm_name = x\n[redis]\nport = 12abc\n", at, "whole number");
    expect_bad(f, "[general]\nswarm_name = x\n[general]\nlog_level = loud\n", at, "log_level");
    expect_bad(f, "[general]\nswarm_name = x\n[redis]\nthis line has no equals sign\n", at,
               "key = value");
    /* A syntax error before a bad key: the first error is the one reported. */
    snprintf(at, sizeof at, "%s:2:", f->path);
    expect_bad(f, "[general]\nno equals here\n[redis]\nprot = 1\n", at, "key = value");
    snprintf(at, sizeof at, "%s:1:", f->path);
    expect_bad(f, "swarm_name = x\n", at, "outside any section");
    expect_bad(f, "[general\n", at, NULL);
}

/* [providers] cache_task_types: a list of task words, "*" or nothing; a bad entry is refused
 * at load with the key and the entry named. */
static void test_cache_task_types(void **state)
{
    struct fx *f = *state;
    struct config *c = config_new();
    char *cause = NULL, at[600];

    assert_string_equal(c->llm_cache_task_types, "news_scout,content_filter,topic_tagging");
    test_write_file(f->path, "[providers]\ncache_task_types = news_scout, script_draft\n");
    assert_int_equal(config_load_file(c, f->path, &cause), 0);
    assert_string_equal(c->llm_cache_task_types, "news_scout, script_draft");
    test_write_file(f->path, "[providers]\ncache_task_types = *\n");
    assert_int_equal(config_load_file(c, f->path, &cause), 0);
    assert_string_equal(c->llm_cache_task_types, "*");
    test_write_file(f->path, "[providers]\ncache_task_types =\n");
    assert_int_equal(config_load_file(c, f->path, &cause), 0);
    assert_string_equal(c->llm_cache_task_types, "");
    config_free(c);
    snprintf(at, sizeof at, "%s:4:", f->path);
    expect_bad(f, "[general]\nswarm_name = x\n[providers]\ncache_task_types = news_scout,QA\n",
               "cache_task_types", "\"QA\"");
    expect_bad(f, "[general]\nswarm_name = x\n[providers]\ncache_task_types = script-draft\n", at,
               "\"script-draft\"");
    expect_bad(f, "[general]\nswarm_name = x\n[providers]\ncache_task_types = a,,b\n", at,
               "empty entry");
}

static void test_unreadable_files(void **state)
{
    struct fx *f = *state;
    struct config *c = config_new();
    char *cause = NULL;
    char missing[600];

    snprintf(missing, sizeof missing, "%s/nope.conf", f->dir);
    assert_int_equal(config_load_file(c, missing, &cause), -1);
    assert_non_null(strstr(cause, missing));
    assert_non_null(strstr(cause, "No such file"));
    free(cause);
    cause = NULL;
    /* A file named by --config or $NEWSROOM_CONFIG must exist. */
    assert_null(config_resolve(missing, &cause));
    assert_non_null(strstr(cause, missing));
    free(cause);
    cause = NULL;
    setenv("NEWSROOM_CONFIG", missing, 1);
    assert_null(config_resolve(NULL, &cause));
    assert_non_null(strstr(cause, missing));
    free(cause);
    config_free(c);
}

static void test_layering(void **state)
{
    struct fx *f = *state;
    char envfile[700], xdgfile[700], xdgdir[600];
    struct config *c;
    char *cause = NULL;

    snprintf(xdgdir, sizeof xdgdir, "%s/xdg/newsroom", f->dir);
    mkdir(xdgdir, 0700);
    snprintf(xdgfile, sizeof xdgfile, "%s/newsroom.conf", xdgdir);
    snprintf(envfile, sizeof envfile, "%s/env.conf", f->dir);
    test_write_file(xdgfile, "[general]\nswarm_name = from-xdg\n");
    test_write_file(envfile, "[general]\nswarm_name = from-env\n");
    test_write_file(f->path, "[general]\nswarm_name = from-flag\n[redis]\nport = 7001\n");

    /* Only the XDG file: it is read. */
    c = config_resolve(NULL, &cause);
    assert_non_null(c);
    assert_string_equal(c->swarm_name, "from-xdg");
    assert_string_equal(c->file, xdgfile);
    config_free(c);
    /* $NEWSROOM_CONFIG beats the XDG file. */
    setenv("NEWSROOM_CONFIG", envfile, 1);
    c = config_resolve(NULL, &cause);
    assert_string_equal(c->swarm_name, "from-env");
    config_free(c);
    /* --config beats both. */
    c = config_resolve(f->path, &cause);
    assert_string_equal(c->swarm_name, "from-flag");
    assert_int_equal(c->redis_port, 7001);
    config_free(c);
    /* The environment beats the file, and says so. */
    setenv("REDIS_PORT", "7002", 1);
    c = config_resolve(f->path, &cause);
    assert_int_equal(c->redis_port, 7002);
    {
        struct config_entry e;

        for (int i = 0; i < config_key_count(); i++) {
            config_entry_get(c, i, &e);
            if (strcmp(e.section, "redis") == 0 && strcmp(e.key, "port") == 0)
                assert_string_equal(e.origin, "env REDIS_PORT");
        }
    }
    config_free(c);
}

static void test_bad_env(void **state)
{
    char *cause = NULL;

    (void)state;
    setenv("REDIS_PORT", "eighty", 1);
    assert_null(config_resolve(NULL, &cause));
    assert_non_null(strstr(cause, "REDIS_PORT"));
    assert_non_null(strstr(cause, "eighty"));
    free(cause);
    cause = NULL;
    unsetenv("REDIS_PORT");
    setenv("NEWSROOM_LOG_LEVEL", "chatty", 1);
    assert_null(config_resolve(NULL, &cause));
    assert_non_null(strstr(cause, "NEWSROOM_LOG_LEVEL"));
    free(cause);
}

static void test_secrets_masked(void **state)
{
    struct config *c;
    char *cause = NULL;
    struct config_entry e;

    (void)state;
    setenv("REDIS_PASSWORD", "hunter2-secret", 1);
    setenv("REDIS_URL", "redis://ops:url-secret-pw@db.example:6390/2", 1);
    c = config_resolve(NULL, &cause);
    assert_non_null(c);
    for (int i = 0; i < config_key_count(); i++) {
        config_entry_get(c, i, &e);
        assert_null(strstr(e.value, "hunter2"));
        assert_null(strstr(e.value, "url-secret-pw"));
    }
    for (int i = 0; i < config_key_count(); i++) {
        config_entry_get(c, i, &e);
        if (strcmp(e.key, "password") == 0) {
            assert_true(e.secret);
            assert_string_equal(e.value, "********");
        }
        if (strcmp(e.key, "url") == 0)
            assert_string_equal(e.value, "redis://ops:***@db.example:6390/2");
    }
    config_free(c);
}

static void test_redis_target(void **state)
{
    struct config *c;
    struct redis_addr a;
    char *cause = NULL;
    bool embedded;

    (void)state;
    c = config_resolve(NULL, &cause);
    assert_int_equal(config_redis_addr(c, &a, &embedded, &cause), 0);
    assert_true(embedded);
    config_free(c);

    setenv("REDIS_HOST", "cache.internal", 1);
    setenv("REDIS_PORT", "6400", 1);
    setenv("REDIS_PASSWORD", "pw1", 1);
    c = config_resolve(NULL, &cause);
    assert_int_equal(config_redis_addr(c, &a, &embedded, &cause), 0);
    assert_false(embedded);
    assert_string_equal(a.host, "cache.internal");
    assert_int_equal(a.port, 6400);
    assert_string_equal(a.password, "pw1");
    assert_int_equal(a.db, 0);
    config_free(c);

    /* REDIS_DB applies when the URL names no database, and only then. */
    setenv("REDIS_DB", "4", 1);
    setenv("REDIS_URL", "redis://cache.internal:6400", 1);
    c = config_resolve(NULL, &cause);
    assert_int_equal(config_redis_addr(c, &a, &embedded, &cause), 0);
    assert_int_equal(a.db, 4);
    config_free(c);
    setenv("REDIS_URL", "redis://cache.internal:6400/2", 1);
    c = config_resolve(NULL, &cause);
    assert_int_equal(config_redis_addr(c, &a, &embedded, &cause), 0);
    assert_int_equal(a.db, 2);
    config_free(c);
    unsetenv("REDIS_DB");

    /* A URL wins over host and port; REDIS_PASSWORD fills in a URL without one. */
    setenv("REDIS_URL", "unix:///run/r.sock?db=3", 1);
    c = config_resolve(NULL, &cause);
    assert_int_equal(config_redis_addr(c, &a, &embedded, &cause), 0);
    assert_int_equal(a.transport, REDIS_UNIX);
    assert_string_equal(a.path, "/run/r.sock");
    assert_int_equal(a.db, 3);
    assert_string_equal(a.password, "pw1");
    config_free(c);

    setenv("REDIS_URL", "rediss://x:6380", 1);
    c = config_resolve(NULL, &cause);
    assert_int_equal(config_redis_addr(c, &a, &embedded, &cause), -1);
    assert_non_null(strstr(cause, "TLS"));
    free(cause);
    config_free(c);
}

/* Sentinel: the sentinels and master name make the address, with user, password and db from
 * their keys and the sentinels' own password; a url beside them is refused; wait_writes
 * patterns must each match a script. */
static void test_sentinel_target(void **state)
{
    struct fx *f = *state;
    struct config *c;
    struct redis_addr a;
    char *cause = NULL, buf[700];
    bool embedded;

    setenv("REDIS_SENTINELS", "127.0.0.1:26379,127.0.0.1:26380", 1);
    setenv("REDIS_SENTINEL_MASTER", "nr-main", 1);
    setenv("REDIS_SENTINEL_PASSWORD", "sentinel-secret", 1);
    setenv("REDIS_USER", "newsroom", 1);
    setenv("REDIS_PASSWORD", "agent-secret", 1);
    setenv("REDIS_DB", "3", 1);
    setenv("REDIS_WAIT_REPLICAS", "1", 1);
    c = config_resolve(NULL, &cause);
    assert_non_null(c);
    assert_int_equal(config_redis_addr(c, &a, &embedded, &cause), 0);
    assert_false(embedded);
    assert_int_equal(a.nsentinels, 2);
    assert_int_equal(a.sentinels[1].port, 26380);
    assert_string_equal(a.master_name, "nr-main");
    assert_string_equal(a.sentinel_password, "sentinel-secret");
    assert_string_equal(a.user, "newsroom");
    assert_string_equal(a.password, "agent-secret");
    assert_int_equal(a.db, 3);
    assert_int_equal(c->redis_wait_replicas, 1);
    redis_addr_format(&a, buf, sizeof buf);
    assert_null(strstr(buf, "secret"));
    assert_string_equal(entry(c, "redis", "sentinel_password").value, "********");
    config_free(c);

    setenv("REDIS_URL", "redis://cache.internal:6400", 1);
    c = config_resolve(NULL, &cause);
    assert_int_equal(config_redis_addr(c, &a, &embedded, &cause), -1);
    assert_non_null(strstr(cause, "url and sentinels are both set"));
    free(cause);
    config_free(c);
    unsetenv("REDIS_URL");
    setenv("REDIS_SENTINELS", "127.0.0.1:nope", 1);
    c = config_resolve(NULL, &cause);
    assert_int_equal(config_redis_addr(c, &a, &embedded, &cause), -1);
    assert_non_null(strstr(cause, "[redis] sentinels"));
    assert_non_null(strstr(cause, "\"nope\""));
    free(cause);
    config_free(c);
    for (int i = 0; vars[i] != NULL; i++)
        unsetenv(vars[i]);

    test_write_file(f->path, "[redis]\nwait_writes = bb_*, queue_ack\n");
    c = config_resolve(f->path, &cause);
    assert_non_null(c);
    assert_string_equal(c->redis_wait_writes, "bb_*, queue_ack");
    config_free(c);
    expect_bad(f, "[redis]\nwait_replicas = 1\nwait_writes = bb_*, queue_akc\n", "wait_writes",
               "\"queue_akc\" matches no Lua script");
}

/* A file that gives a key a value must be its owner's alone: group- or world-readable, it is
 * refused with the file, the key and chmod 600, and the value never in the message; a file
 * without keys may be readable by all. */
static void test_secret_file_permissions(void **state)
{
    struct fx *f = *state;
    struct config *c = config_new();
    char *cause = NULL, want[1400];

    test_write_file(f->path, "[general]\nswarm_name = x\n[providers]\nanthropic_api_key = "
                             "sk-ant-file-secret\n");
    for (int i = 0; i < 2; i++) {
        chmod(f->path, i == 0 ? 0644 : 0640);
        assert_int_equal(config_load_file(c, f->path, &cause), -1);
        snprintf(want, sizeof want,
                 "%s holds a secret ([providers] anthropic_api_key) but others can read it (mode "
                 "%s): chmod 600 %s, or give it in the environment as ANTHROPIC_API_KEY",
                 f->path, i == 0 ? "0644" : "0640", f->path);
        assert_string_equal(cause, want);
        free(cause);
        cause = NULL;
        /* Nothing of the file was taken. */
        assert_string_equal(c->swarm_name, "newsroom");
        assert_string_equal(c->anthropic_api_key, "");
    }
    chmod(f->path, 0600);
    assert_int_equal(config_load_file(c, f->path, &cause), 0);
    assert_string_equal(c->anthropic_api_key, "sk-ant-file-secret");
    assert_true(config_has_secrets(c));
    /* A password inside a Redis URL is a secret too. */
    test_write_file(f->path, "[redis]\nurl = redis://u:pw-in-url@h:6379/0\n");
    chmod(f->path, 0604);
    assert_int_equal(config_load_file(c, f->path, &cause), -1);
    assert_non_null(strstr(cause, "[redis] url"));
    assert_null(strstr(cause, "pw-in-url"));
    free(cause);
    cause = NULL;
    /* No key: readable by all is fine. */
    test_write_file(f->path, "[redis]\nurl = redis://h:6379/0\n");
    chmod(f->path, 0644);
    config_free(c);
    c = config_new();
    assert_int_equal(config_load_file(c, f->path, &cause), 0);
    assert_false(config_has_secrets(c));
    config_free(c);
}

static void test_data_dir(void **state)
{
    struct config *c = config_new();
    char *d;

    (void)state;
    setenv("XDG_DATA_HOME", "/srv/xdg-data", 1);
    d = config_data_dir(c);
    assert_string_equal(d, "/srv/xdg-data/newsroom");
    free(d);
    free(c->data_dir);
    c->data_dir = strdup("/var/lib/newsroom");
    d = config_data_dir(c);
    assert_string_equal(d, "/var/lib/newsroom");
    free(d);
    config_free(c);
}

/* config/newsroom.conf documents every key with its default: it must parse, name every key
 * of the table, and set each to exactly the built-in default. */
static void test_documented_file_matches_defaults(void **state)
{
    char path[1024];
    struct config *defaults = config_new(), *doc = config_new();
    char *cause = NULL, *text;
    struct config_entry a, b;

    (void)state;
    snprintf(path, sizeof path, "%s/config/newsroom.conf", test_env("NEWSROOM_SOURCE_DIR"));
    if (config_load_file(doc, path, &cause) == -1)
        fail_msg("%s", cause);
    text = test_read_file(path);
    assert_non_null(text);
    for (int i = 0; i < config_key_count(); i++) {
        char needle[128];

        config_entry_get(defaults, i, &a);
        config_entry_get(doc, i, &b);
        snprintf(needle, sizeof needle, "\n%s =", a.key);
        if (strstr(text, needle) == NULL)
            fail_msg("config/newsroom.conf does not document %s.%s", a.section, a.key);
        if (strcmp(a.value, b.value) != 0)
            fail_msg("config/newsroom.conf sets %s.%s to \"%s\"; the default is \"%s\"", a.section,
                     a.key, b.value, a.value);
        if (strncmp(b.origin, path, strlen(path)) != 0)
            fail_msg("config/newsroom.conf does not set %s.%s", a.section, a.key);
    }
    free(text);
    config_free(defaults);
    config_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_values_and_origins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_task_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets_masked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redis_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sentinel_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_file_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_documented_file_matches_defaults, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

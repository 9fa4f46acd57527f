/*
 * test_log.c - logging: nothing before log_open(), lines in the file with level and time,
 * levels filtering, the sink, and a clear error for a file that cannot be opened.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/log.h"
#include "testenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sink_lines;
static char sink_last[LOG_LINE_MAX];

static void sink(enum log_level level, const char *line, void *ctx)
{
    (void)level;
    (void)ctx;
    sink_lines++;
    snprintf(sink_last, sizeof sink_last, "%s", line);
}

static void test_levels_file_and_sink(void **state)
{
    char *dir = test_tmpdir(), *text, *cause = NULL;
    char path[512];
    enum log_level lvl;

    (void)state;
    snprintf(path, sizeof path, "%s/newsroom.log", dir);
    log_msg(LOG_ERROR, "before open"); /* goes nowhere, and must not crash */
    assert_int_equal(log_open(path, LOG_INFO, &cause), 0);
    log_set_sink(sink, NULL);
    log_info("hello %d", 42);
    log_debug("hidden");
    log_warn("careful");
    log_set_level(LOG_DEBUG);
    log_debug("shown");
    log_close();
    log_set_sink(NULL, NULL);

    text = test_read_file(path);
    assert_non_null(text);
    assert_null(strstr(text, "before open"));
    assert_null(strstr(text, "hidden"));
    assert_non_null(strstr(text, "info  "));
    assert_non_null(strstr(text, "hello 42\n"));
    assert_non_null(strstr(text, "warn  "));
    assert_non_null(strstr(text, "shown\n"));
    assert_int_equal(sink_lines, 3);
    assert_non_null(strstr(sink_last, "shown"));
    assert_null(strchr(sink_last, '\n'));
    /* An ISO 8601 UTC time stamp starts every line. */
    assert_true(text[4] == '-' && text[10] == 'T' && strchr(text, 'Z') != NULL);
    free(text);

    assert_int_equal(log_level_parse("warn", &lvl), 0);
    assert_int_equal(lvl, LOG_WARN);
    assert_int_equal(log_level_parse("loud", &lvl), -1);

    snprintf(path, sizeof path, "%s/missing/dir/x.log", dir);
    assert_int_equal(log_open(path, LOG_INFO, &cause), -1);
    assert_non_null(strstr(cause, path));
    free(cause);
    test_rmrf(dir);
    free(dir);
}

static void test_long_lines_are_cut(void **state)
{
    char *dir = test_tmpdir(), *text, *cause = NULL;
    char path[512], big[3000];

    (void)state;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(path, sizeof path, "%s/newsroom.log", dir);
    assert_int_equal(log_open(path, LOG_INFO, &cause), 0);
    log_info("%s", big);
    log_info("next");
    log_close();
    text = test_read_file(path);
    assert_true(strlen(text) < LOG_LINE_MAX + 100);
    assert_non_null(strstr(text, "\n"));
    assert_non_null(strstr(text, "next\n"));
    free(text);
    test_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_file_and_sink),
        cmocka_unit_test(test_long_lines_are_cut),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

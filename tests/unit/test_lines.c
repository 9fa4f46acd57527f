/*
 * test_lines.c - bounded line reading through a real pipe: lines with and without "\r\n", an
 * empty line, a last line without a newline, a line exactly at the limit and one byte over it
 * (refused, skipped to its end, the next line read whole), a line over the limit that spans
 * many chunks, peeking before reading, and slurping with a limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "feeds/lines.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What a writer thread sends through the pipe. */
struct feed {
    int fd, rfd; /* the pipe's write end (the thread's) and read end (the reader's) */
    const char *parts[8];
    size_t lens[8];
    int n;
};

static void *writer(void *arg)
{
    struct feed *f = arg;

    for (int i = 0; i < f->n; i++) {
        size_t off = 0;

        while (off < f->lens[i]) {
            ssize_t w = write(f->fd, f->parts[i] + off, f->lens[i] - off);

            if (w <= 0)
                break;
            off += (size_t)w;
        }
    }
    close(f->fd);
    return NULL;
}

/* A reader on a pipe fed by a thread with the parts given. */
static struct lines *piped(struct feed *f, pthread_t *t, size_t max)
{
    int fds[2];

    assert_int_equal(pipe(fds), 0);
    f->fd = fds[1];
    f->rfd = fds[0];
    assert_int_equal(pthread_create(t, NULL, writer, f), 0);
    return lines_new(fds[0], max);
}

static void test_lines(void **state)
{
    char *big = malloc(3 * 1024 * 1024 + 2);
    struct feed f = {0};
    struct lines *r;
    pthread_t t;
    const char *line;
    size_t len;
    long no;

    (void)state;
    memset(big, 'x', 3 * 1024 * 1024);
    memcpy(big + 3 * 1024 * 1024, "\n", 2);
    f.parts[f.n] = "one\r\n\ntwo\n";
    f.lens[f.n++] = 10;
    f.parts[f.n] = "0123456789\n"; /* exactly the limit */
    f.lens[f.n++] = 11;
    f.parts[f.n] = "0123456789A\n"; /* one over */
    f.lens[f.n++] = 12;
    f.parts[f.n] = big; /* 3 MB over, across many chunks */
    f.lens[f.n++] = 3 * 1024 * 1024 + 1;
    f.parts[f.n] = "after\nlast";
    f.lens[f.n++] = 10;
    r = piped(&f, &t, 10);
    assert_int_equal(lines_next(r, &line, &len, &no), LINES_OK);
    assert_string_equal(line, "one");
    assert_int_equal(no, 1);
    assert_int_equal(lines_next(r, &line, &len, &no), LINES_OK);
    assert_int_equal(len, 0);
    assert_int_equal(no, 2);
    assert_int_equal(lines_next(r, &line, &len, &no), LINES_OK);
    assert_string_equal(line, "two");
    assert_int_equal(lines_next(r, &line, &len, &no), LINES_OK);
    assert_string_equal(line, "0123456789");
    assert_int_equal(lines_next(r, &line, &len, &no), LINES_LONG);
    assert_int_equal(no, 5);
    assert_int_equal(lines_next(r, &line, &len, &no), LINES_LONG);
    assert_int_equal(no, 6);
    assert_int_equal(lines_next(r, &line, &len, &no), LINES_OK);
    assert_string_equal(line, "after");
    assert_int_equal(no, 7);
    assert_int_equal(lines_next(r, &line, &len, &no), LINES_OK);
    assert_string_equal(line, "last");
    assert_int_equal(no, 8);
    assert_int_equal(lines_next(r, &line, &len, &no), LINES_END);
    assert_int_equal(lines_next(r, &line, &len, &no), LINES_END);
    pthread_join(t, NULL);
    lines_free(r);
    close(f.rfd);
    free(big);
}

static void test_peek_and_slurp(void **state)
{
    struct feed f = {0};
    struct lines *r;
    pthread_t t;
    const char *head;
    char *data;
    size_t len;
    long got;

    (void)state;
    f.parts[f.n] = "<rss>";
    f.lens[f.n++] = 5;
    f.parts[f.n] = "<channel/></rss>";
    f.lens[f.n++] = 16;
    r = piped(&f, &t, 100);
    got = lines_peek(r, &head, 256);
    /* Peeking waits for the end or the bytes asked for. */
    assert_int_equal(got, 21);
    assert_memory_equal(head, "<rss><channel/></rss>", 21);
    assert_int_equal(lines_slurp(r, 1000, &data, &len), 0);
    assert_int_equal(len, 21);
    assert_string_equal(data, "<rss><channel/></rss>");
    free(data);
    pthread_join(t, NULL);
    lines_free(r);
    close(f.rfd);

    f = (struct feed){0};
    f.parts[f.n] = "0123456789abcdef";
    f.lens[f.n++] = 16;
    r = piped(&f, &t, 100);
    assert_int_equal(lines_slurp(r, 15, &data, &len), 1);
    assert_null(data);
    pthread_join(t, NULL);
    lines_free(r);
    close(f.rfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_peek_and_slurp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * testenv.c - see testenv.h.
 */
#define _XOPEN_SOURCE 700
#include "testenv.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path;

    if (base == NULL || *base == '\0' || strlen(base) > 40)
        base = "/tmp";
    path = malloc(strlen(base) + 16);
    if (path == NULL)
        abort();
    sprintf(path, "%s/nr-XXXXXX", base);
    if (mkdtemp(path) == NULL) {
        fprintf(stderr, "test: cannot make a temporary directory in %s: %s\n", base,
                strerror(errno));
        abort();
    }
    return path;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void test_rmrf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *test_env(const char *name)
{
    const char *v = getenv(name);

    if (v == NULL || *v == '\0') {
        fprintf(stderr,
                "test: %s is not set; run the tests through scripts/test, which starts "
                "the services they use\n",
                name);
        exit(1);
    }
    return v;
}

void test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
        fprintf(stderr, "test: cannot write %s: %s\n", path, strerror(errno));
        abort();
    }
}

char *test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf == NULL)
        abort();
    n = (long)fread(buf, 1, (size_t)n, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

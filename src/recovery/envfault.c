/*
 * envfault.c - the environment's faults; see envfault.h. Plain system calls, no state.
 */
#include "recovery/envfault.h"

#include "core/fail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROBE_BYTES 16384

bool envfault_errno(int e)
{
    static const int faults[] = {ENOSPC, EDQUOT, EROFS, EACCES, EPERM, EIO, EFBIG};

    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
        if (e == faults[i])
            return true;
    return false;
}

/* mkdir -p dir: 0, or -1 with errno. */
static int make_dirs(const char *dir)
{
    char path[PATH_MAX];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) == -1 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0755) == -1 && errno != EEXIST)
        return -1;
    return 0;
}

/* The errno of writing the probe file into dir, 0 when it went in. */
static int probe_errno(const char *dir)
{
    char path[PATH_MAX], buf[4096];
    int fd, e = 0;

    if (make_dirs(dir) == -1)
        return errno;
    snprintf(path, sizeof path, "%s/.nr-probe.%ld.%lx", dir, (long)getpid(),
             (unsigned long)pthread_self());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd == -1)
        return errno;
    memset(buf, 'n', sizeof buf);
    for (size_t done = 0; done < PROBE_BYTES && e == 0;) {
        ssize_t w = write(fd, buf, sizeof buf);

        if (w < 0 && errno != EINTR)
            e = errno;
        else if (w > 0)
            done += (size_t)w;
    }
    if (e == 0 && fsync(fd) == -1)
        e = errno;
    if (close(fd) == -1 && e == 0)
        e = errno;
    unlink(path);
    return e;
}

int envfault_probe(const char *dir, char **why)
{
    int e = probe_errno(dir);

    if (e == 0)
        return 0;
    if (!envfault_errno(e))
        return -1;
    *why = xasprintf("the folder %s cannot be written: %s", dir, strerror(e));
    return e;
}

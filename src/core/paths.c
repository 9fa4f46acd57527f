/*
 * paths.c - making directories, finding programs on PATH and finding Newsroom's own files;
 * see paths.h. No state of its own: every function works on its arguments, the environment
 * and /proc/self/exe, so any thread may call it.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "core/paths.h"

#include "core/fail.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Set by CMake for this file: where the binary's shared files and default configuration lie
 * relative to the directory it is installed in, and the build and source trees it was built
 * from (used only while the binary runs from that build tree). */
#ifndef NEWSROOM_REL_DATADIR
#define NEWSROOM_REL_DATADIR "../share/newsroom"
#endif
#ifndef NEWSROOM_REL_SYSCONFDIR
#define NEWSROOM_REL_SYSCONFDIR "../etc/newsroom"
#endif

int paths_mkdir_p(const char *path, mode_t mode, char **cause)
{
    char *p = xstrdup(path);
    struct stat sb;

    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;

        *s = '\0';
        if (mkdir(p, mode) == -1 && errno != EEXIST) {
            *cause = xasprintf("cannot create directory %s: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        *s = saved;
        if (saved == '\0')
            break;
    }
    free(p);
    if (stat(path, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
        *cause = xasprintf("%s exists and is not a directory", path);
        return -1;
    }
    return 0;
}

char *paths_which(const char *program)
{
    const char *path = getenv("PATH");
    char *copy, *save = NULL;

    if (strchr(program, '/') != NULL)
        return access(program, X_OK) == 0 ? xstrdup(program) : NULL;
    if (path == NULL)
        path = "/usr/local/bin:/usr/bin:/bin";
    copy = xstrdup(path);
    for (char *dir = strtok_r(copy, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
        char *full = xasprintf("%s/%s", *dir != '\0' ? dir : ".", program);

        if (access(full, X_OK) == 0) {
            free(copy);
            return full;
        }
        free(full);
    }
    free(copy);
    return NULL;
}

int paths_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t w = write(fd, p, len);

        if (w == -1) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int paths_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, e;

    if (fd == -1)
        return -1;
    rc = fsync(fd);
    e = errno;
    close(fd);
    errno = e;
    return rc;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int paths_rmrf(const char *path)
{
    return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static bool is_dir(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The directory holding the running binary, resolved; NULL when /proc is not there. */
static char *self_dir(void)
{
    char *exe = realpath("/proc/self/exe", NULL), *slash;

    if (exe == NULL)
        return NULL;
    slash = strrchr(exe, '/');
    if (slash == exe)
        slash[1] = '\0';
    else
        *slash = '\0';
    return exe;
}

/* dir/rel resolved when it exists, else NULL. */
static char *resolved(const char *dir, const char *rel)
{
    char *joined = xasprintf("%s/%s", dir, rel);
    char *r = realpath(joined, NULL);

    free(joined);
    return r;
}

#if defined(NEWSROOM_BUILD_DIR) && defined(NEWSROOM_SOURCE_DIR)
/* The source tree, when the binary runs from inside the build tree it was built in. */
static char *build_tree_share(const char *self)
{
    char *build = realpath(NEWSROOM_BUILD_DIR, NULL);
    char *r = NULL;
    size_t n;

    if (build == NULL)
        return NULL;
    n = strlen(build);
    if (strncmp(self, build, n) == 0 && (self[n] == '/' || self[n] == '\0'))
        r = realpath(NEWSROOM_SOURCE_DIR, NULL);
    free(build);
    return r;
}
#endif

char *paths_share_dir(void)
{
    char *self = self_dir(), *r;

    if (self == NULL)
        return NULL;
    r = resolved(self, NEWSROOM_REL_DATADIR);
    if (r != NULL && !is_dir(r)) {
        free(r);
        r = NULL;
    }
#if defined(NEWSROOM_BUILD_DIR) && defined(NEWSROOM_SOURCE_DIR)
    if (r == NULL)
        r = build_tree_share(self);
#endif
    free(self);
    return r;
}

char *paths_share_file(const char *rel)
{
    char *dir = paths_share_dir(), *r;

    if (dir == NULL)
        return NULL;
    r = xasprintf("%s/%s", dir, rel);
    free(dir);
    if (access(r, F_OK) == 0)
        return r;
    free(r);
    return NULL;
}

char *paths_system_config(void)
{
    char *self = self_dir(), *r;

    if (self == NULL)
        return NULL;
    r = resolved(self, NEWSROOM_REL_SYSCONFDIR "/newsroom.conf");
    free(self);
    return r;
}

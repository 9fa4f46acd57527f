/*
 * paths.c - making directories and finding programs on PATH; see paths.h. No state of its
 * own: every function works on its arguments and the environment, so any thread may call it.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "core/paths.h"

#include "core/fail.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

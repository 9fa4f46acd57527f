/*
 * paths.h - small file-system helpers shared by the engine: making directories and
 * checking for programs on PATH. No state; safe from any thread.
 */
#ifndef NEWSROOM_PATHS_H
#define NEWSROOM_PATHS_H

#include <stdbool.h>
#include <sys/types.h>

/* mkdir -p with mode for every directory it creates. Returns 0, or -1 with *cause. */
int paths_mkdir_p(const char *path, mode_t mode, char **cause);

/* rm -rf path: removes it and everything below it, not following links. Returns 0 or -1. */
int paths_rmrf(const char *path);

/* The full path of program (as execvp would find it), or NULL. Free the result. */
char *paths_which(const char *program);

#endif

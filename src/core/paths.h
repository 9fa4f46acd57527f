/*
 * paths.h - small file-system helpers shared by the engine: making directories, checking for
 * programs on PATH, and finding Newsroom's own files (themes, the default template and
 * configuration) wherever the binary runs from: installed under a prefix (with or without
 * DESTDIR, or moved elsewhere whole), or from its build tree. No state; safe from any thread.
 *
 * Installed, the binary looks beside itself: the share directory is NEWSROOM_REL_DATADIR
 * (e.g. ../share/newsroom) and the system configuration NEWSROOM_REL_SYSCONFDIR (e.g.
 * ../etc/newsroom, ../../etc/newsroom for the prefix /usr) from the directory holding the
 * binary, both worked out by CMake from the install directories. From the build tree (the
 * binary or a test program under the build directory CMake compiled it for) the share
 * directory is the source tree, which holds themes/ and config/ the same way.
 */
#ifndef NEWSROOM_PATHS_H
#define NEWSROOM_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* mkdir -p with mode for every directory it creates. Returns 0, or -1 with *cause. */
int paths_mkdir_p(const char *path, mode_t mode, char **cause);

/* Writes all len bytes to fd, going on after EINTR and short writes. Returns 0, or -1 with
 * errno. */
int paths_write_all(int fd, const void *data, size_t len);

/* fsync() of a directory, so that a rename or a new file in it is durable. Returns 0, or -1
 * with errno. */
int paths_fsync_dir(const char *path);

/* rm -rf path: removes it and everything below it, not following links. Returns 0 or -1. */
int paths_rmrf(const char *path);

/* The directory holding Newsroom's shared files (themes/, config/): the installed share
 * directory, else the source tree when running from the build tree, else NULL. Free the
 * result. */
char *paths_share_dir(void);

/* share_dir/rel when it exists (rel such as "themes" or "config/video.conf"), else NULL. Free
 * the result. */
char *paths_share_file(const char *rel);

/* The installed default configuration (SYSCONFDIR/newsroom/newsroom.conf beside an installed
 * binary) when it exists, else NULL. Free the result. */
char *paths_system_config(void);

/* The full path of program (as execvp would find it), or NULL. Free the result. */
char *paths_which(const char *program);

#endif

/*
 * envfault.h - telling the environment's faults from a story's: a write that failed because
 * the disk is full, the folder read-only or unwritable, the device failing or a file-size limit
 * (ENOSPC, EDQUOT, EROFS, EACCES, EPERM, EIO, EFBIG) is not the story's fault, so the story waits (parks) instead of
 * spending its attempts. The producer and the publisher ask this after a write failed, by
 * probing the folder they write to: the probe says what the folder does now, whatever errno
 * the failed write left behind.
 *
 * Threads: any thread; nothing is kept between calls (a probe file is named by pid and
 * thread, and removed).
 */
#ifndef NEWSROOM_ENVFAULT_H
#define NEWSROOM_ENVFAULT_H

#include <stdbool.h>

/* Whether errno value e is the environment's fault (see above). */
bool envfault_errno(int e);

/* Probes folder dir (made when missing): creates a small file in it, writes and syncs 16 KiB,
 * removes it. Returns 0 when the folder takes writes, else the errno that stopped it when that
 * is the environment's fault (and then *why, a new string, says what happened to which folder);
 * another errno is returned as -1 without *why (not a fault this module knows). */
int envfault_probe(const char *dir, char **why);

#endif

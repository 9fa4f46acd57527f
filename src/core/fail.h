/*
 * fail.h - out-of-memory and fatal-error handling, and the allocation wrappers that use it.
 *
 * Any thread may call these. A fatal error first runs the hook installed with
 * fail_set_hook() (the control room installs one that restores the terminal, as htop's
 * fail() does), then prints the message on stderr and aborts. The hook is kept atomically,
 * so it may be set (or cleared) while other threads run.
 */
#ifndef NEWSROOM_FAIL_H
#define NEWSROOM_FAIL_H

#include <stddef.h>

/* Runs before a fatal error aborts; must be async-signal tolerant enough to restore a tty. */
void fail_set_hook(void (*hook)(void));

/* Prints "newsroom: fatal: <message>" on stderr after the hook, then aborts. */
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocation that never returns NULL: out of memory ends in fail(). Free with free(). */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
/* printf into a new string; free with free(). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

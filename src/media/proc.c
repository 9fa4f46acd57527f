/*
 * proc.c - child processes with a deadline; see proc.h. posix_spawn with its own process
 * group and the child's standard streams set up by file actions; the parent polls a pidfd and
 * the two output pipes until the child exits or the deadline passes. Every descriptor opened
 * here is close-on-exec, so concurrent spawns from other threads never inherit them.
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np, pipe2 */
#include "media/proc.h"

#include "core/clock.h"
#include "core/fail.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A bounded copy of one output stream: the head (stdout) or the tail (stderr). */
struct capture {
    char buf[PROC_OUT_MAX + 1];
    size_t len;
    bool tail;
};

static void capture_add(struct capture *c, const char *data, size_t n)
{
    if (!c->tail) {
        size_t room = PROC_OUT_MAX - c->len;

        n = n < room ? n : room;
        memcpy(c->buf + c->len, data, n);
        c->len += n;
    } else {
        /* The tail: the last PROC_OUT_MAX bytes of what was kept and what came. */
        size_t take = n < PROC_OUT_MAX ? n : PROC_OUT_MAX;
        size_t keep = c->len + take > PROC_OUT_MAX ? PROC_OUT_MAX - take : c->len;

        memmove(c->buf, c->buf + c->len - keep, keep);
        memcpy(c->buf + keep, data + (n - take), take);
        c->len = keep + take;
    }
    c->buf[c->len] = '\0';
}

/* Reads what fd has; returns false at its end. */
static bool drain(int fd, struct capture *c)
{
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);

    if (n > 0) {
        capture_add(c, buf, (size_t)n);
        return true;
    }
    return n == -1 && (errno == EINTR || errno == EAGAIN);
}

/* The last non-empty line of s, at most 200 bytes, in buf. */
static const char *last_line(const char *s, char *buf, size_t size)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    size_t start = n;
    while (start > 0 && s[start - 1] != '\n' && s[start - 1] != '\r')
        start--;
    if (n - start > 200)
        n = start + 200;
    snprintf(buf, size, "%.*s", (int)(n - start), s + start);
    return buf;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s != NULL ? s + 1 : path;
}

int proc_run(const char *const *argv, const char *cwd, int64_t deadline_ms, struct proc_result *r,
             char **cause)
{
    struct proc_result scratch;
    struct capture *out = xcalloc(1, sizeof *out), *err = xcalloc(1, sizeof *err);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int po[2] = {-1, -1}, pe[2] = {-1, -1}, pidfd = -1, ws = 0, rc;
    bool open_out, open_err, exited = false;
    const char *name = base_name(argv[0]);
    char line[256];
    pid_t pid;

    if (r == NULL)
        r = &scratch;
    memset(r, 0, sizeof *r);
    r->status = -1;
    err->tail = true;
    if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1) {
        *cause = xasprintf("%s: cannot make a pipe: %s", name, strerror(errno));
        goto fail_early;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    if (cwd != NULL)
        posix_spawn_file_actions_addchdir_np(&fa, cwd);
    posix_spawnattr_init(&at);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    {
        sigset_t none, all;

        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &all);
    }
    rc = posix_spawn(&pid, argv[0], &fa, &at, (char *const *)(void *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(po[1]);
    close(pe[1]);
    po[1] = pe[1] = -1;
    if (rc != 0) {
        *cause = xasprintf("%s: cannot start: %s", name, strerror(rc));
        goto fail_early;
    }
    pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    open_out = open_err = true;
    while (!exited || open_out || open_err) {
        struct pollfd p[3];
        int np = 0, wait_ms = -1, ip = -1, io = -1, ie = -1;

        if (deadline_ms > 0) {
            int64_t left = deadline_ms - clock_mono_ms();

            if (left <= 0) {
                kill(-pid, SIGKILL);
                r->timed_out = true;
                break;
            }
            wait_ms = left > 1000000 ? 1000000 : (int)left;
        }
        if (!exited && pidfd >= 0) {
            ip = np;
            p[np++] = (struct pollfd){pidfd, POLLIN, 0};
        } else if (!exited) {
            wait_ms = wait_ms < 0 || wait_ms > 50 ? 50 : wait_ms; /* no pidfd: poll the child */
        }
        if (open_out) {
            io = np;
            p[np++] = (struct pollfd){po[0], POLLIN, 0};
        }
        if (open_err) {
            ie = np;
            p[np++] = (struct pollfd){pe[0], POLLIN, 0};
        }
        if (poll(p, (nfds_t)np, wait_ms) == -1 && errno != EINTR)
            break;
        if (io >= 0 && p[io].revents != 0)
            open_out = drain(po[0], out);
        if (ie >= 0 && p[ie].revents != 0)
            open_err = drain(pe[0], err);
        if (!exited && (ip < 0 || p[ip].revents != 0)) {
            pid_t w = waitpid(pid, &ws, WNOHANG);

            if (w == pid)
                exited = true;
        }
    }
    if (!exited) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, &ws, 0) == -1 && errno == EINTR)
            ;
    }
    if (pidfd >= 0)
        close(pidfd);
    r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    r->out = xstrdup(out->buf);
    r->err = xstrdup(err->buf);
    close(po[0]);
    close(pe[0]);
    free(out);
    free(err);
    if (r->timed_out)
        *cause = xasprintf("%s was killed at its time limit", name);
    else if (r->status != 0)
        *cause = xasprintf("%s failed (%s %d): %s", name, WIFEXITED(ws) ? "exit" : "signal",
                           WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws),
                           last_line(r->err, line, sizeof line));
    if (r == &scratch)
        proc_result_clear(r);
    return r->timed_out || r->status != 0 ? -1 : 0;

fail_early:
    for (int i = 0; i < 2; i++) {
        if (po[i] != -1)
            close(po[i]);
        if (pe[i] != -1)
            close(pe[i]);
    }
    free(out);
    free(err);
    return -1;
}

void proc_result_clear(struct proc_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

char *proc_first_line(const char *program, const char *arg)
{
    const char *argv[] = {program, arg, NULL};
    struct proc_result r;
    char *cause = NULL, *line = NULL;

    if (proc_run(argv, NULL, clock_mono_ms() + 10000, &r, &cause) == 0)
        line = xasprintf("%.*s", (int)strcspn(r.out, "\r\n"), r.out);
    free(cause);
    proc_result_clear(&r);
    return line;
}

/*
 * proc.c - child processes with a deadline; see proc.h.
 *
 * A child is started with fork() and execve(), not posix_spawn(), because what it must do
 * between the two has no spawn attribute: it joins a process group of its own (setpgid, also
 * done by the parent, so a kill of the group can never miss it), gets default signal
 * dispositions and an empty mask, asks for SIGKILL when its parent dies (PR_SET_PDEATHSIG) and
 * then checks getppid() against the parent's pid taken before the fork (a parent that died
 * before the prctl would otherwise go unnoticed), takes /dev/null and the two pipes as its
 * standard streams, keeps the inherited descriptor open (proc_inherit) and moves to its
 * folder. Only async-signal-safe calls run in the child. Whether execve() worked comes back
 * through a close-on-exec pipe: end of file means it did, four bytes carry its errno.
 *
 * PR_SET_PDEATHSIG fires when the parent *thread* ends, not only the process. That is safe
 * here without a spawner thread because every child is waited for by the thread that started
 * it: proc_run() returns only after the child has been reaped (killed first when its deadline
 * passes), so the starting thread always outlives its child, and an agent thread ending while
 * the process lives can never take a child that is still wanted with it. When the process
 * dies (SIGKILL included), every thread ends and so does every child. Grandchildren get no
 * such signal (the kernel clears it across fork), so they are ended through the group: the
 * group is killed when the child ends (it is still a zombie then, so its id cannot have been
 * reused) and at the deadline; neither ffmpeg nor espeak-ng starts children of its own.
 *
 * The parent polls a pidfd and the two output pipes until the child exits or the deadline
 * passes. Every descriptor opened here is close-on-exec, so concurrent spawns from other
 * threads never inherit them.
 *
 * Threads: any thread; the last end and the inherited descriptor are thread-local.
 */
#define _GNU_SOURCE /* pipe2, sigdescr_np */
#include "media/proc.h"

#include "core/clock.h"
#include "core/fail.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static _Thread_local enum proc_end last_end = PROC_END_OK;
static _Thread_local int inherit_fd = -1;

enum proc_end proc_last_end(void)
{
    return last_end;
}

void proc_inherit(int fd)
{
    inherit_fd = fd;
}

/* What the C library says for the errors that are the machine's fault (programs print
 * strerror() or av_strerror(), which is strerror_r()). */
static const char *const env_texts[] = {
    "No space left on device", /* ENOSPC */
    "Disk quota exceeded",     /* EDQUOT */
    "Read-only file system",   /* EROFS */
    "Permission denied",       /* EACCES */
    "Operation not permitted", /* EPERM */
    "Input/output error",      /* EIO */
    "File too large",          /* EFBIG */
    "Too many open files",     /* EMFILE, ENFILE */
    "Cannot allocate memory",  /* ENOMEM */
};

/* Where in text an env_texts entry is, or NULL. */
static const char *env_text_in(const char *text)
{
    for (size_t i = 0; i < sizeof env_texts / sizeof env_texts[0]; i++) {
        const char *at = strstr(text, env_texts[i]);

        if (at != NULL)
            return at;
    }
    return NULL;
}

bool proc_env_text(const char *text)
{
    return text != NULL && env_text_in(text) != NULL;
}

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

/* The line of s that names a fault of the machine, else its last non-empty line; at most 200
 * bytes, in buf. */
static const char *telling_line(const char *s, char *buf, size_t size)
{
    const char *env = env_text_in(s);
    size_t n, start;

    if (env != NULL) {
        start = (size_t)(env - s);
        n = start + strcspn(env, "\r\n");
    } else {
        n = strlen(s);
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
            n--;
        start = n;
    }
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

/* What the child needs, prepared before the fork (the child may not allocate). */
struct spawn {
    const char *const *argv;
    const char *cwd;
    pid_t parent;
    int out, err, status; /* the pipes' write ends: stdout, stderr, exec's errno */
    int keep;             /* the inherited descriptor, or -1 */
};

/* Reports errno through the status pipe and ends the child. */
static _Noreturn void child_fail(const struct spawn *s)
{
    int e = errno;
    ssize_t w = write(s->status, &e, sizeof e);

    (void)w;
    _exit(127);
}

/* The child between fork and exec: async-signal-safe calls only. */
static _Noreturn void child(const struct spawn *s)
{
    struct sigaction dfl;
    sigset_t none;
    int in, fds[3];

    setpgid(0, 0);
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP and libc's own */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
        child_fail(s);
    if (getppid() != s->parent)
        _exit(127); /* the parent died before the prctl: nobody is waiting */
    /* Copied above 2 first, so no stream is overwritten before it is copied. */
    if ((in = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
        (fds[0] = fcntl(in, F_DUPFD_CLOEXEC, 3)) == -1 ||
        (fds[1] = fcntl(s->out, F_DUPFD_CLOEXEC, 3)) == -1 ||
        (fds[2] = fcntl(s->err, F_DUPFD_CLOEXEC, 3)) == -1)
        child_fail(s);
    for (int i = 0; i < 3; i++)
        if (dup2(fds[i], i) == -1)
            child_fail(s);
    if (s->keep >= 0 && fcntl(s->keep, F_SETFD, 0) == -1)
        child_fail(s);
    if (s->cwd != NULL && chdir(s->cwd) == -1)
        child_fail(s);
    execve(s->argv[0], (char *const *)(void *)s->argv, environ);
    child_fail(s);
}

/* Starts the child; returns its pid, or -1 with errno (the child's when it could not start).
 * Closes s->status, the status pipe's write end; status_read is its read end. */
static pid_t start(struct spawn *s, int status_read)
{
    pid_t pid;
    int e = 0;
    ssize_t n;

    s->parent = getpid();
    pid = fork();
    if (pid == 0)
        child(s);
    e = errno;
    close(s->status);
    if (pid == -1) {
        errno = e;
        return -1;
    }
    setpgid(pid, pid); /* here too, so the group exists before anyone signals it */
    do
        n = read(status_read, &e, sizeof e);
    while (n == -1 && errno == EINTR);
    if (n == (ssize_t)sizeof e) {
        while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
            ;
        errno = e;
        return -1;
    }
    return pid;
}

/* Whether the child has ended, leaving it a zombie (its pid and group id stay taken). */
static bool ended(pid_t pid)
{
    siginfo_t si;

    memset(&si, 0, sizeof si);
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

int proc_run(const char *const *argv, const char *cwd, int64_t deadline_ms, struct proc_result *r,
             char **cause)
{
    struct proc_result scratch;
    struct capture *out = xcalloc(1, sizeof *out), *err = xcalloc(1, sizeof *err);
    struct spawn sp = {.argv = argv, .cwd = cwd, .keep = inherit_fd};
    int po[2] = {-1, -1}, pe[2] = {-1, -1}, ps[2] = {-1, -1}, pidfd = -1, ws = 0;
    bool open_out, open_err, exited = false;
    const char *name = base_name(argv[0]);
    char line[256];
    pid_t pid;

    if (r == NULL)
        r = &scratch;
    memset(r, 0, sizeof *r);
    r->status = -1;
    r->end = PROC_END_ENV;
    err->tail = true;
    if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1 || pipe2(ps, O_CLOEXEC) == -1) {
        *cause = xasprintf("%s: cannot make a pipe: %s", name, strerror(errno));
        goto fail_early;
    }
    sp.out = po[1];
    sp.err = pe[1];
    sp.status = ps[1];
    pid = start(&sp, ps[0]);
    ps[1] = -1; /* closed by start() */
    close(po[1]);
    close(pe[1]);
    po[1] = pe[1] = -1;
    if (pid == -1) {
        *cause = xasprintf("%s: cannot start: %s", name, strerror(errno));
        goto fail_early;
    }
    close(ps[0]);
    ps[0] = -1;
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
        if (!exited && (ip < 0 || p[ip].revents != 0) && ended(pid)) {
            kill(-pid, SIGKILL); /* whatever it left in its group goes with it */
            exited = true;
        }
    }
    if (!exited)
        kill(-pid, SIGKILL);
    while (waitpid(pid, &ws, 0) == -1 && errno == EINTR)
        ;
    if (pidfd >= 0)
        close(pidfd);
    r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    r->out = xstrdup(out->buf);
    r->err = xstrdup(err->buf);
    close(po[0]);
    close(pe[0]);
    free(out);
    free(err);
    if (r->timed_out) {
        r->end = PROC_END_TIMEOUT;
        *cause = xasprintf("%s was killed at its time limit", name);
    } else if (WIFSIGNALED(ws)) {
        r->end = PROC_END_ENV;
        const char *what = sigdescr_np(WTERMSIG(ws));

        *cause = xasprintf("%s was killed by signal %d (%s)", name, WTERMSIG(ws),
                           what != NULL ? what : "unknown");
    } else if (r->status != 0) {
        r->end = proc_env_text(r->err) ? PROC_END_ENV : PROC_END_FAILED;
        *cause = xasprintf("%s failed (exit %d): %s", name, r->status,
                           telling_line(r->err, line, sizeof line));
    } else {
        r->end = PROC_END_OK;
    }
    last_end = r->end;
    if (r == &scratch)
        proc_result_clear(r);
    return last_end == PROC_END_OK ? 0 : -1;

fail_early:
    for (int i = 0; i < 2; i++) {
        if (po[i] != -1)
            close(po[i]);
        if (pe[i] != -1)
            close(pe[i]);
        if (ps[i] != -1)
            close(ps[i]);
    }
    free(out);
    free(err);
    last_end = PROC_END_ENV;
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

void proc_args_add(const char **argv, int *n, int max, ...)
{
    va_list ap;
    const char *a;

    va_start(ap, max);
    while ((a = va_arg(ap, const char *)) != NULL) {
        if (*n >= max - 1)
            fail("proc: an argument vector of more than %d entries", max);
        argv[(*n)++] = a;
    }
    va_end(ap);
    argv[*n] = NULL;
}

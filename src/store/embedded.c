/*
 * embedded.c - the private redis-server; see embedded.h for the sharing rules. Main thread
 * only.
 */
#include "store/embedded.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"
#include "core/log.h"
#include "core/paths.h"
#include "store/rlink.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct embedded {
    struct redis_addr addr;
    char *data_dir;
    pid_t pid;
    bool started;
    int stop_timeout_ms;
    struct rlink_options opt;
    /* A named link held for the whole life of this struct: from before the start/stop lock
     * is let go until the release decision, it tells any other process that we use the
     * server, so nobody stops it between our start-up and our first real link. */
    struct rlink *hold;
};

enum probe { PROBE_DOWN, PROBE_LOADING, PROBE_READY };

char *embedded_client_name(const char *what, char *buf, size_t size)
{
    snprintf(buf, size, "newsroom:%d:%s", (int)getpid(), what);
    return buf;
}

/* Takes the start/stop lock of the data directory. Returns the descriptor or -1. */
static int lock_dir(const char *data_dir, char **cause)
{
    char *path = xasprintf("%s/redis.lock", data_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd == -1) {
        *cause = xasprintf("cannot open %s: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    while (flock(fd, LOCK_EX) == -1) {
        if (errno != EINTR) {
            *cause = xasprintf("cannot lock %s: %s", path, strerror(errno));
            close(fd);
            free(path);
            return -1;
        }
    }
    free(path);
    return fd;
}

static void unlock_dir(int fd)
{
    if (fd != -1) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

/* A link to the socket, named for this process. */
static struct rlink *named_link(const struct embedded *e, const char *what, bool quiet)
{
    struct rlink_options o = e->opt;
    char name[64];

    o.client_name = embedded_client_name(what, name, sizeof name);
    o.quiet = quiet;
    return rlink_new(&e->addr, &o);
}

/* Whether a server answers on the socket, and whether it is still loading its data (it
 * answers -LOADING until the append-only file is read, which takes a while when it is big). */
static enum probe probe(const struct embedded *e)
{
    struct rlink *l = named_link(e, "probe", true);
    int64_t us;
    char *cause = NULL;
    enum probe p = PROBE_READY;

    if (rlink_ping(l, &us, &cause) == -1)
        p = rlink_connected(l) && strncmp(cause, "LOADING", 7) == 0 ? PROBE_LOADING : PROBE_DOWN;
    free(cause);
    rlink_free(l);
    return p;
}

/* The state letter of a process from /proc/<pid>/stat ('R', 'S', 'Z', ...), or 0 when there
 * is no such process. A zombie ('Z') has exited: its parent has just not reaped it yet, which
 * an init that does not reap orphans may never do. */
static char proc_state(pid_t pid)
{
    char path[64], buf[512];
    FILE *f;
    char *close_paren;
    size_t n;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    close_paren = strrchr(buf, ')');
    return close_paren != NULL && close_paren[1] == ' ' ? close_paren[2] : 0;
}

static bool alive(pid_t pid)
{
    char st = pid > 0 ? proc_state(pid) : 0;

    return st != 0 && st != 'Z' && st != 'X';
}

/* Whether pid is a live redis-server (by its command name, so a reused pid does not count). */
static bool is_redis_server(pid_t pid)
{
    char path[64], comm[64] = "";
    FILE *f;

    if (!alive(pid))
        return false;
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return false;
    if (fgets(comm, sizeof comm, f) == NULL)
        comm[0] = '\0';
    fclose(f);
    return strncmp(comm, "redis-server", 12) == 0;
}

static pid_t read_pidfile(const char *data_dir)
{
    char *path = xasprintf("%s/redis.pid", data_dir);
    FILE *f = fopen(path, "r");
    int pid = 0;

    free(path);
    if (f == NULL)
        return 0;
    if (fscanf(f, "%d", &pid) != 1)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}

/* The last lines of redis.log, for an error message. Free the result. */
static char *log_tail(const char *data_dir)
{
    char *path = xasprintf("%s/redis.log", data_dir);
    FILE *f = fopen(path, "r");
    char buf[4096];
    size_t n = 0;
    long size;

    free(path);
    if (f == NULL)
        return xstrdup("(no redis.log)");
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    /* Keep the last three lines. */
    {
        int lines = 0;
        char *p = buf + n;

        while (p > buf && lines < 3) {
            p--;
            if (*p == '\n')
                lines++;
        }
        if (*p == '\n')
            p++;
        return xstrdup(p);
    }
}

static pid_t spawn(const char *binary, const char *data_dir, const char *sock, char **cause)
{
    char *pidfile = xasprintf("%s/redis.pid", data_dir);
    char *logfile = xasprintf("%s/redis.log", data_dir);
    const char *argv[] = {binary,   "--port",           "0",     "--unixsocket",
                          sock,     "--unixsocketperm", "700",   "--dir",
                          data_dir, "--appendonly",     "yes",   "--save",
                          "",       "--daemonize",      "no",    "--pidfile",
                          pidfile,  "--logfile",        logfile, NULL};
    pid_t pid = fork();

    if (pid == -1) {
        *cause = xasprintf("cannot fork to start %s: %s", binary, strerror(errno));
        free(pidfile);
        free(logfile);
        return -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);

        /* Its own session: a Ctrl-C at the terminal reaches Newsroom, which stops the server
         * in order, and never the server directly. */
        setsid();
        if (devnull != -1) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execv(binary, (char *const *)(void *)argv);
        _exit(127);
    }
    free(pidfile);
    free(logfile);
    return pid;
}

/* Waits, up to the start timeout (counted afresh while the server is loading its data), for
 * the server to be ready. pid is our child when we started it, else 0. Returns 0, or -1 with
 * *cause. */
static int await_ready(struct embedded *e, pid_t child, const char *binary, int timeout_ms,
                       char **cause)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;

    for (;;) {
        int status;
        enum probe p;

        if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
            char *tail = log_tail(e->data_dir);

            if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                *cause = xasprintf("could not run %s", binary);
            else
                *cause = xasprintf("%s exited at start-up; its log says: %s", binary, tail);
            free(tail);
            return -1;
        }
        p = probe(e);
        if (p == PROBE_READY)
            return 0;
        if (p == PROBE_LOADING)
            deadline = clock_mono_ms() + timeout_ms; /* progress: keep waiting */
        if (clock_mono_ms() >= deadline) {
            char *tail = log_tail(e->data_dir);

            *cause = xasprintf("%s did not answer on %s within %d ms; its log says: %s", binary,
                               e->addr.path, timeout_ms, tail);
            free(tail);
            return -1;
        }
        /* Polling the socket is how we await readiness: redis-server has no other signal. */
        clock_sleep_ms(10, NULL);
    }
}

struct embedded *embedded_start(const struct config *c, const char *data_dir,
                                struct redis_addr *addr, bool *config_error, char **cause)
{
    struct embedded *e;
    char *sock = xasprintf("%s/redis.sock", data_dir);
    char *binary = NULL;
    int lockfd = -1;
    enum probe p;
    pid_t other;

    *config_error = false;
    if (strlen(sock) > REDIS_SOCKET_PATH_MAX) {
        *cause = xasprintf("the data directory %s is too long for a Unix socket path (%zu "
                           "bytes, at most %d); set [general] data_dir or NEWSROOM_DATA_DIR "
                           "to a shorter path",
                           data_dir, strlen(sock), REDIS_SOCKET_PATH_MAX);
        *config_error = true;
        free(sock);
        return NULL;
    }
    if (paths_mkdir_p(data_dir, 0700, cause) == -1) {
        *config_error = true;
        free(sock);
        return NULL;
    }
    e = xcalloc(1, sizeof *e);
    e->data_dir = xstrdup(data_dir);
    e->addr.transport = REDIS_UNIX;
    snprintf(e->addr.path, sizeof e->addr.path, "%s", sock);
    rlink_options_from_config(&e->opt, c);
    e->stop_timeout_ms = c->embedded_start_timeout_ms;
    free(sock);

    if ((lockfd = lock_dir(data_dir, cause)) == -1)
        goto fail;
    p = probe(e);
    if (p == PROBE_DOWN && is_redis_server(other = read_pidfile(data_dir))) {
        /* Alive but silent: starting a second server on the same files would be worse. */
        *cause = xasprintf("a redis-server (pid %d) is running for %s but does not answer on "
                           "%s; wait for it or stop it (kill %d)",
                           (int)other, data_dir, e->addr.path, (int)other);
        goto fail;
    }
    if (p != PROBE_DOWN) {
        if (await_ready(e, 0, "redis-server", c->embedded_start_timeout_ms, cause) == -1)
            goto fail;
        e->pid = read_pidfile(data_dir);
        log_info("embedded redis: reusing the server on %s (pid %d)", e->addr.path, (int)e->pid);
    } else {
        binary = paths_which(c->embedded_redis_server);
        if (binary == NULL) {
            *cause = xasprintf("%s was not found on PATH: install the Debian package "
                               "redis-server (apt-get install redis-server), or set REDIS_URL "
                               "to a running server",
                               c->embedded_redis_server);
            *config_error = true;
            goto fail;
        }
        unlink(e->addr.path); /* a stale socket of a server that died */
        e->pid = spawn(binary, data_dir, e->addr.path, cause);
        if (e->pid == -1)
            goto fail;
        e->started = true;
        if (await_ready(e, e->pid, binary, c->embedded_start_timeout_ms, cause) == -1) {
            if (kill(e->pid, 0) == 0) {
                kill(e->pid, SIGTERM);
                waitpid(e->pid, NULL, 0);
            }
            goto fail;
        }
        log_info("embedded redis: started %s (pid %d) on %s", binary, (int)e->pid, e->addr.path);
    }
    e->hold = named_link(e, "hold", false);
    if (rlink_ensure(e->hold, cause) == -1)
        goto fail;
    unlock_dir(lockfd);
    free(binary);
    *addr = e->addr;
    return e;

fail:
    unlock_dir(lockfd);
    free(binary);
    rlink_free(e->hold);
    free(e->data_dir);
    free(e);
    return NULL;
}

/* Whether a client name from CLIENT LIST belongs to another live Newsroom process. */
static bool other_user(const char *name, size_t len)
{
    int pid;

    if (len < 10 || strncmp(name, "newsroom:", 9) != 0)
        return false;
    pid = atoi(name + 9);
    if (pid <= 0 || pid == (int)getpid())
        return false;
    return alive((pid_t)pid);
}

/* Counts other live Newsroom processes connected; -1 when the server does not answer. */
static int count_others(struct rlink *l)
{
    char *cause = NULL;
    redisReply *r = rlink_command(l, &cause, "CLIENT LIST");
    int n = 0;

    if (r == NULL) {
        free(cause);
        return -1;
    }
    for (const char *p = r->type == REDIS_REPLY_STRING ? r->str : ""; (p = strstr(p, " name="));) {
        size_t len;

        p += 6;
        len = strcspn(p, " \n");
        if (other_user(p, len))
            n++;
        p += len;
    }
    freeReplyObject(r);
    return n;
}

static bool process_gone(pid_t pid, bool child)
{
    int status;

    if (pid <= 0)
        return true;
    if (child && waitpid(pid, &status, WNOHANG) == pid)
        return true;
    return !alive(pid);
}

void embedded_release(struct embedded *e)
{
    char *cause = NULL;
    int lockfd;
    struct rlink *l;
    int others;

    if (e == NULL)
        return;
    lockfd = lock_dir(e->data_dir, &cause);
    free(cause);
    cause = NULL;
    l = named_link(e, "stop", true);
    others = count_others(l);
    if (!e->started)
        e->pid = read_pidfile(e->data_dir); /* fresh: the pid we would wait for */
    if (others == 0) {
        int64_t deadline = clock_mono_ms() + e->stop_timeout_ms;
        redisReply *r;

        log_info("embedded redis: last user gone, stopping the server (pid %d)", (int)e->pid);
        /* SHUTDOWN flushes the append-only file; the server closes the link as it exits. */
        r = rlink_command(l, &cause, "SHUTDOWN");
        if (r != NULL)
            freeReplyObject(r);
        free(cause);
        while (!process_gone(e->pid, e->started)) {
            if (clock_mono_ms() >= deadline) {
                log_warn("embedded redis: pid %d still running after SHUTDOWN; sending SIGTERM",
                         (int)e->pid);
                kill(e->pid, SIGTERM);
                if (e->started)
                    waitpid(e->pid, NULL, 0);
                break;
            }
            /* Awaiting the exit of a process that is not always our child: poll it. */
            clock_sleep_ms(10, NULL);
        }
    } else if (others > 0) {
        log_info("embedded redis: %d other Newsroom process(es) still connected; leaving the "
                 "server running",
                 others);
    }
    rlink_free(l);
    rlink_free(e->hold);
    unlock_dir(lockfd);
    free(e->data_dir);
    free(e);
}

bool embedded_started_here(const struct embedded *e)
{
    return e->started;
}

pid_t embedded_pid(const struct embedded *e)
{
    return e->pid;
}

/*
 * redis_server.c - a private redis-server owned by one test; see testenv.h.
 */
#include "testenv.h"

#include "core/clock.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int answers(const char *sock)
{
    struct timeval tv = {.tv_sec = 1, .tv_usec = 0};
    redisContext *c = redisConnectUnixWithTimeout(sock, tv);
    redisReply *r;
    int ok = 0;

    if (c == NULL)
        return 0;
    if (!c->err) {
        r = redisCommand(c, "PING");
        /* NOAUTH also proves the server is up. */
        ok = r != NULL;
        if (r != NULL)
            freeReplyObject(r);
    }
    redisFree(c);
    return ok;
}

int test_redis_start(struct test_redis *s, const char *dir, const char *const *extra)
{
    const char *argv[64];
    char logfile[300];
    int n = 0;
    int64_t deadline;

    snprintf(s->dir, sizeof s->dir, "%s", dir);
    snprintf(s->sock, sizeof s->sock, "%s/test-redis.sock", dir);
    snprintf(logfile, sizeof logfile, "%s/test-redis.log", dir);
    s->extra = extra;
    argv[n++] = "redis-server";
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--unixsocket";
    argv[n++] = s->sock;
    argv[n++] = "--dir";
    argv[n++] = s->dir;
    argv[n++] = "--save";
    argv[n++] = "";
    argv[n++] = "--appendonly";
    argv[n++] = "no";
    argv[n++] = "--logfile";
    argv[n++] = logfile;
    for (int i = 0; extra != NULL && extra[i] != NULL && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;

    s->pid = fork();
    if (s->pid == -1) {
        perror("test: fork");
        return -1;
    }
    if (s->pid == 0) {
        int devnull = open("/dev/null", O_RDWR);

        /* Dies with the test, even when a sanitizer or a timeout ends the test abruptly. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        /* Not the test's stdout/stderr: ctest waits for every holder of those pipes. */
        dup2(devnull, 1);
        dup2(devnull, 2);
        execvp("redis-server", (char *const *)(void *)argv);
        perror("test: exec redis-server");
        _exit(127);
    }
    deadline = clock_mono_ms() + 10000;
    while (!answers(s->sock)) {
        int status;

        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            fprintf(stderr, "test: redis-server exited at start (see %s)\n", logfile);
            s->pid = 0;
            return -1;
        }
        if (clock_mono_ms() > deadline) {
            fprintf(stderr, "test: redis-server did not answer on %s in 10 s\n", s->sock);
            test_redis_stop(s);
            return -1;
        }
        clock_sleep_ms(10, NULL); /* awaiting readiness: redis-server has no other signal */
    }
    return 0;
}

void test_redis_stop(struct test_redis *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

int test_redis_restart(struct test_redis *s)
{
    char dir[80];

    snprintf(dir, sizeof dir, "%s", s->dir);
    test_redis_stop(s);
    return test_redis_start(s, dir, s->extra);
}

/*
 * fake_langfuse_server.c - the fake Langfuse of tests/support/fake_langfuse.c as a program of
 * its own, for the shell tests that run the binary against it: `fake_langfuse_server` prints
 * the server's URL on stdout, answers every ingestion request 207 with a success per event,
 * and serves until SIGTERM or SIGINT; then it prints the ingestion requests, the events
 * delivered and any violation of the API on stderr, and exits 1 if there was one. The keys it
 * takes are FAKE_LF_PUBLIC and FAKE_LF_SECRET. Main thread waits in sigwait(); libmicrohttpd
 * answers on its own threads.
 */
#include "fake_langfuse.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    static const enum fake_lf_answer script[] = {FAKE_LF_OK};
    struct fake_langfuse *f;
    sigset_t set;
    char *violations;
    json_t *delivered;
    int sig, rc;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before the server's threads start */
    f = fake_langfuse_start(script, 1);
    printf("%s\n", fake_langfuse_url(f));
    fflush(stdout);
    sigwait(&set, &sig);
    violations = fake_langfuse_violations(f);
    delivered = fake_langfuse_delivered(f);
    fprintf(stderr, "fake_langfuse_server: %d requests, %zu events delivered%s%s\n",
            fake_langfuse_requests(f), json_array_size(delivered),
            violations[0] != '\0' ? "; violations: " : "", violations);
    rc = violations[0] != '\0';
    free(violations);
    json_decref(delivered);
    fake_langfuse_stop(f);
    return rc;
}

/*
 * fake_llm_server.c - the fake LLM API of tests/support/fake_llm.c as a program of its own, for
 * the shell tests that run the binary against it: `fake_llm_server openai|anthropic KEY`
 * prints the server's URL on stdout and serves until SIGTERM or SIGINT, then prints the
 * number of requests and any API violation on stderr and exits 1 if there was one. Main
 * thread waits in sigwait(); libmicrohttpd answers on its own threads.
 */
#include "fake_llm.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    struct fake_llm *f;
    sigset_t set;
    char *violation;
    int sig, rc = 0;

    if (argc != 3 || (strcmp(argv[1], "openai") != 0 && strcmp(argv[1], "anthropic") != 0)) {
        fprintf(stderr, "usage: fake_llm_server openai|anthropic KEY\n");
        return 2;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before the server's threads start */
    f = fake_llm_start(strcmp(argv[1], "openai") == 0 ? FAKE_OPENAI : FAKE_ANTHROPIC, argv[2]);
    printf("%s\n", fake_llm_url(f));
    fflush(stdout);
    sigwait(&set, &sig);
    violation = fake_llm_violation(f);
    fprintf(stderr, "fake_llm_server: %d requests%s%s\n", fake_llm_requests(f),
            violation != NULL ? "; violation: " : "", violation != NULL ? violation : "");
    rc = violation != NULL;
    free(violation);
    fake_llm_stop(f);
    return rc;
}

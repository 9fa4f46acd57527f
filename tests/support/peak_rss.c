/*
 * peak_rss.c - runs a command and says how much memory it held at its peak: `peak_rss CMD
 * ARG...` runs CMD with this process's standard streams, waits for it and writes
 * "peak_rss_kb N" (the child's ru_maxrss from wait4) on standard error, then exits with the
 * command's status. A test that forks itself to run a program would see its own image in the
 * child's ru_maxrss (fork copies it before the exec); this small program in between keeps the
 * figure the command's own. Single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct rusage ru;
    int status;
    pid_t pid;

    if (argc < 2) {
        fprintf(stderr, "usage: peak_rss CMD [ARG...]\n");
        return 2;
    }
    pid = fork();
    if (pid == -1) {
        perror("peak_rss: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror("peak_rss: exec");
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) != pid) {
        perror("peak_rss: wait4");
        return 2;
    }
    fprintf(stderr, "peak_rss_kb %ld\n", ru.ru_maxrss);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

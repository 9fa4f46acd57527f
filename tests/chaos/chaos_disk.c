/*
 * chaos_disk.c - chaos test 5: the package folder full and the publish folder read-only, then
 * fixed. One `newsroom swarm --once --auto-approve` process renders real videos (ffmpeg,
 * espeak-ng) of 5 stories while its packages folder is a tiny tmpfs filled to the last byte
 * and the publish folder a read-only tmpfs (as root; else a file-size limit on the process and
 * a folder without write permission; both are fixed in place: the space freed, the folder
 * remounted writable): the renders and the publications fail for their
 * environment, so the stories wait (parked, no attempt counted, nothing falls back to a
 * storyboard). The packages folder is fixed once a story has waited there and 30 s have
 * passed, the publish folder once a story has waited for it and 30 s more have passed; then
 * every story publishes, with its video. Fails on any story lost, failed or published
 * without its video, on an attempt counted for the disk, a paid call repeated, or no render
 * held back by the probe before it while the folder was full; prints the figures (chaos.h).
 */
#include "chaos.h"
#include "core/clock.h"
#include "core/fail.h"
#include "store/blackboard.h"
#include "store/rlink.h"
#include "testenv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define STORIES  5
#define PHASE_MS 30000
#define FINISH_S 300
#define FSIZE    (64 * 1024) /* without root: the largest file the swarm may write */

static const char conf[] = "[cost]\n"
                           "global_daily_budget = 0\n"
                           "[providers]\n"
                           "sim_latency_fast_ms = 0\n"
                           "sim_latency_balanced_ms = 0\n"
                           "sim_latency_premium_ms = 0\n"
                           "[video]\n"
                           "render_workers = 1\n"
                           "render_timeout_s = 120\n"
                           "[recovery]\n"
                           "retry_base_ms = 2000\n"
                           "retry_max_ms = 4000\n";

struct disk {
    struct chaos *c;
    bool root, mounted[2], passed;
    char packages[160], publish[160];
};

/* The run's state, for the teardown to unmount whatever a failed run left mounted. */
static struct disk run;

/* Fills the folder's file system to its last byte. */
static void fill(const char *dir)
{
    char path[200], buf[4096];
    int fd;

    snprintf(path, sizeof path, "%s/.filler", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    memset(buf, 'x', sizeof buf);
    while (write(fd, buf, sizeof buf) > 0)
        ;
    assert_int_equal(errno, ENOSPC);
    close(fd);
}

static void break_folders(struct disk *d)
{
    mkdir(d->packages, 0755);
    mkdir(d->publish, 0755);
    if (d->root) {
        if (mount("tmpfs", d->packages, "tmpfs", 0, "size=128k") == -1)
            fail_msg("mount tmpfs: %s", strerror(errno));
        d->mounted[0] = true;
        if (mount("tmpfs", d->publish, "tmpfs", MS_RDONLY, "size=16k") == -1)
            fail_msg("mount tmpfs: %s", strerror(errno));
        d->mounted[1] = true;
        fill(d->packages);
    } else {
        assert_int_equal(chmod(d->publish, 0555), 0);
    }
}

/* The stories waiting now (parked) with a reason that names the folder. */
static long waiting_on(struct disk *d, const char *folder)
{
    struct bb *b = bb_new(chaos_link(d->c), "chaos");
    struct bb_item **items;
    size_t n;
    char next[BB_CURSOR_MAX + 1], *cause = NULL;
    long found = 0;

    for (int st = BB_PRODUCING; st <= BB_APPROVED; st++) {
        if (bb_query(b, -1, st, "", 100, &items, &n, next, &cause) != BB_OK) {
            free(cause);
            cause = NULL;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            found += items[i]->parks > 0 && strstr(items[i]->reason, folder) != NULL;
            bb_item_free(items[i]);
        }
        free(items);
    }
    bb_free(b);
    return found;
}

/* Waits until a story waits on folder and at least ms have passed since t0. */
static void await_waiting(struct disk *d, const char *folder, int64_t t0, int64_t ms)
{
    int64_t end = clock_mono_ms() + 180000;

    while (waiting_on(d, folder) == 0 || clock_mono_ms() < t0 + ms) {
        if (clock_mono_ms() > end)
            fail_msg("no story waited on %s within 180 s", folder);
        clock_sleep_ms(100, NULL);
    }
}

/* Checks a story: published with its video (or archived by a decision), no attempt counted
 * for producing or publishing; counts it in *arg when it waited. */
static void check_story(const struct bb_item *it, void *arg)
{
    const json_t *errors = json_object_get(it->body, "errors"), *e;
    const json_t *pkg = json_object_get(it->body, "package");
    size_t i;

    *(long *)arg += it->parks > 0;
    json_array_foreach(errors, i, e)
    {
        const char *step = json_string_value(json_object_get(e, "step"));

        if (step != NULL && (strcmp(step, "produce") == 0 || strcmp(step, "publish") == 0))
            fail_msg("%s: an attempt counted at %s: %s", it->id, step,
                     json_string_value(json_object_get(e, "error")));
    }
    if (it->status == BB_PUBLISHED_S) {
        char path[300];
        struct stat sb;

        if (strcmp(json_string_value(json_object_get(pkg, "kind")), "video") != 0)
            fail_msg("%s was published without its video", it->id);
        snprintf(path, sizeof path, "%s/%s/video.mp4", run.publish, it->id);
        if (stat(path, &sb) != 0 || sb.st_size == 0)
            fail_msg("%s: no %s", it->id, path);
    } else if (it->status != BB_ARCHIVED) {
        fail_msg("%s ended %s: %s", it->id, bb_statuses[it->status].name, it->fail_reason);
    }
}

static void test_disk_full(void **state)
{
    const char *const args[] = {"swarm", "--once", "--auto-approve", NULL};
    struct chaos_figures f;
    char data[128], *cause = NULL;
    int64_t t0;
    long in, parked;

    (void)state;
    run.c = chaos_new(test_env("NEWSROOM_BINARY"), conf, &cause);
    if (run.c == NULL)
        fail_msg("chaos: %s", cause);
    chaos_data_dir(run.c, 0, data, sizeof data);
    mkdir(data, 0755);
    snprintf(run.packages, sizeof run.packages, "%s/packages", data);
    snprintf(run.publish, sizeof run.publish, "%s", chaos_publish_dir(run.c));
    break_folders(&run);
    in = chaos_ingest(run.c, STORIES, 5505, &cause);
    if (in < 0)
        fail_msg("ingest: %s", cause);
    if (chaos_start(run.c, 0, args, run.root ? 0 : FSIZE, &cause) == -1)
        fail_msg("start: %s", cause);
    t0 = clock_mono_ms();
    /* The renders wait for their folder; then it is fixed. */
    await_waiting(&run, run.packages, t0, PHASE_MS);
    if (run.root) {
        /* Fixed in place, as an operator frees space: a render under way keeps its files. */
        char filler[200];

        snprintf(filler, sizeof filler, "%s/.filler", run.packages);
        assert_int_equal(unlink(filler), 0);
        assert_int_equal(mount(NULL, run.packages, NULL, MS_REMOUNT, "size=512m"), 0);
    } else {
        /* A file-size limit cannot be lifted from outside: the process starts again without. */
        chaos_signal(run.c, 0, SIGTERM);
        while (chaos_running(run.c, 0, NULL))
            clock_sleep_ms(50, NULL);
        if (chaos_start(run.c, 0, args, 0, &cause) == -1)
            fail_msg("start: %s", cause);
    }
    /* The publications wait for theirs; then it is fixed too. */
    await_waiting(&run, run.publish, t0, 2 * PHASE_MS);
    if (run.root) {
        assert_int_equal(mount(NULL, run.publish, NULL, MS_REMOUNT, "size=64m"), 0);
    } else {
        assert_int_equal(chmod(run.publish, 0755), 0);
    }
    if (chaos_wait_all(run.c, FINISH_S, &cause) == -1)
        fail_msg("%s", cause);
    if (chaos_figures(run.c, in, &f, &cause) == -1)
        fail_msg("figures: %s", cause);
    chaos_print(stdout, "disk", &f);
    parked = 0;
    if (chaos_each_story(run.c, check_story, &parked, &cause) == -1)
        fail_msg("stories: %s", cause);
    printf("chaos disk: %ld of %ld stories waited for their folders (%s)\n", parked, in,
           run.root ? "tmpfs full, tmpfs read-only" : "file-size limit, no write permission");
    if (f.lost != 0 || f.published_twice != 0 || f.repeated != 0 || f.failed != 0) {
        fail_msg("stories lost %ld, published twice %ld, paid calls repeated %ld, failed %ld",
                 f.lost, f.published_twice, f.repeated, f.failed);
    }
    assert_true(parked >= 2);
    assert_true(f.published > 0);
    /* While the packages folder was full, renders were not started at all: the folder is
     * probed before a render, so a disk freed during one cannot make its failure the story's. */
    {
        char logp[200], *log;

        snprintf(logp, sizeof logp, "%s/newsroom.log", data);
        if ((log = test_read_file(logp)) == NULL)
            fail_msg("cannot read the swarm's log %s", logp);
        if (strstr(log, "video render not started: the folder ") == NULL)
            fail_msg("no render was held back while %s was full (see %s)", run.packages, logp);
        free(log);
    }
    run.passed = true;
}

static int setup(void **state)
{
    (void)state;
    memset(&run, 0, sizeof run);
    run.root = geteuid() == 0;
    return 0;
}

/* Whatever happened: nothing stays mounted, no process runs; a failed run's folder is kept. */
static int teardown(void **state)
{
    (void)state;
    if (run.mounted[0])
        umount2(run.packages, MNT_DETACH);
    if (run.mounted[1])
        umount2(run.publish, MNT_DETACH);
    if (!run.root && run.publish[0] != '\0')
        chmod(run.publish, 0755);
    chaos_free(run.c, !run.passed);
    run.c = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown)};

    return cmocka_run_group_tests(tests, NULL, NULL);
}

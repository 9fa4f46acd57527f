/*
 * test_render_mt.c - renders from several threads at once (video.h, proc.h), as producers of
 * one process do with render_workers above 1: three threads each render a story (the stills
 * path, real espeak-ng and ffmpeg), while a fourth sweeps the packages folder over and over.
 * Every render succeeds with its own package (the sweep never takes a live render's folder),
 * each thread's failure class is its own (a thread whose render fails on purpose sees INPUT
 * while the others see NONE), and no helper process is left. Built in both trees, so
 * ThreadSanitizer checks fork and exec from threads, the thread-local state and the version
 * cache. Threads: the test's main thread starts and joins the workers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agents/storyboard.h"
#include "core/clock.h"
#include "core/config.h"
#include "media/video.h"
#include "testenv.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RENDERS 3

static const char script[] =
    "The city council approved a new budget of 86.6 million dollars on Tuesday. "
    "The plan adds twelve bus routes and repairs three bridges.";

struct job {
    const struct config *cfg;
    const char *pkgdir;
    const json_t *sb;
    char id[32];
    int rc;
    enum video_fail fail;
    char *cause;
    json_t *pkg;
};

static atomic_int renders_left;

static void *render_main(void *arg)
{
    struct job *j = arg;

    j->rc = video_render(j->cfg, j->pkgdir, j->id, j->sb, &j->pkg, &j->cause);
    j->fail = video_last_fail();
    atomic_fetch_sub(&renders_left, 1);
    return NULL;
}

static void *sweep_main(void *arg)
{
    const char *pkgdir = arg;
    long sweeps = 0;

    while (atomic_load(&renders_left) > 0) {
        if (video_sweep(pkgdir) > 0)
            return (void *)-1; /* it removed a live render's folder */
        sweeps++;
        clock_sleep_ms(2, NULL); /* a pause, so the renders get the folder's lock too */
    }
    return (void *)sweeps;
}

static void test_renders_at_once(void **state)
{
    struct config *cfg = config_new();
    struct storyboard_options so;
    struct job jobs[RENDERS + 1];
    pthread_t th[RENDERS + 1], sweeper;
    char *dir = test_tmpdir(), pkgdir[600], tpl[700];
    void *swept;
    json_t *sb;

    (void)state;
    snprintf(pkgdir, sizeof pkgdir, "%s/packages", dir);
    assert_int_equal(mkdir(pkgdir, 0755), 0);
    free(cfg->video_preset);
    cfg->video_preset = strdup("ultrafast");
    snprintf(tpl, sizeof tpl, "%s/config/video.conf", test_env("NEWSROOM_SOURCE_DIR"));
    free(cfg->video_template);
    cfg->video_template = strdup(tpl);
    storyboard_options_default(&so);
    sb = storyboard_build(script, "Council approves a budget", "City Desk", &so);
    atomic_store(&renders_left, RENDERS + 1);
    for (int i = 0; i <= RENDERS; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].cfg = cfg;
        jobs[i].pkgdir = pkgdir;
        jobs[i].sb = sb;
        /* The last one fails on its input: an id that cannot name a folder. */
        snprintf(jobs[i].id, sizeof jobs[i].id, i < RENDERS ? "story-%d" : ".bad-%d", i);
    }
    assert_int_equal(pthread_create(&sweeper, NULL, sweep_main, pkgdir), 0);
    for (int i = 0; i <= RENDERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, render_main, &jobs[i]), 0);
    for (int i = 0; i <= RENDERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(pthread_join(sweeper, &swept), 0);
    assert_true(swept != (void *)-1);
    for (int i = 0; i < RENDERS; i++) {
        char mp4[700];
        struct stat sb_;

        if (jobs[i].rc != 0)
            fail_msg("%s: %s", jobs[i].id, jobs[i].cause);
        assert_int_equal(jobs[i].fail, VIDEO_FAIL_NONE);
        snprintf(mp4, sizeof mp4, "%s/%s/video.mp4", pkgdir, jobs[i].id);
        assert_int_equal(stat(mp4, &sb_), 0);
        assert_true(sb_.st_size > 0);
        json_decref(jobs[i].pkg);
    }
    assert_int_equal(jobs[RENDERS].rc, -1);
    assert_int_equal(jobs[RENDERS].fail, VIDEO_FAIL_INPUT);
    free(jobs[RENDERS].cause);
    /* The packages and nothing else: no temporary folder left. */
    {
        DIR *d = opendir(pkgdir);
        struct dirent *e;
        int n = 0;

        assert_non_null(d);
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                n++;
            else
                assert_true(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0);
        closedir(d);
        assert_int_equal(n, RENDERS);
    }
    json_decref(sb);
    config_free(cfg);
    test_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_renders_at_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * deadset.c - the dead set; see deadset.h. Listing is a blackboard query of status FAILED;
 * requeueing is one script (bb_requeue.lua) with the audit record. Runs on the thread of the
 * blackboard's link.
 */
#include "recovery/deadset.h"

#include "core/fail.h"
#include "store/audit.h"
#include "store/blackboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEADSET_PAGE 200

/* The body fields each step's checkpoints are kept in, in the order of the steps: a requeue
 * at a named step retires these for that step and every later one. The QA verdicts are a
 * history (each new one is added), so they stay. */
static const struct {
    const char *step;
    const char *fields[3];
} step_fields[] = {
    {"analyze", {"analysis", NULL}},
    {"debate", {"consensus", NULL}},
    {"write", {"writing", "script", NULL}},
    {"rewrite", {NULL}},
    {"qa", {NULL}},
    {"produce", {"package", NULL}},
    {"review", {"review", NULL}},
    {"publish", {"publish", NULL}},
};
#define NSTEPS (sizeof step_fields / sizeof step_fields[0])

/* Whether the last QA verdict of body passed. */
static bool qa_passed(const json_t *body)
{
    const json_t *qa = json_object_get(body, "qa");

    return json_is_true(json_object_get(json_array_get(qa, json_array_size(qa) - 1), "passed"));
}

const char *deadset_resume_step(const struct bb_item *it)
{
    const json_t *b = it->body;

    if (it->failed_step[0] != '\0' && bb_step_find(it->failed_step) != NULL)
        return bb_step_find(it->failed_step)->name;
    if (!json_is_object(json_object_get(b, "analysis")))
        return "analyze";
    if (!json_is_true(json_object_get(json_object_get(b, "consensus"), "reached")))
        return "debate";
    if (!json_is_string(json_object_get(json_object_get(b, "script"), "final")))
        return "write";
    if (!qa_passed(b))
        return "qa";
    if (!json_is_object(json_object_get(b, "package")))
        return "produce";
    if (it->decided_by[0] == '\0')
        return "review";
    return "publish";
}

int deadset_list(struct bb *b, size_t limit, struct bb_item ***items, size_t *n, char **cause)
{
    char cursor[BB_CURSOR_MAX + 1] = "";

    *items = NULL;
    *n = 0;
    do {
        struct bb_item **page;
        size_t got, want = limit - *n < DEADSET_PAGE ? limit - *n : DEADSET_PAGE;

        if (bb_query(b, -1, BB_FAILED, cursor, want, &page, &got, cursor, cause) != BB_OK) {
            for (size_t i = 0; i < *n; i++)
                bb_item_free((*items)[i]);
            free(*items);
            *items = NULL;
            *n = 0;
            return BB_ERR;
        }
        *items = xrealloc(*items, (*n + got + 1) * sizeof **items);
        memcpy(*items + *n, page, got * sizeof *page);
        *n += got;
        free(page);
    } while (cursor[0] != '\0' && *n < limit);
    return BB_OK;
}

json_t *deadset_item_json(const struct bb_item *it)
{
    const json_t *errors = json_object_get(it->body, "errors");
    const json_t *title = json_object_get(it->body, "title");

    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:I, s:o}", "id", it->id, "title",
                     json_is_string(title) ? json_string_value(title) : "", "status",
                     it->status >= 0 ? bb_statuses[it->status].name : "?", "step",
                     deadset_resume_step(it), "attempts", it->attempts, "error", it->fail_reason,
                     "failed_ms", (json_int_t)it->updated_ms, "errors",
                     json_is_array(errors) ? json_incref((json_t *)errors) : json_array());
}

/* The patch that retires the checkpoints of step and every later one into "superseded" (a
 * new reference), or NULL when there are none. */
static json_t *retire(const struct bb_item *it, const char *step)
{
    json_t *patch = json_object(), *old = json_deep_copy(json_object_get(it->body, "superseded"));
    bool from = false, any = false;

    if (!json_is_object(old)) {
        json_decref(old);
        old = json_object();
    }
    for (size_t i = 0; i < NSTEPS; i++) {
        from = from || strcmp(step_fields[i].step, step) == 0;
        for (int k = 0; from && step_fields[i].fields[k] != NULL; k++) {
            const char *f = step_fields[i].fields[k];
            const json_t *v = json_object_get(it->body, f);

            if (v == NULL || json_is_null(v))
                continue;
            json_object_set(old, f, (json_t *)v);
            json_object_set_new(patch, f, json_null());
            any = true;
        }
    }
    if (!any) {
        json_decref(patch);
        json_decref(old);
        return NULL;
    }
    json_object_set_new(patch, "superseded", old);
    return patch;
}

int deadset_requeue(struct bb *b, const char *id, const char *step, bool archived,
                    const char **step_out, char **cause)
{
    struct audit_record rec;
    struct bb_item *it = NULL;
    json_t *patch = NULL;
    const char *at;
    char *why;
    int rc;

    if (step != NULL && bb_step_find(step) == NULL) {
        char known[160];

        *cause =
            xasprintf("no step \"%.40s\" (steps: %s)", step, bb_step_names(known, sizeof known));
        return BB_REFUSED;
    }
    rc = bb_read(b, id, &it, cause);
    if (rc != BB_OK) {
        if (rc == BB_NONE)
            *cause = xasprintf("no story %s", id);
        return rc;
    }
    at = step != NULL ? bb_step_find(step)->name : deadset_resume_step(it);
    if (step != NULL)
        patch = retire(it, at);
    bb_item_free(it);
    why = xasprintf("requeued at step %s", at);
    if (audit_record_fill(&rec, "requeue", id, why, cause) == -1) {
        free(why);
        json_decref(patch);
        return BB_ERR;
    }
    rc = bb_requeue(b, id, at, archived, patch, rec.argc, rec.argv, cause);
    audit_record_done(&rec);
    free(why);
    json_decref(patch);
    if (rc == BB_OK && step_out != NULL)
        *step_out = at;
    return rc;
}

int deadset_requeue_all(struct bb *b, const char *step, long *done, long *refused, char **cause)
{
    long ok = 0, no = 0;

    for (;;) {
        struct bb_item **items;
        size_t n;
        long before = ok;

        if (deadset_list(b, DEADSET_PAGE, &items, &n, cause) != BB_OK)
            return BB_ERR;
        for (size_t i = 0; i < n; i++) {
            char *why = NULL;
            int rc = deadset_requeue(b, items[i]->id, step, false, NULL, &why);

            if (rc == BB_OK) {
                ok++;
            } else if (rc == BB_ERR) {
                for (size_t k = i; k < n; k++)
                    bb_item_free(items[k]);
                free(items);
                *cause = why;
                return BB_ERR;
            } else {
                no++;
                free(why);
            }
            bb_item_free(items[i]);
        }
        free(items);
        /* A page that requeued nothing would come back the same: stop there. */
        if (n == 0 || ok == before)
            break;
    }
    if (done != NULL)
        *done = ok;
    if (refused != NULL)
        *refused = no;
    return BB_OK;
}

/*
 * visual_pexels.c - the "pexels" provider (the seed's stock_image_agent): a stock photograph
 * from Pexels' search, credited on screen as Pexels' guidelines ask ("Photo by NAME on Pexels").
 *   GET {base}/v1/search?query=Q&per_page=5&orientation=landscape
 *   Authorization: KEY
 * answered with {"photos": [{"url", "photographer", "photographer_url", "src": {"large2x",
 * "large", "original", ...}, "alt"}], ...}. One search per story (its title's words), a
 * different photograph for each shot it serves. The search is free (priced at $0 in
 * pricing.conf's [media pexels-search]) but goes through the budget like any paid call. The key
 * ([visual] pexels_api_key, PEXELS_API_KEY) only ever travels in the header.
 *
 * Threads: its run's.
 */
#include "media/visual_http.h"
#include "media/visual_int.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/fail.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEXELS_ANSWER_MAX (4u << 20)

struct pexels {
    bool searched;
    json_t *photos; /* the search's photographs (owned) */
    size_t next;
};

static const char *pexels_base(const struct config *c)
{
    return c->pexels_base_url;
}

static char *pexels_unavailable(const struct visual_run *r)
{
    return r->c->pexels_api_key[0] == '\0'
               ? xstrdup("no key ([visual] pexels_api_key, PEXELS_API_KEY)")
               : NULL;
}

/* s escaped for a query string (RFC 3986 unreserved kept, space as %20). A new string. */
static char *query_escape(const char *s)
{
    char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
            *o++ = (char)*p;
        else
            o += sprintf(o, "%%%02X", *p);
    *o = '\0';
    return out;
}

/* The one search of the run. Returns 0, or -1 with *why and *outcome. */
static int search(struct visual_run *r, struct pexels *st, bool *fault, char **why,
                  enum visual_outcome *outcome)
{
    char *words = visual_keywords(r, 4), *q, *url, *auth, id[32];
    const char *headers[3];
    struct vhttp_result res;
    json_t *body, *pic = json_object();
    int64_t t0 = clock_mono_ms();
    int rc = -1;

    st->searched = true;
    *outcome = VISUAL_DECLINED;
    if (*words == '\0') {
        *why = xstrdup("the story's title has no words to search for");
        goto out_words;
    }
    if (visual_reserve(r, "pexels-search", 1, id, why) == -1)
        goto out_words;
    q = query_escape(words);
    url = xasprintf("%s/v1/search?query=%s&per_page=5&orientation=landscape", r->c->pexels_base_url,
                    q);
    auth = xasprintf("Authorization: %s", r->c->pexels_api_key);
    headers[0] = auth;
    headers[1] = "Accept: application/json";
    headers[2] = NULL;
    *outcome = VISUAL_FAILED;
    if (vhttp_request("GET", url, headers, NULL, r->c->visual_request_timeout_ms, PEXELS_ANSWER_MAX,
                      &res, why) == -1) {
        *fault = true;
        visual_release(r, id);
    } else if (res.status != 200) {
        *why = visual_http_error("pexels", &res, r->c->pexels_api_key, fault);
        visual_release(r, id);
        vhttp_result_clear(&res);
    } else {
        visual_commit(r, "pexels-search", 1, id, clock_mono_ms() - t0, pic);
        body = json_loads(res.body, 0, NULL);
        st->photos = json_incref(json_object_get(body, "photos"));
        json_decref(body);
        vhttp_result_clear(&res);
        if (!json_is_array(st->photos)) {
            *why = xstrdup("pexels: the answer holds no \"photos\" array");
        } else {
            rc = 0;
        }
    }
    free(q);
    free(url);
    free(auth);
out_words:
    free(words);
    json_decref(pic);
    return rc;
}

static enum visual_outcome pexels_serve(struct visual_run *r, const struct visual_shot *s,
                                        json_t *pic, bool *fault, char **why)
{
    void **slot = visual_state(r, &visual_pexels);
    struct pexels *st = *slot;
    const json_t *photo, *src;
    const char *img, *name, *page;
    struct image_info info;
    char raw_name[32], *raw;
    enum visual_outcome outcome;
    int rc;

    *fault = false;
    if (strcmp(s->kind, "title_card") != 0 && strcmp(s->kind, "narration") != 0)
        return VISUAL_DECLINED;
    if (st == NULL)
        *slot = st = xcalloc(1, sizeof *st);
    if (!st->searched && search(r, st, fault, why, &outcome) == -1)
        return outcome;
    if (st->photos == NULL || st->next >= json_array_size(st->photos)) {
        if (st->photos != NULL)
            *why = xstrdup("pexels: the search found no more photographs");
        return VISUAL_DECLINED;
    }
    photo = json_array_get(st->photos, st->next++);
    src = json_object_get(photo, "src");
    img = json_string_value(json_object_get(src, "large2x"));
    if (img == NULL)
        img = json_string_value(json_object_get(src, "large"));
    if (img == NULL)
        img = json_string_value(json_object_get(src, "original"));
    name = json_string_value(json_object_get(photo, "photographer"));
    page = json_string_value(json_object_get(photo, "url"));
    if (img == NULL) {
        *why = xstrdup("pexels: a photograph without a picture URL");
        return VISUAL_FAILED;
    }
    visual_shot_file(s, "src", raw_name, sizeof raw_name);
    raw = visual_path(r, raw_name);
    rc = image_fetch(img, &r->lim, false, raw, &info, why);
    if (rc == 0)
        rc = visual_still(r, s, raw, pic, why);
    unlink(raw);
    free(raw);
    if (rc == -1) {
        *fault = info.host_fault;
        return VISUAL_FAILED;
    }
    json_object_set_new(pic, "credit",
                        json_sprintf("Photo by %s on Pexels", name != NULL ? name : "unknown"));
    json_object_set_new(pic, "licence",
                        json_string("Pexels License: free to use; the "
                                    "photographer and Pexels are credited"));
    if (page != NULL)
        json_object_set_new(pic, "origin", json_string(page));
    json_object_set_new(pic, "original", json_sprintf("%dx%d", info.width, info.height));
    return VISUAL_SERVED;
}

static void pexels_close(struct visual_run *r)
{
    struct pexels *st = *visual_state(r, &visual_pexels);

    if (st != NULL)
        json_decref(st->photos);
    free(st);
}

const struct visual_impl visual_pexels = {
    .name = "pexels",
    .source = "stock",
    .label = "stock photo",
    .network = true,
    .base_url = pexels_base,
    .unavailable = pexels_unavailable,
    .serve = pexels_serve,
    .close = pexels_close,
};

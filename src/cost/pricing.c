/*
 * pricing.c - the pricing table: the built-in rows, the INI loader (libinih, counting lines
 * as config.c does so that every error names FILE:LINE) and the exact cost arithmetic; see
 * pricing.h. Built on one thread, then read-only: safe from any thread afterwards.
 */
#include "cost/pricing.h"

#include "core/fail.h"
#include "cost/money.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pricing_task {
    char name[PRICING_NAME_MAX];
    enum llm_tier tier;
};

struct pricing {
    struct pricing_model *models;
    size_t nmodels;
    struct pricing_media *media;
    size_t nmedia;
    struct pricing_task *tasks;
    size_t ntasks;
    char tier_model[LLM_TIER_COUNT][PRICING_NAME_MAX];
};

static const char *const tier_names[LLM_TIER_COUNT] = {
    [LLM_FAST] = "FAST",
    [LLM_BALANCED] = "BALANCED",
    [LLM_PREMIUM] = "PREMIUM",
};

/* The built-in table: keep it equal to config/pricing.conf (test_pricing checks). */
static const struct pricing_task default_tasks[] = {
    {"news_scout", LLM_FAST},          {"content_filter", LLM_FAST},
    {"topic_tagging", LLM_FAST},       {"content_analysis", LLM_BALANCED},
    {"debate_argument", LLM_BALANCED}, {"script_draft", LLM_BALANCED},
    {"script_final", LLM_PREMIUM},     {"quality_assurance", LLM_BALANCED},
    {"qa_escalation", LLM_PREMIUM},    {"script_escalation", LLM_PREMIUM},
    {"stock_image", LLM_FAST},         {"image_generation", LLM_BALANCED},
    {"presenter_video", LLM_PREMIUM},  {"clip_generation", LLM_PREMIUM},
};

static const struct pricing_model default_models[] = {
    {"sim-fast", "sim", LLM_FAST, 1500, 1500},
    {"sim-balanced", "sim", LLM_BALANCED, 15000, 15000},
    {"sim-premium", "sim", LLM_PREMIUM, 60000, 60000},
    {"gpt-4o-mini", "openai", LLM_FAST, 150, 600},
    {"gpt-4o", "openai", LLM_BALANCED, 2500, 10000},
    {"claude-3-5-haiku-latest", "anthropic", LLM_FAST, 800, 4000},
    {"claude-sonnet-4-0", "anthropic", LLM_PREMIUM, 3000, 15000},
};

static const struct pricing_media default_media[] = {
    {"pexels-search", "pexels", "stock_image", PRICING_PER_REQUEST, 0},
    {"gpt-image-1", "openai", "image_generation", PRICING_PER_IMAGE, 63000},
    {"heygen-avatar", "heygen", "presenter_video", PRICING_PER_SECOND, 16500},
    {"gen4_turbo", "runway", "clip_generation", PRICING_PER_SECOND, 50000},
};

static const char *const default_tier_model[LLM_TIER_COUNT] = {
    [LLM_FAST] = "sim-fast",
    [LLM_BALANCED] = "sim-balanced",
    [LLM_PREMIUM] = "sim-premium",
};

static const char *const providers[] = {"sim", "openai", "anthropic"};
static const char *const media_providers[] = {"pexels", "openai", "heygen", "runway", NULL};
static const char *const unit_names[] = {[PRICING_PER_REQUEST] = "request",
                                         [PRICING_PER_IMAGE] = "image",
                                         [PRICING_PER_SECOND] = "second"};

const char *pricing_tier_name(enum llm_tier t)
{
    return (int)t >= 0 && t < LLM_TIER_COUNT ? tier_names[t] : NULL;
}

int pricing_tier_parse(const char *name, enum llm_tier *out)
{
    for (int i = 0; i < LLM_TIER_COUNT; i++)
        if (strcmp(name, tier_names[i]) == 0) {
            *out = (enum llm_tier)i;
            return 0;
        }
    return -1;
}

struct pricing *pricing_default(void)
{
    struct pricing *p = xcalloc(1, sizeof *p);

    p->nmodels = sizeof default_models / sizeof default_models[0];
    p->models = xcalloc(p->nmodels, sizeof *p->models);
    memcpy(p->models, default_models, sizeof default_models);
    p->ntasks = sizeof default_tasks / sizeof default_tasks[0];
    p->tasks = xcalloc(p->ntasks, sizeof *p->tasks);
    memcpy(p->tasks, default_tasks, sizeof default_tasks);
    p->nmedia = sizeof default_media / sizeof default_media[0];
    p->media = xcalloc(p->nmedia, sizeof *p->media);
    memcpy(p->media, default_media, sizeof default_media);
    for (int t = 0; t < LLM_TIER_COUNT; t++)
        snprintf(p->tier_model[t], PRICING_NAME_MAX, "%s", default_tier_model[t]);
    return p;
}

void pricing_free(struct pricing *p)
{
    if (p == NULL)
        return;
    free(p->models);
    free(p->tasks);
    free(p->media);
    free(p);
}

/* What the loader knows about a model beyond its row: which keys were set, and where. */
struct model_seen {
    unsigned set; /* bit per key of model_keys[] */
    int line;     /* first line of the model's section */
};

enum model_key { MK_TIER, MK_PROVIDER, MK_PROMPT, MK_COMPLETION, MK_COUNT };
static const char *const model_keys[MK_COUNT] = {"tier", "provider", "prompt_per_1k",
                                                 "completion_per_1k"};

enum media_key { MD_PROVIDER, MD_TASK, MD_UNIT, MD_PRICE, MD_COUNT };
static const char *const media_keys[MD_COUNT + 1] = {"provider", "task", "unit", "price", NULL};

struct load {
    struct pricing *p;
    struct model_seen *seen;       /* parallel to p->models */
    struct model_seen *media_seen; /* parallel to p->media */
    const char *path;
    FILE *f;
    int line;
    char *error;
    int error_line;
    int tier_line[LLM_TIER_COUNT];
};

static int set_error(struct load *st, char *error)
{
    st->error = error;
    st->error_line = st->line;
    return 0;
}

static int copy_name(struct load *st, char *dst, const char *src, const char *what)
{
    size_t n = strlen(src);

    if (n == 0 || n >= PRICING_NAME_MAX)
        return set_error(st, xasprintf("%s \"%s\" must have 1 to %d characters", what, src,
                                       PRICING_NAME_MAX - 1)) -
               1;
    for (const char *c = src; *c != '\0'; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return set_error(st,
                             xasprintf("%s \"%s\" holds a space or control character", what, src)) -
                   1;
    memcpy(dst, src, n + 1);
    return 0;
}

static int load_tier(struct load *st, const char *name, const char *value)
{
    enum llm_tier t;

    if (pricing_tier_parse(name, &t) == -1)
        return set_error(st,
                         xasprintf("[tiers] \"%s\" is not a tier (FAST, BALANCED, PREMIUM)", name));
    if (st->tier_line[t] != 0)
        return set_error(st, xasprintf("[tiers] %s is set twice", name));
    if (copy_name(st, st->p->tier_model[t], value, "model") == -1)
        return 0;
    st->tier_line[t] = st->line;
    return 1;
}

static int load_task(struct load *st, const char *name, const char *value)
{
    struct pricing *p = st->p;
    struct pricing_task task;

    if (copy_name(st, task.name, name, "task type") == -1)
        return 0;
    if (pricing_tier_parse(value, &task.tier) == -1)
        return set_error(st, xasprintf("[tasks] %s: \"%s\" is not a tier (FAST, BALANCED, "
                                       "PREMIUM)",
                                       name, value));
    for (size_t i = 0; i < p->ntasks; i++)
        if (strcmp(p->tasks[i].name, name) == 0)
            return set_error(st, xasprintf("[tasks] %s is set twice", name));
    p->tasks = xrealloc(p->tasks, (p->ntasks + 1) * sizeof *p->tasks);
    p->tasks[p->ntasks++] = task;
    return 1;
}

static int load_model(struct load *st, const char *model, const char *key, const char *value)
{
    struct pricing *p = st->p;
    struct pricing_model *m = NULL;
    struct model_seen *seen;
    const char *why;
    int k;
    size_t i;

    for (i = 0; i < p->nmodels; i++)
        if (strcmp(p->models[i].name, model) == 0)
            break;
    if (i == p->nmodels) {
        struct pricing_model blank = {0};

        if (copy_name(st, blank.name, model, "model") == -1)
            return 0;
        p->models = xrealloc(p->models, (p->nmodels + 1) * sizeof *p->models);
        st->seen = xrealloc(st->seen, (p->nmodels + 1) * sizeof *st->seen);
        p->models[p->nmodels] = blank;
        st->seen[p->nmodels] = (struct model_seen){0, st->line};
        p->nmodels++;
    }
    m = &p->models[i];
    seen = &st->seen[i];
    for (k = 0; k < MK_COUNT; k++)
        if (strcmp(key, model_keys[k]) == 0)
            break;
    if (k == MK_COUNT)
        return set_error(st, xasprintf("unknown key \"%s\" in [model %s] (tier, provider, "
                                       "prompt_per_1k, completion_per_1k)",
                                       key, model));
    if (seen->set & (1u << k))
        return set_error(st, xasprintf("[model %s] %s is set twice", model, key));
    switch ((enum model_key)k) {
    case MK_TIER:
        if (pricing_tier_parse(value, &m->tier) == -1)
            return set_error(st, xasprintf("[model %s] tier: \"%s\" is not a tier (FAST, "
                                           "BALANCED, PREMIUM)",
                                           model, value));
        break;
    case MK_PROVIDER: {
        size_t n;

        for (n = 0; n < sizeof providers / sizeof providers[0]; n++)
            if (strcmp(value, providers[n]) == 0)
                break;
        if (n == sizeof providers / sizeof providers[0])
            return set_error(st, xasprintf("[model %s] provider: \"%s\" is not a provider (sim, "
                                           "openai, anthropic)",
                                           model, value));
        snprintf(m->provider, sizeof m->provider, "%s", value);
        break;
    }
    case MK_PROMPT:
    case MK_COMPLETION: {
        int64_t v = 0;

        if (money_parse(value, &v, &why) == -1 || v > PRICING_PRICE_MAX)
            return set_error(
                st, xasprintf("[model %s] %s: \"%s\" %s", model, key, value,
                              v > PRICING_PRICE_MAX ? "is above $1000 per 1K tokens" : why));
        if (k == MK_PROMPT)
            m->prompt_per_1k = v;
        else
            m->completion_per_1k = v;
        break;
    }
    case MK_COUNT:
        break;
    }
    seen->set |= 1u << k;
    return 1;
}

/* The index of value in the NULL-ended words, or -1. */
static int word_index(const char *const *words, const char *value)
{
    for (int i = 0; words[i] != NULL; i++)
        if (strcmp(words[i], value) == 0)
            return i;
    return -1;
}

static int load_media(struct load *st, const char *name, const char *key, const char *value)
{
    struct pricing *p = st->p;
    struct pricing_media *m;
    struct model_seen *seen;
    const char *why;
    int k, u;
    size_t i;

    for (i = 0; i < p->nmedia; i++)
        if (strcmp(p->media[i].name, name) == 0)
            break;
    if (i == p->nmedia) {
        struct pricing_media blank = {0};

        if (copy_name(st, blank.name, name, "media") == -1)
            return 0;
        p->media = xrealloc(p->media, (p->nmedia + 1) * sizeof *p->media);
        st->media_seen = xrealloc(st->media_seen, (p->nmedia + 1) * sizeof *st->media_seen);
        p->media[p->nmedia] = blank;
        st->media_seen[p->nmedia] = (struct model_seen){0, st->line};
        p->nmedia++;
    }
    m = &p->media[i];
    seen = &st->media_seen[i];
    k = word_index(media_keys, key);
    if (k == -1)
        return set_error(st, xasprintf("unknown key \"%s\" in [media %s] (provider, task, unit, "
                                       "price)",
                                       key, name));
    if (seen->set & (1u << k))
        return set_error(st, xasprintf("[media %s] %s is set twice", name, key));
    switch ((enum media_key)k) {
    case MD_PROVIDER:
        if (word_index(media_providers, value) == -1)
            return set_error(st, xasprintf("[media %s] provider: \"%s\" is not a provider (pexels, "
                                           "openai, heygen, runway)",
                                           name, value));
        snprintf(m->provider, sizeof m->provider, "%s", value);
        break;
    case MD_TASK:
        if (copy_name(st, m->task, value, "task type") == -1)
            return 0;
        break;
    case MD_UNIT:
        for (u = 0; u < (int)(sizeof unit_names / sizeof unit_names[0]); u++)
            if (strcmp(value, unit_names[u]) == 0)
                break;
        if (u == (int)(sizeof unit_names / sizeof unit_names[0]))
            return set_error(st, xasprintf("[media %s] unit: \"%s\" is not a unit (request, "
                                           "image, second)",
                                           name, value));
        m->unit = (enum pricing_unit)u;
        break;
    case MD_PRICE: {
        int64_t v = 0;

        if (money_parse(value, &v, &why) == -1 || v > PRICING_PRICE_MAX)
            return set_error(st, xasprintf("[media %s] price: \"%s\" %s", name, value,
                                           v > PRICING_PRICE_MAX ? "is above $1000 a unit" : why));
        m->price = v;
        break;
    }
    case MD_COUNT:
        break;
    }
    seen->set |= 1u << k;
    return 1;
}

static int pricing_ini_line(void *user, const char *section, const char *name, const char *value)
{
    struct load *st = user;

    if (st->error != NULL)
        return 0;
    if (strcmp(section, "tiers") == 0)
        return load_tier(st, name, value);
    if (strcmp(section, "tasks") == 0)
        return load_task(st, name, value);
    if (strncmp(section, "model ", 6) == 0)
        return load_model(st, section + 6, name, value);
    if (strncmp(section, "media ", 6) == 0)
        return load_media(st, section + 6, name, value);
    if (*section == '\0')
        return set_error(st, xasprintf("key \"%s\" is outside any section ([tiers], [tasks], "
                                       "[model NAME], [media NAME])",
                                       name));
    return set_error(st, xasprintf("unknown section [%s] ([tiers], [tasks], [model NAME], "
                                   "[media NAME])",
                                   section));
}

static char *pricing_ini_read(char *buf, int size, void *stream)
{
    struct load *st = stream;
    char *r = fgets(buf, size, st->f);

    if (r != NULL)
        st->line++;
    return r;
}

/* Checks that the table is whole once the file has been read. Returns NULL or an error. */
static char *check_whole(struct load *st)
{
    struct pricing *p = st->p;

    for (size_t i = 0; i < p->nmodels; i++) {
        for (int k = 0; k < MK_COUNT; k++)
            if (!(st->seen[i].set & (1u << k)))
                return xasprintf("%s:%d: [model %s] has no %s", st->path, st->seen[i].line,
                                 p->models[i].name, model_keys[k]);
    }
    for (int t = 0; t < LLM_TIER_COUNT; t++) {
        const struct pricing_model *m;

        if (st->tier_line[t] == 0)
            return xasprintf("%s: [tiers] does not name the model of %s", st->path, tier_names[t]);
        m = pricing_model(p, p->tier_model[t]);
        if (m == NULL)
            return xasprintf("%s:%d: [tiers] %s: model \"%s\" has no [model %s] section", st->path,
                             st->tier_line[t], tier_names[t], p->tier_model[t], p->tier_model[t]);
        if (m->tier != (enum llm_tier)t)
            return xasprintf("%s:%d: [tiers] %s: model \"%s\" is of tier %s", st->path,
                             st->tier_line[t], tier_names[t], m->name, tier_names[m->tier]);
    }
    if (p->ntasks == 0)
        return xasprintf("%s: [tasks] names no task type", st->path);
    for (size_t i = 0; i < p->nmedia; i++) {
        enum llm_tier t;

        for (int k = 0; k < MD_COUNT; k++)
            if (!(st->media_seen[i].set & (1u << k)))
                return xasprintf("%s:%d: [media %s] has no %s", st->path, st->media_seen[i].line,
                                 p->media[i].name, media_keys[k]);
        if (pricing_task_tier(p, p->media[i].task, &t) == -1)
            return xasprintf("%s:%d: [media %s] task: \"%s\" is not in [tasks]", st->path,
                             st->media_seen[i].line, p->media[i].name, p->media[i].task);
    }
    return NULL;
}

struct pricing *pricing_load(const char *path, char **cause)
{
    struct load st = {0};
    FILE *f = fopen(path, "r");
    int rc;

    if (f == NULL) {
        *cause = xasprintf("%s: cannot read the pricing file: %s", path, strerror(errno));
        return NULL;
    }
    st.p = xcalloc(1, sizeof *st.p);
    st.path = path;
    st.f = f;
    rc = ini_parse_stream(pricing_ini_read, &st, pricing_ini_line, &st);
    fclose(f);
    if (rc != 0) {
        if (rc == -2)
            *cause = xasprintf("%s: out of memory while parsing", path);
        else if (st.error != NULL)
            *cause = xasprintf("%s:%d: %s", path, st.error_line, st.error);
        else
            *cause = xasprintf("%s:%d: not a [section] header or a \"key = value\" line", path, rc);
        goto fail;
    }
    *cause = check_whole(&st);
    if (*cause != NULL)
        goto fail;
    free(st.seen);
    free(st.media_seen);
    return st.p;
fail:
    free(st.error);
    free(st.seen);
    free(st.media_seen);
    pricing_free(st.p);
    return NULL;
}

struct pricing *pricing_open(const char *path, char **cause)
{
    if (path == NULL || *path == '\0')
        return pricing_default();
    return pricing_load(path, cause);
}

int pricing_task_tier(const struct pricing *p, const char *task_type, enum llm_tier *out)
{
    for (size_t i = 0; i < p->ntasks; i++)
        if (strcmp(p->tasks[i].name, task_type) == 0) {
            *out = p->tasks[i].tier;
            return 0;
        }
    return -1;
}

const struct pricing_model *pricing_model(const struct pricing *p, const char *name)
{
    for (size_t i = 0; i < p->nmodels; i++)
        if (strcmp(p->models[i].name, name) == 0)
            return &p->models[i];
    return NULL;
}

const struct pricing_model *pricing_tier_model(const struct pricing *p, enum llm_tier t)
{
    return pricing_model(p, p->tier_model[t]);
}

const struct pricing_media *pricing_media(const struct pricing *p, const char *name)
{
    for (size_t i = 0; i < p->nmedia; i++)
        if (strcmp(p->media[i].name, name) == 0)
            return &p->media[i];
    return NULL;
}

const char *pricing_unit_name(enum pricing_unit u)
{
    return (int)u >= 0 && u <= PRICING_PER_SECOND ? unit_names[u] : "?";
}

int64_t pricing_media_cost(const struct pricing_media *m, double units)
{
    /* Thousandths of a unit, rounded up: a 4.2001 s clip is priced as 4.201 s. */
    int64_t milli = units > 0 ? (int64_t)(units * 1000.0 + 0.999) : 0;

    return (milli * m->price + 999) / 1000;
}

size_t pricing_task_count(const struct pricing *p)
{
    return p->ntasks;
}

bool pricing_equal(const struct pricing *a, const struct pricing *b)
{
    if (a->nmodels != b->nmodels || a->ntasks != b->ntasks || a->nmedia != b->nmedia)
        return false;
    for (size_t i = 0; i < a->nmedia; i++) {
        const struct pricing_media *x = &a->media[i], *y = pricing_media(b, x->name);

        if (y == NULL || strcmp(x->provider, y->provider) != 0 || strcmp(x->task, y->task) != 0 ||
            x->unit != y->unit || x->price != y->price)
            return false;
    }
    for (int t = 0; t < LLM_TIER_COUNT; t++)
        if (strcmp(a->tier_model[t], b->tier_model[t]) != 0)
            return false;
    for (size_t i = 0; i < a->ntasks; i++) {
        enum llm_tier t;

        if (pricing_task_tier(b, a->tasks[i].name, &t) == -1 || t != a->tasks[i].tier)
            return false;
    }
    for (size_t i = 0; i < a->nmodels; i++) {
        const struct pricing_model *x = &a->models[i], *y = pricing_model(b, x->name);

        if (y == NULL || strcmp(x->provider, y->provider) != 0 || x->tier != y->tier ||
            x->prompt_per_1k != y->prompt_per_1k || x->completion_per_1k != y->completion_per_1k)
            return false;
    }
    return true;
}

int64_t pricing_cost(const struct pricing_model *m, int prompt_tokens, int completion_tokens)
{
    int64_t pt = prompt_tokens > 0 ? prompt_tokens : 0;
    int64_t ct = completion_tokens > 0 ? completion_tokens : 0;
    int64_t milli = pt * m->prompt_per_1k + ct * m->completion_per_1k;

    return (milli + 999) / 1000;
}

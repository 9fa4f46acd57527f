/*
 * robots.c - robots.txt rules; see robots.h. Groups are gathered line by line: consecutive
 * User-agent lines open a group, the rules after them belong to it, and a later User-agent
 * line after rules opens the next. The group kept is the one whose agent token is ours (a
 * case-insensitive prefix match of "newsroom"), else "*"; several groups for the same agent
 * are merged, as the RFC says.
 *
 * Threads: any; no state outside the struct.
 */
#include "feeds/robots.h"

#include "core/fail.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROBOTS_READ_MAX  (500u * 1024)
#define ROBOTS_RULES_MAX 2000
#define ROBOTS_DELAY_MAX 60000

struct rule {
    char *pattern;
    bool allow;
};

struct robots {
    struct rule *rules;
    size_t nrules;
    int delay_ms;
    bool deny_all;
};

/* One group while parsing: which agents it names and its rules. */
struct group {
    bool ours, star;
    struct rule *rules;
    size_t nrules;
    int delay_ms;
};

static void group_clear(struct group *g)
{
    for (size_t i = 0; i < g->nrules; i++)
        free(g->rules[i].pattern);
    free(g->rules);
    memset(g, 0, sizeof *g);
}

/* Moves g's rules onto r (the chosen agent's merged group). */
static void take_rules(struct robots *r, struct group *g)
{
    for (size_t i = 0; i < g->nrules && r->nrules < ROBOTS_RULES_MAX; i++) {
        r->rules = xrealloc(r->rules, (r->nrules + 1) * sizeof *r->rules);
        r->rules[r->nrules++] = g->rules[i];
        g->rules[i].pattern = NULL;
    }
    if (g->delay_ms > r->delay_ms)
        r->delay_ms = g->delay_ms;
}

/* Percent-escapes with upper-case hex, so "%2f" and "%2F" compare equal. In place. */
static void upper_escapes(char *s)
{
    for (; *s != '\0'; s++)
        if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
            s[1] = (char)toupper((unsigned char)s[1]);
            s[2] = (char)toupper((unsigned char)s[2]);
        }
}

/* "key: value" in line (comment dropped), trimmed in place; false when it is none. */
static bool key_value(char *line, char **key, char **value)
{
    char *colon, *end;

    line[strcspn(line, "#")] = '\0';
    colon = strchr(line, ':');
    if (colon == NULL)
        return false;
    *colon = '\0';
    *key = line;
    while (**key == ' ' || **key == '\t')
        (*key)++;
    end = colon;
    while (end > *key && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    *value = colon + 1;
    while (**value == ' ' || **value == '\t')
        (*value)++;
    end = *value + strlen(*value);
    while (end > *value && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return true;
}

struct robots *robots_parse(const char *txt, size_t len)
{
    struct robots *ours = xcalloc(1, sizeof *ours), *star = xcalloc(1, sizeof *star);
    struct group g = {0};
    bool in_rules = false, any_ours = false;
    char *copy;
    size_t n = len < ROBOTS_READ_MAX ? len : ROBOTS_READ_MAX;

    copy = xmalloc(n + 1);
    memcpy(copy, txt, n);
    copy[n] = '\0';
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *key, *value;

        if (!key_value(line, &key, &value))
            continue;
        if (strcasecmp(key, "user-agent") == 0) {
            if (in_rules) {
                /* A new group: the last one's rules go where they belong. */
                if (g.ours)
                    take_rules(ours, &g);
                else if (g.star)
                    take_rules(star, &g);
                group_clear(&g);
                in_rules = false;
            }
            if (strcmp(value, "*") == 0)
                g.star = true;
            else if (*value != '\0' && strncasecmp(ROBOTS_AGENT, value, strlen(value)) == 0 &&
                     strlen(value) <= strlen(ROBOTS_AGENT))
                g.ours = any_ours = true;
        } else if (strcasecmp(key, "allow") == 0 || strcasecmp(key, "disallow") == 0) {
            in_rules = true;
            /* An empty Disallow allows everything: no rule. */
            if (*value == '\0' || g.nrules >= ROBOTS_RULES_MAX)
                continue;
            g.rules = xrealloc(g.rules, (g.nrules + 1) * sizeof *g.rules);
            g.rules[g.nrules].pattern = xstrdup(value);
            upper_escapes(g.rules[g.nrules].pattern);
            g.rules[g.nrules++].allow = tolower((unsigned char)*key) == 'a';
        } else if (strcasecmp(key, "crawl-delay") == 0) {
            double d = strtod(value, NULL);

            in_rules = true;
            if (d > 0)
                g.delay_ms = d * 1000 > ROBOTS_DELAY_MAX ? ROBOTS_DELAY_MAX : (int)(d * 1000);
        }
    }
    if (g.ours)
        take_rules(ours, &g);
    else if (g.star)
        take_rules(star, &g);
    group_clear(&g);
    free(copy);
    if (any_ours) {
        robots_free(star);
        return ours;
    }
    robots_free(ours);
    return star;
}

struct robots *robots_allow_all(void)
{
    return xcalloc(1, sizeof(struct robots));
}

struct robots *robots_deny_all(void)
{
    struct robots *r = xcalloc(1, sizeof *r);

    r->deny_all = true;
    return r;
}

void robots_free(struct robots *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nrules; i++)
        free(r->rules[i].pattern);
    free(r->rules);
    free(r);
}

/* Whether pattern (with '*' for any run and a final '$' for the end) matches the start of
 * path. Iterative with one backtrack point per '*', so hostile patterns stay linear-ish. */
static bool matches(const char *pat, const char *path)
{
    const char *star = NULL, *resume = NULL;

    for (;;) {
        if (*pat == '$' && pat[1] == '\0')
            return *path == '\0';
        if (*pat == '\0')
            return true;
        if (*pat == '*') {
            star = ++pat;
            resume = path;
            continue;
        }
        if (*path != '\0' && *pat == *path) {
            pat++;
            path++;
            continue;
        }
        if (star == NULL || *resume == '\0')
            return false;
        pat = star;
        path = ++resume;
    }
}

bool robots_allowed(const struct robots *r, const char *path)
{
    char *p = xstrdup(path);
    size_t best = 0;
    bool allow = true, any = false;

    if (r->deny_all) {
        free(p);
        return false;
    }
    upper_escapes(p);
    for (size_t i = 0; i < r->nrules; i++) {
        size_t n = strlen(r->rules[i].pattern);

        if (!matches(r->rules[i].pattern, p))
            continue;
        /* The longest rule wins; on a tie, Allow. */
        if (!any || n > best || (n == best && r->rules[i].allow)) {
            best = n;
            allow = r->rules[i].allow;
            any = true;
        }
    }
    free(p);
    return allow;
}

int robots_crawl_delay_ms(const struct robots *r)
{
    return r->delay_ms;
}

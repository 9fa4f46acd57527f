/*
 * news_item.c - news items, their JSON codec and content hash; see news_item.h.
 */
#include "store/news_item.h"

#include "core/fail.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void news_item_free(struct news_item *item)
{
    if (item == NULL)
        return;
    free(item->title);
    free(item->content);
    free(item->source);
    free(item->url);
    for (size_t i = 0; i < item->ntopics; i++)
        free(item->topics[i]);
    free(item->topics);
    free(item);
}

/* How one character folds: 0 kept, 1 punctuation (dropped), 2 white space. Beyond ASCII it
 * knows the spaces and punctuation news copy is full of: no-break and typographic spaces,
 * dashes, curly quotes, ellipses, guillemets, inverted marks and the ideographic space and
 * full stops. Letters outside ASCII keep their case. */
static int fold_class(unsigned int cp)
{
    if (cp < 0x80)
        return isspace((int)cp) ? 2 : ispunct((int)cp) ? 1 : 0;
    if (cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F || cp == 0x205F ||
        cp == 0x3000)
        return 2;
    if (cp == 0xA1 || cp == 0xAB || cp == 0xB7 || cp == 0xBB || cp == 0xBF ||
        (cp >= 0x2010 && cp <= 0x2027) || (cp >= 0x2030 && cp <= 0x205E) ||
        (cp >= 0x3001 && cp <= 0x3003) || (cp >= 0x300C && cp <= 0x300F))
        return 1;
    return 0;
}

/* The code point and length of the UTF-8 sequence at p (text is valid UTF-8: jansson checked
 * it; a stray byte is taken as one character of its own). */
static size_t next_char(const unsigned char *p, unsigned int *cp)
{
    size_t n = p[0] < 0x80 ? 1 : p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 1;

    *cp = n == 1 ? p[0] : p[0] & (0xFF >> (n + 1));
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *cp = p[0];
            return 1;
        }
        *cp = (*cp << 6) | (p[i] & 0x3F);
    }
    return n;
}

char *news_normalise(const char *text)
{
    size_t n = strlen(text);
    char *out = xmalloc(n + 1);

    news_normalise_into(text, n, out);
    return out;
}

size_t news_normalise_into(const char *text, size_t n, char *out)
{
    char *o = out;
    bool space = false;
    const unsigned char *end = (const unsigned char *)text + n;

    for (const unsigned char *p = (const unsigned char *)text; p < end && *p != '\0';) {
        unsigned int cp;
        size_t len = next_char(p, &cp);
        int cls = fold_class(cp);

        if (cls == 2) {
            space = o != out;
        } else if (cls == 0) {
            /* Punctuation (cls 1) folds away: "U.S." and "US" are one story. */
            if (space)
                *o++ = ' ';
            space = false;
            if (cp < 0x80) {
                *o++ = (char)tolower((int)cp);
            } else {
                if (p + len > end)
                    break; /* a character cut by n is left out */
                memcpy(o, p, len);
                o += len;
            }
        }
        p += len;
    }
    *o = '\0';
    return (size_t)(o - out);
}

/* Hex SHA-256 of n bytes into out (65 bytes). */
static void sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) != 1)
        fail("SHA-256 is not available from libcrypto");
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[64] = '\0';
}

void news_content_hash(const char *title, const char *content, char out[65])
{
    char *t = news_normalise(title), *c = news_normalise(content);
    char *joined = xasprintf("%s\n%s", t, c);

    sha256_hex(joined, strlen(joined), out);
    free(joined);
    free(t);
    free(c);
}

bool news_item_has_identity(const struct news_item *it)
{
    return !(strncmp(it->id, "n-", 2) == 0 && strlen(it->id) == 18 &&
             strncmp(it->id + 2, it->hash, 16) == 0);
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

int news_parse_time(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, n = 0;
    int64_t frac = 0, scale = 1000, offset_min = 0;
    const char *p;

    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return -1;
    p = s + 10;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8)
        return -1;
    p += 1 + 8;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p)) {
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
            p++;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;

        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || oh > 23 || om > 59)
            return -1;
        offset_min = (oh * 60 + om) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    *ms =
        ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - offset_min * 60) * 1000 +
        frac;
    return 0;
}

/* Why text may not be stored, or NULL: control characters (C0 but tab and, where
 * allow_newline, newline; DEL; C1 as UTF-8). jansson has already checked the UTF-8. */
static const char *bad_chars(const char *text, bool allow_newline)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p == '\t' || (allow_newline && *p == '\n'))
            continue;
        if (*p < 0x20 || *p == 0x7f)
            return "contains a control character";
        if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return "contains a C1 control character";
    }
    return NULL;
}

static const char *type_name(const json_t *v)
{
    static const char *const names[] = {"an object", "an array", "a string", "an integer",
                                        "a number",  "true",     "false",    "null"};

    return names[json_typeof(v)];
}

/* Copies a string field. Returns 0, or -1 with *cause. */
static int take_text(const json_t *obj, const char *field, bool required, size_t max,
                     bool allow_newline, char **out, char **cause)
{
    const json_t *v = json_object_get(obj, field);
    const char *why;

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required) {
            *cause = xasprintf("%s: missing", field);
            return -1;
        }
        *out = xstrdup("");
        return 0;
    }
    if (!json_is_string(v)) {
        *cause = xasprintf("%s: expected a string, got %s", field, type_name(v));
        return -1;
    }
    if (json_string_length(v) != strlen(json_string_value(v))) {
        *cause = xasprintf("%s: contains a NUL character", field);
        return -1;
    }
    if (required && json_string_length(v) == 0) {
        *cause = xasprintf("%s: empty", field);
        return -1;
    }
    if (json_string_length(v) > max) {
        *cause = xasprintf("%s: %zu bytes, more than the %zu allowed", field, json_string_length(v),
                           max);
        return -1;
    }
    if ((why = bad_chars(json_string_value(v), allow_newline)) != NULL) {
        *cause = xasprintf("%s: %s", field, why);
        return -1;
    }
    *out = xstrdup(json_string_value(v));
    return 0;
}

static bool valid_id(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > NEWS_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && strchr("._:-", id[i]) == NULL)
            return false;
    return true;
}

struct news_item *news_item_from_json(const json_t *obj, char **cause)
{
    static const char *const known[] = {"id",        "title",  "content", "source",  "url",
                                        "published", "topics", "hash",    "breaking"};
    struct news_item *it;
    const char *key;
    const json_t *v;

    if (!json_is_object(obj)) {
        *cause = xasprintf("expected a JSON object, got %s", type_name(obj));
        return NULL;
    }
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i = 0;

        while (i < sizeof known / sizeof known[0] && strcmp(key, known[i]) != 0)
            i++;
        if (i == sizeof known / sizeof known[0]) {
            *cause = xasprintf("unknown field \"%.64s\"", key);
            return NULL;
        }
    }
    it = xcalloc(1, sizeof *it);
    if (take_text(obj, "title", true, NEWS_TITLE_MAX, false, &it->title, cause) == -1 ||
        take_text(obj, "content", true, NEWS_CONTENT_MAX, true, &it->content, cause) == -1 ||
        take_text(obj, "source", true, NEWS_TITLE_MAX, false, &it->source, cause) == -1 ||
        take_text(obj, "url", false, NEWS_URL_MAX, false, &it->url, cause) == -1)
        goto fail;

    v = json_object_get(obj, "published");
    if (json_is_string(v)) {
        if (news_parse_time(json_string_value(v), &it->published_ms) == -1) {
            *cause = xasprintf("published: \"%.40s\" is not an RFC 3339 time such as "
                               "2026-11-28T10:00:00Z",
                               json_string_value(v));
            goto fail;
        }
    } else if (json_is_integer(v)) {
        it->published_ms = json_integer_value(v);
    } else if (v != NULL && !json_is_null(v)) {
        *cause = xasprintf("published: expected a time string or integer milliseconds, got %s",
                           type_name(v));
        goto fail;
    }

    v = json_object_get(obj, "topics");
    if (v != NULL && !json_is_null(v)) {
        size_t i;
        const json_t *t;

        if (!json_is_array(v)) {
            *cause = xasprintf("topics: expected an array of strings, got %s", type_name(v));
            goto fail;
        }
        if (json_array_size(v) > NEWS_TOPICS_MAX) {
            *cause = xasprintf("topics: more than %d", NEWS_TOPICS_MAX);
            goto fail;
        }
        it->topics = xcalloc(json_array_size(v) + 1, sizeof *it->topics);
        json_array_foreach(v, i, t)
        {
            if (!json_is_string(t) || json_string_length(t) == 0 || json_string_length(t) > 100 ||
                bad_chars(json_string_value(t), false) != NULL) {
                *cause = xasprintf("topics[%zu]: expected a short string without control "
                                   "characters",
                                   i);
                goto fail;
            }
            it->topics[it->ntopics++] = xstrdup(json_string_value(t));
        }
    }

    v = json_object_get(obj, "breaking");
    if (v != NULL && !json_is_null(v) && !json_is_boolean(v)) {
        *cause = xasprintf("breaking: expected true or false, got %s", type_name(v));
        goto fail;
    }
    it->breaking = json_is_true(v);

    news_content_hash(it->title, it->content, it->hash);
    v = json_object_get(obj, "hash");
    if (v != NULL && (!json_is_string(v) || strcmp(json_string_value(v), it->hash) != 0)) {
        *cause = xasprintf("hash: does not match the content (it is computed, leave it out)");
        goto fail;
    }
    v = json_object_get(obj, "id");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v) || !valid_id(json_string_value(v))) {
            *cause =
                xasprintf("id: expected 1 to %d characters of A-Z a-z 0-9 . _ : -", NEWS_ID_MAX);
            goto fail;
        }
        snprintf(it->id, sizeof it->id, "%s", json_string_value(v));
    } else if (it->url[0] != '\0') {
        /* The link is the source's identity: the same URL is the same story. */
        char url_hash[65];

        sha256_hex(it->url, strlen(it->url), url_hash);
        snprintf(it->id, sizeof it->id, "u-%.16s", url_hash);
    } else {
        /* Stable: the same story always gets the same id. */
        snprintf(it->id, sizeof it->id, "n-%.16s", it->hash);
    }
    return it;
fail:
    news_item_free(it);
    return NULL;
}

json_t *news_item_to_json(const struct news_item *it)
{
    json_t *o = json_object(), *topics = json_array();

    for (size_t i = 0; i < it->ntopics; i++)
        json_array_append_new(topics, json_string(it->topics[i]));
    json_object_set_new(o, "id", json_string(it->id));
    json_object_set_new(o, "title", json_string(it->title));
    json_object_set_new(o, "content", json_string(it->content));
    json_object_set_new(o, "source", json_string(it->source));
    json_object_set_new(o, "url", json_string(it->url));
    json_object_set_new(o, "published", json_integer(it->published_ms));
    json_object_set_new(o, "topics", topics);
    json_object_set_new(o, "hash", json_string(it->hash));
    if (it->breaking)
        json_object_set_new(o, "breaking", json_true());
    return o;
}

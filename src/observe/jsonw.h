/*
 * jsonw.h - a small JSON writer for the trace events the agents' tracing calls make (trace.c):
 * keys and values appended to one growing buffer, commas and string escapes done on the way,
 * no tree of values built and walked again, as jansson's json_pack() and json_dumps() do. An
 * event is written once and sent, so the text is all it needs; this keeps the cost of a tracing
 * call on an agent's thread to a copy of its strings.
 *
 * Strings come out as valid UTF-8 JSON whatever goes in: '"', '\\' and control characters are
 * escaped, and a byte that does not belong to a valid UTF-8 character becomes U+FFFD (jansson
 * refuses such a string, which lost the whole event). Numbers: integers exactly; a double in
 * the shortest of "%.6f" with its trailing zeros dropped (or "%.1f": 1.0) when that reads back
 * as the same double (the micro-dollars of a cost, a confidence such as 0.8), else "%.17g"
 * (what jansson writes); NaN and infinities, which JSON cannot hold, as null.
 *
 * Threads: a writer belongs to the thread that uses it; nothing is shared.
 */
#ifndef NEWSROOM_JSONW_H
#define NEWSROOM_JSONW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Long strings a writer lists where they are (see long_min), at most. */
#define JSONW_LONGS 8

/* Where a string's text is: the offset of the first byte after its opening quote, and of its
 * closing quote. */
struct jsonw_span {
    size_t from, to;
};

struct jsonw {
    char *p;         /* the text so far (not NUL-terminated) */
    size_t len, cap; /* bytes used and available */
    size_t longest;  /* the longest string written, in bytes of text between its quotes */
    /* Strings longer than long_min bytes of text between their quotes: how many (nlong, which
     * may pass JSONW_LONGS), and where the first JSONW_LONGS are, in the order written. So a
     * reader that cuts long strings (trace_store_cut_at) need not scan for them. */
    size_t long_min, nlong;
    struct jsonw_span longs[JSONW_LONGS];
    bool heap;  /* p was allocated by the writer (else it is the caller's buffer) */
    bool comma; /* the next key or array value needs a comma first */
};

/* A writer that starts in the caller's buffer (buf of size bytes; NULL, 0: none) and moves to
 * the heap when the text outgrows it; it lists no long string until long_min is set. Release
 * with jsonw_free(). */
void jsonw_init(struct jsonw *w, char *buf, size_t size);
/* Frees what the writer allocated (never the caller's buffer). */
void jsonw_free(struct jsonw *w);

/* '{' or '[' (c), and the matching close. */
void jsonw_open(struct jsonw *w, char c);
void jsonw_close(struct jsonw *w, char c);
/* An object key, escaped like a string (jsonw_key_any); the value follows. jsonw_key() below
 * writes a key that is a string literal (all of trace.c's) as it is, without the scan for bytes
 * to escape: inlined, the literal's length folds to a constant, and a literal key is plain
 * ASCII (checked when assertions are on). Most strings an event has are such keys, and the scan
 * cost more than the copy. A key made at run time, or a build without optimisation, takes the
 * escaping path. */
void jsonw_key_any(struct jsonw *w, const char *key);
/* A key of n bytes, printable ASCII without '"' or '\\', written as it is. */
void jsonw_key_plain(struct jsonw *w, const char *key, size_t n);
/* A key of nkey bytes and a string value of n bytes, both printable ASCII without '"' or '\\'
 * (ids, times and event types this program makes), written as they are; jsonw_kplain() below
 * for a literal key. */
void jsonw_kplain_n(struct jsonw *w, const char *key, size_t nkey, const char *s, size_t n);
/* Values (in an array, or after jsonw_key). A NULL string is written as "". */
void jsonw_str(struct jsonw *w, const char *s);
void jsonw_strn(struct jsonw *w, const char *s, size_t n);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_num(struct jsonw *w, double v);
void jsonw_bool(struct jsonw *w, bool v);
/* A jansson value (borrowed), written as json_dumps() would, in its keys' order. */
void jsonw_value(struct jsonw *w, const json_t *v);
/* Text that is already JSON, as one value. */
void jsonw_raw(struct jsonw *w, const char *text, size_t n);

static inline void jsonw_key(struct jsonw *w, const char *key)
{
    if (__builtin_constant_p(__builtin_strlen(key)))
        jsonw_key_plain(w, key, __builtin_strlen(key));
    else
        jsonw_key_any(w, key);
}

static inline void jsonw_kplain(struct jsonw *w, const char *key, const char *s, size_t n)
{
    jsonw_kplain_n(w, key, __builtin_strlen(key), s, n);
}

/* A key and its value in one call. */
static inline void jsonw_kstr(struct jsonw *w, const char *key, const char *s)
{
    jsonw_key(w, key);
    jsonw_str(w, s);
}

static inline void jsonw_kint(struct jsonw *w, const char *key, int64_t v)
{
    jsonw_key(w, key);
    jsonw_int(w, v);
}

static inline void jsonw_knum(struct jsonw *w, const char *key, double v)
{
    jsonw_key(w, key);
    jsonw_num(w, v);
}

static inline void jsonw_kbool(struct jsonw *w, const char *key, bool v)
{
    jsonw_key(w, key);
    jsonw_bool(w, v);
}

#endif

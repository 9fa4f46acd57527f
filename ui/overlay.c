/*
 * overlay.c - help, prompts, questions, choices and the story detail over the panes (see
 * overlay.h). Keys go through keys.h's tables; the text of the help comes from the key table
 * itself, so it lists every key there is.
 *
 * Threads: the UI thread's.
 */
#include "ui/overlay.h"

#include "core/fail.h"
#include "ui/keys.h"
#include "ui/theme.h"
#include "ui/widgets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void drop_body(struct overlay *o)
{
    free(o->body);
    free(o->lines);
    free(o->lens);
    o->body = NULL;
    o->lines = o->lens = NULL;
    o->nlines = o->top = o->wrap_cols = 0;
}

void overlay_close(struct overlay *o)
{
    drop_body(o);
    memset(o, 0, sizeof *o);
}

static void open_kind(struct overlay *o, int kind, const char *title, const char *text)
{
    overlay_close(o);
    o->kind = kind;
    snprintf(o->title, sizeof o->title, "%s", title);
    snprintf(o->text, sizeof o->text, "%s", text != NULL ? text : "");
}

void overlay_help(struct overlay *o, bool read_only)
{
    size_t cap = 8192, len = 0;
    char labels[128];

    open_kind(o, OV_HELP, "Keys (any other key closes)", NULL);
    o->read_only = read_only;
    o->body = xmalloc(cap);
    o->body[0] = '\0';
    for (int a = ACT_NONE + 1; a < ACT_COUNT; a++) {
        int n;

        if (read_only && keys_acting(a))
            continue;
        keys_labels(a, " ", labels, sizeof labels);
        if (labels[0] == '\0')
            continue;
        n = snprintf(o->body + len, cap - len, "%-22s %s\n", labels, keys_actions[a].help);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
    snprintf(o->body + len, cap - len,
             "\nIn a prompt: Enter accepts, Esc cancels, Left/Right/Home/End move,\n"
             "Backspace/Delete erase, Ctrl-U clears, Ctrl-W erases a word.\n"
             "%s",
             read_only ? "\nRead-only: approving, rejecting, emergencies, halts and budget\n"
                         "decisions are turned off in this control room.\n"
                       : "");
}

void overlay_prompt(struct overlay *o, const char *title, const char *text, const char *initial)
{
    open_kind(o, OV_PROMPT, title, text);
    edit_set(&o->edit, initial != NULL ? initial : "");
}

void overlay_confirm(struct overlay *o, const char *title, const char *text)
{
    open_kind(o, OV_CONFIRM, title, text);
}

void overlay_choice(struct overlay *o, const char *title, const char *text, const char *opt1,
                    const char *opt2)
{
    open_kind(o, OV_CHOICE, title, text);
    snprintf(o->option1, sizeof o->option1, "%s", opt1);
    snprintf(o->option2, sizeof o->option2, "%s", opt2);
}

void overlay_detail(struct overlay *o, const char *id, const char *title)
{
    char t[ROOM_TEXT_MAX + 32];

    snprintf(t, sizeof t, "%s%s%s", id, title != NULL && title[0] ? ": " : "",
             title != NULL ? title : "");
    open_kind(o, OV_DETAIL, t, NULL);
    snprintf(o->detail_id, sizeof o->detail_id, "%s", id);
    o->loading = true;
    o->body = xstrdup("loading...");
}

void overlay_detail_set(struct overlay *o, const struct room_detail *d)
{
    if (o->kind != OV_DETAIL || strcmp(o->detail_id, d->id) != 0)
        return;
    drop_body(o);
    o->loading = false;
    if (d->error != NULL)
        o->body = xasprintf("Could not fetch the story: %s", d->error);
    else if (!d->found)
        o->body = xasprintf("No story %s (archived away or never there).", d->id);
    else
        o->body = xasprintf("%s\n\nHistory\n%s", d->text != NULL ? d->text : "",
                            d->history != NULL && d->history[0] ? d->history : "-");
}

/* Wraps body into lines of at most cols columns (at a space when one is near). */
static void wrap(struct overlay *o, int cols)
{
    const char *s = o->body;
    int cap = 64;

    free(o->lines);
    free(o->lens);
    o->lines = xmalloc((size_t)cap * sizeof *o->lines);
    o->lens = xmalloc((size_t)cap * sizeof *o->lens);
    o->nlines = 0;
    o->wrap_cols = cols;
    if (cols < 1 || s == NULL)
        return;
    for (const char *p = s; *p != '\0' || p == s;) {
        const char *nl = strchr(p, '\n');
        size_t linelen = nl != NULL ? (size_t)(nl - p) : strlen(p);
        char *line = xmalloc(linelen + 1);
        size_t off = 0;

        memcpy(line, p, linelen);
        line[linelen] = '\0';
        do {
            size_t n = ui_cut(line + off, cols, false);

            if (n == 0 && off < linelen) { /* a character wider than the window */
                n = 1;
                while (off + n < linelen && ((unsigned char)line[off + n] & 0xc0) == 0x80)
                    n++;
            }
            if (off + n < linelen) {
                size_t sp = n;

                while (sp > n / 2 && line[off + sp] != ' ')
                    sp--;
                if (sp > n / 2)
                    n = sp + 1;
            }
            if (o->nlines == cap) {
                cap *= 2;
                o->lines = xrealloc(o->lines, (size_t)cap * sizeof *o->lines);
                o->lens = xrealloc(o->lens, (size_t)cap * sizeof *o->lens);
            }
            o->lines[o->nlines] = (int)(p - s) + (int)off;
            o->lens[o->nlines] = (int)n;
            o->nlines++;
            off += n;
        } while (off < linelen);
        free(line);
        if (nl == NULL)
            break;
        p = nl + 1;
    }
}

static int view_rows(int win_rows)
{
    return win_rows - 4 > 1 ? win_rows - 4 : 1;
}

static void scroll_by(struct overlay *o, int delta, int rows)
{
    int max = o->nlines - rows;

    o->top += delta;
    if (o->top > max)
        o->top = max;
    if (o->top < 0)
        o->top = 0;
}

int overlay_key(struct overlay *o, int key)
{
    int rows = view_rows(LINES > 0 ? overlay_rect(o, LINES, COLS).h : 24), op, a;

    switch (o->kind) {
    case OV_PROMPT:
        op = keys_edit_op(key);
        if (op == EDIT_CANCEL)
            return OVR_CANCEL;
        if (op == EDIT_SUBMIT)
            return OVR_SUBMIT;
        if (edit_apply(&o->edit, op, key))
            o->hint[0] = '\0';
        return OVR_NONE;
    case OV_CONFIRM:
        a = keys_confirm(key);
        return a == 1 ? OVR_SUBMIT : a == 0 ? OVR_CANCEL : OVR_NONE;
    case OV_CHOICE:
        a = keys_choice(key);
        return a == CHOICE_ALERT    ? OVR_CHOICE1
               : a == CHOICE_HALT   ? OVR_CHOICE2
               : a == CHOICE_CANCEL ? OVR_CANCEL
                                    : OVR_NONE;
    case OV_HELP:
    case OV_DETAIL:
        switch (keys_action(key)) {
        case ACT_UP:
            scroll_by(o, -1, rows);
            return OVR_NONE;
        case ACT_DOWN:
            scroll_by(o, 1, rows);
            return OVR_NONE;
        case ACT_PGUP:
            scroll_by(o, -rows, rows);
            return OVR_NONE;
        case ACT_PGDN:
            scroll_by(o, rows, rows);
            return OVR_NONE;
        case ACT_HOME:
            o->top = 0;
            return OVR_NONE;
        case ACT_END:
            scroll_by(o, o->nlines, rows);
            return OVR_NONE;
        case ACT_BACK:
        case ACT_QUIT:
            return OVR_CANCEL;
        default:
            return o->kind == OV_HELP ? OVR_CANCEL : OVR_PASS;
        }
    default:
        return OVR_CANCEL;
    }
}

struct rect overlay_rect(const struct overlay *o, int rows, int cols)
{
    struct rect r;

    if (o->kind == OV_HELP || o->kind == OV_DETAIL) {
        r.h = rows - 2;
        r.w = cols - 4;
        if (o->kind == OV_HELP && r.w > 90)
            r.w = 90;
    } else {
        r.h = o->kind == OV_CHOICE ? 9 : 8;
        r.w = cols - 4 < 76 ? cols - 4 : 76;
    }
    if (r.h < 3)
        r.h = rows > 0 ? rows : 1;
    if (r.w < 10)
        r.w = cols > 0 ? cols : 1;
    r.y = (rows - r.h) / 2;
    r.x = (cols - r.w) / 2;
    return r;
}

/* The prompt's text with the cursor visible: the part that fits, scrolled to the cursor. */
static void draw_prompt_line(struct overlay *o, WINDOW *w, const struct term *t, int y)
{
    int cols = getmaxx(w) - 4, before = 0;
    const char *s = o->edit.buf;
    size_t start = 0;
    char head[EDIT_MAX + 1];

    if (cols < 2)
        return;
    memcpy(head, s, o->edit.cur);
    head[o->edit.cur] = '\0';
    before = ui_width(head);
    /* Scroll so the cursor stays in view. */
    while (before >= cols - 1 && start < o->edit.cur) {
        size_t n = 1;

        while (start + n < o->edit.cur && ((unsigned char)s[start + n] & 0xc0) == 0x80)
            n++;
        memcpy(head, s + start, n);
        head[n] = '\0';
        before -= ui_width(head);
        start += n;
    }
    wattrset(w, theme_attr(THEME_SELECTED));
    mvwhline(w, y, 2, ' ', cols);
    ui_text(w, t, y, 2, s + start, cols, THEME_SELECTED);
    /* The cursor: the cell under it in reverse. */
    mvwchgat(w, y, 2 + before, 1, A_REVERSE, 0, NULL);
    wattrset(w, A_NORMAL);
}

void overlay_draw(struct overlay *o, WINDOW *w, const struct term *t)
{
    int h = getmaxy(w), cols = getmaxx(w), rows;

    wattrset(w, theme_attr(THEME_PROMPT));
    for (int y = 0; y < h; y++)
        mvwhline(w, y, 0, ' ', cols);
    wattrset(w, A_NORMAL);
    ui_box(w, t, o->title, true);
    if (h < 3 || cols < 6)
        return;
    switch (o->kind) {
    case OV_PROMPT:
        ui_text(w, t, 2, 2, o->text, cols - 4, THEME_PROMPT);
        if (h > 5)
            draw_prompt_line(o, w, t, 3);
        if (h > 6)
            ui_text(w, t, 5, 2, o->hint[0] ? o->hint : "Enter accepts, Esc cancels", cols - 4,
                    o->hint[0] ? THEME_ALERT : THEME_DIM);
        break;
    case OV_CONFIRM:
        ui_text(w, t, 2, 2, o->text, cols - 4, THEME_PROMPT);
        if (h > 5)
            ui_text(w, t, 4, 2, "y yes    n or Esc no", cols - 4, THEME_TITLE);
        break;
    case OV_CHOICE:
        ui_text(w, t, 2, 2, o->text, cols - 4, THEME_PROMPT);
        if (h > 7) {
            ui_textf(w, t, 4, 4, cols - 6, THEME_TITLE, "1  %s", o->option1);
            ui_textf(w, t, 5, 4, cols - 6, THEME_ALERT, "2  %s", o->option2);
            ui_text(w, t, 6, 4, "Esc  cancel", cols - 6, THEME_TITLE);
        }
        break;
    case OV_HELP:
    case OV_DETAIL:
        if (o->wrap_cols != cols - 4)
            wrap(o, cols - 4);
        rows = view_rows(h);
        scroll_by(o, 0, rows);
        for (int r = 0; r < rows && o->top + r < o->nlines; r++) {
            int i = o->top + r;
            char line[1024];
            int n = o->lens[i] < (int)sizeof line - 1 ? o->lens[i] : (int)sizeof line - 1;

            memcpy(line, o->body + o->lines[i], (size_t)n);
            line[n] = '\0';
            ui_text(w, t, 1 + r, 2, line, cols - 4, THEME_PROMPT);
        }
        if (h > 3) {
            char foot[128];

            if (o->kind == OV_DETAIL)
                snprintf(foot, sizeof foot, "%d-%d of %d  j/k PgUp/PgDn scroll  Esc back",
                         o->nlines ? o->top + 1 : 0,
                         o->top + rows < o->nlines ? o->top + rows : o->nlines, o->nlines);
            else
                snprintf(foot, sizeof foot, "j/k scroll  Esc closes");
            ui_text(w, t, h - 2, 2, foot, cols - 4, THEME_DIM);
        }
        break;
    default:
        break;
    }
}

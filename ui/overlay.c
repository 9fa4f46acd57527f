/*
 * overlay.c - help, texts, prompts, questions, choices and the story detail over the panes
 * (see overlay.h). Keys go through keys.h's tables; the help's text comes from the key table
 * itself, so it lists every key there is, the acting ones first.
 *
 * Wrapping: a line breaks at the last space that fits (the space itself is dropped, so a word
 * ending exactly at the edge keeps its last letter), else where the width ends. The detail's
 * frames block is a run of wrapped lines of its own (offset -1), placed before a section's
 * heading: right after the decision on tall terminals, after the captions on short ones, so the
 * first screen at 80x24 still holds the script's first lines.
 *
 * Threads: the UI thread's.
 */
#include "ui/overlay.h"

#include "core/fail.h"
#include "ui/images.h"
#include "ui/keys.h"
#include "ui/theme.h"
#include "ui/widgets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TALL_ROWS                                                                                  \
    34 /* from this height (the overlay's, 40 rows of terminal) the frames come right              \
        * after the decision */

static void drop_body(struct overlay *o)
{
    free(o->body);
    free(o->lines);
    free(o->lens);
    o->body = NULL;
    o->lines = o->lens = NULL;
    o->nlines = o->top = o->wrap_cols = o->wrap_rows = 0;
}

void overlay_close(struct overlay *o)
{
    drop_body(o);
    room_frames_free(o->frames);
    memset(o, 0, sizeof *o);
}

static void open_kind(struct overlay *o, int kind, const char *title, const char *text)
{
    overlay_close(o);
    o->kind = kind;
    snprintf(o->title, sizeof o->title, "%s", title);
    snprintf(o->text, sizeof o->text, "%s", text != NULL ? text : "");
    for (int i = 0; i < ROOM_SEC_COUNT; i++)
        o->sec_off[i] = o->sec_line[i] = -1;
    o->frames_line = -1;
}

/* The help's rows for actions that act (acting) or not, appended to body. */
static size_t help_rows(char *body, size_t cap, size_t len, bool acting, bool read_only)
{
    char labels[128];

    for (int a = ACT_NONE + 1; a < ACT_COUNT; a++) {
        int n;

        if (keys_acting(a) != acting || (read_only && keys_acting(a)))
            continue;
        keys_labels(a, " ", labels, sizeof labels);
        if (labels[0] == '\0')
            continue;
        n = snprintf(body + len, cap - len, "%-14s %s\n", labels, keys_actions[a].help);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
    return len;
}

void overlay_help(struct overlay *o, bool read_only, const char *about)
{
    size_t cap = 16384, len = 0;

    open_kind(o, OV_HELP, "Keys (any other key closes)", NULL);
    o->body = xmalloc(cap);
    o->body[0] = '\0';
    if (!read_only) {
        len += (size_t)snprintf(o->body + len, cap - len, "Deciding\n");
        len = help_rows(o->body, cap, len, true, read_only);
        len += (size_t)snprintf(o->body + len, cap - len, "\nMoving and looking\n");
    }
    len = help_rows(o->body, cap, len, false, read_only);
    len += (size_t)snprintf(
        o->body + len, cap - len,
        "\nIn a prompt: Enter accepts, Esc cancels, Left/Right/Home/End move,\n"
        "Backspace/Delete erase, Ctrl-U clears, Ctrl-W erases a word.\n"
        "%s",
        read_only ? "\nRead-only: approving, rejecting, emergencies, halts and budget\n"
                    "decisions are turned off in this control room.\n"
                  : "");
    if (about != NULL && len < cap)
        snprintf(o->body + len, cap - len, "\n%s\n", about);
}

void overlay_text(struct overlay *o, const char *title, const char *text)
{
    open_kind(o, OV_HELP, title, NULL);
    o->body = xstrdup(text != NULL && text[0] != '\0' ? text : "(nothing yet)");
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

void overlay_choice(struct overlay *o, const char *title, const char *text, const char *const *opts,
                    int n)
{
    open_kind(o, OV_CHOICE, title, text);
    if (n > OVERLAY_CHOICES)
        n = OVERLAY_CHOICES;
    for (int i = 0; i < n; i++)
        snprintf(o->option[i], sizeof o->option[i], "%s", opts[i]);
    o->noptions = n;
}

void overlay_detail(struct overlay *o, const char *id, const char *title)
{
    char t[ROOM_ID_MAX + ROOM_TEXT_MAX + 8];

    snprintf(t, sizeof t, "%s%s%s", id, title != NULL && title[0] ? ": " : "",
             title != NULL ? title : "");
    open_kind(o, OV_DETAIL, t, NULL);
    snprintf(o->detail_id, sizeof o->detail_id, "%s", id);
    o->loading = true;
    o->body = xstrdup("loading...");
}

void overlay_detail_set(struct overlay *o, const struct room_detail *d)
{
    size_t cap = 1, len = 0;

    if (o->kind != OV_DETAIL || strcmp(o->detail_id, d->id) != 0)
        return;
    drop_body(o);
    o->loading = false;
    if (!d->found) {
        o->body = d->error != NULL
                      ? xasprintf("Could not fetch the story: %s", d->error)
                      : xasprintf("No story %s (archived away or never there).", d->id);
        return;
    }
    snprintf(o->title, sizeof o->title, "%s: %s", d->id, d->title);
    o->reviewing = d->reviewing;
    snprintf(o->failed_step, sizeof o->failed_step, "%s", d->failed_step);
    snprintf(o->fail_reason, sizeof o->fail_reason, "%s", d->fail_reason);
    o->attempts = d->attempts;
    o->frames_coming = d->frames_coming;
    snprintf(o->preview_url, sizeof o->preview_url, "%s", d->preview_url);
    for (int i = 0; i < ROOM_SEC_COUNT; i++)
        cap += strlen(room_section_names[i]) + strlen(d->section[i]) + 32;
    if (d->error != NULL)
        cap += strlen(d->error) + 64;
    o->body = xmalloc(cap);
    o->body[0] = '\0';
    for (int i = 0; i < ROOM_SEC_COUNT; i++) {
        if (d->section[i][0] == '\0' && i != ROOM_SEC_SCRIPT)
            continue;
        o->sec_off[i] = (int)len;
        len += (size_t)snprintf(o->body + len, cap - len, "%s-- %d %s --\n%s\n", i ? "\n" : "",
                                i + 1, room_section_names[i],
                                d->section[i][0] ? d->section[i] : "(no script yet)");
        if (i > 0)
            o->sec_off[i]++; /* past the blank line */
    }
    if (d->error != NULL)
        snprintf(o->body + len, cap - len, "\n(%s)\n", d->error);
}

void overlay_frames_set(struct overlay *o, struct room_frames *f)
{
    if (o->kind != OV_DETAIL || strcmp(o->detail_id, f->id) != 0) {
        room_frames_free(f);
        return;
    }
    room_frames_free(o->frames);
    o->frames = f;
    o->wrap_cols = 0; /* the block's size may change: wrap again */
}

void overlay_frames_geom(int cols, size_t nsheet, struct overlay_frames_geom *g)
{
    memset(g, 0, sizeof *g);
    g->thumb_cols = cols >= 40 ? 32 : cols - 2;
    g->thumb_rows = g->thumb_cols * 9 / 32;
    g->cell_cols = 16;
    g->cell_rows = 5;
    g->per_row = (cols + 1) / (g->cell_cols + 1);
    if (g->per_row < 1)
        g->per_row = 1;
    g->rows = 1 + (g->thumb_rows > 0 ? g->thumb_rows : 0) +
              (int)((nsheet + (size_t)g->per_row - 1) / (size_t)g->per_row) * (g->cell_rows + 1);
}

/* Rows the frames block takes at this width (0: no block). */
static int frames_rows(const struct overlay *o, int cols, int images)
{
    struct overlay_frames_geom g;

    if (!o->frames_coming)
        return 0;
    if (o->frames == NULL || images == IMAGES_NONE ||
        (o->frames->thumb.rgb == NULL && o->frames->nsheet == 0))
        return 1; /* "extracting frames...", or why none are drawn */
    overlay_frames_geom(cols, o->frames->nsheet, &g);
    return g.rows;
}

static void add_line(struct overlay *o, int *cap, int off, int len)
{
    if (o->nlines == *cap) {
        *cap *= 2;
        o->lines = xrealloc(o->lines, (size_t)*cap * sizeof *o->lines);
        o->lens = xrealloc(o->lens, (size_t)*cap * sizeof *o->lens);
    }
    o->lines[o->nlines] = off;
    o->lens[o->nlines] = len;
    o->nlines++;
}

/* Wraps body into lines of at most cols columns, with the detail's frames block. */
static void wrap(struct overlay *o, int cols, int rows, int images)
{
    const char *s = o->body;
    int cap = 64, block = 0;
    int anchor = -1;

    free(o->lines);
    free(o->lens);
    o->lines = xmalloc((size_t)cap * sizeof *o->lines);
    o->lens = xmalloc((size_t)cap * sizeof *o->lens);
    o->nlines = 0;
    o->wrap_cols = cols;
    o->wrap_rows = rows;
    o->frames_line = -1;
    if (cols < 1 || s == NULL)
        return;
    if (o->kind == OV_DETAIL && (block = frames_rows(o, cols, images)) > 0) {
        int after = rows >= TALL_ROWS ? ROOM_SEC_SCRIPT : ROOM_SEC_WIRE;

        for (int i = after; i < ROOM_SEC_COUNT && anchor < 0; i++)
            anchor = o->sec_off[i];
        if (anchor < 0)
            anchor = (int)strlen(s);
    }
    for (const char *p = s;;) {
        const char *nl = strchr(p, '\n');
        size_t linelen = nl != NULL ? (size_t)(nl - p) : strlen(p);
        char *line;
        size_t off = 0;

        if (block > 0 && (int)(p - s) >= anchor) {
            o->frames_line = o->nlines;
            o->frames_rows = block;
            for (int k = 0; k < block; k++)
                add_line(o, &cap, -1, 0);
            add_line(o, &cap, (int)(p - s), 0); /* a blank row after it */
            block = 0;
        }
        if (*p == '\0' && nl == NULL)
            break;
        for (int i = 0; i < ROOM_SEC_COUNT; i++)
            if (o->sec_off[i] == (int)(p - s))
                o->sec_line[i] = o->nlines;
        line = xmalloc(linelen + 1);
        memcpy(line, p, linelen);
        line[linelen] = '\0';
        do {
            size_t n = ui_cut(line + off, cols, false), shown, step;

            if (n == 0 && off < linelen) { /* a character wider than the window */
                n = 1;
                while (off + n < linelen && ((unsigned char)line[off + n] & 0xc0) == 0x80)
                    n++;
            }
            shown = step = n;
            if (off + n < linelen) {
                size_t sp = n;

                /* The last space that fits (or the one right after a full line): the line
                 * ends before it and the next starts after it. */
                while (sp > n / 2 && line[off + sp] != ' ')
                    sp--;
                if (sp > n / 2 || line[off + n] == ' ') {
                    shown = line[off + n] == ' ' ? n : sp;
                    step = shown + 1;
                }
            }
            add_line(o, &cap, (int)(p - s) + (int)off, (int)shown);
            off += step;
        } while (off < linelen);
        free(line);
        if (nl == NULL)
            break;
        p = nl + 1;
        if (*p == '\0' && block == 0)
            break;
    }
    if (block > 0) { /* the anchor was past the last line */
        o->frames_line = o->nlines;
        o->frames_rows = block;
        for (int k = 0; k < block; k++)
            add_line(o, &cap, -1, 0);
    }
}

/* A one-paragraph text (a question, what a prompt asks for) broken into lines of at most cols
 * columns at spaces: their starts and lengths, at most max; returns how many. */
static int text_lines(const char *text, int cols, int *start, int *len, int max)
{
    size_t n = strlen(text), off = 0;
    int k = 0;

    while (off < n && k < max && cols > 0) {
        size_t cut = ui_cut(text + off, cols, false), shown = cut, step = cut;

        if (cut == 0)
            cut = shown = step = 1;
        if (off + cut < n) {
            size_t sp = cut;

            while (sp > cut / 2 && text[off + sp] != ' ')
                sp--;
            if (sp > cut / 2 || text[off + cut] == ' ') {
                shown = text[off + cut] == ' ' ? cut : sp;
                step = shown + 1;
            }
        }
        start[k] = (int)off;
        len[k] = (int)shown;
        k++;
        off += step;
    }
    return k > 0 ? k : 1;
}

/* Draws the question wrapped from row y; returns the rows it took. */
static int draw_question(WINDOW *w, const struct term *t, int y, const char *text, int cols,
                         int max_rows, enum theme_role role)
{
    int start[16], len[16], n = text_lines(text, cols, start, len, 16);

    for (int i = 0; i < n && i < max_rows; i++) {
        char line[ROOM_TEXT_MAX * 2];

        snprintf(line, sizeof line, "%.*s", len[i], text + start[i]);
        ui_text(w, t, y + i, 2, line, cols, role);
    }
    return n < max_rows ? n : max_rows;
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

static int detail_key(struct overlay *o, int key, int rows)
{
    if (o->kind == OV_DETAIL && key >= '1' && key < '1' + ROOM_SEC_COUNT) {
        int line = o->sec_line[key - '1'];

        if (line >= 0) {
            o->top = line;
            scroll_by(o, 0, rows);
        }
        return OVR_NONE;
    }
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
    case ACT_MARK: /* Space */
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
        if (key >= '1' && key < '1' + o->noptions)
            return OVR_CHOICE1 + (key - '1');
        a = keys_choice(key);
        return a == CHOICE_ALERT && o->noptions >= 1  ? OVR_CHOICE1
               : a == CHOICE_HALT && o->noptions >= 2 ? OVR_CHOICE2
               : a == CHOICE_CANCEL                   ? OVR_CANCEL
                                                      : OVR_NONE;
    case OV_HELP:
    case OV_DETAIL:
        return detail_key(o, key, rows);
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
        if (o->kind == OV_HELP && r.w > 96)
            r.w = 96;
    } else {
        int start[16], len[16];

        r.w = cols - 4 < 76 ? cols - 4 : 76;
        r.h = (o->kind == OV_CHOICE ? 6 + o->noptions + 1 : 8) - 1 +
              text_lines(o->text, r.w - 4, start, len, 16);
        if (r.h > rows - 2)
            r.h = rows - 2;
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

/* Where picture k of the frames block sits (k -1: the thumbnail) in block rows and columns. */
static void picture_place(const struct overlay_frames_geom *g, int k, int *row, int *col, int *cw,
                          int *ch)
{
    if (k < 0) {
        *row = 1;
        *col = 0;
        *cw = g->thumb_cols;
        *ch = g->thumb_rows;
        return;
    }
    *row = 1 + g->thumb_rows + (k / g->per_row) * (g->cell_rows + 1);
    *col = (k % g->per_row) * (g->cell_cols + 1);
    *cw = g->cell_cols;
    *ch = g->cell_rows;
}

/* The frames block's visible rows (text and half-blocks; real images come after doupdate). */
static void draw_frames(struct overlay *o, WINDOW *w, const struct term *t, int cols, int rows)
{
    const struct room_frames *f = o->frames;
    struct overlay_frames_geom g;
    int first = o->frames_line - o->top; /* the block's first row in the view (may be < 0) */
    char label[ROOM_TEXT_MAX + 96];

    if (o->frames_line < 0)
        return;
    if (first >= 0 && first < rows) {
        if (f == NULL)
            snprintf(label, sizeof label, "frames: extracting them from the video...");
        else if (t->images == IMAGES_NONE)
            snprintf(label, sizeof label,
                     "frames: not drawn (--no-images, or a terminal without 256 colours)");
        else
            snprintf(label, sizeof label, "frames: the thumbnail, then %zu shot%s (%s)%s%s",
                     f->nsheet, f->nsheet == 1 ? "" : "s", images_mode_names[t->images],
                     f->note[0] ? "; " : "", f->note);
        ui_text(w, t, 1 + first, 2, label, cols, THEME_DIM);
    }
    if (f == NULL || t->images == IMAGES_NONE)
        return;
    overlay_frames_geom(cols, f->nsheet, &g);
    for (int k = -1; k < (int)f->nsheet; k++) {
        const struct room_picture *pic = k < 0 ? &f->thumb : &f->sheet[k];
        int row, col, cw, ch, top, skip, count;

        if (pic->rgb == NULL)
            continue;
        picture_place(&g, k, &row, &col, &cw, &ch);
        if (cw < 1 || ch < 1)
            continue;
        top = first + row;
        skip = top < 0 ? -top : 0;
        count = (top + ch > rows ? rows - top : ch) - skip;
        if (count <= 0)
            continue;
        if (t->images == IMAGES_HALF)
            images_halfblock(w, 1 + top + skip, 2 + col, cw, ch, skip, count, pic->rgb, pic->w,
                             pic->h);
        if (k >= 0 && top + ch < rows && top + ch >= 0) {
            char at[112];

            snprintf(at, sizeof at, "shot %d at %d:%02d%s%s", k + 1, (int)pic->at_s / 60,
                     (int)pic->at_s % 60, pic->label[0] != '\0' ? " " : "", pic->label);
            ui_text(w, t, 1 + top + ch, 2 + col, at, cw, THEME_DIM);
        }
    }
}

void overlay_images(struct overlay *o, const struct term *t, int wy, int wx, bool redraw)
{
    struct overlay_frames_geom g;
    const struct room_frames *f = o->frames;
    int cols, rows, first;
    char pos[32];

    if (o->kind != OV_DETAIL || f == NULL || o->frames_line < 0 ||
        (t->images != IMAGES_SIXEL && t->images != IMAGES_KITTY) || t->out_fd < 0)
        return;
    if (o->images_drawn && !redraw)
        return;
    cols = o->wrap_cols;
    rows = view_rows(o->wrap_rows + 2);
    first = o->frames_line - o->top;
    overlay_frames_geom(cols, f->nsheet, &g);
    if (t->images == IMAGES_KITTY &&
        write(t->out_fd, IMAGES_KITTY_CLEAR, sizeof IMAGES_KITTY_CLEAR - 1) < 0)
        return;
    for (int k = -1; k < (int)f->nsheet; k++) {
        const struct room_picture *pic = k < 0 ? &f->thumb : &f->sheet[k];
        int row, col, cw, ch, n;
        size_t len;
        char *img;

        picture_place(&g, k, &row, &col, &cw, &ch);
        /* Real images only where the whole picture is in view. */
        if (pic->rgb == NULL || first + row < 0 || first + row + ch > rows)
            continue;
        n = snprintf(pos, sizeof pos, "\0337\033[%d;%dH", wy + 1 + first + row + 1,
                     wx + 2 + col + 1);
        img = t->images == IMAGES_KITTY ? images_kitty(pic->rgb, pic->w, pic->h, cw, ch, &len)
                                        : images_sixel(pic->rgb, pic->w, pic->h, &len);
        if (write(t->out_fd, pos, (size_t)n) < 0 || write(t->out_fd, img, len) < 0 ||
            write(t->out_fd, "\0338", 2) < 0) {
            free(img);
            return;
        }
        free(img);
    }
    o->images_drawn = true;
}

void overlay_draw(struct overlay *o, WINDOW *w, const struct term *t)
{
    int h = getmaxy(w), cols = getmaxx(w), rows, q;
    enum theme_role fill = o->alert ? THEME_BANNER : THEME_PROMPT;

    wattrset(w, theme_attr(fill));
    for (int y = 0; y < h; y++)
        mvwhline(w, y, 0, ' ', cols);
    wattrset(w, A_NORMAL);
    ui_box(w, t, o->title, true);
    if (h < 3 || cols < 6)
        return;
    switch (o->kind) {
    case OV_PROMPT:
        q = draw_question(w, t, 2, o->text, cols - 4, h - 6, fill) - 1;
        if (h > 5 + q)
            draw_prompt_line(o, w, t, 3 + q);
        if (h > 6 + q)
            ui_text(w, t, 5 + q, 2, o->hint[0] ? o->hint : "Enter accepts, Esc cancels", cols - 4,
                    o->hint[0] ? THEME_ALERT : THEME_DIM);
        break;
    case OV_CONFIRM:
        q = draw_question(w, t, 2, o->text, cols - 4, h - 5, fill) - 1;
        if (h > 5 + q)
            ui_text(w, t, 4 + q, 2, "y yes    n or Esc no", cols - 4, THEME_TITLE);
        break;
    case OV_CHOICE:
        q = draw_question(w, t, 2, o->text, cols - 4, h - 5 - o->noptions, fill) - 1;
        for (int i = 0; i < o->noptions && 4 + q + i < h - 2; i++)
            ui_textf(w, t, 4 + q + i, 4, cols - 6,
                     o->alert && i == o->noptions - 1 ? THEME_ALERT : fill, "%d  %s", i + 1,
                     o->option[i]);
        if (4 + q + o->noptions < h - 1)
            ui_text(w, t, 4 + q + o->noptions, 4, "Esc  cancel", cols - 6, fill);
        break;
    case OV_HELP:
    case OV_DETAIL:
        rows = view_rows(h);
        if (o->wrap_cols != cols - 4 || (o->kind == OV_DETAIL && o->wrap_rows != h - 2))
            wrap(o, cols - 4, h - 2, t->images);
        scroll_by(o, 0, rows);
        for (int r = 0; r < rows && o->top + r < o->nlines; r++) {
            int i = o->top + r;
            char line[1024];
            int n = o->lens[i] < (int)sizeof line - 1 ? o->lens[i] : (int)sizeof line - 1;
            bool heading;

            if (o->lines[i] < 0)
                continue; /* the frames block, drawn below */
            memcpy(line, o->body + o->lines[i], (size_t)n);
            line[n] = '\0';
            heading = strncmp(line, "-- ", 3) == 0 && o->kind == OV_DETAIL;
            ui_text(w, t, 1 + r, 2, line, cols - 4, heading ? THEME_TITLE : fill);
        }
        if (o->kind == OV_DETAIL)
            draw_frames(o, w, t, cols - 4, rows);
        if (h > 3) {
            char foot[256];

            if (o->kind == OV_DETAIL)
                snprintf(foot, sizeof foot, "%d-%d of %d  1-6 jump  j/k scroll%s%s  Esc back",
                         o->nlines ? o->top + 1 : 0,
                         o->top + rows < o->nlines ? o->top + rows : o->nlines, o->nlines,
                         o->reviewing             ? "  a/r/R decide"
                         : o->failed_step[0] != 0 ? "  u/U requeue"
                                                  : "",
                         o->preview_url[0] ? "  y copy URL" : "");
            else
                snprintf(foot, sizeof foot, "%d-%d of %d  j/k scroll  Esc closes",
                         o->nlines ? o->top + 1 : 0,
                         o->top + rows < o->nlines ? o->top + rows : o->nlines, o->nlines);
            ui_text(w, t, h - 2, 2, foot, cols - 4, THEME_DIM);
        }
        break;
    default:
        break;
    }
}

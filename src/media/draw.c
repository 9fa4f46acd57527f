/*
 * draw.c - the drawing helpers of draw.h: strings, wrapping, whole files, and drawbox/drawtext
 * filters whose texts are files. No state.
 *
 * Threads: any.
 */
#define _GNU_SOURCE /* vasprintf */
#include "media/draw.h"

#include "core/fail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void draw_add(struct draw_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void draw_printf(struct draw_buf *b, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) == -1)
        fail("out of memory");
    va_end(ap);
    draw_add(b, s, strlen(s));
    free(s);
}

char *draw_wrap(const char *text, int width, int max_lines)
{
    struct draw_buf b = {0};
    int lines = 1, col = 0;
    const unsigned char *p = (const unsigned char *)text;

    draw_add(&b, "", 0);
    while (*p != '\0') {
        const unsigned char *w;
        int chars = 0;

        while (*p != '\0' && (*p <= 0x20 || *p == 0x7f))
            p++;
        if (*p == '\0')
            break;
        for (w = p; *w > 0x20 && *w != 0x7f; w++)
            chars += (*w & 0xC0) != 0x80;
        if (col > 0 && col + 1 + chars > width) {
            if (lines == max_lines) {
                draw_add(&b, "...", 3);
                break;
            }
            draw_add(&b, "\n", 1);
            lines++;
            col = 0;
        } else if (col > 0) {
            draw_add(&b, " ", 1);
            col++;
        }
        draw_add(&b, (const char *)p, (size_t)(w - p));
        col += chars;
        p = w;
    }
    return b.s;
}

int draw_write_file(const char *path, const char *data, size_t len, char **cause)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), e;
    size_t off = 0;

    if (fd == -1)
        goto fail;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);

        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1)
            goto fail;
        off += (size_t)w;
    }
    if (fsync(fd) == -1)
        goto fail;
    if (close(fd) == -1) {
        fd = -1;
        goto fail;
    }
    return 0;
fail:
    e = errno;
    *cause = xasprintf("cannot write %s: %s", path, strerror(e));
    if (fd != -1)
        close(fd);
    errno = e;
    return -1;
}

void draw_sep(struct draw_graph *gr)
{
    if (gr->g.len > 0)
        draw_add(&gr->g, ",", 1);
}

/* ":enable='between(t,a,z)'" for a shown span, "" for always. Static storage in buf. */
static const char *enable(char *buf, size_t size, double a, double z)
{
    if (a < 0)
        return "";
    snprintf(buf, size, ":enable='between(t,%.3f,%.3f)'", a, z);
    return buf;
}

/* A text file for drawtext: its name in the folder into name. */
static int text_file(struct draw_graph *gr, const char *text, char *name, size_t size)
{
    char *path;
    int rc;

    snprintf(name, size, "%s%03d.txt", gr->prefix != NULL ? gr->prefix : "text", gr->nfiles++);
    path = xasprintf("%s/%s", gr->dir, name);
    rc = draw_write_file(path, text, strlen(text), &gr->cause);
    if (rc == -1)
        gr->err = errno;
    free(path);
    return rc;
}

void draw_box(struct draw_graph *gr, const char *geometry, const char *color, double a, double z)
{
    char en[64];

    draw_sep(gr);
    draw_printf(&gr->g, "drawbox=%s:color=%s:t=fill%s", geometry, color,
                enable(en, sizeof en, a, z));
}

/* A drawtext filter, with a box behind the text when box is not NULL. */
static int text_filter(struct draw_graph *gr, const char *text, int size, const char *color,
                       const char *box, int border, const char *x, const char *y, double a,
                       double z)
{
    char name[64], en[64], boxed[96] = "";

    if (text_file(gr, text, name, sizeof name) == -1)
        return -1;
    if (box != NULL)
        snprintf(boxed, sizeof boxed, ":box=1:boxcolor=%s:boxborderw=%d", box, border);
    draw_sep(gr);
    draw_printf(&gr->g,
                "drawtext=fontfile=%s:textfile=%s:expansion=none:fontsize=%d:fontcolor=%s:"
                "line_spacing=%d:x=%s:y=%s%s%s",
                gr->t->font, name, size, color, gr->t->line_spacing, x, y, boxed,
                enable(en, sizeof en, a, z));
    return 0;
}

int draw_text(struct draw_graph *gr, const char *text, int size, const char *color, const char *x,
              const char *y, double a, double z)
{
    return text_filter(gr, text, size, color, NULL, 0, x, y, a, z);
}

int draw_label(struct draw_graph *gr, const char *text, int size, const char *color,
               const char *box, int border, const char *x, const char *y, double a, double z)
{
    return text_filter(gr, text, size, color, box, border, x, y, a, z);
}

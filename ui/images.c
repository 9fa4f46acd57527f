/*
 * images.c - terminal pictures: detection, the sixel and kitty encoders, and half-block
 * drawing with a colour-pair pool; see images.h.
 *
 * The half-block pool: pairs from IMAGES_PAIR_BASE up (above the theme's), found again through
 * a small open-addressed table keyed by (foreground, background); when it is full it starts
 * over, which at worst recolours pictures drawn long ago (they are redrawn with the frame).
 *
 * Threads: the UI thread's; the pool is its alone. The encoders and the parser are pure.
 */
#include "ui/images.h"

#include "core/fail.h"
#include "core/text.h"
#include "ui/fmt.h"
#include "ui/halfblock.h"
#include "ui/theme.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define IMAGES_PAIR_BASE 64
#define POOL_SIZE        4096

const char *const images_mode_names[] = {"none", "half", "sixel", "kitty"};

int images_parse_reply(const char *buf, size_t n)
{
    bool kitty = false;

    for (size_t i = 0; i + 9 <= n; i++)
        if (memcmp(buf + i, "_Gi=31;OK", 9) == 0)
            kitty = true;
    /* DA1: ESC [ ? P1 ; P2 ; ... c */
    for (size_t i = 0; i + 2 < n; i++) {
        size_t j;
        bool sixel = false;

        if (buf[i] != '\033' || buf[i + 1] != '[' || buf[i + 2] != '?')
            continue;
        for (j = i + 3; j < n && ((buf[j] >= '0' && buf[j] <= '9') || buf[j] == ';'); j++)
            ;
        if (j >= n || buf[j] != 'c')
            return -1; /* not complete yet */
        for (size_t k = i + 3; k < j;) {
            size_t e = k;
            long v = 0;

            while (e < j && buf[e] != ';')
                v = v * 10 + (buf[e++] - '0');
            if (v == 4 && e > k)
                sixel = true;
            k = e + 1;
        }
        return kitty ? IMAGES_KITTY : sixel ? IMAGES_SIXEL : IMAGES_HALF;
    }
    return -1;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int images_detect(int in_fd, int out_fd, int timeout_ms)
{
    static const char query[] = "\033_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\033\\\033[c";
    struct termios saved, raw;
    char buf[512];
    size_t n = 0;
    int mode = IMAGES_HALF;
    int64_t deadline;

    if (!isatty(in_fd) || !isatty(out_fd) || tcgetattr(in_fd, &saved) == -1)
        return IMAGES_HALF;
    raw = saved;
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(in_fd, TCSANOW, &raw) == -1)
        return IMAGES_HALF;
    if (write(out_fd, query, sizeof query - 1) == (ssize_t)(sizeof query - 1)) {
        deadline = mono_ms() + timeout_ms;
        while (n < sizeof buf - 1) {
            struct pollfd p = {.fd = in_fd, .events = POLLIN};
            int64_t left = deadline - mono_ms();
            ssize_t got;
            int r;

            if (left <= 0)
                break;
            r = poll(&p, 1, (int)left);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got = read(in_fd, buf + n, sizeof buf - 1 - n);
            if (got <= 0)
                break;
            n += (size_t)got;
            if ((r = images_parse_reply(buf, n)) >= 0) {
                mode = r;
                break;
            }
        }
    }
    tcsetattr(in_fd, TCSANOW, &saved);
    return mode;
}

int images_choose(bool no_images, int detected, const struct term *t)
{
    const char *env = getenv("NEWSROOM_IMAGES");
    int mode = detected;

    if (no_images)
        return IMAGES_NONE;
    if (env != NULL && *env != '\0')
        for (int i = IMAGES_NONE; i <= IMAGES_KITTY; i++)
            if (strcmp(env, images_mode_names[i]) == 0)
                mode = i;
    if (mode == IMAGES_HALF && (t->colors != TERM_COLORS_256 || !t->glyphs->utf8))
        return IMAGES_NONE;
    return mode;
}

/* ---- sixel ---- */

static void sb_fmt(struct text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(struct text_buf *b, const char *fmt, ...)
{
    char t[96];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    if (n > 0)
        text_buf_add(b, t, (size_t)n < sizeof t ? (size_t)n : sizeof t - 1);
}

static int cube(uint8_t v)
{
    return (v * 5 + 127) / 255;
}

/* One run of a sixel character, run-length encoded when long. */
static void sixel_run(struct text_buf *b, char ch, int count)
{
    if (count <= 0)
        return;
    if (count > 3) {
        sb_fmt(b, "!%d", count);
        text_buf_add(b, &ch, 1);
    } else {
        for (int i = 0; i < count; i++)
            text_buf_add(b, &ch, 1);
    }
}

char *images_sixel(const uint8_t *rgb, int w, int h, size_t *len)
{
    struct text_buf b = {0};
    unsigned char *idx = xmalloc((size_t)w * (size_t)h + 1);

    for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
        idx[i] = (unsigned char)(cube(rgb[3 * i]) * 36 + cube(rgb[3 * i + 1]) * 6 +
                                 cube(rgb[3 * i + 2]));
    text_buf_add(&b, "\033P0;1;0q", 8);
    sb_fmt(&b, "\"1;1;%d;%d", w, h);
    for (int c = 0; c < 216; c++)
        sb_fmt(&b, "#%d;2;%d;%d;%d", c, (c / 36) * 20, ((c / 6) % 6) * 20, (c % 6) * 20);
    for (int band = 0; band < h; band += 6) {
        bool used[216] = {false}, first = true;

        for (int y = band; y < band + 6 && y < h; y++)
            for (int x = 0; x < w; x++)
                used[idx[(size_t)y * (size_t)w + (size_t)x]] = true;
        for (int c = 0; c < 216; c++) {
            char prev = 0;
            int run = 0;

            if (!used[c])
                continue;
            if (!first)
                text_buf_add(&b, "$", 1);
            first = false;
            sb_fmt(&b, "#%d", c);
            for (int x = 0; x < w; x++) {
                int bits = 0;
                char ch;

                for (int k = 0; k < 6 && band + k < h; k++)
                    if (idx[(size_t)(band + k) * (size_t)w + (size_t)x] == c)
                        bits |= 1 << k;
                ch = (char)('?' + bits);
                if (ch == prev) {
                    run++;
                } else {
                    sixel_run(&b, prev, run);
                    prev = ch;
                    run = 1;
                }
            }
            sixel_run(&b, prev, run);
        }
        text_buf_add(&b, "-", 1);
    }
    text_buf_add(&b, "\033\\", 2);
    free(idx);
    *len = b.len;
    return b.s;
}

/* ---- kitty ---- */

char *images_kitty(const uint8_t *rgb, int w, int h, int cols, int rows, size_t *len)
{
    size_t elen, off = 0;
    char *enc = fmt_base64(rgb, (size_t)w * (size_t)h * 3, &elen);
    struct text_buf b = {0};

    /* Chunks of at most 4096 bytes of payload, the first with the keys. */
    do {
        size_t chunk = elen - off > 4096 ? 4096 : elen - off;
        bool more = off + chunk < elen;

        if (off == 0) {
            sb_fmt(&b, "\033_Ga=T,f=24,s=%d,v=%d,c=%d,r=%d,", w, h, cols, rows);
            text_buf_add(&b, "q=2,C=1,", 8);
        } else {
            text_buf_add(&b, "\033_G", 3);
        }
        text_buf_add(&b, more ? "m=1;" : "m=0;", 4);
        text_buf_add(&b, enc + off, chunk);
        text_buf_add(&b, "\033\\", 2);
        off += chunk;
    } while (off < elen);
    free(enc);
    *len = b.len;
    return b.s;
}

/* ---- half-blocks ---- */

static struct {
    int key[POOL_SIZE]; /* fg * 256 + bg + 1; 0: empty */
    int next;
} pool;

static int pair_of(short fg, short bg)
{
    int key = fg * 256 + bg + 1, h = (key * 2654435761u) % POOL_SIZE;

    for (int i = 0; i < POOL_SIZE; i++) {
        int k = (h + i) % POOL_SIZE;

        if (pool.key[k] == key)
            return IMAGES_PAIR_BASE + k;
        if (pool.key[k] == 0) {
            if (IMAGES_PAIR_BASE + k >= COLOR_PAIRS)
                break;
            pool.key[k] = key;
            init_extended_pair(IMAGES_PAIR_BASE + k, fg, bg);
            return IMAGES_PAIR_BASE + k;
        }
    }
    memset(&pool, 0, sizeof pool); /* full: start over */
    if (IMAGES_PAIR_BASE + h >= COLOR_PAIRS)
        return 0;
    pool.key[h] = key;
    init_extended_pair(IMAGES_PAIR_BASE + h, fg, bg);
    return IMAGES_PAIR_BASE + h;
}

void images_halfblock(WINDOW *w, int y, int x, int cols, int rows, int skip, int count,
                      const uint8_t *rgb, int pw, int ph)
{
    struct halfblock_cell *cells;

    if (cols < 1 || rows < 1 || rgb == NULL)
        return;
    cells = xmalloc((size_t)cols * (size_t)rows * sizeof *cells);
    if (halfblock_render(rgb, pw, ph, cols, rows, cells) == 0)
        for (int r = skip; r < rows && r < skip + count; r++) {
            if (wmove(w, y + r - skip, x) == ERR)
                break;
            for (int c = 0; c < cols; c++) {
                const struct halfblock_cell *cell = &cells[(size_t)r * (size_t)cols + (size_t)c];
                int pair = pair_of(cell->fg, cell->bg);

                wattr_set(w, A_NORMAL, 0, &pair);
                if (waddstr(w, "\u2580") == ERR)
                    break;
            }
        }
    wattrset(w, A_NORMAL);
    free(cells);
}

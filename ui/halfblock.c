/*
 * halfblock.c - RGB pictures as half-block cells in the xterm 256-colour palette; see
 * halfblock.h. Pure: any thread.
 */
#include "ui/halfblock.h"

#include <stddef.h>

static const int cube_level[6] = {0, 95, 135, 175, 215, 255};

static int abs_diff(int a, int b)
{
    return a > b ? a - b : b - a;
}

/* The nearest of the cube's six levels to v. */
static int cube_index(int v)
{
    int best = 0;

    for (int i = 1; i < 6; i++)
        if (abs_diff(v, cube_level[i]) < abs_diff(v, cube_level[best]))
            best = i;
    return best;
}

static int dist2(int r1, int g1, int b1, int r2, int g2, int b2)
{
    return (r1 - r2) * (r1 - r2) + (g1 - g2) * (g1 - g2) + (b1 - b2) * (b1 - b2);
}

short halfblock_xterm256(uint8_t r, uint8_t g, uint8_t b)
{
    int ri = cube_index(r), gi = cube_index(g), bi = cube_index(b);
    int cube = dist2(r, g, b, cube_level[ri], cube_level[gi], cube_level[bi]);
    int mean = (r + g + b) / 3;
    int gi_ramp = mean < 8 ? 0 : mean > 238 ? 23 : (mean - 8 + 5) / 10;
    int grey_v = 8 + 10 * gi_ramp;
    int grey = dist2(r, g, b, grey_v, grey_v, grey_v);

    if (grey < cube)
        return (short)(232 + gi_ramp);
    return (short)(16 + 36 * ri + 6 * gi + bi);
}

int halfblock_render(const uint8_t *rgb, int w, int h, int cols, int rows,
                     struct halfblock_cell *out)
{
    int prow = 2 * rows;

    if (rgb == NULL || out == NULL || w < 1 || h < 1 || cols < 1 || rows < 1)
        return -1;
    for (int py = 0; py < prow; py++) {
        int y0 = (int)((long long)py * h / prow);
        int y1 = (int)((long long)(py + 1) * h / prow);

        if (y1 <= y0)
            y1 = y0 + 1;
        for (int cx = 0; cx < cols; cx++) {
            int x0 = (int)((long long)cx * w / cols);
            int x1 = (int)((long long)(cx + 1) * w / cols);
            unsigned long long sum[3] = {0, 0, 0}, n;
            short c;

            if (x1 <= x0)
                x1 = x0 + 1;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) {
                    const uint8_t *p = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;

                    sum[0] += p[0];
                    sum[1] += p[1];
                    sum[2] += p[2];
                }
            n = (unsigned long long)(y1 - y0) * (unsigned long long)(x1 - x0);
            c = halfblock_xterm256((uint8_t)((sum[0] + n / 2) / n), (uint8_t)((sum[1] + n / 2) / n),
                                   (uint8_t)((sum[2] + n / 2) / n));
            if (py % 2 == 0)
                out[(size_t)(py / 2) * (size_t)cols + (size_t)cx].fg = c;
            else
                out[(size_t)(py / 2) * (size_t)cols + (size_t)cx].bg = c;
        }
    }
    return 0;
}

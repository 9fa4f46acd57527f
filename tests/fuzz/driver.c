/*
 * driver.c - runs a libFuzzer-style target (LLVMFuzzerTestOneInput) without libFuzzer, so
 * the fuzz targets run in every test build (gcc, ASan + UBSan): each file of a seed corpus
 * as it is, then a fixed number of mutations of them (bit flips, byte changes, insertions,
 * deletions, splices of two seeds, truncations) from a fixed seed, so a failure repeats.
 * Built with clang and -DNEWSROOM_FUZZ=ON, the same targets link against libFuzzer instead
 * for open-ended, coverage-guided runs.
 *   fuzz_<name> CORPUS_DIR [ITERATIONS] [SEED]
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seed {
    uint8_t *data;
    size_t size;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int load(const char *dir, struct seed **seeds, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL) {
        fprintf(stderr, "fuzz: cannot open corpus %s\n", dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        FILE *f;
        long size;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        f = fopen(path, "rb");
        if (f == NULL)
            continue;
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fseek(f, 0, SEEK_SET);
        *seeds = realloc(*seeds, (*n + 1) * sizeof **seeds);
        (*seeds)[*n].data = malloc((size_t)size + 1);
        (*seeds)[*n].size = fread((*seeds)[*n].data, 1, (size_t)size, f);
        fclose(f);
        (*n)++;
    }
    closedir(d);
    return *n > 0 ? 0 : -1;
}

/* A mutation of one seed (sometimes spliced with another) into a new buffer. */
static uint8_t *mutate(const struct seed *seeds, size_t n, size_t *size)
{
    const struct seed *a = &seeds[rnd() % n], *b = &seeds[rnd() % n];
    size_t cap = a->size + b->size + 64, len = a->size;
    uint8_t *buf = malloc(cap);
    int rounds = 1 + (int)(rnd() % 8);

    memcpy(buf, a->data, a->size);
    for (int r = 0; r < rounds; r++) {
        size_t pos = len > 0 ? rnd() % len : 0;

        switch (rnd() % 7) {
        case 0: /* flip a bit */
            if (len > 0)
                buf[pos] ^= (uint8_t)(1u << (rnd() % 8));
            break;
        case 1: /* any byte */
            if (len > 0)
                buf[pos] = (uint8_t)rnd();
            break;
        case 2: /* an interesting byte */
            if (len > 0) {
                static const uint8_t special[] = {0,   '\n', '\\', '"', '[',  ']',  '=',  ';',
                                                  '@', ':',  '/',  '%', 0x1b, 0x7f, 0xc2, 0xff};

                buf[pos] = special[rnd() % sizeof special];
            }
            break;
        case 3: /* insert a byte */
            if (len + 1 < cap) {
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = (uint8_t)rnd();
                len++;
            }
            break;
        case 4: /* delete a run */
            if (len > 0) {
                size_t k = 1 + rnd() % (len - pos);

                memmove(buf + pos, buf + pos + k, len - pos - k);
                len -= k;
            }
            break;
        case 5: /* splice in part of another seed */
            if (b->size > 0) {
                size_t from = rnd() % b->size, k = 1 + rnd() % (b->size - from);

                if (len + k <= cap) {
                    memmove(buf + pos + k, buf + pos, len - pos);
                    memcpy(buf + pos, b->data + from, k);
                    len += k;
                }
            }
            break;
        default: /* truncate */
            len = pos;
            break;
        }
    }
    *size = len;
    return buf;
}

int main(int argc, char **argv)
{
    struct seed *seeds = NULL;
    size_t n = 0;
    long iterations = argc > 2 ? atol(argv[2]) : 20000;

    rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 0x5eed5eedULL;
    if (rng_state == 0)
        rng_state = 1;
    if (argc < 2 || load(argv[1], &seeds, &n) == -1) {
        fprintf(stderr, "usage: fuzz_TARGET CORPUS_DIR [ITERATIONS] [SEED] (with a non-empty "
                        "corpus)\n");
        return 2;
    }
    for (size_t i = 0; i < n; i++)
        LLVMFuzzerTestOneInput(seeds[i].data, seeds[i].size);
    for (long i = 0; i < iterations; i++) {
        size_t size;
        uint8_t *buf = mutate(seeds, n, &size);

        LLVMFuzzerTestOneInput(buf, size);
        free(buf);
    }
    printf("fuzz: %zu seeds and %ld mutations ran clean\n", n, iterations);
    for (size_t i = 0; i < n; i++)
        free(seeds[i].data);
    free(seeds);
    return 0;
}

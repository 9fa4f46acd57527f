/*
 * fuzz_text.c - the terminal sanitiser on arbitrary bytes: the result holds no control byte,
 * no ESC, no C1 control and is valid UTF-8, and a cut result stays within its limit.
 */
#include "core/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int valid_utf8(const unsigned char *p)
{
    while (*p != '\0') {
        size_t n = *p < 0x80                  ? 1
                   : *p >= 0xC2 && *p <= 0xDF ? 2
                   : *p >= 0xE0 && *p <= 0xEF ? 3
                   : *p >= 0xF0 && *p <= 0xF4 ? 4
                                              : 0;

        if (n == 0)
            return 0;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return 0;
        p += n;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1), *out;
    size_t max = size > 0 ? data[0] % 64 : 0;

    memcpy(in, data, size);
    in[size] = '\0';
    out = text_safe(in, max);
    for (const unsigned char *p = (const unsigned char *)out; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F))
            abort();
        if (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE)
            abort();
    }
    if (!valid_utf8((const unsigned char *)out) || (max > 0 && strlen(out) > max + 3))
        abort();
    free(out);
    free(in);
    return 0;
}

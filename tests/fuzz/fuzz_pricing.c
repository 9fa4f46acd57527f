/*
 * fuzz_pricing.c - the pricing file parser on arbitrary files: a pricing or a refusal that
 * names the file, never a crash.
 */
#include "cost/pricing.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    struct pricing *p;
    char *cause = NULL;
    FILE *f;

    if (path[0] == '\0')
        snprintf(path, sizeof path, "/tmp/newsroom-fuzz-pricing-%d.conf", (int)getpid());
    f = fopen(path, "wb");
    if (f == NULL)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    p = pricing_load(path, &cause);
    if (p == NULL) {
        if (cause == NULL || strstr(cause, path) == NULL)
            abort();
        free(cause);
    }
    pricing_free(p);
    unlink(path);
    return 0;
}

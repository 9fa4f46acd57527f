/*
 * fuzz_config.c - the INI configuration loader on arbitrary files: it must accept or refuse
 * with a FILE:LINE message, never crash, and leave the configuration untouched on refusal.
 */
#include "core/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    struct config *c = config_new();
    char *cause = NULL;
    FILE *f;
    int port;

    if (path[0] == '\0')
        snprintf(path, sizeof path, "/tmp/newsroom-fuzz-config-%d.conf", (int)getpid());
    f = fopen(path, "wb");
    if (f == NULL)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    port = c->redis_port;
    if (config_load_file(c, path, &cause) == -1) {
        /* Refused: it says where, and nothing changed. */
        if (cause == NULL || strncmp(cause, path, strlen(path)) != 0 || c->redis_port != port ||
            c->file != NULL)
            abort();
        free(cause);
    }
    config_free(c);
    unlink(path);
    return 0;
}

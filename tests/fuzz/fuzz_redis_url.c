/*
 * fuzz_redis_url.c - REDIS_URL parsing on arbitrary strings: accepted or refused, never a
 * crash, and never a password in the message or the formatted address.
 */
#include "store/redis_url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1), *cause = NULL, shown[1024];
    struct redis_addr a;

    memcpy(url, data, size);
    url[size] = '\0';
    if (redis_url_parse(url, &a, &cause) == 0) {
        redis_addr_format(&a, shown, sizeof shown);
        /* The password must not appear after the user name (a user name may contain the same
         * text, and a password of a few characters could match by chance elsewhere). */
        const char *after_user = strstr(shown, "://");

        after_user = after_user != NULL ? after_user + 3 + strlen(a.user) : shown;
        if (after_user > shown + strlen(shown))
            after_user = shown + strlen(shown);
        if (strlen(a.password) >= 6 && strstr(after_user, a.password) != NULL)
            abort();
        if (a.transport == REDIS_TCP && (a.port < 1 || a.port > 65535 || a.host[0] == '\0'))
            abort();
    } else {
        free(cause);
    }
    free(url);
    return 0;
}

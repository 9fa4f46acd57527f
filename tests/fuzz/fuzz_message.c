/*
 * fuzz_message.c - bus messages as a subscriber receives them from other processes: decoded
 * or refused, never a crash; a decoded message encodes and decodes to the same type and id.
 */
#include "store/message.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *cause = NULL, *enc;
    struct msg *m = msg_decode((const char *)data, size, &cause), *back;

    if (m == NULL) {
        free(cause);
        return 0;
    }
    enc = msg_encode(m, &cause);
    if (enc == NULL)
        abort();
    back = msg_decode(enc, strlen(enc), &cause);
    if (back == NULL || back->type != m->type || strcmp(back->id, m->id) != 0)
        abort();
    msg_free(back);
    free(enc);
    msg_free(m);
    return 0;
}

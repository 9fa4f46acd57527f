/*
 * fuzz_batch.c - a model's answer to a batched screening call, parsed into per-item verdicts:
 * whatever the model says, parsed or refused, never a crash, confidences within 0..1 or -1.
 */
#include "llm/batch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct llm_batch_verdict v[8];
    char *text = malloc(size + 1), *cause = NULL;

    memcpy(text, data, size);
    text[size] = '\0';
    memset(v, 0, sizeof v);
    if (llm_batch_parse(text, 8, v, &cause) >= 0) {
        for (int i = 0; i < 8; i++) {
            if (v[i].confidence != -1 && (v[i].confidence < 0 || v[i].confidence > 1))
                abort();
            llm_batch_verdict_clear(&v[i]);
        }
    } else {
        free(cause);
    }
    free(text);
    return 0;
}

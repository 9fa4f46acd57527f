/*
 * fuzz_theme.c - the theme parser on arbitrary text: a theme or a refusal that starts with
 * NAME:LINE and leaves the default theme, never a crash; every accepted colour in range, and
 * a refusal's message printable ASCII (it is shown on the terminal).
 */
#include "ui/theme.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *cause = NULL;
    struct theme t, d;

    if (text == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    theme_default(&d);
    if (theme_parse(text, "fuzz.theme", &t, &cause) == -1) {
        if (cause == NULL || strncmp(cause, "fuzz.theme:", 11) != 0 ||
            memcmp(t.style, d.style, sizeof d.style) != 0)
            abort();
        for (const unsigned char *p = (const unsigned char *)cause; *p != '\0'; p++)
            if (*p < 0x20 || *p > 0x7e)
                abort();
        free(cause);
    } else {
        for (int i = 0; i < THEME_ROLE_COUNT; i++)
            if (t.style[i].fg < -1 || t.style[i].fg > 255 || t.style[i].bg < -1 ||
                t.style[i].bg > 255 || t.style[i].attrs > 31)
                abort();
        for (int i = 0; i < THEME_ROLE_COUNT; i++) {
            if (theme_to16(t.style[i].fg) > 15 || theme_to8(t.style[i].fg) > 7)
                abort();
        }
    }
    free(text);
    return 0;
}

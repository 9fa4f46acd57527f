/*
 * edit.h - the line editor behind the control room's text prompts: a UTF-8 buffer with a
 * cursor that always sits on a character boundary, driven by keys.h's edit operations
 * (insert, backspace, delete, left/right, home/end, Ctrl-U, Ctrl-W). Pure; unit-tested.
 *
 * Threads: pure, any thread.
 */
#ifndef NEWSROOM_UI_EDIT_H
#define NEWSROOM_UI_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#define EDIT_MAX 1000 /* bytes; fits room_cmd.text */

struct edit {
    char buf[EDIT_MAX + 1];
    size_t len, cur; /* bytes; cur on a character boundary */
};

void edit_clear(struct edit *e);
/* Sets the text (cut at EDIT_MAX on a character boundary), cursor at the end. */
void edit_set(struct edit *e, const char *s);
/* Applies one op (enum edit_op); key is the character for EDIT_INSERT. Returns 1 when the
 * text or cursor changed. A character that would not fit is refused (0). */
int edit_apply(struct edit *e, int op, int key);
/* The text with leading and trailing white space trimmed, into out. Returns out. */
const char *edit_trimmed(const struct edit *e, char *out, size_t size);

#endif

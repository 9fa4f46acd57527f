/*
 * keys.h - the control room's key bindings as tables (tmux's key tables, not if-chains): one
 * table from keys to actions for the panes, one row of help per action (what the help
 * overlay lists, and which actions act on the swarm: those --read-only hides and refuses),
 * and small tables for the prompts: line editing, yes/no, and the emergency's second step.
 *
 * Keys are normalised ints: a character is its Unicode code point, a curses function key
 * (KEY_DOWN, ...) is UI_KEY_FN(code), so the two never collide.
 *
 * Threads: constant data and pure functions, any thread.
 */
#ifndef NEWSROOM_UI_KEYS_H
#define NEWSROOM_UI_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#define UI_KEY_FN(k)    (0x1000000 | (k))
#define UI_KEY_IS_FN(k) (((k)&0x1000000) != 0)
#define UI_CTRL(c)      ((c)&0x1f)
#define UI_KEY_ESC      27

enum ui_action {
    ACT_NONE,
    ACT_HELP,
    ACT_NEXT_PANE,
    ACT_PREV_PANE,
    ACT_PANE1, /* ACT_PANE1 + n: pane n (0-based, enum layout_pane) */
    ACT_PANE2,
    ACT_PANE3,
    ACT_PANE4,
    ACT_PANE5,
    ACT_PANE6,
    ACT_PANE7,
    ACT_PANE8,
    ACT_UP,
    ACT_DOWN,
    ACT_PGUP,
    ACT_PGDN,
    ACT_HOME,
    ACT_END,
    ACT_LEFT,
    ACT_RIGHT,
    ACT_ENTER,
    ACT_BACK,
    ACT_FILTER,
    ACT_APPROVE,
    ACT_REJECT,
    ACT_REVISE,
    ACT_EMERGENCY,
    ACT_HALT,
    ACT_GRANT,
    ACT_DECLINE,
    ACT_THEME,
    ACT_REDRAW,
    ACT_QUIT,
    ACT_MARK,         /* review: mark / unmark the story for a bulk decision */
    ACT_SORT,         /* review: the next sort order */
    ACT_HISTORY,      /* the last status messages in full */
    ACT_COPY,         /* detail: copy the preview URL to the clipboard (OSC 52) */
    ACT_REQUEUE,      /* failed: requeue the story at the step that failed */
    ACT_REQUEUE_STEP, /* failed: requeue the story at a step chosen from the list */
    ACT_REQUEUE_ALL,  /* failed: requeue every failed story */
    ACT_COUNT
};

struct key_binding {
    int key;           /* normalised */
    int action;        /* enum ui_action */
    const char *label; /* how help shows the key: "j", "Down", "PgUp" */
};

struct action_info {
    const char *help; /* one line for the help overlay */
    bool acting;      /* changes the swarm: hidden and refused with --read-only */
};

extern const struct key_binding keys_table[];
extern const size_t keys_count;
extern const struct action_info keys_actions[ACT_COUNT];

/* The action bound to a key, or ACT_NONE. */
int keys_action(int key);
/* Whether an action acts on the swarm. */
bool keys_acting(int action);
/* The labels of every key bound to action, joined by sep ("j Down"), into buf. Returns buf. */
const char *keys_labels(int action, const char *sep, char *buf, size_t size);

/* A key from wget_wch(): rc KEY_CODE_YES for a function key, OK for a character. */
int keys_norm(int rc, unsigned wch);

/* Line editing in a prompt. */
enum edit_op {
    EDIT_NONE,
    EDIT_INSERT, /* a printable character: the key itself */
    EDIT_SUBMIT,
    EDIT_CANCEL,
    EDIT_BACKSPACE,
    EDIT_DELETE,
    EDIT_LEFT,
    EDIT_RIGHT,
    EDIT_HOME,
    EDIT_END,
    EDIT_KILL_LINE, /* Ctrl-U */
    EDIT_KILL_WORD, /* Ctrl-W */
};
int keys_edit_op(int key);

/* yes/no: 1 yes, 0 no, -1 not an answer (ignored). */
int keys_confirm(int key);

/* The emergency's second step. */
enum { CHOICE_NONE = -1, CHOICE_ALERT, CHOICE_HALT, CHOICE_CANCEL };
int keys_choice(int key);

#endif

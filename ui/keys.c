/*
 * keys.c - the key tables of the control room (see keys.h). Constant data; the lookups are
 * linear scans over a few dozen rows, once per key press.
 *
 * Threads: none of its own; pure.
 */
#include "ui/keys.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#define FN(k) UI_KEY_FN(k)

const struct key_binding keys_table[] = {
    {'?', ACT_HELP, "?"},
    {FN(KEY_F(1)), ACT_HELP, "F1"},
    {'\t', ACT_NEXT_PANE, "Tab"},
    {FN(KEY_BTAB), ACT_PREV_PANE, "Shift-Tab"},
    {'1', ACT_PANE1, "1"},
    {'2', ACT_PANE2, "2"},
    {'3', ACT_PANE3, "3"},
    {'4', ACT_PANE4, "4"},
    {'5', ACT_PANE5, "5"},
    {'6', ACT_PANE6, "6"},
    {'7', ACT_PANE7, "7"},
    {'8', ACT_PANE8, "8"},
    {'k', ACT_UP, "k"},
    {FN(KEY_UP), ACT_UP, "Up"},
    {'j', ACT_DOWN, "j"},
    {FN(KEY_DOWN), ACT_DOWN, "Down"},
    {FN(KEY_PPAGE), ACT_PGUP, "PgUp"},
    {UI_CTRL('b'), ACT_PGUP, "Ctrl-B"},
    {FN(KEY_NPAGE), ACT_PGDN, "PgDn"},
    {UI_CTRL('f'), ACT_PGDN, "Ctrl-F"},
    {FN(KEY_HOME), ACT_HOME, "Home"},
    {FN(KEY_END), ACT_END, "End"},
    {'G', ACT_END, "G"},
    {FN(KEY_LEFT), ACT_LEFT, "Left"},
    {FN(KEY_RIGHT), ACT_RIGHT, "Right"},
    {'\r', ACT_ENTER, "Enter"},
    {'\n', ACT_ENTER, NULL},
    {FN(KEY_ENTER), ACT_ENTER, NULL},
    {UI_KEY_ESC, ACT_BACK, "Esc"},
    {'/', ACT_FILTER, "/"},
    {'a', ACT_APPROVE, "a"},
    {'r', ACT_REJECT, "r"},
    {'R', ACT_REVISE, "R"},
    {'!', ACT_EMERGENCY, "!"},
    {'h', ACT_HALT, "h"},
    {'g', ACT_GRANT, "g"},
    {'d', ACT_DECLINE, "d"},
    {'t', ACT_THEME, "t"},
    {UI_CTRL('l'), ACT_REDRAW, "Ctrl-L"},
    {'q', ACT_QUIT, "q"},
    {' ', ACT_MARK, "Space"},
    {'s', ACT_SORT, "s"},
    {'m', ACT_HISTORY, "m"},
    {'y', ACT_COPY, "y"},
    {'u', ACT_REQUEUE, "u"},
    {'U', ACT_REQUEUE_STEP, "U"},
    {'A', ACT_REQUEUE_ALL, "A"},
};
const size_t keys_count = sizeof keys_table / sizeof keys_table[0];

const struct action_info keys_actions[ACT_COUNT] = {
    [ACT_NONE] = {NULL, false},
    [ACT_HELP] = {"this help", false},
    [ACT_NEXT_PANE] = {"next pane", false},
    [ACT_PREV_PANE] = {"previous pane", false},
    [ACT_PANE1] = {"blackboard", false},
    [ACT_PANE2] = {"debates", false},
    [ACT_PANE3] = {"agents", false},
    [ACT_PANE4] = {"budget", false},
    [ACT_PANE5] = {"review queue", false},
    [ACT_PANE6] = {"events", false},
    [ACT_PANE7] = {"audit", false},
    [ACT_PANE8] = {"failed stories (the dead set)", false},
    [ACT_UP] = {"up", false},
    [ACT_DOWN] = {"down", false},
    [ACT_PGUP] = {"page up", false},
    [ACT_PGDN] = {"page down", false},
    [ACT_HOME] = {"first row", false},
    [ACT_END] = {"last row; events: follow again", false},
    [ACT_LEFT] = {"blackboard: previous section", false},
    [ACT_RIGHT] = {"blackboard: next section", false},
    [ACT_ENTER] = {"open the story: the decision first, then script, captions, wire copy, "
                   "debate (keys 1-6 jump)",
                   false},
    [ACT_BACK] = {"close, cancel, back", false},
    [ACT_FILTER] = {"filter the list (empty: no filter)", false},
    [ACT_APPROVE] = {"review: approve the story or every marked one (confirmed)", true},
    [ACT_REJECT] = {"review: reject the story or marked ones (reason required)", true},
    [ACT_REVISE] = {"review: send back to the writer with a note", true},
    [ACT_EMERGENCY] = {"emergency: a message, then alert only or alert and halt", true},
    [ACT_HALT] = {"halt or resume the swarm (confirmed)", true},
    [ACT_GRANT] = {"budget: grant the selected request (amount, then confirm)", true},
    [ACT_DECLINE] = {"budget: decline the selected request", true},
    [ACT_THEME] = {"next theme", false},
    [ACT_REDRAW] = {"redraw the screen", false},
    [ACT_QUIT] = {"quit", false},
    [ACT_MARK] = {"review: mark or unmark for a bulk decision (Esc clears)", true},
    [ACT_SORT] = {"review: sort by oldest, newest, priority, QA score, cost", false},
    [ACT_HISTORY] = {"the last 100 status messages in full", false},
    [ACT_COPY] = {"in a story: copy its preview URL to your clipboard (OSC 52)", false},
    [ACT_REQUEUE] = {"failed: requeue the story where it failed (confirmed)", true},
    [ACT_REQUEUE_STEP] = {"failed: requeue the story at a chosen step (confirmed)", true},
    [ACT_REQUEUE_ALL] = {"failed: requeue every failed story (confirmed)", true},
};

int keys_action(int key)
{
    for (size_t i = 0; i < keys_count; i++)
        if (keys_table[i].key == key)
            return keys_table[i].action;
    return ACT_NONE;
}

bool keys_acting(int action)
{
    return action > ACT_NONE && action < ACT_COUNT && keys_actions[action].acting;
}

const char *keys_labels(int action, const char *sep, char *buf, size_t size)
{
    size_t len = 0;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < keys_count; i++) {
        int n;

        if (keys_table[i].action != action || keys_table[i].label == NULL)
            continue;
        n = snprintf(buf + len, size - len, "%s%s", len > 0 ? sep : "", keys_table[i].label);
        if (n < 0 || (size_t)n >= size - len) {
            buf[len] = '\0';
            break;
        }
        len += (size_t)n;
    }
    return buf;
}

int keys_norm(int rc, unsigned wch)
{
    if (rc == KEY_CODE_YES)
        return UI_KEY_FN((int)wch);
    return (int)wch;
}

struct edit_binding {
    int key;
    int op;
};

static const struct edit_binding edit_table[] = {
    {'\r', EDIT_SUBMIT},
    {'\n', EDIT_SUBMIT},
    {FN(KEY_ENTER), EDIT_SUBMIT},
    {UI_KEY_ESC, EDIT_CANCEL},
    {UI_CTRL('c'), EDIT_CANCEL},
    {UI_CTRL('g'), EDIT_CANCEL},
    {FN(KEY_BACKSPACE), EDIT_BACKSPACE},
    {127, EDIT_BACKSPACE},
    {UI_CTRL('h'), EDIT_BACKSPACE},
    {FN(KEY_DC), EDIT_DELETE},
    {UI_CTRL('d'), EDIT_DELETE},
    {FN(KEY_LEFT), EDIT_LEFT},
    {UI_CTRL('b'), EDIT_LEFT},
    {FN(KEY_RIGHT), EDIT_RIGHT},
    {UI_CTRL('f'), EDIT_RIGHT},
    {FN(KEY_HOME), EDIT_HOME},
    {UI_CTRL('a'), EDIT_HOME},
    {FN(KEY_END), EDIT_END},
    {UI_CTRL('e'), EDIT_END},
    {UI_CTRL('u'), EDIT_KILL_LINE},
    {UI_CTRL('w'), EDIT_KILL_WORD},
};

int keys_edit_op(int key)
{
    for (size_t i = 0; i < sizeof edit_table / sizeof edit_table[0]; i++)
        if (edit_table[i].key == key)
            return edit_table[i].op;
    /* Printable: not C0, DEL, C1, a surrogate, or a bidi override the sanitiser would
     * refuse; independent of the locale (curses only hands out wide characters in UTF-8). */
    if (!UI_KEY_IS_FN(key) && key >= 0x20 && key != 0x7f && key <= 0x10ffff &&
        !(key >= 0x80 && key < 0xa0) && !(key >= 0xd800 && key < 0xe000) &&
        !(key >= 0x202a && key <= 0x202e) && !(key >= 0x2066 && key <= 0x2069))
        return EDIT_INSERT;
    return EDIT_NONE;
}

static const struct edit_binding confirm_table[] = {
    {'y', 1}, {'Y', 1}, {'n', 0}, {'N', 0}, {UI_KEY_ESC, 0}, {'q', 0}, {UI_CTRL('c'), 0},
};

int keys_confirm(int key)
{
    for (size_t i = 0; i < sizeof confirm_table / sizeof confirm_table[0]; i++)
        if (confirm_table[i].key == key)
            return confirm_table[i].op;
    return -1;
}

static const struct edit_binding choice_table[] = {
    {'1', CHOICE_ALERT},         {'a', CHOICE_ALERT},  {'2', CHOICE_HALT},
    {'h', CHOICE_HALT},          {'3', CHOICE_CANCEL}, {'c', CHOICE_CANCEL},
    {UI_KEY_ESC, CHOICE_CANCEL}, {'q', CHOICE_CANCEL}, {UI_CTRL('c'), CHOICE_CANCEL},
};

int keys_choice(int key)
{
    for (size_t i = 0; i < sizeof choice_table / sizeof choice_table[0]; i++)
        if (choice_table[i].key == key)
            return choice_table[i].op;
    return CHOICE_NONE;
}

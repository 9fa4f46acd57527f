/*
 * log.h - levelled logging to a file in the data directory (the terminal belongs to the
 * control room), and to an optional sink that later carries lines through the ring to the UI.
 *
 * Threads: log_msg() is safe from any thread; each line is formatted on the caller's stack and
 * written with one write() to an O_APPEND descriptor, so lines never interleave.
 * log_open(), log_close() and log_set_sink() are for start-up and shutdown, before other
 * threads run or after they stop. Until log_open() succeeds nothing is written anywhere:
 * engine code never prints.
 */
#ifndef NEWSROOM_LOG_H
#define NEWSROOM_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

#define LOG_LINE_MAX 1024

/* Opens (creating, mode 0600) and appends to path. Returns 0, or -1 with *cause set. */
int log_open(const char *path, enum log_level level, char **cause);
void log_close(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info" or "debug". Returns 0, or -1 if name is none of them. */
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);
/* sink(level, line, ctx) receives every line that passes the level, without the newline. */
void log_set_sink(void (*sink)(enum log_level, const char *, void *), void *ctx);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif

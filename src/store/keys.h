/*
 * keys.h - the names of everything Newsroom keeps in Redis, in one place. Every key starts
 * with NR_PREFIX so that Newsroom can share a Redis with other software; docs/redis-keys.md
 * lists each key with its type, writer and lifetime. Constants only; safe from any thread.
 */
#ifndef NEWSROOM_KEYS_H
#define NEWSROOM_KEYS_H

#define NR_PREFIX "nr:"

#endif

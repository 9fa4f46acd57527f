/*
 * lua_scripts.h - the Lua scripts of src/store/scripts/, embedded at build time with their
 * SHA1 by cmake/embed_lua.cmake (the definitions are generated). rlink_eval() runs them by
 * EVALSHA and loads them on NOSCRIPT. Read-only data, safe from any thread.
 */
#ifndef NEWSROOM_LUA_SCRIPTS_H
#define NEWSROOM_LUA_SCRIPTS_H

struct lua_script {
    const char *name; /* the file name without .lua */
    const char *sha1; /* hex SHA1 of body, as SCRIPT LOAD returns it */
    const char *body;
};

/* KEYS[1] lock key, ARGV[1] token: deletes the lock if the token matches. Returns 1 or 0. */
extern const struct lua_script lua_lock_release;
/* KEYS[1] lock key, ARGV[1] token, ARGV[2] TTL in ms: extends a lock held with that token.
 * Returns 1 or 0. */
extern const struct lua_script lua_lock_extend;

/* The blackboard's scripts (see blackboard.c and each file's header for the arguments). */
extern const struct lua_script lua_bb_write;
extern const struct lua_script lua_bb_transition;
extern const struct lua_script lua_bb_claim;
extern const struct lua_script lua_bb_lock;
extern const struct lua_script lua_bb_query;
extern const struct lua_script lua_bb_reclaim;
extern const struct lua_script lua_bb_take;
extern const struct lua_script lua_bb_lock_first;
extern const struct lua_script lua_bb_release;
extern const struct lua_script lua_bb_reap;
extern const struct lua_script lua_bb_requeue;
extern const struct lua_script lua_bb_flow;
extern const struct lua_script lua_bb_expire;

/* The operator's switches, each with its audit record (see control.c and each file's header). */
extern const struct lua_script lua_bus_emergency;
extern const struct lua_script lua_bus_resume;

/* The work queues' scripts (see queue.c and each file's header for the arguments). */
extern const struct lua_script lua_queue_open;
extern const struct lua_script lua_queue_dequeue;
extern const struct lua_script lua_queue_ack;
extern const struct lua_script lua_queue_nack;
extern const struct lua_script lua_queue_adopt;
extern const struct lua_script lua_queue_stats;
extern const struct lua_script lua_queue_giveback;
extern const struct lua_script lua_queue_ack_take;
extern const struct lua_script lua_queue_enqueue;
/* The agent registry's scripts (see registry.c). */
extern const struct lua_script lua_registry_beat;
extern const struct lua_script lua_registry_list;
extern const struct lua_script lua_registry_remove;
extern const struct lua_script lua_registry_pulse;

/* Cost control (see src/cost/budget.c, usage.c, early_stop.c and each file's header). */
extern const struct lua_script lua_cost_budget;
extern const struct lua_script lua_cost_request;
extern const struct lua_script lua_cost_sweep;
extern const struct lua_script lua_cost_stop;
/* The response cache's lookup with its hit or miss count (see src/llm/cache.c). */
extern const struct lua_script lua_llm_cache_get;

/* Debates (see src/store/debate.c and each file's header). */
extern const struct lua_script lua_debate_open;
extern const struct lua_script lua_debate_seat;
extern const struct lua_script lua_debate_unseat;
extern const struct lua_script lua_debate_vote;
extern const struct lua_script lua_debate_ready;
extern const struct lua_script lua_debate_close;
extern const struct lua_script lua_debate_get;

/* The control room's listing of the blackboard, read only (see src/room/room_feed.c). */
extern const struct lua_script lua_room_items;
/* One page of the review queue, filtered and sorted on the server (see src/room/room_review.c). */
extern const struct lua_script lua_room_review;
/* One page of the dead set, filtered on the server (see src/room/room_failed.c). */
extern const struct lua_script lua_room_failed;

/* The feed sources' shared schedule and status (see feeds/feed_store.c and each file's header). */
extern const struct lua_script lua_feed_claim;
extern const struct lua_script lua_feed_done;
extern const struct lua_script lua_feed_extend;
extern const struct lua_script lua_feed_members;
extern const struct lua_script lua_feed_list;
extern const struct lua_script lua_feed_unpolled;

/* Circuit breakers shared by every process (see src/recovery/breaker.c). */
extern const struct lua_script lua_breaker;
/* Retention: deleting stories past their window with every key of theirs, and dead agents
 * (see src/recovery/retention.c). */
extern const struct lua_script lua_retention_sweep;
extern const struct lua_script lua_registry_prune;
/* The local vector memory (see src/memory/vmem_local.c and lib/mem_lib.lua) and the
 * embedding cache (src/memory/embed.c). */
extern const struct lua_script lua_mem_open;
extern const struct lua_script lua_mem_write;
extern const struct lua_script lua_mem_del;
extern const struct lua_script lua_mem_sync;
extern const struct lua_script lua_mem_sync_write;
/* The lessons the memory holds per role (src/memory/memory.c). */
extern const struct lua_script lua_lessons_add;
extern const struct lua_script lua_mem_page;
extern const struct lua_script lua_mem_get;
extern const struct lua_script lua_mem_drop;
extern const struct lua_script lua_mem_count;
extern const struct lua_script lua_embed_cache_put;

/* Every script, NULL-terminated, and how many there are. */
extern const struct lua_script *const lua_scripts[];
extern const int lua_script_count;

#endif

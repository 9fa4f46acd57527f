/*
 * config.c - the key table, INI loading with libinih, environment overrides and the display
 * form of every key; see config.h. Single-threaded by contract.
 */
#include "core/config.h"

#include "core/fail.h"
#include "core/paths.h"
#include "cost/money.h"
#include "llm/cache.h"
#include "media/store.h"
#include "llm/chain.h"
#include "media/visual.h"
#include "observe/langfuse.h"
#include "observe/metrics_http.h"
#include "store/redis_url.h"
#include "store/rlink.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* K_MONEY: decimal dollars kept as int64_t micro-dollars (cost/money.h); K_RATIO: a fraction
 * 0 to 1 kept as int64_t millionths; K_BOOL: true/false, yes/no, on/off, 1/0; K_DECIMAL: a
 * decimal number from min to max kept as int64_t millionths; K_DURATION: a span of time, a
 * whole number with a unit (ms, s, m, h, d; none: seconds), kept as int64_t milliseconds,
 * from min to max seconds. */
enum key_type { K_STRING, K_INT, K_LEVEL, K_MONEY, K_RATIO, K_BOOL, K_DECIMAL, K_DURATION };

struct key {
    const char *section;
    const char *name;
    enum key_type type;
    size_t offset;
    const char *def;
    const char *env;
    bool secret;
    bool url; /* a Redis URL: shown with its password masked */
    long min, max;
};

#define STR(sec, name, field, def, env, secret)                                                    \
    {                                                                                              \
        sec, name, K_STRING, offsetof(struct config, field), def, env, secret, false, 0, 0         \
    }
#define INT(sec, name, field, def, env, lo, hi)                                                    \
    {                                                                                              \
        sec, name, K_INT, offsetof(struct config, field), def, env, false, false, lo, hi           \
    }

#define DURATION(sec, name, field, def, env, lo_s, hi_s)                                           \
    {                                                                                              \
        sec, name, K_DURATION, offsetof(struct config, field), def, env, false, false, lo_s, hi_s  \
    }

#define TYPED(sec, name, type, field, def, env)                                                    \
    {                                                                                              \
        sec, name, type, offsetof(struct config, field), def, env, false, false, 0, 0              \
    }

static const struct key keys[] = {
    STR("general", "swarm_name", swarm_name, "newsroom", "NEWSROOM_SWARM_NAME", false),
    STR("general", "data_dir", data_dir, "", "NEWSROOM_DATA_DIR", false),
    {"general", "log_level", K_LEVEL, offsetof(struct config, log_level), "info",
     "NEWSROOM_LOG_LEVEL", false, false, 0, 0},
    {"redis", "url", K_STRING, offsetof(struct config, redis_url), "", "REDIS_URL", false, true, 0,
     0},
    STR("redis", "host", redis_host, "", "REDIS_HOST", false),
    INT("redis", "port", redis_port, "6379", "REDIS_PORT", 1, 65535),
    STR("redis", "user", redis_user, "", "REDIS_USER", false),
    STR("redis", "password", redis_password, "", "REDIS_PASSWORD", true),
    INT("redis", "db", redis_db, "0", "REDIS_DB", 0, INT_MAX),
    INT("redis", "connect_timeout_ms", redis_connect_timeout_ms, "2000", NULL, 1, 600000),
    INT("redis", "command_timeout_ms", redis_command_timeout_ms, "5000", NULL, 1, 600000),
    INT("redis", "reconnect_base_ms", redis_reconnect_base_ms, "100", NULL, 1, 600000),
    INT("redis", "reconnect_max_ms", redis_reconnect_max_ms, "5000", NULL, 1, 3600000),
    STR("redis", "sentinels", redis_sentinels, "", "REDIS_SENTINELS", false),
    STR("redis", "sentinel_master", redis_sentinel_master, "newsroom", "REDIS_SENTINEL_MASTER",
        false),
    STR("redis", "sentinel_password", redis_sentinel_password, "", "REDIS_SENTINEL_PASSWORD", true),
    INT("redis", "wait_replicas", redis_wait_replicas, "0", "REDIS_WAIT_REPLICAS", 0, 16),
    INT("redis", "wait_timeout_ms", redis_wait_timeout_ms, "1000", NULL, 1, 600000),
    STR("redis", "wait_writes", redis_wait_writes, "*", NULL, false),
    STR("embedded", "redis_server", embedded_redis_server, "redis-server", NULL, false),
    INT("embedded", "start_timeout_ms", embedded_start_timeout_ms, "5000", NULL, 100, 600000),
    STR("cost", "pricing_file", pricing_file, "", "NEWSROOM_PRICING_FILE", false),
    TYPED("cost", "global_daily_budget", K_MONEY, global_daily_budget, "10.00",
          "GLOBAL_DAILY_BUDGET"),
    TYPED("cost", "enable_cost_alerts", K_BOOL, enable_cost_alerts, "true", "ENABLE_COST_ALERTS"),
    TYPED("cost", "alert_threshold", K_RATIO, alert_threshold_ppm, "0.8", NULL),
    INT("cost", "reservation_ttl_ms", reservation_ttl_ms, "120000", NULL, 100, 86400000),
    TYPED("cost", "early_stop_low", K_RATIO, early_stop_low_ppm, "0.3", NULL),
    TYPED("cost", "early_stop_high", K_RATIO, early_stop_high_ppm, "0.9", NULL),
    TYPED("cost", "cascade", K_BOOL, cascade, "true", NULL),
    {"cost", "cascade_qa_borderline", K_DECIMAL,
     offsetof(struct config, cascade_qa_borderline_micro), "1.0", NULL, false, false, 0, 10},
    TYPED("cost", "cascade_qa_confidence", K_RATIO, cascade_qa_confidence_ppm, "0.6", NULL),
    TYPED("cost", "cascade_final_bar", K_RATIO, cascade_final_bar_ppm, "0.8", NULL),
    TYPED("cost", "cascade_final_confidence", K_RATIO, cascade_final_confidence_ppm, "0.5", NULL),
    STR("providers", "kind", llm_kind, "sim", "NEWSROOM_LLM_PROVIDER", false),
    STR("providers", "openai_base_url", openai_base_url, "https://api.openai.com",
        "OPENAI_BASE_URL", false),
    STR("providers", "anthropic_base_url", anthropic_base_url, "https://api.anthropic.com",
        "ANTHROPIC_BASE_URL", false),
    STR("providers", "openai_api_key", openai_api_key, "", "OPENAI_API_KEY", true),
    STR("providers", "anthropic_api_key", anthropic_api_key, "", "ANTHROPIC_API_KEY", true),
    INT("providers", "timeout_ms", llm_timeout_ms, "60000", NULL, 100, 600000),
    INT("providers", "sim_latency_fast_ms", sim_latency_fast_ms, "200", NULL, 0, 600000),
    INT("providers", "sim_latency_balanced_ms", sim_latency_balanced_ms, "600", NULL, 0, 600000),
    INT("providers", "sim_latency_premium_ms", sim_latency_premium_ms, "1200", NULL, 0, 600000),
    INT("providers", "sim_seed", sim_seed, "1", "NEWSROOM_SIM_SEED", 0, INT_MAX),
    INT("providers", "cache_ttl_s", llm_cache_ttl_s, "86400", NULL, 0, 31536000),
    STR("providers", "cache_task_types", llm_cache_task_types, LLM_CACHE_TASK_TYPES_DEFAULT, NULL,
        false),
    INT("providers", "batch_size", llm_batch_size, "8", NULL, 1, 32),
    STR("fallback", "fast", fallback_chain[LLM_FAST], "", "NEWSROOM_FALLBACK_FAST", false),
    STR("fallback", "balanced", fallback_chain[LLM_BALANCED], "", "NEWSROOM_FALLBACK_BALANCED",
        false),
    STR("fallback", "premium", fallback_chain[LLM_PREMIUM], "", "NEWSROOM_FALLBACK_PREMIUM", false),
    INT("breakers", "failures", breaker_failures, "5", NULL, 1, 1000),
    DURATION("breakers", "window", breaker_window_ms, "60s", NULL, 1, 86400),
    DURATION("breakers", "cooldown", breaker_cooldown_ms, "30s", NULL, 1, 86400),
    INT("breakers", "trials", breaker_trials, "2", NULL, 1, 100),
    INT("breakers", "successes", breaker_successes, "2", NULL, 1, 100),
    INT("breakers", "refresh_ms", breaker_refresh_ms, "500", NULL, 10, 60000),
    DURATION("retention", "published", retention_published_ms, "30d", NULL, 0, 3650L * 86400),
    DURATION("retention", "archived", retention_archived_ms, "7d", NULL, 0, 3650L * 86400),
    DURATION("retention", "failed", retention_failed_ms, "30d", NULL, 0, 3650L * 86400),
    DURATION("retention", "dead_agents", retention_agents_ms, "1h", NULL, 1, 3650L * 86400),
    DURATION("retention", "interval", retention_interval_ms, "60s", NULL, 1, 86400),
    DURATION("retention", "usage_ids", retention_usage_ids_ms, "24h", NULL, 1, 3650L * 86400),
    INT("debate", "panel", debate_panel, "3", NULL, 1, 64),
    INT("debate", "quorum", debate_quorum, "2", NULL, 1, 64),
    TYPED("debate", "threshold", K_RATIO, debate_threshold_ppm, "0.6", NULL),
    INT("debate", "deadline_s", debate_deadline_s, "60", NULL, 1, 86400),
    STR("publish", "dir", publish_dir, "", "NEWSROOM_PUBLISH_DIR", false),
    /* A webhook URL often carries a token: shown masked, like the secret. */
    STR("publish", "webhook_url", webhook_url, "", "NEWSROOM_WEBHOOK_URL", true),
    STR("publish", "webhook_secret", webhook_secret, "", "NEWSROOM_WEBHOOK_SECRET", true),
    INT("publish", "webhook_timeout_ms", webhook_timeout_ms, "10000", NULL, 100, 600000),
    INT("production", "revisions_max", revisions_max, "2", NULL, 0, 10),
    TYPED("production", "revision_min_improvement", K_RATIO, revision_min_improvement_ppm, "0.02",
          NULL),
    {"production", "qa_pass_score", K_DECIMAL, offsetof(struct config, qa_pass_score_micro), "7.0",
     NULL, false, false, 0, 10},
    INT("production", "qa_max_rounds", qa_max_rounds, "2", NULL, 1, 10),
    INT("production", "words_per_minute", words_per_minute, "150", NULL, 60, 400),
    INT("production", "script_words_min", script_words_min, "40", NULL, 1, 10000),
    INT("production", "script_words_max", script_words_max, "250", NULL, 1, 10000),
    STR("video", "ffmpeg", video_ffmpeg, "ffmpeg", "NEWSROOM_FFMPEG", false),
    STR("video", "speech", video_speech, "espeak-ng", "NEWSROOM_SPEECH", false),
    STR("video", "espeak", video_espeak, "espeak-ng", "NEWSROOM_ESPEAK", false),
    STR("video", "espeak_voice", video_espeak_voice, "en-us", NULL, false),
    STR("video", "template", video_template, "", "NEWSROOM_VIDEO_TEMPLATE", false),
    STR("video", "preset", video_preset, "veryfast", NULL, false),
    STR("video", "compose", video_compose, "stills", NULL, false),
    INT("video", "render_workers", video_render_workers, "1", NULL, 1, 64),
    INT("video", "render_timeout_s", video_render_timeout_s, "600", NULL, 1, 86400),
    STR("video", "elevenlabs_base_url", elevenlabs_base_url, "https://api.elevenlabs.io",
        "ELEVENLABS_BASE_URL", false),
    STR("video", "elevenlabs_api_key", elevenlabs_api_key, "", "ELEVENLABS_API_KEY", true),
    STR("video", "elevenlabs_voice_id", elevenlabs_voice_id, "21m00Tcm4TlvDq8ikWAM", NULL, false),
    STR("video", "elevenlabs_model_id", elevenlabs_model_id, "eleven_multilingual_v2", NULL, false),
    STR("video", "speech_fallback", video_speech_fallback, "espeak-ng", "NEWSROOM_SPEECH_FALLBACK",
        false),
    STR("visual", "visual_designer", visual_designer, "chart, heygen, runway", NULL, false),
    STR("visual", "visual_designer_backup", visual_designer_backup, "feed", NULL, false),
    STR("visual", "visual_designer_simple", visual_designer_simple, "openai", NULL, false),
    STR("visual", "stock_image_agent", stock_image_agent, "pexels", NULL, false),
    INT("visual", "min_width", visual_min_width, "320", NULL, 1, 10000),
    INT("visual", "min_height", visual_min_height, "180", NULL, 1, 10000),
    INT("visual", "timeout_s", visual_timeout_s, "900", NULL, 1, 86400),
    INT("visual", "job_timeout_s", visual_job_timeout_s, "600", NULL, 1, 86400),
    INT("visual", "poll_ms", visual_poll_ms, "2000", NULL, 10, 600000),
    INT("visual", "poll_max_ms", visual_poll_max_ms, "20000", NULL, 10, 600000),
    INT("visual", "request_timeout_ms", visual_request_timeout_ms, "30000", NULL, 100, 600000),
    INT("visual", "clip_max_bytes", visual_clip_max_bytes, "104857600", NULL, 1024, 1073741824),
    STR("visual", "pexels_base_url", pexels_base_url, "https://api.pexels.com", "PEXELS_BASE_URL",
        false),
    STR("visual", "pexels_api_key", pexels_api_key, "", "PEXELS_API_KEY", true),
    STR("visual", "openai_image_model", openai_image_model, "gpt-image-1", NULL, false),
    STR("visual", "openai_image_size", openai_image_size, "1536x1024", NULL, false),
    STR("visual", "openai_image_quality", openai_image_quality, "medium", NULL, false),
    STR("visual", "heygen_base_url", heygen_base_url, "https://api.heygen.com", "HEYGEN_BASE_URL",
        false),
    STR("visual", "heygen_api_key", heygen_api_key, "", "HEYGEN_API_KEY", true),
    STR("visual", "heygen_avatar_id", heygen_avatar_id, "Daisy-inskirt-20220818", NULL, false),
    STR("visual", "heygen_voice_id", heygen_voice_id, "2d5b0e6cf36f460aa7fc47e3eee4ba54", NULL,
        false),
    STR("visual", "runway_base_url", runway_base_url, "https://api.dev.runwayml.com",
        "RUNWAYML_BASE_URL", false),
    STR("visual", "runway_api_key", runway_api_key, "", "RUNWAYML_API_KEY", true),
    STR("visual", "runway_model", runway_model, "gen4_turbo", NULL, false),
    INT("visual", "runway_duration_s", runway_duration_s, "5", NULL, 5, 10),
    INT("preview", "port", preview_port, "8787", "NEWSROOM_PREVIEW_PORT", 0, 65535),
    INT("preview", "token_ttl_s", preview_token_ttl_s, "3600", NULL, 10, 604800),
    STR("feeds", "sources", feed_sources, "", "NEWSROOM_FEEDS", false),
    INT("feeds", "poll_interval_s", feed_poll_interval_s, "300", NULL, 1, 86400),
    INT("feeds", "backoff_max_s", feed_backoff_max_s, "3600", NULL, 1, 604800),
    INT("feeds", "timeout_ms", feed_timeout_ms, "8000", NULL, 100, 600000),
    INT("feeds", "max_bytes", feed_max_bytes, "10485760", NULL, 1024, 1073741824),
    INT("feeds", "max_redirects", feed_max_redirects, "5", NULL, 0, 20),
    STR("memory", "backend", memory_backend, "auto", "NEWSROOM_MEMORY", false),
    STR("memory", "chroma_host", chroma_host, "", "CHROMA_HOST", false),
    INT("memory", "chroma_port", chroma_port, "8000", "CHROMA_PORT", 1, 65535),
    STR("memory", "chroma_auth_token", chroma_auth_token, "", "CHROMA_AUTH_TOKEN", true),
    STR("memory", "chroma_tenant", chroma_tenant, "default_tenant", "CHROMA_TENANT", false),
    STR("memory", "chroma_database", chroma_database, "default_database", "CHROMA_DATABASE", false),
    INT("memory", "chroma_timeout_ms", chroma_timeout_ms, "10000", NULL, 100, 600000),
    STR("memory", "collection_prefix", memory_prefix, "", "NEWSROOM_MEMORY_PREFIX", false),
    STR("memory", "embedding", embedding_kind, "hash", "NEWSROOM_EMBEDDING", false),
    INT("memory", "embedding_dim", embedding_dim, "512", NULL, 0, 8192),
    STR("memory", "embedding_model", embedding_model, "text-embedding-3-small", NULL, false),
    STR("memory", "embedding_base_url", embedding_base_url, "", "NEWSROOM_EMBEDDING_BASE_URL",
        false),
    INT("memory", "embedding_cache_ttl_s", embedding_cache_ttl_s, "604800", NULL, 0, 31536000),
    TYPED("memory", "dedup_threshold", K_RATIO, dedup_threshold_ppm, "0.6", NULL),
    INT("memory", "dedup_window_h", dedup_window_h, "48", NULL, 1, 87600),
    INT("memory", "recall_k", recall_k, "3", NULL, 0, 20),
    TYPED("memory", "recall_min_similarity", K_RATIO, recall_min_ppm, "0.3", NULL),
    INT("feeds", "host_connections", feed_host_connections, "2", NULL, 1, 64),
    STR("feeds", "fulltext", feed_fulltext, "", "NEWSROOM_FEEDS_FULLTEXT", false),
    INT("feeds", "fulltext_min_words", feed_fulltext_min_words, "120", NULL, 1, 100000),
    INT("feeds", "fulltext_host_interval_ms", feed_fulltext_host_interval_ms, "1000", NULL, 0,
        600000),
    INT("feeds", "robots_ttl_s", feed_robots_ttl_s, "3600", NULL, 1, 604800),
    INT("recovery", "heartbeat_ttl_ms", heartbeat_ttl_ms, "10000", NULL, 300, 3600000),
    INT("recovery", "claim_ttl_ms", claim_ttl_ms, "60000", NULL, 1000, 86400000),
    INT("recovery", "reap_every_ms", reap_every_ms, "1000", NULL, 50, 600000),
    TYPED("recovery", "reap_by_pid", K_BOOL, reap_by_pid, "true", NULL),
    INT("recovery", "stall_s", stall_s, "900", NULL, 1, 604800),
    INT("recovery", "max_attempts", max_attempts, "8", NULL, 1, 1000),
    INT("recovery", "retry_base_ms", retry_base_ms, "30000", NULL, 0, 86400000),
    INT("recovery", "retry_max_ms", retry_max_ms, "1800000", NULL, 0, 604800000),
    INT("recovery", "max_reclaims", max_reclaims, "10", NULL, 0, 1000),
    INT("flow", "pending_hwm", flow_hwm[0], "100", NULL, 0, 1000000),
    INT("flow", "debate_hwm", flow_hwm[1], "8", NULL, 0, 1000000),
    INT("flow", "write_hwm", flow_hwm[2], "8", NULL, 0, 1000000),
    INT("flow", "floor_hwm", flow_hwm[3], "12", NULL, 0, 1000000),
    INT("flow", "qa_hwm", flow_hwm[4], "6", NULL, 0, 1000000),
    INT("flow", "produce_hwm", flow_hwm[5], "4", NULL, 0, 1000000),
    INT("flow", "review_hwm", flow_hwm[6], "50", NULL, 0, 1000000),
    DURATION("flow", "stale_after", flow_stale_ms, "2h", NULL, 0, 3650L * 86400),
    DURATION("flow", "max_wait", flow_max_wait_ms, "10m", NULL, 0, 3650L * 86400),
    DURATION("review", "expire_after", review_expire_ms, "12h", NULL, 0, 3650L * 86400),
    DURATION("review", "auto_approve_after", review_auto_approve_ms, "0s", NULL, 0, 3650L * 86400),
    TYPED("observe", "tracing", K_BOOL, tracing, "true", "NEWSROOM_TRACING"),
    STR("observe", "langfuse_host", langfuse_host, "https://cloud.langfuse.com", "LANGFUSE_HOST",
        false),
    STR("observe", "langfuse_public_key", langfuse_public_key, "", "LANGFUSE_PUBLIC_KEY", true),
    STR("observe", "langfuse_secret_key", langfuse_secret_key, "", "LANGFUSE_SECRET_KEY", true),
    STR("observe", "trace_file", trace_file, "", "NEWSROOM_TRACE_FILE", false),
    INT("observe", "trace_queue_max", trace_queue_max, "20000", NULL, 10, 10000000),
    INT("observe", "trace_queue_max_bytes", trace_queue_max_bytes, "33554432", NULL, 65536,
        INT_MAX),
    INT("observe", "trace_batch_max", trace_batch_max, "1000", NULL, 1, 10000),
    INT("observe", "trace_flush_ms", trace_flush_ms, "1000", NULL, 10, 600000),
    INT("observe", "trace_timeout_ms", trace_timeout_ms, "10000", NULL, 100, 600000),
    INT("observe", "trace_retries", trace_retries, "6", NULL, 1, 100),
    INT("observe", "trace_keep_days", trace_keep_days, "7", NULL, 0, 3650),
    INT("observe", "trace_story_batches_max", trace_story_batches_max, "500", NULL, 1, 1000000),
    STR("observe", "metrics", metrics, "", "NEWSROOM_METRICS", false),
    STR("store", "kind", store_kind, "local", "NEWSROOM_PACKAGE_STORE", false),
    STR("store", "bucket", store_bucket, "", "NEWSROOM_S3_BUCKET", false),
    STR("store", "prefix", store_prefix, "newsroom/", "NEWSROOM_S3_PREFIX", false),
    STR("store", "endpoint", store_endpoint, "", "NEWSROOM_S3_ENDPOINT", false),
    STR("store", "region", store_region, "us-east-1", "AWS_REGION", false),
    STR("store", "access_key_id", store_access_key_id, "", "AWS_ACCESS_KEY_ID", true),
    STR("store", "secret_access_key", store_secret_access_key, "", "AWS_SECRET_ACCESS_KEY", true),
    STR("store", "session_token", store_session_token, "", "AWS_SESSION_TOKEN", true),
    STR("store", "url_style", store_url_style, "auto", NULL, false),
    INT("store", "multipart_threshold_mb", store_multipart_threshold_mb, "16", NULL, 5, 5120),
    INT("store", "part_size_mb", store_part_size_mb, "8", NULL, 5, 5120),
    INT("store", "timeout_ms", store_timeout_ms, "300000", NULL, 1000, 3600000),
    STR("ui", "theme", ui_theme, "dark", "NEWSROOM_THEME", false),
    STR("ui", "themes_dir", ui_themes_dir, "", "NEWSROOM_THEMES_DIR", false),
};
#define NKEYS ((int)(sizeof keys / sizeof keys[0]))

/* Whether value is one of the NULL-terminated words; else *why lists them. */
static int one_of(const char *value, const char *const *words, char **why)
{
    char list[200] = "";

    for (size_t i = 0; words[i] != NULL; i++) {
        if (strcmp(value, words[i]) == 0)
            return 0;
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i > 0 ? ", " : "",
                 words[i]);
    }
    *why = xasprintf("\"%.64s\" is not one of %s", value, list);
    return -1;
}

static int memory_backend_check(const char *value, char **why)
{
    static const char *const words[] = {"auto", "local", "chroma", "off", NULL};

    return one_of(value, words, why);
}

static int memory_embedding_check(const char *value, char **why)
{
    static const char *const words[] = {"hash", "openai", NULL};

    return one_of(value, words, why);
}

/* String keys whose value has a form, checked before it is taken. */
static const struct {
    const char *section, *name;
    int (*check)(const char *value, char **why);
} string_checks[] = {
    {"providers", "cache_task_types", llm_cache_task_types_check},
    {"redis", "wait_writes", rlink_wait_writes_check},
    {"store", "kind", pstore_kind_check},
    {"store", "url_style", pstore_url_style_check},
    {"fallback", "fast", llm_chain_spec_check},
    {"fallback", "balanced", llm_chain_spec_check},
    {"fallback", "premium", llm_chain_spec_check},
    {"memory", "backend", memory_backend_check},
    {"memory", "embedding", memory_embedding_check},
    {"visual", "visual_designer", visual_link_check},
    {"visual", "visual_designer_backup", visual_link_check},
    {"visual", "visual_designer_simple", visual_link_check},
    {"visual", "stock_image_agent", visual_link_check},
    {"observe", "langfuse_host", langfuse_host_check},
    {"observe", "metrics", metrics_listen_check},
};

static char **field_str(struct config *c, const struct key *k)
{
    return (char **)(void *)((char *)c + k->offset);
}

static int *field_int(struct config *c, const struct key *k)
{
    return (int *)(void *)((char *)c + k->offset);
}

/* Parses value for key k into c. Returns 0, or -1 with *why (a static string or a new one in
 * *why_alloc) saying what is wrong. */
static int set_value(struct config *c, const struct key *k, const char *value, char **why)
{
    switch (k->type) {
    case K_STRING:
        for (size_t i = 0; i < sizeof string_checks / sizeof string_checks[0]; i++)
            if (strcmp(string_checks[i].section, k->section) == 0 &&
                strcmp(string_checks[i].name, k->name) == 0 &&
                string_checks[i].check(value, why) == -1)
                return -1;
        free(*field_str(c, k));
        *field_str(c, k) = xstrdup(value);
        return 0;
    case K_INT: {
        char *end;
        long v;

        errno = 0;
        v = strtol(value, &end, 10);
        if (*value == '\0' || *end != '\0' || errno != 0) {
            *why = xasprintf("\"%s\" is not a whole number", value);
            return -1;
        }
        if (v < k->min || v > k->max) {
            *why = xasprintf("%ld is out of range (%ld to %ld)", v, k->min, k->max);
            return -1;
        }
        *field_int(c, k) = (int)v;
        return 0;
    }
    case K_LEVEL: {
        enum log_level lvl;

        if (log_level_parse(value, &lvl) == -1) {
            *why = xasprintf("\"%s\" is not a log level (error, warn, info, debug)", value);
            return -1;
        }
        *(enum log_level *)(void *)((char *)c + k->offset) = lvl;
        return 0;
    }
    case K_MONEY:
    case K_RATIO: {
        const char *bad = NULL;
        int64_t v;
        int rc =
            k->type == K_MONEY ? money_parse(value, &v, &bad) : money_parse_ratio(value, &v, &bad);

        if (rc == -1) {
            *why = xasprintf("\"%s\" %s (%s)", value, bad,
                             k->type == K_MONEY ? "dollars, e.g. 12.50" : "a fraction 0 to 1");
            return -1;
        }
        *(int64_t *)(void *)((char *)c + k->offset) = v;
        return 0;
    }
    case K_DECIMAL: {
        const char *bad = NULL;
        int64_t v;

        if (money_parse(value, &v, &bad) == -1) {
            *why = xasprintf("\"%s\" %s (a decimal number, e.g. 7.5)", value, bad);
            return -1;
        }
        if (v < (int64_t)k->min * 1000000 || v > (int64_t)k->max * 1000000) {
            *why = xasprintf("%s is out of range (%ld to %ld)", value, k->min, k->max);
            return -1;
        }
        *(int64_t *)(void *)((char *)c + k->offset) = v;
        return 0;
    }
    case K_DURATION: {
        int64_t ms;

        if (config_parse_duration(value, &ms) == -1) {
            *why = xasprintf("\"%s\" is not a span of time (a whole number with a unit: 500ms, "
                             "30s, 15m, 12h, 30d; none: seconds)",
                             value);
            return -1;
        }
        if (ms < (int64_t)k->min * 1000 || ms > (int64_t)k->max * 1000) {
            *why = xasprintf("%s is out of range (%lds to %lds)", value, k->min, k->max);
            return -1;
        }
        *(int64_t *)(void *)((char *)c + k->offset) = ms;
        return 0;
    }
    case K_BOOL: {
        static const struct {
            const char *word;
            bool value;
        } words[] = {{"true", true},   {"yes", true}, {"on", true},   {"1", true},
                     {"false", false}, {"no", false}, {"off", false}, {"0", false}};

        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
            if (strcmp(value, words[i].word) == 0) {
                *(bool *)(void *)((char *)c + k->offset) = words[i].value;
                return 0;
            }
        *why = xasprintf("\"%s\" is not true or false", value);
        return -1;
    }
    }
    return -1;
}

static void set_origin(struct config *c, int i, char *origin)
{
    free(c->origin[i]);
    c->origin[i] = origin;
}

struct config *config_new(void)
{
    struct config *c = xcalloc(1, sizeof *c);

    c->origin = xcalloc(NKEYS, sizeof *c->origin);
    for (int i = 0; i < NKEYS; i++) {
        char *why = NULL;

        if (set_value(c, &keys[i], keys[i].def, &why) == -1)
            fail("built-in default of %s.%s: %s", keys[i].section, keys[i].name, why);
        set_origin(c, i, xstrdup("default"));
    }
    return c;
}

void config_free(struct config *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < NKEYS; i++) {
        if (keys[i].type == K_STRING)
            free(*field_str(c, &keys[i]));
        free(c->origin[i]);
    }
    free(c->origin);
    free(c->file);
    free(c);
}

/* A deep copy, so a failed load can be thrown away whole. */
static struct config *config_copy(const struct config *src)
{
    struct config *c = xcalloc(1, sizeof *c);

    *c = *src;
    c->origin = xcalloc(NKEYS, sizeof *c->origin);
    for (int i = 0; i < NKEYS; i++) {
        if (keys[i].type == K_STRING)
            *field_str(c, &keys[i]) = xstrdup(*field_str((struct config *)src, &keys[i]));
        c->origin[i] = xstrdup(src->origin[i]);
    }
    c->file = src->file != NULL ? xstrdup(src->file) : NULL;
    return c;
}

/* Moves everything from src into dst and frees src with what dst held. */
static void config_replace(struct config *dst, struct config *src)
{
    struct config old = *dst;

    *dst = *src;
    *src = old;
    config_free(src);
}

struct ini_state {
    struct config *c;
    const char *path;
    FILE *f;
    int line;       /* counted by config_ini_read(), so the handler knows the line it is on */
    char *error;    /* the first semantic error, without the FILE:LINE prefix */
    int error_line; /* the line it was found on */
};

static int find_key(const char *section, const char *name)
{
    for (int i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
            return i;
    return -1;
}

static bool known_section(const char *section)
{
    for (int i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].section, section) == 0)
            return true;
    return false;
}

static int config_ini_line(void *user, const char *section, const char *name, const char *value)
{
    struct ini_state *st = user;
    char *why = NULL;
    int i;

    if (st->error != NULL)
        return 1;
    st->error_line = st->line;
    if (*section == '\0') {
        st->error = xasprintf("key \"%s\" is outside any section (put it under [general], "
                              "[redis], [embedded] or [cost])",
                              name);
        return 0;
    }
    if (!known_section(section)) {
        st->error = xasprintf("unknown section [%s] (key \"%s\")", section, name);
        return 0;
    }
    i = find_key(section, name);
    if (i == -1) {
        st->error = xasprintf("unknown key \"%s\" in section [%s]", name, section);
        return 0;
    }
    if (set_value(st->c, &keys[i], value, &why) == -1) {
        st->error = xasprintf("[%s] %s: %s", section, name, why);
        free(why);
        return 0;
    }
    set_origin(st->c, i, xasprintf("%s:%d", st->path, st->line));
    return 1;
}

/* inih's line reader, counting lines. */
static char *config_ini_read(char *buf, int size, void *stream)
{
    struct ini_state *st = stream;
    char *r = fgets(buf, size, st->f);

    if (r != NULL)
        st->line++;
    return r;
}

/* Whether key k of c holds a secret: a secret with a value, or a URL with a password. */
static bool holds_secret(const struct config *c, const struct key *k)
{
    const char *v;
    char masked[512];

    if (k->type != K_STRING)
        return false;
    v = *field_str((struct config *)c, k);
    if (k->secret)
        return v[0] != '\0';
    return k->url && strcmp(redis_url_mask(v, masked, sizeof masked), v) != 0;
}

/* A file that gives a secret a value must be readable by its owner alone: refuses one that
 * others may read, naming the key and the fix. Returns 0 or -1 with *cause. */
static int secret_readable_by_others(const struct config *c, const char *path, FILE *f,
                                     char **cause)
{
    struct stat sb;
    size_t n = strlen(path);

    if (fstat(fileno(f), &sb) == -1 || (sb.st_mode & (S_IRGRP | S_IROTH)) == 0)
        return 0;
    for (int i = 0; i < NKEYS; i++) {
        const char *o = c->origin[i];

        /* Set by this file: its origin is "PATH:LINE". */
        if (!holds_secret(c, &keys[i]) || strncmp(o, path, n) != 0 || o[n] != ':')
            continue;
        *cause = xasprintf("%s holds a secret ([%s] %s) but others can read it (mode %04o): "
                           "chmod 600 %s%s%s",
                           path, keys[i].section, keys[i].name, (unsigned)(sb.st_mode & 07777),
                           path, keys[i].env != NULL ? ", or give it in the environment as " : "",
                           keys[i].env != NULL ? keys[i].env : "");
        return -1;
    }
    return 0;
}

bool config_has_secrets(const struct config *c)
{
    for (int i = 0; i < NKEYS; i++)
        if (holds_secret(c, &keys[i]))
            return true;
    return false;
}

int config_load_file(struct config *c, const char *path, char **cause)
{
    struct ini_state st = {0};
    struct config *work;
    FILE *f;
    int rc;

    f = fopen(path, "r");
    if (f == NULL) {
        *cause = xasprintf("%s: cannot read the configuration file: %s", path, strerror(errno));
        return -1;
    }
    work = config_copy(c);
    st.c = work;
    st.path = path;
    st.f = f;
    rc = ini_parse_stream(config_ini_read, &st, config_ini_line, &st);
    if (rc == 0 && secret_readable_by_others(work, path, f, cause) == -1) {
        fclose(f);
        config_free(work);
        return -1;
    }
    fclose(f);
    if (rc != 0) {
        if (rc == -2)
            *cause = xasprintf("%s: out of memory while parsing", path);
        else if (st.error != NULL && st.error_line == rc)
            *cause = xasprintf("%s:%d: %s", path, rc, st.error);
        else
            *cause = xasprintf("%s:%d: not a [section] header or a \"key = value\" line", path, rc);
        free(st.error);
        config_free(work);
        return -1;
    }
    free(work->file);
    work->file = xstrdup(path);
    config_replace(c, work);
    return 0;
}

int config_load_env(struct config *c, char **cause)
{
    struct config *work = config_copy(c);

    for (int i = 0; i < NKEYS; i++) {
        const char *v;
        char *why = NULL;

        if (keys[i].env == NULL || (v = getenv(keys[i].env)) == NULL)
            continue;
        if (set_value(work, &keys[i], v, &why) == -1) {
            /* A secret's value never appears, even when it is the thing that is wrong. */
            *cause = keys[i].secret ? xasprintf("environment variable %s: bad value", keys[i].env)
                                    : xasprintf("environment variable %s: %s", keys[i].env, why);
            free(why);
            config_free(work);
            return -1;
        }
        set_origin(work, i, xasprintf("env %s", keys[i].env));
    }
    config_replace(c, work);
    return 0;
}

static char *xdg_config_file(void)
{
    const char *x = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");

    if (x != NULL && *x == '/')
        return xasprintf("%s/newsroom/newsroom.conf", x);
    if (home != NULL && *home != '\0')
        return xasprintf("%s/.config/newsroom/newsroom.conf", home);
    return NULL;
}

struct config *config_resolve(const char *flag_path, char **cause)
{
    struct config *c = config_new();
    const char *envp = getenv("NEWSROOM_CONFIG");
    char *xdg = NULL;
    const char *path = NULL;

    if (flag_path != NULL) {
        path = flag_path;
    } else if (envp != NULL && *envp != '\0') {
        path = envp;
    } else {
        struct stat sb;

        xdg = xdg_config_file();
        if (xdg != NULL && stat(xdg, &sb) == 0) {
            path = xdg;
        } else {
            /* An installed binary's default configuration (SYSCONFDIR/newsroom). */
            free(xdg);
            xdg = paths_system_config();
            path = xdg;
        }
    }
    if (path != NULL && config_load_file(c, path, cause) == -1)
        goto fail;
    if (config_load_env(c, cause) == -1)
        goto fail;
    free(xdg);
    return c;
fail:
    free(xdg);
    config_free(c);
    return NULL;
}

int config_key_count(void)
{
    return NKEYS;
}

void config_entry_get(const struct config *c, int i, struct config_entry *out)
{
    const struct key *k = &keys[i];
    struct config *cc = (struct config *)c;

    out->section = k->section;
    out->key = k->name;
    out->env = k->env;
    out->secret = k->secret;
    out->holds_secret = holds_secret(c, k);
    out->origin = c->origin[i];
    switch (k->type) {
    case K_STRING: {
        const char *v = *field_str(cc, k);

        if (k->secret)
            snprintf(out->value, sizeof out->value, "%s", *v != '\0' ? "********" : "");
        else if (k->url)
            redis_url_mask(v, out->value, sizeof out->value);
        else
            snprintf(out->value, sizeof out->value, "%s", v);
        break;
    }
    case K_INT:
        snprintf(out->value, sizeof out->value, "%d", *field_int(cc, k));
        break;
    case K_LEVEL:
        snprintf(out->value, sizeof out->value, "%s",
                 log_level_name(*(enum log_level *)(void *)((char *)cc + k->offset)));
        break;
    case K_MONEY:
        money_format(*(int64_t *)(void *)((char *)cc + k->offset), out->value, sizeof out->value);
        break;
    case K_DECIMAL:
    case K_RATIO: {
        int64_t ppm = *(int64_t *)(void *)((char *)cc + k->offset);
        char frac[8];
        int n;

        snprintf(frac, sizeof frac, "%06lld", (long long)(ppm % 1000000));
        for (n = 6; n > 0 && frac[n - 1] == '0'; n--)
            ;
        frac[n] = '\0';
        snprintf(out->value, sizeof out->value, "%lld%s%s", (long long)(ppm / 1000000),
                 n > 0 ? "." : "", frac);
        break;
    }
    case K_BOOL:
        snprintf(out->value, sizeof out->value, "%s",
                 *(bool *)(void *)((char *)cc + k->offset) ? "true" : "false");
        break;
    case K_DURATION:
        config_format_duration(*(int64_t *)(void *)((char *)cc + k->offset), out->value,
                               sizeof out->value);
        break;
    }
}

/* The units of a span of time, largest first (the display picks the largest exact one). */
static const struct {
    const char *unit;
    int64_t ms;
} duration_units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};

int config_parse_duration(const char *s, int64_t *ms)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (end == s || *s == '-' || *s == '+' || errno != 0 || v < 0 || v > (1LL << 40))
        return -1;
    if (*end == '\0') {
        *ms = (int64_t)v * 1000;
        return 0;
    }
    for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++)
        if (strcmp(end, duration_units[i].unit) == 0) {
            *ms = (int64_t)v * duration_units[i].ms;
            return 0;
        }
    return -1;
}

char *config_format_duration(int64_t ms, char *buf, size_t size)
{
    size_t i;

    for (i = 0; ms != 0 && i + 1 < sizeof duration_units / sizeof duration_units[0]; i++)
        if (ms % duration_units[i].ms == 0)
            break;
    if (ms == 0)
        snprintf(buf, size, "0s");
    else
        snprintf(buf, size, "%lld%s", (long long)(ms / duration_units[i].ms),
                 duration_units[i].unit);
    return buf;
}

char *config_data_dir(const struct config *c)
{
    const char *x = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");

    if (c->data_dir[0] != '\0')
        return xstrdup(c->data_dir);
    if (x != NULL && *x == '/')
        return xasprintf("%s/newsroom", x);
    if (home != NULL && *home != '\0')
        return xasprintf("%s/.local/share/newsroom", home);
    return xstrdup(".newsroom");
}

int config_redis_addr(const struct config *c, struct redis_addr *out, bool *embedded, char **cause)
{
    struct redis_addr a;
    char port[16];

    *embedded = false;
    if (c->redis_sentinels[0] != '\0') {
        if (c->redis_url[0] != '\0') {
            *cause = xasprintf("[redis] url and sentinels are both set: with Sentinel the "
                               "sentinels find the primary, so leave url (REDIS_URL) empty and "
                               "give user, password and db in their own keys");
            return -1;
        }
        memset(&a, 0, sizeof a);
        if (redis_sentinels_parse(c->redis_sentinels, c->redis_sentinel_master, &a, cause) == -1) {
            char *why = *cause;

            *cause = xasprintf("[redis] sentinels: %s", why);
            free(why);
            return -1;
        }
        if (strlen(c->redis_sentinel_password) >= sizeof a.sentinel_password) {
            *cause = xasprintf("[redis] sentinel_password is longer than %zu bytes",
                               sizeof a.sentinel_password - 1);
            return -1;
        }
        snprintf(a.sentinel_password, sizeof a.sentinel_password, "%s", c->redis_sentinel_password);
    } else if (c->redis_url[0] != '\0') {
        if (redis_url_parse(c->redis_url, &a, cause) == -1)
            return -1;
    } else if (c->redis_host[0] != '\0') {
        snprintf(port, sizeof port, "%d", c->redis_port);
        if (redis_addr_tcp(&a, c->redis_host, port, NULL, cause) == -1)
            return -1;
    } else {
        *embedded = true;
        return 0;
    }
    if (a.user[0] == '\0') {
        if (strlen(c->redis_user) >= sizeof a.user) {
            *cause = xasprintf("[redis] user is longer than %zu bytes", sizeof a.user - 1);
            return -1;
        }
        snprintf(a.user, sizeof a.user, "%s", c->redis_user);
    }
    if (a.password[0] == '\0') {
        if (strlen(c->redis_password) >= sizeof a.password) {
            *cause = xasprintf("[redis] password is longer than %zu bytes", sizeof a.password - 1);
            return -1;
        }
        snprintf(a.password, sizeof a.password, "%s", c->redis_password);
    }
    if (!a.db_set)
        a.db = c->redis_db;
    *out = a;
    return 0;
}

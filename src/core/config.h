/*
 * config.h - Newsroom's configuration: built-in defaults, then one INI file (the first of
 * --config, $NEWSROOM_CONFIG, $XDG_CONFIG_HOME/newsroom/newsroom.conf), then the environment
 * variables the design names. Every key is one row of a table in config.c that gives its
 * section, name, type, default, environment variable and whether it is a secret; the
 * documented file config/newsroom.conf lists the same keys and a test holds the two together.
 *
 * Threads: a config is built on one thread at start-up and read-only afterwards, so any
 * thread may read it without a lock.
 */
#ifndef NEWSROOM_CONFIG_H
#define NEWSROOM_CONFIG_H

#include "core/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct redis_addr;

/* The flow stages with a high-water mark each (src/store/flow.h: pending, debate, write,
 * floor, qa, produce, review). */
#define CONFIG_FLOW_STAGES 7

struct config {
    /* [general] */
    char *swarm_name;
    char *data_dir; /* empty: $XDG_DATA_HOME/newsroom, see config_data_dir() */
    enum log_level log_level;
    /* [redis] */
    char *redis_url;
    char *redis_host;
    int redis_port;
    char *redis_user;
    char *redis_password;
    int redis_db;
    int redis_connect_timeout_ms;
    int redis_command_timeout_ms;
    int redis_reconnect_base_ms;
    int redis_reconnect_max_ms;
    char *redis_sentinels;         /* "host:port,...": the primary is asked of them; "": none */
    char *redis_sentinel_master;   /* the name the sentinels know the primary by */
    char *redis_sentinel_password; /* secret: AUTH to the sentinels */
    int redis_wait_replicas;       /* writes in wait_writes wait for this many replicas; 0: off */
    int redis_wait_timeout_ms;     /* how long such a write waits for them */
    char *redis_wait_writes;       /* Lua script name patterns ("bb_*,queue_ack"), "*": all */
    /* [embedded] */
    char *embedded_redis_server;
    int embedded_start_timeout_ms;
    /* [cost] (src/cost/) */
    char *pricing_file;          /* empty: the built-in table (cost/pricing.h) */
    int64_t global_daily_budget; /* micro-dollars per UTC day for the whole swarm; 0: none */
    bool enable_cost_alerts;     /* BUDGET_ALERT messages and events */
    int64_t alert_threshold_ppm; /* share of a limit that raises an alert, in millionths */
    int reservation_ttl_ms;      /* a budget reservation lapses after this long */
    int64_t early_stop_low_ppm;  /* confidence below this: stop as low quality */
    int64_t early_stop_high_ppm; /* confidence above this: stop as good enough */
    /* The cascade (role_qa.c, role_writer.c): a BALANCED answer first, PREMIUM only for the
     * doubtful ones; off in the cost baseline. */
    bool cascade;
    int64_t cascade_qa_borderline_micro; /* a BALANCED QA score this close to the bar escalates */
    int64_t cascade_qa_confidence_ppm;   /* a BALANCED QA verdict less sure than this escalates */
    int64_t cascade_final_bar_ppm; /* a draft measuring at least this needs no PREMIUM final */
    int64_t cascade_final_confidence_ppm; /* ... and at least this confident */
    /* [providers] (src/llm/) */
    char *llm_kind;
    char *openai_base_url;
    char *anthropic_base_url;
    char *openai_api_key;    /* secret */
    char *anthropic_api_key; /* secret */
    int llm_timeout_ms;
    int sim_latency_fast_ms;
    int sim_latency_balanced_ms;
    int sim_latency_premium_ms;
    int sim_seed;
    int llm_cache_ttl_s;
    char *llm_cache_task_types; /* task types the cache serves: "a,b", "*" all, "" none */
    int llm_batch_size;
    /* [fallback] (src/llm/chain.c): per tier, an ordered chain "kind[:model] -> ..."; "": the
     * [providers] kind with the tier's model, as before there were chains */
    char *fallback_chain[3]; /* by enum llm_tier: fast, balanced, premium */
    /* [breakers] (src/recovery/breaker.c) */
    int breaker_failures;        /* failures in the window that open a breaker */
    int64_t breaker_window_ms;   /* the window failures are counted in */
    int64_t breaker_cooldown_ms; /* open this long, then half-open */
    int breaker_trials;          /* trial calls let through per half-open round */
    int breaker_successes;       /* trial successes that close it */
    int breaker_refresh_ms;      /* a process's view of the shared state is at most this old */
    /* [retention] (src/recovery/retention.c, run by the archivist) */
    int64_t retention_published_ms; /* a story PUBLISHED this long is deleted; 0: kept */
    int64_t retention_archived_ms;
    int64_t retention_failed_ms;
    int64_t retention_agents_ms;    /* a dead agent leaves the registry after this */
    int64_t retention_interval_ms;  /* between two retention passes of the archivist */
    int64_t retention_usage_ids_ms; /* a committed call's id is kept this long (budget.h) */
    /* [debate] (src/store/debate.h, role_debater.c, role_moderator.c) */
    int debate_panel;             /* seats of a debate: votes that close it early */
    int debate_quorum;            /* votes a consensus needs */
    int64_t debate_threshold_ppm; /* weighted share of "for" a consensus needs, millionths */
    int debate_deadline_s;        /* a debate closes with what it has after this long */
    /* [publish] (src/agents/role_publisher.c, role_archivist.c) */
    char *publish_dir;    /* empty: "publish" under the data directory (publish_dir()) */
    char *webhook_url;    /* empty: no webhook */
    char *webhook_secret; /* secret: HMAC-SHA256 key of the signature header */
    int webhook_timeout_ms;
    /* [production] (src/agents/role_writer.c, role_qa.c, role_producer.c) */
    int revisions_max;                      /* BALANCED revision passes of a draft */
    int64_t revision_min_improvement_ppm;   /* a revision gaining less stops the revisions */
    int64_t qa_pass_score_micro;            /* QA score (0 to 10) a script needs, millionths */
    int qa_max_rounds;                      /* QA verdicts per script before it fails */
    int words_per_minute;                   /* narration speaking rate */
    int script_words_min, script_words_max; /* a script's length bounds */
    /* [video] (src/media/video.c, speech*.c) */
    char *video_ffmpeg;         /* ffmpeg: a path or a name on PATH; "" or "none": off */
    char *video_speech;         /* speech provider: espeak-ng, elevenlabs */
    char *video_espeak;         /* espeak-ng: a path or a name on PATH; "" or "none": off */
    char *video_espeak_voice;   /* espeak-ng -v */
    char *video_template;       /* empty: the share directory's config/video.conf, else built in */
    char *video_preset;         /* libx264 -preset */
    char *video_compose;        /* stills (each distinct frame drawn once) or filters */
    int video_render_workers;   /* renders at once per process */
    int video_render_timeout_s; /* a render running longer is killed and fails */
    char *elevenlabs_base_url;  /* https://api.elevenlabs.io */
    char *elevenlabs_api_key;   /* secret */
    char *elevenlabs_voice_id;
    char *elevenlabs_model_id;
    char *video_speech_fallback; /* speech provider when the first fails or its breaker is open */
    /* [visual] (src/media/visual*.c, image.c, chart.c): the visual designer's fallback chain, the
     * seed's four links in their order, each a list of providers; text slides always last */
    char *visual_designer;        /* chart, heygen, runway */
    char *visual_designer_backup; /* feed */
    char *visual_designer_simple; /* openai */
    char *stock_image_agent;      /* pexels */
    int visual_min_width;         /* a smaller picture is refused */
    int visual_min_height;
    int visual_timeout_s;          /* the whole chain for one story */
    int visual_job_timeout_s;      /* one presenter or clip job, created to downloaded */
    int visual_poll_ms;            /* a job's first status poll; then doubled */
    int visual_poll_max_ms;        /* the longest wait between two polls */
    int visual_request_timeout_ms; /* one API request */
    int visual_clip_max_bytes;     /* a downloaded clip longer than this is refused */
    char *pexels_base_url;
    char *pexels_api_key; /* secret */
    char *openai_image_model;
    char *openai_image_size;
    char *openai_image_quality;
    char *heygen_base_url;
    char *heygen_api_key; /* secret */
    char *heygen_avatar_id;
    char *heygen_voice_id;
    char *runway_base_url;
    char *runway_api_key; /* secret */
    char *runway_model;
    int runway_duration_s;
    /* [preview] (src/media/preview.c) */
    int preview_port;        /* 127.0.0.1:port in the swarm's process; 0: off */
    int preview_token_ttl_s; /* a story's preview token expires after this */
    /* [feeds] (src/feeds/, role_scout.c) */
    char *feed_sources;       /* comma-separated URLs (http, https, file) and paths; "": wire */
    int feed_poll_interval_s; /* between polls of one source */
    int feed_backoff_max_s;   /* the ceiling of the doubling delay after failures */
    int feed_timeout_ms;      /* one fetch, redirects included */
    int feed_max_bytes;       /* a longer feed is refused without being read whole */
    int feed_max_redirects;
    /* [memory] (src/memory/) */
    char *memory_backend; /* auto (chroma when a host is set, else local), local, chroma, off */
    char *chroma_host;    /* "": no Chroma */
    int chroma_port;
    char *chroma_auth_token; /* secret */
    char *chroma_tenant;
    char *chroma_database;
    int chroma_timeout_ms;
    char *memory_prefix;         /* put before the collection names: two swarms on one Chroma */
    char *embedding_kind;        /* hash, openai */
    int embedding_dim;           /* hash: its dimension; openai: "dimensions" (0: the model's) */
    char *embedding_model;       /* openai */
    char *embedding_base_url;    /* openai; "": [providers] openai_base_url */
    int embedding_cache_ttl_s;   /* cached embeddings live this long; 0: no cache */
    int64_t dedup_threshold_ppm; /* cosine similarity that makes a story a further source */
    int dedup_window_h;          /* only stories this close in time are compared */
    int recall_k;                /* lessons recalled into a prompt */
    int64_t recall_min_ppm;      /* a lesson less similar than this is never recalled */
    int feed_host_connections;   /* the fetcher pool's transfers at once to one host */
    char *feed_fulltext;         /* sources whose summaries get the article: a list, "*" */
    int feed_fulltext_min_words; /* text with fewer words is a summary */
    int feed_fulltext_host_interval_ms; /* between two page requests to one host */
    int feed_robots_ttl_s;              /* how long a host's robots.txt is kept */
    /* [recovery] (src/recovery/, src/agents/agent.c, the blackboard's reaper) */
    int heartbeat_ttl_ms; /* an agent whose heartbeat is older than this is dead */
    int claim_ttl_ms;     /* a claim's lock, kept alive by its agent's heartbeat */
    int reap_every_ms;    /* how often each process looks for dead agents */
    bool reap_by_pid;     /* a gone process of this host is dead at once (else its heartbeat) */
    int stall_s;          /* an agent thread showing no sign of life this long is let die */
    int max_attempts;     /* failed attempts of one step before the story is FAILED */
    int retry_base_ms;    /* the first retry's wait; it doubles with every attempt */
    int retry_max_ms;     /* the longest wait between two attempts (and parks) */
    int max_reclaims;     /* takings back from dead claimers before each counts an attempt */
    /* [flow] (src/store/flow.h: backpressure, staleness; the roles and the swarm's heart) */
    int flow_hwm[CONFIG_FLOW_STAGES]; /* high-water mark per flow stage (flow_stages[]); 0: none */
    int64_t flow_stale_ms;            /* a story waiting this long before production is archived */
    int64_t flow_max_wait_ms;         /* no paid call for a story that would then wait longer */
    /* [review] (role_archivist.c, role_approver.c) */
    int64_t review_expire_ms;       /* a story waiting for review this long is archived; 0: never */
    int64_t review_auto_approve_ms; /* --auto-approve: approve a story once it waited this long */

    /* [observe] (src/observe/) */
    bool tracing;                /* trace events: to Langfuse with keys, else the JSON Lines file */
    char *langfuse_host;         /* base URL of the Langfuse API */
    char *langfuse_public_key;   /* secret (Basic user) */
    char *langfuse_secret_key;   /* secret (Basic password) */
    char *trace_file;            /* empty: traces.jsonl in the data directory */
    int trace_queue_max;         /* events waiting to be sent; the oldest are dropped past it */
    int trace_queue_max_bytes;   /* the same bound in bytes */
    int trace_batch_max;         /* events per batch (and under 3.5 MB) */
    int trace_flush_ms;          /* a batch goes out at least this often */
    int trace_timeout_ms;        /* one request to Langfuse */
    int trace_retries;           /* attempts per batch on network errors, 429 and 5xx */
    int trace_keep_days;         /* each story's events kept in Redis for `ctl trace` */
    int trace_story_batches_max; /* at most this many batches of a story kept in Redis */
    char *metrics;               /* HOST:PORT for /metrics; empty: no server */
    /* [store] (src/media/store.h): where packages live */
    char *store_kind;                 /* local or s3 */
    char *store_bucket;               /* s3 */
    char *store_prefix;               /* prepended to every object key */
    char *store_endpoint;             /* empty: AWS's https://s3.REGION.amazonaws.com */
    char *store_region;               /* signing region */
    char *store_access_key_id;        /* secret */
    char *store_secret_access_key;    /* secret */
    char *store_session_token;        /* secret; temporary credentials only */
    char *store_url_style;            /* auto, path or virtual */
    int store_multipart_threshold_mb; /* larger files are uploaded in parts */
    int store_part_size_mb;           /* the size of each part (S3: 5 MB or more) */
    int store_timeout_ms;             /* one request to the store */
    /* [ui] (ui/theme.h) */
    char *ui_theme;      /* a theme name in the themes directory, or a path to a .theme file */
    char *ui_themes_dir; /* empty: the share directory's themes/, else ./themes when it exists,
                          * else only the built-in theme */

    /* Where each key's value came from ("default", "FILE:LINE", "env NAME"), by table row. */
    char **origin;
    /* The file that was read, or NULL when only defaults and the environment apply. */
    char *file;
};

/* One key as `newsroom config` shows it. */
struct config_entry {
    const char *section;
    const char *key;
    const char *env; /* the overriding environment variable, or NULL */
    bool secret;
    bool holds_secret;  /* a secret with a value, or a URL with a password in it */
    char value[512];    /* display form: secrets masked, URLs with the password masked */
    const char *origin; /* borrowed from the config: valid until config_free() */
};

/* A config holding the built-in defaults. Free with config_free(). */
struct config *config_new(void);
void config_free(struct config *c);

/* Reads one INI file over c. On any error (unreadable file, syntax, unknown section or key,
 * bad value) returns -1 with *cause = "FILE:LINE: ..." naming the key, and leaves c as it
 * was; a file that gives a secret key a value while its group or others may read it is
 * refused too ("FILE holds a secret ... chmod 600 FILE"). Returns 0 on success. */
int config_load_file(struct config *c, const char *path, char **cause);

/* Applies the environment overrides. Returns -1 with *cause naming the variable on a bad
 * value, leaving c as it was. */
int config_load_env(struct config *c, char **cause);

/* The whole layering: defaults, then the first file that applies (flag_path when not NULL,
 * else $NEWSROOM_CONFIG, else the XDG file when it exists), then the environment. A file that
 * was named (by flag or variable) and cannot be read is an error. Returns a new config or NULL
 * with *cause. */
struct config *config_resolve(const char *flag_path, char **cause);

/* Whether any secret key (passwords, API keys, the webhook's) has a value, or a URL key holds
 * a password. */
bool config_has_secrets(const struct config *c);

/* Number of keys, and key i for display. */
int config_key_count(void);
void config_entry_get(const struct config *c, int i, struct config_entry *out);

/* The data directory: c->data_dir, else $XDG_DATA_HOME/newsroom, else
 * $HOME/.local/share/newsroom. Returns a new string (free it). */
char *config_data_dir(const struct config *c);

/* Where Redis is. Sets *embedded and leaves *out untouched when no Redis is configured (no
 * url, no host); otherwise fills *out from the url (or host/port), applying user, password
 * and db from their keys where the URL does not give them. Returns -1 with *cause on a bad
 * URL. */
int config_redis_addr(const struct config *c, struct redis_addr *out, bool *embedded, char **cause);

/* A span of time as the configuration writes it: a whole number with a unit (ms, s, m, h, d;
 * none: seconds), e.g. "30d", "12h", "500ms". Returns 0 with *ms, or -1 when it is not one. */
int config_parse_duration(const char *s, int64_t *ms);
/* ms in the largest unit that divides it ("30d", "90m", "1500ms", "0s") into buf. Returns buf. */
char *config_format_duration(int64_t ms, char *buf, size_t size);

#endif

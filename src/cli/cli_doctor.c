/*
 * cli_doctor.c - `newsroom doctor [--json]`: checks everything Newsroom depends on and says, for
 * each thing that is wrong, what is wrong and how to fix it: the configuration (and the
 * permissions of a file holding a key), the data directory and its free space, Redis
 * (reachability, version, role, Sentinel, and what the configured user may do: read, write,
 * run scripts, publish), the package store, the models' keys, Chroma and Langfuse when
 * configured, ffmpeg and espeak-ng, and the terminal (terminfo entry, colours, UTF-8, size).
 *
 * Exit: 0 when nothing failed (warnings allowed), 2 when the configuration cannot be read, 3
 * when Redis is unreachable, 1 for any other failure. Each check is one row of a table; a
 * check may depend on an earlier one (Redis before its permissions). Main thread only.
 */
#include "cli/cli.h"

#include "core/config.h"
#include "core/fail.h"
#include "core/paths.h"
#include "media/proc.h"
#include "media/store.h"
#include "media/video.h"
#include "memory/vmem.h"
#include "store/embedded.h"
#include "store/rlink.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <curses.h>
#include <term.h>
#include <unistd.h>

/* Below these the data directory is a failure, then a warning. */
#define DISK_FAIL_BYTES (200LL * 1024 * 1024)
#define DISK_WARN_BYTES (2LL * 1024 * 1024 * 1024)
#define HTTP_TIMEOUT_MS 3000

enum verdict { V_OK, V_OFF, V_WARN, V_FAIL };

static const char *const verdict_names[] = {
    [V_OK] = "ok", [V_OFF] = "off", [V_WARN] = "warn", [V_FAIL] = "FAIL"};

struct result {
    enum verdict v;
    char *detail; /* what was found */
    char *fix;    /* how to fix it, or NULL */
};

struct doctor {
    struct cli *cli;
    struct rlink *link; /* NULL until the Redis check connects */
    char user[128];     /* the ACL user the links log in as */
    bool config_ok;
    bool redis_down;
};

static void say(struct result *r, enum verdict v, char *fix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* printf into a new string from a va_list. */
static char *vformat(const char *fmt, va_list ap)
{
    va_list again;
    int n;
    char *s;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    s = xmalloc((size_t)(n > 0 ? n : 0) + 1);
    vsnprintf(s, (size_t)(n > 0 ? n : 0) + 1, fmt, again);
    va_end(again);
    return s;
}

/* Sets the verdict, the detail (formatted) and the fix (taken). */
static void say(struct result *r, enum verdict v, char *fix, const char *fmt, ...)
{
    va_list ap;
    char *d;

    va_start(ap, fmt);
    d = vformat(fmt, ap);
    va_end(ap);
    r->v = v;
    free(r->detail);
    r->detail = d;
    free(r->fix);
    r->fix = fix;
}

/* ---- configuration and files ---- */

static void check_config(struct doctor *d, struct result *r)
{
    struct cli *cli = d->cli;
    char *cause = NULL;

    cli->cfg = config_resolve(cli->config_path, &cause);
    if (cli->cfg == NULL) {
        say(r, V_FAIL,
            xstrdup("correct the file and line named (config/newsroom.conf documents every key; "
                    "newsroom config shows what is in effect)"),
            "%s", cause);
        free(cause);
        return;
    }
    cli->data_dir = config_data_dir(cli->cfg);
    cli_protect_secrets(cli->cfg);
    d->config_ok = true;
    say(r, V_OK, NULL, "%s", cli->cfg->file != NULL ? cli->cfg->file : "built-in defaults");
}

/* The nearest existing folder at or above path (a new string). */
static char *existing_parent(const char *path)
{
    char *p = xstrdup(path), *slash;
    struct stat sb;

    while (stat(p, &sb) == -1 && (slash = strrchr(p, '/')) != NULL && slash != p)
        *slash = '\0';
    return p;
}

static void human_bytes(long long n, char *buf, size_t size)
{
    if (n >= 1024LL * 1024 * 1024)
        snprintf(buf, size, "%.1f GB", (double)n / (1024.0 * 1024 * 1024));
    else
        snprintf(buf, size, "%.0f MB", (double)n / (1024.0 * 1024));
}

static void check_data_dir(struct doctor *d, struct result *r)
{
    const char *dir = d->cli->data_dir;
    char *at = existing_parent(dir), free_s[32];
    struct statvfs vfs;
    long long avail;

    if (access(at, W_OK) == -1) {
        say(r, V_FAIL,
            xasprintf("make %s writable by this user, or set NEWSROOM_DATA_DIR ([general] "
                      "data_dir) to a folder that is",
                      at),
            "%s: %s cannot be written (%s)", dir, at, strerror(errno));
        free(at);
        return;
    }
    if (statvfs(at, &vfs) == -1) {
        say(r, V_WARN, NULL, "%s: cannot tell the free space (%s)", dir, strerror(errno));
        free(at);
        return;
    }
    free(at);
    avail = (long long)vfs.f_bavail * (long long)vfs.f_frsize;
    human_bytes(avail, free_s, sizeof free_s);
    if (avail < DISK_FAIL_BYTES)
        say(r, V_FAIL,
            xstrdup("free space there (old packages: retention_days; the log: logrotate), or "
                    "move the data directory"),
            "%s: only %s free", dir, free_s);
    else if (avail < DISK_WARN_BYTES)
        say(r, V_WARN, xstrdup("videos take tens of MB each: free some space"), "%s: %s free", dir,
            free_s);
    else
        say(r, V_OK, NULL, "%s (%s free)", dir, free_s);
}

/* ---- Redis ---- */

/* Major, minor of a version string. */
static int version_code(const char *v)
{
    int major = 0, minor = 0;

    sscanf(v, "%d.%d", &major, &minor);
    return major * 100 + minor;
}

static void check_redis(struct doctor *d, struct result *r)
{
    struct cli *cli = d->cli;
    struct redis_addr addr;
    struct rlink_options opt;
    struct rlink_info info;
    char name[64], *cause = NULL, extra[160] = "";
    bool embedded, config_error;

    if (config_redis_addr(cli->cfg, &addr, &embedded, &cause) == -1) {
        say(r, V_FAIL, xstrdup("correct REDIS_URL / [redis] (see newsroom(1))"), "%s", cause);
        free(cause);
        d->redis_down = true;
        return;
    }
    snprintf(d->user, sizeof d->user, "%s", addr.user[0] != '\0' ? addr.user : "default");
    if (embedded) {
        cli->emb = embedded_start(cli->cfg, cli->data_dir, &addr, &config_error, &cause);
        if (cli->emb == NULL) {
            say(r, V_FAIL,
                xstrdup(config_error ? "install redis-server (apt-get install redis-server), or "
                                       "point REDIS_URL at a shared Redis"
                                     : "see the embedded server's log in the data directory"),
                "the embedded Redis: %s", cause);
            free(cause);
            d->redis_down = true;
            return;
        }
    }
    rlink_options_from_config(&opt, cli->cfg);
    opt.client_name = embedded_client_name("doctor", name, sizeof name);
    opt.quiet = true;
    d->link = rlink_new(&addr, &opt);
    if (rlink_info(d->link, &info, &cause) == -1) {
        bool auth = rlink_auth_refused(d->link);

        say(r, V_FAIL,
            xstrdup(auth ? "check REDIS_USER and REDIS_PASSWORD (or the URL's user and password)"
                    : addr.nsentinels > 0
                        ? "check that the sentinels run and monitor the master name "
                          "(REDIS_SENTINEL_MASTER); redis-cli -p PORT sentinel masters"
                        : "start the server, or check REDIS_URL / REDIS_HOST and the firewall; "
                          "over the Internet use an SSH tunnel (README: Many machines)"),
            "%s", cause);
        free(cause);
        rlink_free(d->link);
        d->link = NULL;
        d->redis_down = !auth;
        if (auth)
            r->v = V_FAIL;
        return;
    }
    if (addr.nsentinels > 0)
        snprintf(extra, sizeof extra, ", found through %d sentinel(s)", addr.nsentinels);
    if (version_code(info.version) < 602) {
        say(r, V_FAIL, xstrdup("upgrade Redis to 7.0 or later (Debian 12: redis-server 7.0)"),
            "%s: Redis %s is too old (6.2 at least, 7.0 for the ACL file's read-only user)",
            rlink_address(d->link), info.version);
        return;
    }
    if (strcmp(info.role, "master") != 0) {
        say(r, V_FAIL,
            xstrdup("point Newsroom at the primary, or use Sentinel (REDIS_SENTINELS) so it "
                    "finds the primary itself"),
            "%s is a %s: writes would be refused", rlink_address(d->link), info.role);
        return;
    }
    say(r, version_code(info.version) < 700 ? V_WARN : V_OK,
        version_code(info.version) < 700
            ? xstrdup("Redis 7.0 or later is needed for config/users.acl's read-only user")
            : NULL,
        "%s: Redis %s, %s, %s, %.1f ms%s%s", rlink_address(d->link), info.version, info.mode,
        info.role, (double)info.latency_us / 1000.0, extra, cli->emb != NULL ? ", embedded" : "");
}

/* The outcome of one probe command: 0, or -1 with the error in why (*cause is freed). */
static int probed(redisReply *r, char **cause, char *why, size_t size)
{
    if (r == NULL) {
        snprintf(why, size, "%s", *cause);
        free(*cause);
        *cause = NULL;
        return -1;
    }
    freeReplyObject(r);
    return 0;
}

/* What the configured user may do on nr: keys: read, write (and delete), run the project's
 * scripts, publish. A user that may only read suits read-only control rooms, not agents. */
static void check_permissions(struct doctor *d, struct result *r)
{
    const char *user = d->user;
    char key[64], why[400], wwhy[400], swhy[400], pwhy[400], *cause = NULL;
    const char *argv[2];
    redisReply *r0;
    int rd, wr, sc, pb;

    if (d->link == NULL) {
        say(r, V_OFF, NULL, "not checked: Redis is not reachable");
        return;
    }
    snprintf(key, sizeof key, "nr:doctor:%ld", (long)getpid());
    r0 = rlink_command(d->link, &cause, "EXISTS %s", key);
    rd = probed(r0, &cause, why, sizeof why);
    wr = -1;
    if (rd == 0) {
        r0 = rlink_command(d->link, &cause, "SET %s probe PX 10000", key);
        wr = probed(r0, &cause, wwhy, sizeof wwhy);
    }
    if (wr == 0) {
        r0 = rlink_command(d->link, &cause, "DEL %s", key);
        wr = probed(r0, &cause, wwhy, sizeof wwhy);
    }
    /* A script of the project's own: loaded with SCRIPT LOAD on NOSCRIPT, as agents do. */
    argv[0] = key;
    argv[1] = "doctor-token";
    r0 = rlink_eval(d->link, &lua_lock_release, 1, 2, argv, &cause);
    sc = probed(r0, &cause, swhy, sizeof swhy);
    r0 = rlink_command(d->link, &cause, "PUBLISH nr:doctor %s", "probe");
    pb = probed(r0, &cause, pwhy, sizeof pwhy);
    if (rd == -1) {
        say(r, V_FAIL,
            xasprintf("give user %s the ACL file's rights (config/users.acl: ~nr:* and the "
                      "commands listed there)",
                      user),
            "user %s cannot read nr: keys: %s", user, why);
    } else if (wr == -1 || sc == -1) {
        say(r, V_WARN,
            xasprintf("fine for a --read-only control room; agents and ctl need the newsroom "
                      "user of config/users.acl"),
            "user %s may read but not %s nr: keys: %s", user, wr == -1 ? "write" : "script",
            wr == -1 ? wwhy : swhy);
    } else if (pb == -1) {
        say(r, V_FAIL, xasprintf("give user %s &nr:* and +publish (config/users.acl)", user),
            "user %s cannot publish on nr: channels: %s", user, pwhy);
    } else {
        say(r, V_OK, NULL, "user %s may read, write, run scripts and publish on nr:", user);
    }
}

/* ---- services over HTTP ---- */

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

/* GET url with an optional header; returns the HTTP status, or 0 with why. */
static long http_get(const char *url, const char *header, char *why, size_t size)
{
    struct curl_slist *hl = NULL;
    CURL *c = curl_easy_init();
    long status = 0;
    CURLcode rc;

    if (c == NULL)
        fail("curl_easy_init failed");
    if (header != NULL)
        hl = curl_slist_append(hl, header);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)HTTP_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(why, size, "%s", curl_easy_strerror(rc));
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return status;
}

static void check_chroma(struct doctor *d, struct result *r)
{
    const struct config *c = d->cli->cfg;
    struct vmem_config vc = {.kind = VMEM_CHROMA,
                             .host = c->chroma_host,
                             .port = c->chroma_port,
                             .token = c->chroma_auth_token,
                             .tenant = c->chroma_tenant,
                             .database = c->chroma_database,
                             .timeout_ms = HTTP_TIMEOUT_MS};
    char *cause = NULL, *version = NULL;
    struct vmem *v;

    if (strcmp(c->memory_backend, "off") == 0 || strcmp(c->memory_backend, "local") == 0 ||
        c->chroma_host[0] == '\0') {
        say(r, V_OFF, NULL, "not used ([memory] backend %s%s): memory is %s", c->memory_backend,
            c->chroma_host[0] == '\0' ? ", no chroma_host" : "",
            strcmp(c->memory_backend, "off") == 0 ? "off" : "kept in Redis");
        return;
    }
    v = vmem_open(&vc, NULL, &cause);
    if (v != NULL && vmem_heartbeat(v, &version, &cause) == 0) {
        say(r, V_OK, NULL, "%s answers (Chroma %s)", vmem_where(v),
            version != NULL ? version : "?");
    } else {
        say(r, V_FAIL,
            xstrdup(cause != NULL && (strstr(cause, "401") || strstr(cause, "403"))
                        ? "check CHROMA_AUTH_TOKEN ([memory] chroma_auth_token)"
                        : "start Chroma (docker compose up -d chroma in config/) or correct "
                          "CHROMA_HOST / CHROMA_PORT ([memory] chroma_host, chroma_port)"),
            "%s", cause != NULL ? cause : "no answer");
    }
    free(cause);
    free(version);
    vmem_free(v);
}

static void check_langfuse(struct doctor *d, struct result *r)
{
    const struct config *c = d->cli->cfg;
    char url[600], why[200] = "";
    long status;

    if (!c->tracing) {
        say(r, V_OFF, NULL, "tracing is off ([observe] tracing)");
        return;
    }
    if (c->langfuse_public_key[0] == '\0' || c->langfuse_secret_key[0] == '\0') {
        say(r, V_OFF, NULL,
            "not configured (LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY): traces go to a JSON "
            "Lines file");
        return;
    }
    snprintf(url, sizeof url, "%s/api/public/health", c->langfuse_host);
    status = http_get(url, NULL, why, sizeof why);
    if (status == 200)
        say(r, V_OK, NULL, "%s answers", url);
    else
        say(r, V_FAIL,
            xstrdup("start Langfuse (docker compose up -d langfuse in config/) or correct "
                    "LANGFUSE_HOST ([observe] langfuse_host)"),
            "%s: %s", url, status > 0 ? "HTTP error" : why);
}

/* ---- the rest ---- */

static void check_store(struct doctor *d, struct result *r)
{
    char *cause = NULL;
    struct pstore *s = pstore_open(d->cli->cfg, &cause);

    if (s == NULL) {
        say(r, V_FAIL, xstrdup("complete the [store] keys (newsroom(1), PACKAGE STORE)"), "%s",
            cause);
        free(cause);
        return;
    }
    if (pstore_check(s, &cause) == -1) {
        say(r, V_FAIL,
            xstrdup(pstore_kind(s) == PSTORE_S3
                        ? "check the bucket, the endpoint, AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY, and that the keys may put, get and delete"
                        : "make the data directory and [publish] dir writable"),
            "%s: %s", pstore_describe(s), cause);
        free(cause);
    } else {
        say(r, V_OK, NULL, "%s: writes, reads and deletes", pstore_describe(s));
    }
    pstore_free(s);
}

static void check_models(struct doctor *d, struct result *r)
{
    const struct config *c = d->cli->cfg;
    static const struct {
        const char *kind, *env;
        size_t key_offset;
    } needs[] = {
        {"openai", "OPENAI_API_KEY", offsetof(struct config, openai_api_key)},
        {"anthropic", "ANTHROPIC_API_KEY", offsetof(struct config, anthropic_api_key)},
    };

    for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++)
        if (strcmp(c->llm_kind, needs[i].kind) == 0) {
            const char *key = *(char *const *)(const void *)((const char *)c + needs[i].key_offset);

            if (key[0] == '\0')
                say(r, V_FAIL,
                    xasprintf("export %s (or set it in a configuration file only you can read)",
                              needs[i].env),
                    "provider %s has no key", c->llm_kind);
            else
                say(r, V_OK, NULL, "provider %s, key set", c->llm_kind);
            return;
        }
    say(r, V_OK, NULL, "provider %s (offline, no key)", c->llm_kind);
}

static void check_tool(struct result *r, const char *configured, const char *what,
                       const char *package, const char *version_arg)
{
    char *path, *line;

    if (configured[0] == '\0' || strcmp(configured, "none") == 0) {
        say(r, V_WARN, xasprintf("set [video] %s to the program to render videos", what),
            "turned off: packages are storyboards, not videos");
        return;
    }
    path = paths_which(configured);
    if (path == NULL) {
        say(r, V_FAIL,
            xasprintf("apt-get install %s (or set [video] %s to its path)", package, what),
            "%s not found: packages will be storyboards, not videos", configured);
        return;
    }
    line = proc_first_line(path, version_arg);
    if (line != NULL && strstr(line, " Copyright") != NULL)
        *strstr(line, " Copyright") = '\0';
    say(r, V_OK, NULL, "%s (%s)", path, line != NULL ? line : "version unknown");
    free(line);
    free(path);
}

static void check_ffmpeg(struct doctor *d, struct result *r)
{
    check_tool(r, d->cli->cfg->video_ffmpeg, "ffmpeg", "ffmpeg", "-version");
}

static void check_espeak(struct doctor *d, struct result *r)
{
    if (strcmp(d->cli->cfg->video_speech, "espeak-ng") != 0) {
        say(r, V_OFF, NULL, "speech provider is %s", d->cli->cfg->video_speech);
        return;
    }
    check_tool(r, d->cli->cfg->video_espeak, "espeak", "espeak-ng", "--version");
}

static void check_terminal(struct doctor *d, struct result *r)
{
    const char *term = getenv("TERM");
    const char *codeset;
    char size[32] = "", *fix = NULL;
    int err = 0, colors;
    struct winsize ws;
    bool utf8;

    (void)d;
    if (term == NULL || *term == '\0') {
        say(r, V_WARN,
            xstrdup("the control room needs a terminal: over SSH use ssh -t; "
                    "scripts use newsroom ctl"),
            "TERM is not set");
        return;
    }
    if (setupterm((char *)term, -1, &err) != OK) {
        say(r, V_FAIL,
            xstrdup("try TERM=xterm-256color, or apt-get install ncurses-term for more "
                    "terminfo entries"),
            "TERM=%s has no terminfo entry", term);
        return;
    }
    colors = tigetnum("colors");
    setlocale(LC_CTYPE, "");
    codeset = nl_langinfo(CODESET);
    utf8 = codeset != NULL && strcmp(codeset, "UTF-8") == 0;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        snprintf(size, sizeof size, ", %dx%d", ws.ws_col, ws.ws_row);
        if (ws.ws_col < 80 || ws.ws_row < 24)
            fix = xstrdup("the control room needs 80x24 at least: enlarge the window");
    }
    if (!utf8 && fix == NULL)
        fix = xstrdup("set a UTF-8 locale (LANG=C.UTF-8) for line drawing; ASCII is used "
                      "meanwhile");
    say(r, fix != NULL ? V_WARN : V_OK, fix, "TERM=%s, %d colours%s, %s%s", term,
        colors > 0 ? colors : 0, getenv("NO_COLOR") != NULL ? " (NO_COLOR set)" : "",
        utf8              ? "UTF-8"
        : codeset != NULL ? codeset
                          : "no locale",
        size);
    del_curterm(cur_term);
}

/* Which keys this process holds (names and where they came from, never values), and that it
 * dumps no core while it does (cli_protect_secrets()). */
static void check_secrets(struct doctor *d, struct result *r)
{
    struct config_entry e;
    struct rlimit core;
    char list[600] = "";
    size_t o = 0;
    int n = 0, dumpable;

    for (int i = 0; i < config_key_count(); i++) {
        config_entry_get(d->cli->cfg, i, &e);
        if (!e.holds_secret)
            continue;
        n++;
        if (o < sizeof list)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s[%s] %s from %s", n > 1 ? ", " : "",
                                  e.section, e.key, e.origin);
    }
    if (n == 0) {
        say(r, V_OK, NULL, "no keys or passwords set");
        return;
    }
    dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    if (dumpable != 0 || getrlimit(RLIMIT_CORE, &core) == -1 || core.rlim_cur != 0)
        say(r, V_FAIL, xstrdup("a bug: processes holding keys must not dump core"),
            "%d held (%s) but core dumps are on", n, list);
    else
        say(r, V_OK, NULL, "%d held (%s); core dumps off", n, list);
}

/* ---- the table ---- */

static const struct {
    const char *name;
    void (*run)(struct doctor *, struct result *);
    bool needs_config;
} checks[] = {
    /* clang-format off */
    {"configuration",  check_config,      false},
    {"data directory", check_data_dir,    true},
    {"redis",          check_redis,       true},
    {"permissions",    check_permissions, true},
    {"package store",  check_store,       true},
    {"models",         check_models,      true},
    {"secrets",        check_secrets,     true},
    {"chroma",         check_chroma,      true},
    {"langfuse",       check_langfuse,    true},
    {"ffmpeg",         check_ffmpeg,      true},
    {"espeak-ng",      check_espeak,      true},
    {"terminal",       check_terminal,    false},
    /* clang-format on */
};
#define NCHECKS (sizeof checks / sizeof checks[0])

int cmd_doctor(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct doctor d = {.cli = cli};
    struct result res[NCHECKS];
    bool json = false;
    int c, failed = 0, warned = 0, code;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'h':
            printf("usage: newsroom doctor [--json]\n\nChecks the configuration, the data "
                   "directory, Redis and its permissions, the package store,\nthe models' "
                   "keys, Chroma, Langfuse, ffmpeg, espeak-ng and the terminal, and says\nhow "
                   "to fix what is wrong. Exit 0 when nothing failed, 2 for a configuration\n"
                   "that cannot be read, 3 when Redis is unreachable, 1 otherwise.\n");
            return EXIT_DONE;
        default:
            cli_error("doctor: unknown option %s", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("doctor: unexpected argument \"%s\"", argv[optind]);
        return EXIT_USAGE;
    }
    memset(res, 0, sizeof res);
    for (size_t i = 0; i < NCHECKS; i++) {
        if (checks[i].needs_config && !d.config_ok)
            say(&res[i], V_OFF, NULL, "not checked: the configuration cannot be read");
        else
            checks[i].run(&d, &res[i]);
        failed += res[i].v == V_FAIL;
        warned += res[i].v == V_WARN;
    }
    rlink_free(d.link);
    if (json) {
        json_t *o = json_object(), *a = json_array();

        for (size_t i = 0; i < NCHECKS; i++)
            json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s?}", "check", checks[i].name,
                                               "status", verdict_names[res[i].v], "detail",
                                               res[i].detail, "fix", res[i].fix));
        json_object_set_new(o, "checks", a);
        json_object_set_new(o, "failed", json_integer(failed));
        json_object_set_new(o, "warnings", json_integer(warned));
        cli_print_json(o);
    } else {
        for (size_t i = 0; i < NCHECKS; i++) {
            printf("%-5s %-15s %s\n", verdict_names[res[i].v], checks[i].name, res[i].detail);
            if (res[i].fix != NULL && res[i].v != V_OK)
                printf("      %-15s fix: %s\n", "", res[i].fix);
        }
        printf("%d failed, %d warning%s\n", failed, warned, warned == 1 ? "" : "s");
    }
    code = !d.config_ok   ? EXIT_USAGE
           : d.redis_down ? EXIT_UNREACHABLE
           : failed > 0   ? EXIT_REFUSED
                          : EXIT_DONE;
    for (size_t i = 0; i < NCHECKS; i++) {
        free(res[i].detail);
        free(res[i].fix);
    }
    return code;
}
